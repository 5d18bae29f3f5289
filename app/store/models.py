"""Tables.  Decisions and rule-set versions are append-only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class RuleSetVersion(SQLModel, table=True):
    __tablename__ = "ruleset_version"
    __table_args__ = (UniqueConstraint("ruleset_id", "version"),)

    pk: int | None = Field(default=None, primary_key=True)
    ruleset_id: str = Field(index=True, max_length=64)
    version: str = Field(max_length=32)
    digest: str = Field(unique=True, max_length=64)
    status: str = Field(max_length=16)
    jurisdiction: str = Field(index=True, max_length=6)
    parent: str | None = Field(default=None, max_length=64)
    effective_from: dt.date
    effective_to: dt.date | None = None
    published_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source: str = Field(default="api", max_length=16)        # "bundled" or "api"
    document: str = Field(sa_column=Column(Text, nullable=False))   # canonical JSON


class Decision(SQLModel, table=True):
    __tablename__ = "decision"

    seq: int | None = Field(default=None, primary_key=True)   # chain order
    id: str = Field(unique=True, max_length=36)
    kind: str = Field(index=True, max_length=32)
    verdict: str = Field(max_length=32)
    created_at: str = Field(max_length=40)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(unique=True, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))    # canonical JSON, hashed


class ChainHead(SQLModel, table=True):
    """One row per chain: the last link.  Locked while a link is appended."""

    __tablename__ = "chain_head"

    name: str = Field(primary_key=True, max_length=32)
    seq: int = 0
    hash: str = Field(max_length=64)
