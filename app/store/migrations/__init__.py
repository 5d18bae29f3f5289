"""Alembic migrations for the service's tables (run at start-up: ``app.store.migrate``)."""
