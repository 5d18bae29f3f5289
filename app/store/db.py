"""Database engine and sessions.

SQLite (file under ./var/, WAL) by default; PostgreSQL when DATABASE_URL says so.
Same code on both.  Writers that extend the decision hash chain lock the chain
head first (its first statement is an UPDATE: SQLite's write lock, a PostgreSQL
row lock), so concurrent processes build one chain.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.core.config import DEFAULT_DATABASE_URL, settings

log = logging.getLogger("standard_land.db")

DEFAULT_URL = DEFAULT_DATABASE_URL
# Per worker process.  FastAPI's thread pool runs up to 40 requests at once; on
# PostgreSQL keep workers × (size + overflow) under the server's max_connections.
POOL_SIZE = settings().db_pool_size
POOL_OVERFLOW = settings().db_pool_overflow
CONNECT_TIMEOUT = settings().db_connect_timeout   # seconds, PostgreSQL
# SQLite: how long a writer waits for another's write lock before giving up (then a 503).
BUSY_TIMEOUT = settings().db_busy_timeout        # seconds


def database_url() -> str:
    url = settings().database_url
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def private_file(path: Path) -> None:
    """Make the SQLite file (all tax data) readable by the service's user only: its folder
    (and any folder above it that we create) is created 0700, the file 0600 before SQLite
    opens it (SQLite gives the -wal and -shm files the database file's mode).  An existing
    file, -wal or -shm with group or other bits is tightened to 0600; an existing folder is
    left as it is (it may be shared), with a warning when others may enter it."""
    folder = path.parent
    if not folder.exists():
        missing = [folder, *(p for p in folder.parents if not p.exists())]
        for p in reversed(missing):   # every folder we create, not just the last
            p.mkdir(mode=0o700, exist_ok=True)
            os.chmod(p, 0o700)        # mkdir's mode is filtered by the umask
    elif folder.stat().st_mode & 0o077:
        log.warning("the folder of the SQLite database %s is accessible to other users (mode %o); "
                    "chmod 700 it", folder, folder.stat().st_mode & 0o777)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            mode = p.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(p, 0o600)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            private_file(Path(path))
        # One connection per request thread (FastAPI runs sync endpoints on up to 40
        # threads); SQLite connections are cheap, so the pool is sized to never starve them.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT},
                               pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Deferred: readers never take the write lock.  Writers that must not
            # interleave (the decision chain) start their transaction with a write.
            conn.exec_driver_sql("BEGIN")
        return engine
    # pool_pre_ping: after an outage, dead pooled connections are replaced on checkout, so
    # the service recovers by itself.  connect_timeout: an unreachable server (dropped
    # packets) fails the request in seconds (a 503) instead of hanging on TCP's timeout.
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                         pool_timeout=60, connect_args={"connect_timeout": CONNECT_TIMEOUT})


def error_types() -> tuple[type[BaseException], ...]:
    """The exception classes ``unavailable`` may say yes to (for registering a handler)."""
    types: list[type[BaseException]] = [exc.DBAPIError, exc.TimeoutError, sqlite3.OperationalError]
    try:
        import psycopg
        types.append(psycopg.OperationalError)
    except ImportError:
        pass
    return tuple(types)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot serve us right now (unreachable, restarted,
    our connection terminated, locked, pool exhausted): worth a retry, not a bug."""
    if isinstance(error, exc.TimeoutError):                   # no pooled connection freed in time
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    if isinstance(error, sqlite3.OperationalError):
        # Other sqlite3 OperationalErrors ("no such table", syntax) are bugs, not outages.
        return any(s in str(error) for s in ("locked", "busy", "unable to open", "disk I/O"))
    try:
        import psycopg
    except ImportError:                                       # SQLite-only installs
        return False
    # Connection failures, terminated backends, cancelled statements, serialization
    # failures: psycopg puts them all under OperationalError.  COPY (tax batches) raises
    # them unwrapped, so they arrive here without SQLAlchemy's wrapper.
    return isinstance(error, psycopg.OperationalError)


@cache
def get_engine() -> Engine:
    from app.store import models  # noqa: F401  (register tables)
    from app.store.decisions import ensure_chain_head
    from app.store.migrate import startup_lock, upgrade

    engine = make_engine(database_url())
    with startup_lock(engine):
        upgrade(engine)
        ensure_chain_head(engine)
    return engine


def begin_write(session: Session) -> None:
    """Start a transaction that holds SQLite's write lock from its first statement.

    A deferred SQLite transaction that reads and then writes fails at once
    ("database is locked") if another process wrote in between; one that writes first
    waits its turn (busy_timeout).  On PostgreSQL this is a no-op statement."""
    session.rollback()
    if is_sqlite(session.get_bind()):
        session.execute(text("UPDATE chain_head SET seq = seq WHERE 1 = 0"))


def reset_engine() -> None:
    """Forget the cached engine (tests switch DATABASE_URL)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session
