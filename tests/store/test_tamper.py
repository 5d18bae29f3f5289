"""Tamper evidence of the decision log (docs/decision-log.md; issue 6 item 2).

A real server (uvicorn, 2 workers) on a scratch database: concurrent writers build one
chain; then each test changes the stored rows directly in SQL, as someone with database
access would, and ``GET /v1/decisions/verify`` and ``standard-land decisions verify`` both
report the first broken link (seq, decision id, why).  Every test restores the rows it
changed and checks that the chain verifies again, so each detection is due to its tampering."""

from __future__ import annotations

import json
import os
import random
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from app.store.decisions import canonical, link_hash
from tests.conftest import proposal
from tests.trust_support import Server, cli, scratch_database, sql_engine

SECONDS = float(os.environ.get("TAMPER_STRESS_SECONDS", "6"))
CLIENTS = 16


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tamper")
    with scratch_database(tmp, "trust_tamper") as url:
        server = Server(url, tmp / "server.log", workers=2).start()
        engine = sql_engine(url)
        try:
            yield url, server, engine
        finally:
            server.stop()
            engine.dispose()


def _verify(server: Server) -> dict:
    r = httpx.get(f"{server.base}/v1/decisions/verify", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _rows(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT seq, id, kind, verdict, created_at, prev_hash, hash, payload "
                                      "FROM decision ORDER BY seq")))


def _bodies(n: int) -> list[dict]:
    rnd = random.Random(6)
    out = []
    for i in range(n):
        b = proposal(reference=f"t{i}")
        b["measures"]["fixed_asset_investment"] = {"value": rnd.choice([17000, 19800, 30000]), "unit": "万元"}
        out.append(b)
    return out


def test_concurrent_writers_keep_one_chain(scratch):
    """2 worker processes, 16 clients posting single checks and small batches at once."""
    url, server, engine = scratch
    bodies = _bodies(40)
    before = _verify(server)
    assert before["ok"], before
    stored = [0] * CLIENTS
    errors: list[str] = []
    stop = time.monotonic() + SECONDS

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=server.base, timeout=60) as c:
            while time.monotonic() < stop and len(errors) < 10:
                if rnd.random() < 0.2:
                    items = rnd.sample(bodies, 5)
                    r = c.post("/v1/checks/proposal:batch", json={"items": items})
                    n = len(items)
                else:
                    r = c.post("/v1/checks/proposal", json=rnd.choice(bodies))
                    n = 1
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}: {r.text[:300]}")
                    continue
                stored[k] += n

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], (errors, server.tail())
    after = _verify(server)
    assert after["ok"], after
    assert after["checked"] - before["checked"] == sum(stored) > CLIENTS
    with engine.connect() as conn:
        n, seqs, prevs, lo, hi = conn.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT seq), COUNT(DISTINCT prev_hash), MIN(seq), MAX(seq) FROM decision")).one()
        head = conn.execute(text("SELECT seq, hash FROM chain_head WHERE name = 'decisions'")).one()
    # one chain: no fork (two decisions on one predecessor), no gap, the head at its end
    assert n == seqs == prevs == after["checked"] and (lo, hi) == (1, n)
    assert (head.seq, head.hash) == (n, after["head"])
    print(f"\n{sum(stored)} decisions by {CLIENTS} clients on 2 workers in {SECONDS:.0f}s, one chain")


@pytest.fixture
def tamper(scratch):
    """Snapshot decision and chain_head; restore them after the test, and check the chain
    verifies again (so the detection was caused by the test's tampering alone)."""
    url, server, engine = scratch
    if len(_rows(engine)) < 10:
        r = httpx.post(f"{server.base}/v1/checks/proposal:batch", json={"items": _bodies(12)}, timeout=60)
        assert r.status_code == 200, r.text
    assert _verify(server)["ok"]
    with engine.begin() as conn:
        decisions = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM decision"))]
        heads = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM chain_head"))]
    yield url, server, engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision"))
        conn.execute(text("DELETE FROM chain_head"))
        cols = list(decisions[0])
        conn.execute(text(f"INSERT INTO decision ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"),
                     decisions)
        conn.execute(text("INSERT INTO chain_head (name, seq, hash) VALUES (:name, :seq, :hash)"), heads)
    assert _verify(server)["ok"], "the chain did not verify after restoring the rows"


def _detected(url: str, server: Server, seq: int, decision_id: str | None, why: str, checked: int | None = None) -> None:
    """Both the API and the CLI report this first broken link, after ``checked`` sound links
    (by default every link before it)."""
    api = _verify(server)
    assert api["ok"] is False, api
    assert api["first_broken"]["seq"] == seq, api
    assert api["first_broken"]["decision_id"] == decision_id, api
    assert why in api["first_broken"]["problem"], api
    assert api["checked"] == (seq - 1 if checked is None else checked), api
    run = cli(url, "decisions", "verify")
    assert run.returncode == 1, (run.returncode, run.stdout, run.stderr)
    assert json.loads(run.stdout) == api, run.stdout


