"""Shared fixtures.  The database is SQLite in a temp dir, or PostgreSQL when
TEST_DATABASE_URL is set (CI runs the suite on both)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list) -> None:
    """Schemathesis stores random contracts, parks and tax batches in the session database: it
    runs last, so that no other test (the web pages' lists among them) sees them."""
    items.sort(key=lambda item: item.path.name == "test_schemathesis.py")


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return url if url else f"sqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    os.environ["DATABASE_URL"] = url
    from sqlmodel import SQLModel

    from app.store import models  # noqa: F401
    from app.store.db import make_engine, reset_engine

    reset_engine()
    engine = make_engine(__import__("app.store.db", fromlist=["database_url"]).database_url())
    SQLModel.metadata.drop_all(engine)     # a clean slate on a shared PostgreSQL
    with engine.begin() as conn:
        for table in ("alembic_version", "contract", "contract_event", "tax_batch", "tax_record",
                      "park", "park_name", "parcel", "parcel_plan", "scoring_run", "api_key", "proposal_batch"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def client(database_url):
    from fastapi.testclient import TestClient

    from app.main import app

    with TestClient(app) as c:
        yield c


@contextlib.contextmanager
def scratch_app(tmp_dir: Path, name: str) -> Iterator[Any]:
    """A TestClient of the app on a fresh database of its own (a SQLite file in ``tmp_dir``, or a
    fresh schema of TEST_DATABASE_URL's PostgreSQL database), for tests that create keys (which
    end open mode) or need data nobody else writes; afterwards the session database again."""
    from fastapi.testclient import TestClient

    from app.access.auth import reset_cache
    from app.main import app
    from app.store.db import reset_engine
    from tests.trust_support import scratch_database

    with scratch_database(tmp_dir, name) as url:
        previous = os.environ["DATABASE_URL"]
        os.environ["DATABASE_URL"] = url
        reset_engine()
        reset_cache()
        try:
            with TestClient(app) as client:
                yield client
        finally:
            os.environ["DATABASE_URL"] = previous
            reset_engine()
            reset_cache()


def new_key(role: str, jurisdiction: str | None = None, label: str = "test") -> str:
    """An API key made with the ``standard-land keys create`` command on the app's current
    database; the secret.  This process's key cache is reset so the key works at once."""
    from typer.testing import CliRunner

    from app.access.auth import reset_cache
    from app.cli import cli

    args = ["keys", "create", "--role", role, "--label", label]
    if jurisdiction:
        args += ["--jurisdiction", jurisdiction]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    reset_cache()
    return r.stdout.strip().splitlines()[-1]


def load_demo(client: Any, spec: Any) -> tuple[Any, dict]:
    """The demo park of ``spec`` (``app.demo.Spec``), generated and loaded through the app behind
    ``client`` on the app's current database: (the generated data, the loader's summary)."""
    from sqlmodel import Session

    from app import demo
    from app.engine import selected
    from app.store.db import get_engine

    data = demo.generate(spec)
    with Session(get_engine()) as s:
        loaded = demo.load(s, data, selected())
    return data, loaded


@pytest.fixture
def uid() -> str:
    """A fresh suffix for rule-set ids published by a test."""
    return uuid.uuid4().hex[:8]


def proposal(**over) -> dict:
    """A Sanmenxia proposal that passes every rule (industry 32, 90 亩)."""
    body = {
        "as_of": "2024-03-01",
        "jurisdiction": "411200",
        "industry": {"code": "32", "classification": "GB/T 4754-2017"},
        "land_area": {"value": 90, "unit": "亩"},
        "measures": {"fixed_asset_investment": {"value": 19800, "unit": "万元"},
                     "annual_tax": {"value": 1350, "unit": "万元"}},
        "indicators": {"plot_ratio": {"value": 0.8}, "building_coefficient": {"value": 45, "unit": "%"},
                       "admin_land_share": {"value": 5, "unit": "%"}, "green_ratio": {"value": 12, "unit": "%"},
                       "environment_attested": {"value": True},
                       "construction_conditions_attested": {"value": True}},
    }
    for k, v in over.items():
        body[k] = v
    return body
