"""Faults (issue 6 item 3): a worker killed with SIGKILL in the middle of a 100,000-record tax
batch and of a 10,000-item proposal batch leaves nothing partial, and the retry with the same
batch id stores exactly one copy; the database going away mid-request gives 503 with
Retry-After, and the service recovers by itself when it returns.

The kill lands while the server's transaction is open (polled: on SQLite a writer holds the
write lock, on PostgreSQL the server's backend has a transaction id).  Should the batch
commit before the poll sees it, the kill lands after the commit; the assertions are the
same either way: 0 or all stored after the crash, exactly one copy after the retry."""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from indicators.identifiers import USCC_CHARS, synthetic_uscc
from tests.conftest import proposal
from tests.trust_support import Server, on_postgres, scratch_database, sql_engine

TAX_RECORDS = 100_000
PROPOSALS = 10_000


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    with scratch_database(tmp, "trust_faults") as url:
        server = Server(url, tmp / "server.log").start()     # one process: the one killed
        engine = sql_engine(url)
        try:
            yield url, server, engine
        finally:
            server.stop()
            engine.dispose()


def _writer_busy(url: str, engine) -> bool:
    """Whether the server has a write transaction open right now."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        probe = sqlite3.connect(u.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:        # "database is locked": a writer holds the lock
            return True
        finally:
            probe.close()
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND pid <> pg_backend_pid() "
            "AND backend_xid IS NOT NULL"), {"app": u.query["application_name"]}).scalar())


def _post_in_background(server: Server, path: str, body: bytes) -> tuple[threading.Thread, list]:
    result: list = []

    def send() -> None:
        try:
            result.append(httpx.post(f"{server.base}{path}", content=body,
                                     headers={"content-type": "application/json"}, timeout=600))
        except httpx.HTTPError as e:
            result.append(e)

    t = threading.Thread(target=send)
    t.start()
    return t, result


def _kill_mid_transaction(url: str, server: Server, engine, path: str, body: bytes) -> str:
    """Post ``body`` and kill -9 the server once its write transaction is open; restart it.
    Returns where the kill landed."""
    t, result = _post_in_background(server, path, body)
    deadline = time.monotonic() + 300
    landed = "after the response"
    while time.monotonic() < deadline and t.is_alive():
        if _writer_busy(url, engine):
            landed = "inside the write transaction"
            break
        time.sleep(0.01)
    server.kill()
    t.join(timeout=60)
    if landed != "inside the write transaction" and result and isinstance(result[0], httpx.Response):
        landed = f"after the response (HTTP {result[0].status_code})"
    server.start()
    return landed


def _tax_body(batch_id: str) -> bytes:
    rnd = random.Random(batch_id)
    tag = "".join(rnd.choices(USCC_CHARS, k=3))
    records = []
    for i in range(TAX_RECORDS):
        serial, k = "", i
        for _ in range(5):
            k, r = divmod(k, 31)
            serial = USCC_CHARS[r] + serial
        records.append({"uscc": synthetic_uscc(org8=tag + serial), "year": 2025,
                        "tax_paid": {"value": rnd.randint(1, 5000), "unit": "万元"}})
    return json.dumps({"batch_id": batch_id, "records": records}, ensure_ascii=False).encode()


def _tax_counts(engine, batch_id: str) -> tuple[int, int, int]:
    """(rows of the batch, distinct (uscc, year) among them, tax_batch rows)."""
    with engine.connect() as conn:
        rows, distinct = conn.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT uscc || ':' || CAST(year AS VARCHAR(8))) FROM tax_record "
            "WHERE batch_id = :b"), {"b": batch_id}).one()
        batches = conn.execute(text("SELECT COUNT(*) FROM tax_batch WHERE batch_id = :b"), {"b": batch_id}).scalar()
    return rows, distinct, batches


def test_kill_9_during_a_100k_tax_batch_then_retry_stores_one_copy(faults):
    url, server, engine = faults
    bid = f"fault-tax-{uuid.uuid4().hex[:8]}"
    body = _tax_body(bid)
    landed = _kill_mid_transaction(url, server, engine, "/v1/tax-records", body)

    rows, distinct, batches = _tax_counts(engine, bid)
    assert (rows, batches) in ((0, 0), (TAX_RECORDS, 1)), (landed, rows, batches)   # nothing partial

    r = httpx.post(f"{server.base}/v1/tax-records", content=body, headers={"content-type": "application/json"},
                   timeout=600)
    assert r.status_code == (200 if batches else 201), (landed, r.status_code, r.text[:500])
    assert r.json()["count"] == TAX_RECORDS
    again = httpx.post(f"{server.base}/v1/tax-records", content=body, headers={"content-type": "application/json"},
                       timeout=600)
    assert again.status_code == 200, again.text[:500]
    assert _tax_counts(engine, bid) == (TAX_RECORDS, TAX_RECORDS, 1)
    print(f"\ntax batch: kill landed {landed}; stored {rows} before the retry, {TAX_RECORDS} after")


def _verify(server: Server) -> dict:
    r = httpx.get(f"{server.base}/v1/decisions/verify", timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _proposal_body(batch_id: str) -> bytes:
    rnd = random.Random(batch_id)
    items = []
    for i in range(PROPOSALS):
        b = proposal(reference=f"{batch_id}-{i}")
        b["measures"]["fixed_asset_investment"] = {"value": rnd.randint(15000, 30000), "unit": "万元"}
        items.append(b)
    return json.dumps({"batch_id": batch_id, "items": items}, ensure_ascii=False).encode()


def test_kill_9_during_a_10k_proposal_batch_then_retry_stores_one_copy(faults):
    url, server, engine = faults
    bid = f"fault-pb-{uuid.uuid4().hex[:8]}"
    body = _proposal_body(bid)
    before = _verify(server)
    assert before["ok"], before
    landed = _kill_mid_transaction(url, server, engine, "/v1/checks/proposal:batch", body)

    after_crash = _verify(server)
    assert after_crash["ok"], (landed, after_crash)                 # the chain survived the crash
    stored = after_crash["checked"] - before["checked"]
    with engine.connect() as conn:
        batches = conn.execute(text("SELECT COUNT(*) FROM proposal_batch WHERE batch_id = :b"), {"b": bid}).scalar()
    assert (stored, batches) in ((0, 0), (PROPOSALS, 1)), (landed, stored, batches)   # nothing partial

    r = httpx.post(f"{server.base}/v1/checks/proposal:batch", content=body,
                   headers={"content-type": "application/json"}, timeout=600)
    assert r.status_code == 200, (landed, r.text[:500])
    got = r.json()
    assert got["replayed"] is bool(batches) and got["count"] == PROPOSALS
    ids = [i["decision_id"] for i in got["items"]]
    assert len(set(ids)) == PROPOSALS
    assert [i["reference"] for i in got["items"]] == [f"{bid}-{i}" for i in range(PROPOSALS)]
    final = _verify(server)
    assert final["ok"] and final["checked"] - before["checked"] == PROPOSALS, final
    with engine.connect() as conn:
        stored_ids = conn.execute(text("SELECT decision_ids FROM proposal_batch WHERE batch_id = :b"), {"b": bid}).scalar()
        refs = conn.execute(text("SELECT COUNT(*) FROM decision WHERE payload LIKE :p"), {"p": f'%"{bid}-%'}).scalar()
    assert json.loads(stored_ids) == ids
    assert refs == PROPOSALS                                          # exactly one copy of each item
    print(f"\nproposal batch: kill landed {landed}; stored {stored} before the retry, {PROPOSALS} after")


# ------------------------------------------------------------------ the database going away

class _Proxy:
    """A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.socks += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.socks = []

    def close(self) -> None:
        self.cut()
        self.listener.close()


