"""SQLAlchemy models, the engine, migrations and the unit of work."""
