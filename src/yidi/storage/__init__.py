"""SQLAlchemy tables, repositories and the unit of work: the only SQL importer."""
