"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.store.db import get_engine


def test_migrated_schema_matches_the_models(client):
    engine = get_engine()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == []
        assert {"ruleset_version", "decision", "chain_head", "alembic_version"} <= set(inspect(conn).get_table_names())


def test_upgrade_is_idempotent(client):
    from app.store.migrate import upgrade

    upgrade(get_engine())
    upgrade(get_engine())
