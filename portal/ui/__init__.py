"""Streamlit helpers shared by the pages: the session's unit of work, clock, language, login."""
