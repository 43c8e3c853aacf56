"""Plain-Python business rules: no Streamlit, no SQLAlchemy."""