postgres_only = pytest.mark.skipif(not on_postgres(), reason="needs a database server to lose "
                                   "(CI runs this in its PostgreSQL pass; SQLite's outage is a lock, below)")


@pytest.mark.skipif(on_postgres(), reason="SQLite's outage: a lock held elsewhere (PostgreSQL's are tested above)")
def test_sqlite_locked_by_another_process_gives_503_then_recovers(tmp_path):
    with scratch_database(tmp_path, "trust_locked") as url:
        server = Server(url, tmp_path / "server.log", env={"DB_BUSY_TIMEOUT": "1"}).start()
        try:
            assert httpx.post(f"{server.base}/v1/checks/proposal", json=proposal(), timeout=60).status_code == 200
            holder = sqlite3.connect(make_url(url).database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")        # e.g. a backup or a stuck maintenance job
            try:
                for path, body in (("/v1/checks/proposal", proposal()),
                                   ("/v1/checks/proposal:batch", {"items": [proposal()] * 3}),
                                   ("/v1/tax-records", {"batch_id": "locked-1", "records": [
                                       {"uscc": synthetic_uscc(), "year": 2025, "tax_paid": {"value": 1, "unit": "万元"}}]})):
                    r = httpx.post(f"{server.base}{path}", json=body, timeout=60)
                    assert r.status_code == 503, (path, r.status_code, r.text[:500])
                    assert int(r.headers["retry-after"]) > 0
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            r = httpx.post(f"{server.base}/v1/checks/proposal", json=proposal(), timeout=60)
            assert r.status_code == 200, r.text[:500]
            report = httpx.get(f"{server.base}/v1/decisions/verify", timeout=60).json()
            assert report["ok"] and report["checked"] == 2, report     # nothing of the refused requests
            assert httpx.get(f"{server.base}/v1/tax-records/batches/locked-1", timeout=60).status_code == 404
        finally:
            server.stop()


@postgres_only
def test_database_unreachable_gives_503_then_recovers_by_itself(faults, tmp_path):
    url, _, _ = faults
    u = make_url(url)
    proxy = _Proxy(u.host or "127.0.0.1", u.port or 5432)
    proxied = u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = Server(proxied, tmp_path / "server.log").start()
    try:
        assert httpx.post(f"{server.base}/v1/checks/proposal", json=proposal(), timeout=60).status_code == 200
        proxy.cut()
        for method, path, body in (("POST", "/v1/checks/proposal", proposal()),
                                   ("GET", "/v1/decisions/verify", None),
                                   ("POST", "/v1/checks/proposal:batch", {"items": [proposal()] * 3})):
            r = httpx.request(method, f"{server.base}{path}", json=body, timeout=60)
            assert r.status_code == 503, (path, r.status_code, r.text[:500])
            assert int(r.headers["retry-after"]) > 0
            assert "database" in r.json()["detail"]
        proxy.up = True
        # no restart, no operator: the next request gets a fresh connection
        r = httpx.post(f"{server.base}/v1/checks/proposal", json=proposal(), timeout=60)
        assert r.status_code == 200, r.text[:500]
        report = httpx.get(f"{server.base}/v1/decisions/verify", timeout=60).json()
        assert report["ok"], report
        assert server.proc.poll() is None
    finally:
        server.stop()
        proxy.close()


@postgres_only
def test_connections_terminated_mid_batch_give_503_and_nothing_partial(faults):
    url, server, engine = faults
    bid = f"fault-term-{uuid.uuid4().hex[:8]}"
    body = _tax_body(bid)
    app_name = make_url(url).query["application_name"]
    t, result = _post_in_background(server, "/v1/tax-records", body)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and t.is_alive() and not _writer_busy(url, engine):
        time.sleep(0.01)
    assert t.is_alive(), "the batch finished before its transaction was seen"
    with engine.connect() as conn:   # every connection of the server, as a DBA or a failover would
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = :app AND pid <> pg_backend_pid()"),
                              {"app": app_name}).scalar()
    t.join(timeout=120)
    assert killed >= 1
    r = result[0]
    assert isinstance(r, httpx.Response), r
    assert r.status_code == 503, (r.status_code, r.text[:500], server.tail())
    assert int(r.headers["retry-after"]) > 0
    assert _tax_counts(engine, bid) == (0, 0, 0)
    # the same server, no restart: the retry stores exactly one copy
    again = httpx.post(f"{server.base}/v1/tax-records", content=body, headers={"content-type": "application/json"},
                       timeout=600)
    assert again.status_code == 201, again.text[:500]
    assert _tax_counts(engine, bid) == (TAX_RECORDS, TAX_RECORDS, 1)
    assert _verify(server)["ok"]
