"""Applications, stores and projections on SQLite and PostgreSQL."""
