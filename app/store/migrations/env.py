"""Alembic environment: the connection is handed in by app.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.store import models  # noqa: F401  (register tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata

connection = config.attributes.get("connection")
if connection is None:       # `alembic` CLI use: build an engine from DATABASE_URL
    from app.store.db import database_url, make_engine

    with make_engine(database_url()).connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