def _middle(engine) -> tuple:
    rows = _rows(engine)
    return rows, rows[len(rows) // 2]


def test_edited_payload_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    body = json.loads(row.payload)
    body["verdict"] = "pass" if body["verdict"] != "pass" else "fail"
    with engine.begin() as conn:     # the payload and its indexed column, consistently
        conn.execute(text("UPDATE decision SET payload = :p, verdict = :v WHERE seq = :s"),
                     {"p": canonical(body), "v": body["verdict"], "s": row.seq})
    _detected(url, server, row.seq, row.id, "edited")


def test_edited_finding_with_a_recomputed_hash_breaks_the_next_link(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    body = json.loads(row.payload)
    body["findings"][0]["actual"] = "999.99"
    payload = canonical(body)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decision SET payload = :p, hash = :h WHERE seq = :s"),
                     {"p": payload, "h": link_hash(row.prev_hash, payload), "s": row.seq})
    nxt = rows[rows.index(row) + 1]
    _detected(url, server, nxt.seq, nxt.id, "prev_hash")


def test_rewritten_last_decision_is_caught_by_the_chain_head(tamper):
    url, server, engine = tamper
    row = _rows(engine)[-1]
    body = json.loads(row.payload)
    body["verdict"] = "pass" if body["verdict"] != "pass" else "fail"
    payload = canonical(body)
    with engine.begin() as conn:     # payload, column and hash all consistent: only the head knows
        conn.execute(text("UPDATE decision SET payload = :p, verdict = :v, hash = :h WHERE seq = :s"),
                     {"p": payload, "v": body["verdict"], "h": link_hash(row.prev_hash, payload), "s": row.seq})
    _detected(url, server, row.seq, row.id, "chain head")


def test_edited_verdict_column_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decision SET verdict = :v WHERE seq = :s"),
                     {"v": "pass" if row.verdict != "pass" else "fail", "s": row.seq})
    _detected(url, server, row.seq, row.id, "indexed columns")


def test_edited_hash_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decision SET hash = :h WHERE seq = :s"), {"h": "f" * 64, "s": row.seq})
    _detected(url, server, row.seq, row.id, "hash does not match")


def test_edited_prev_hash_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE decision SET prev_hash = :h WHERE seq = :s"), {"h": "e" * 64, "s": row.seq})
    _detected(url, server, row.seq, row.id, "prev_hash")


def test_deleted_row_in_the_middle_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision WHERE seq = :s"), {"s": row.seq})
    nxt = rows[rows.index(row) + 1]
    _detected(url, server, nxt.seq, nxt.id, f"expected {row.seq}", checked=row.seq - 1)


def test_deleted_first_row_is_detected(tamper):
    url, server, engine = tamper
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision WHERE seq = 1"))
    _detected(url, server, 2, rows[1].id, "expected 1", checked=0)


def test_deleted_last_row_is_caught_by_the_chain_head(tamper):
    url, server, engine = tamper
    rows = _rows(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM decision WHERE seq = :s"), {"s": rows[-1].seq})
    _detected(url, server, rows[-1].seq, None, "deleted")


def test_swapped_rows_are_detected(tamper):
    url, server, engine = tamper
    rows, a = _middle(engine)
    b = rows[rows.index(a) + 1]
    with engine.begin() as conn:      # swap the two rows' places in the chain order
        conn.execute(text("UPDATE decision SET seq = -1 WHERE seq = :s"), {"s": a.seq})
        conn.execute(text("UPDATE decision SET seq = :s WHERE seq = :t"), {"s": a.seq, "t": b.seq})
        conn.execute(text("UPDATE decision SET seq = :t WHERE seq = -1"), {"t": b.seq})
    _detected(url, server, a.seq, b.id, "prev_hash")


def _forged(row_before, seq: int) -> dict:
    """A well-formed decision that was never decided: correct links, correct hash."""
    body = json.loads(row_before.payload)
    body.update({"decision_id": "00000000-0000-4000-8000-00000000f0f0", "seq": seq, "verdict": "pass",
                 "prev_hash": row_before.hash})
    payload = canonical(body)
    return {"seq": seq, "id": body["decision_id"], "kind": body["kind"], "verdict": "pass",
            "created_at": body["created_at"], "prev_hash": row_before.hash,
            "hash": link_hash(row_before.hash, payload), "payload": payload}


_INSERT = text("INSERT INTO decision (seq, id, kind, verdict, created_at, prev_hash, hash, payload) "
               "VALUES (:seq, :id, :kind, :verdict, :created_at, :prev_hash, :hash, :payload)")


def test_forged_row_appended_is_caught_by_the_chain_head(tamper):
    url, server, engine = tamper
    rows = _rows(engine)
    forged = _forged(rows[-1], rows[-1].seq + 1)
    with engine.begin() as conn:
        conn.execute(_INSERT, forged)
    _detected(url, server, forged["seq"], forged["id"], "chain head")


def test_forged_row_spliced_into_the_middle_is_detected(tamper):
    url, server, engine = tamper
    rows, row = _middle(engine)
    before = rows[rows.index(row) - 1]
    forged = _forged(before, row.seq)
    with engine.begin() as conn:      # make room: every later row moves one place down
        conn.execute(text("UPDATE decision SET seq = -seq - 1 WHERE seq >= :s"), {"s": row.seq})
        conn.execute(text("UPDATE decision SET seq = -seq WHERE seq < 0"))
        conn.execute(_INSERT, forged)
        conn.execute(text("UPDATE chain_head SET seq = seq + 1 WHERE name = 'decisions'"))
    # the forged row links to its predecessor; the displaced original does not link to it
    _detected(url, server, row.seq + 1, row.id, "prev_hash")


def test_intact_chain_verifies_with_the_cli(scratch):
    url, server, _ = scratch
    run = cli(url, "decisions", "verify")
    assert run.returncode == 0, (run.stdout, run.stderr)
    report = json.loads(run.stdout)
    assert report["ok"] is True and report == _verify(server)
