"""The SQLite database holds every tax record: it is created readable by the service's user
only (file 0600, its -wal and -shm too, folder 0700), whatever the umask (issue 10, item 10).
These tests use SQLite files of their own, also when the suite runs on PostgreSQL."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.trust_support import Server


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _cli_with_umask(url: str, *args: str) -> subprocess.CompletedProcess:
    """``standard-land ARGS`` started under umask 022 (the usual default: 0644 files)."""
    env = {**os.environ, "DATABASE_URL": url}
    exe = str(Path(sys.executable).parent / "standard-land")
    return subprocess.run(["sh", "-c", 'umask 022 && exec "$0" "$@"', exe, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_creates_a_private_database_and_folder(tmp_path):
    folder = tmp_path / "var" / "data"
    db = folder / "standard-land.db"
    r = _cli_with_umask(f"sqlite:///{db}", "decisions", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert db.exists()
    assert _mode(db) == 0o600, oct(_mode(db))
    assert _mode(folder) == 0o700, oct(_mode(folder))
    assert _mode(folder.parent) == 0o700, oct(_mode(folder.parent))


def test_running_service_keeps_database_wal_and_shm_private(tmp_path):
    db = tmp_path / "srv" / "standard-land.db"
    server = Server(f"sqlite:///{db}", tmp_path / "server.log")
    old = os.umask(0o022)
    try:
        server.start()
    finally:
        os.umask(old)
    try:
        # a write, so that the WAL holds tax-adjacent data
        r = httpx.post(f"{server.base}/v1/parks", json={
            "id": "MODE-PARK", "name": "权限测试园区", "name_valid_from": "2020-01-01", "jurisdiction": "411202",
            "planned_area": {"value": 100, "unit": "亩"}}, timeout=30)
        assert r.status_code in (200, 201), r.text
        files = {p.name: _mode(p) for p in db.parent.iterdir()}
        assert {"standard-land.db", "standard-land.db-wal", "standard-land.db-shm"} <= files.keys(), files
        assert all(m == 0o600 for m in files.values()), {k: oct(v) for k, v in files.items()}
        assert _mode(db.parent) == 0o700
    finally:
        server.stop()


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    db = tmp_path / "old.db"
    r = _cli_with_umask(f"sqlite:///{db}", "decisions", "verify")
    assert r.returncode == 0, r.stderr
    os.chmod(db, 0o644)                    # as an earlier release left it
    r = _cli_with_umask(f"sqlite:///{db}", "decisions", "verify")
    assert r.returncode == 0, r.stderr
    assert _mode(db) == 0o600, oct(_mode(db))
