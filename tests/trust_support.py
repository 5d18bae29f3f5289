"""Support for the tamper and fault tests: a scratch database of their own (a fresh SQLite
file, or a fresh schema in TEST_DATABASE_URL's PostgreSQL database) and a real uvicorn
server on it, so that tampering and killing never touch the suite's shared session DB."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.store.db import make_engine
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


def _with_query(url: str, **params: str) -> str:
    u = make_url(url)
    return u.update_query_dict(params).render_as_string(hide_password=False)


@contextlib.contextmanager
def scratch_database(tmp_dir: Path, name: str) -> Iterator[str]:
    """A DATABASE_URL of an empty database, removed afterwards.  On PostgreSQL a schema
    ``name_<random>`` in TEST_DATABASE_URL's database, selected by search_path; its
    connections carry the schema as application_name (so a test can terminate exactly them)."""
    if not on_postgres():
        yield f"sqlite:///{tmp_dir / (name + '.db')}"
        return
    schema = f"{name}_{uuid.uuid4().hex[:8]}"
    base = os.environ["TEST_DATABASE_URL"]
    admin = make_engine(_url_for_driver(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_query(base, options=f"-csearch_path={schema}", application_name=schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _url_for_driver(url: str) -> str:
    from app.store import db

    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        return db.database_url()
    finally:
        if old is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = old


def sql_engine(url: str) -> Engine:
    """An engine for direct SQL on a scratch database (what an attacker with DB access has)."""
    return make_engine(_url_for_driver(url))


class Server:
    """``uvicorn app.main:app`` in a subprocess on ``url``; ``kill()`` is kill -9.  It is up once
    ``ready`` answers 200 (the default also proves the database is read; a service with keys
    answers it 401, so pass ``/healthz``)."""

    def __init__(self, url: str, log: Path, workers: int = 1, env: dict[str, str] | None = None,
                 ready: str = "/v1/decisions/verify") -> None:
        self.url, self.log, self.workers, self.extra_env, self.ready = url, log, workers, env or {}, ready
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        env = {**os.environ, "DATABASE_URL": self.url, "MALLOC_MMAP_THRESHOLD_": "4194304",
               "MALLOC_TRIM_THRESHOLD_": "67108864", **self.extra_env}
        env.pop("STANDARD_LAND_ENV", None)
        cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port),
               "--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}{self.ready}", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.tail()}")

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def cli(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``standard-land ARGS`` against ``url``."""
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "400"}
    return subprocess.run([str(Path(sys.executable).parent / "standard-land"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
