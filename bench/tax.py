"""Benchmark: ``POST /v1/tax-records`` with 100,000 records in one batch, against
baselines measured in the same run on the same records.

Run from the repository root::

    .venv/bin/python bench/tax.py [--records 100000] [--rounds 3] [--database-url URL]

It is a benchmark, not a test: it prints figures and ratios.  It checks that each
response says what it should (every record new, or the expected corrections) and stops
if not.

Endpoint — records/s of one batch POSTed through ``fastapi.testclient.TestClient`` (JSON
bytes built beforehand; the figure includes the request, validation, unit conversion,
reading existing records and contracts, the inserts and the commit, and the response),
on a fresh SQLite database in a temporary directory, or on ``--database-url`` (rows are
added there: batch ids and USCCs are new for every run).  Each round posts a new batch
of new enterprises; the best round counts.  Then the last round's records again with 1%
of the figures changed (corrections plus unchanged records), and the first batch again
(an idempotent replay).

Baselines, same records, same run:
  validate — ``app.store.tax.parse_batch`` on the same bytes: JSON parsing, the request
    models, USCC format and unit conversion, duplicate check; no database;
  raw insert — the same rows (as the service stores them) written by the driver alone
    (sqlite3 ``executemany`` / psycopg ``COPY``) into ``tax_record`` in one transaction,
    then rolled back; no validation, no reads;
  validate + raw insert — the sum: the floor for the endpoint's work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"      # USCC / org8 characters (no I, O, S, V, Z)


def say(msg: str = "") -> None:
    print(msg, flush=True)


def make_records(n: int, rng: random.Random) -> list[dict]:
    from indicators.identifiers import synthetic_uscc

    tag = "".join(rng.choices(CHARS, k=3))
    out = []
    for i in range(n):
        serial, k = "", i
        for _ in range(5):
            k, r = divmod(k, 31)
            serial = CHARS[r] + serial
        rec = {"uscc": synthetic_uscc(org8=tag + serial), "year": 2025,
               "tax_paid": {"value": rng.randint(1, 5000) if i % 3 else f"{rng.randint(10**6, 10**9)}.25",
                            "unit": "万元" if i % 3 else "元"}}
        if i % 2:
            rec["policy_refunds"] = {"value": rng.randint(0, 500), "unit": "万元"}
        out.append(rec)
    return out


def body_of(batch_id: str, records: list[dict]) -> bytes:
    return json.dumps({"batch_id": batch_id, "records": records}, ensure_ascii=False).encode()


def best(ts: list[float]) -> float:
    return min(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000, help="records per batch, at most 100000 (default 100000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per figure; the best counts (default 3)")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temporary directory")
    ap.add_argument("--seed", type=int, default=20251127)
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    n, rounds = args.records, max(1, args.rounds)

    url = args.database_url
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='sl-bench-tax-')) / 'bench.db'}"
    os.environ["DATABASE_URL"] = url

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.main import app
    from app.store import tax
    from app.store.db import get_engine, reset_engine

    reset_engine()
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:8]
    say(f"tax-records benchmark: {n:,} records per batch, {rounds} round(s); database {url.split('@')[-1]}")
    say(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")

    batches = [(f"bench-{run}-{r}", make_records(n, rng)) for r in range(rounds)]
    bodies = [body_of(bid, recs) for bid, recs in batches]
    say(f"payload: {len(bodies[0]) / 1e6:.1f} MB of JSON per batch")

    with TestClient(app) as client:
        engine = get_engine()
        dialect = engine.dialect.name

        # Baseline 1: validation alone.
        t_validate = []
        for body in bodies:
            gc.collect()
            t0 = time.perf_counter()
            with tax.gc_paused():
                parsed = tax.parse_batch(body)
            t_validate.append(time.perf_counter() - t0)
        rows_of = [tax.canonical_records(tax.parse_batch(body)) for body in bodies]

        # Baseline 2: the same rows written by the driver alone, rolled back.
        cols = ", ".join(f'"{c}"' for c in tax.COLUMNS)
        now = dt.datetime.now(dt.UTC)
        t_insert = []
        for bid, rows in zip((b for b, _ in batches), rows_of, strict=True):
            if dialect == "sqlite":
                at = now.strftime("%Y-%m-%d %H:%M:%S.%f")
                data = [(bid, u, y, p, r, None, 1, 0, 1, at, tax.record_region(rec)) for rec in rows
                        for u, y, p, r, _ in [rec]]
            else:
                data = [(bid, u, y, p, r, None, True, False, True, now, tax.record_region(rec)) for rec in rows
                        for u, y, p, r, _ in [rec]]
            raw = engine.raw_connection()
            try:
                gc.collect()
                t0 = time.perf_counter()
                cur = raw.cursor()
                if dialect == "sqlite":
                    cur.execute("BEGIN")
                    cur.executemany(f"INSERT INTO tax_record ({cols}) VALUES ({', '.join('?' * len(tax.COLUMNS))})", data)
                else:
                    with raw.driver_connection.cursor().copy(f"COPY tax_record ({cols}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
                t_insert.append(time.perf_counter() - t0)
                raw.rollback()
            finally:
                raw.close()
        del parsed, rows_of

        # The endpoint: new batches.
        t_post = []
        for body in bodies:
            gc.collect()
            t0 = time.perf_counter()
            r = client.post("/v1/tax-records", content=body, headers={"content-type": "application/json"})
            t_post.append(time.perf_counter() - t0)
            s = r.json()
            if r.status_code != 201 or s["new_records"] != n:
                sys.exit(f"unexpected response {r.status_code}: {r.text[:1000]}")

        # Corrections: the last batch again with 1% of the figures changed.
        recs = batches[-1][1]
        changed = 0
        for i in range(0, n, 100):
            recs[i] = {**recs[i], "tax_paid": {"value": "0.5", "unit": "万元"}}
            changed += 1
        body = body_of(f"bench-{run}-corr", recs)
        gc.collect()
        t0 = time.perf_counter()
        r = client.post("/v1/tax-records", content=body, headers={"content-type": "application/json"})
        t_corr = time.perf_counter() - t0
        s = r.json()
        if r.status_code != 201 or (s["corrections"], s["unchanged"]) != (changed, n - changed):
            sys.exit(f"unexpected response {r.status_code}: {r.text[:1000]}")

        # Replay of the first batch: idempotent, 200 with the stored summary.
        gc.collect()
        t0 = time.perf_counter()
        r = client.post("/v1/tax-records", content=bodies[0], headers={"content-type": "application/json"})
        t_replay = time.perf_counter() - t0
        if r.status_code != 200:
            sys.exit(f"unexpected replay response {r.status_code}: {r.text[:1000]}")

        with Session(engine) as session:
            stored = tax.count_rows(session)

    v, i, p = best(t_validate), best(t_insert), best(t_post)

    def line(label: str, t: float, ratio: bool = True) -> str:
        tail = f"   endpoint time / this = {p / t:5.2f}×" if ratio else ""
        return f"  {label:44} {t:7.2f} s  {n / t:>10,.0f} records/s{tail}"

    say()
    say(f"per round (s): endpoint {', '.join(f'{t:.2f}' for t in t_post)}; validate "
        f"{', '.join(f'{t:.2f}' for t in t_validate)}; raw insert {', '.join(f'{t:.2f}' for t in t_insert)}")
    say(f"\n{n:,} records in one batch ({dialect}), best of {rounds}:")
    say(line("POST /v1/tax-records (new records)", p, ratio=False))
    say(line("baseline: validate only (parse_batch)", v))
    say(line(f"baseline: raw driver insert ({'executemany' if dialect == 'sqlite' else 'COPY'})", i))
    say(line("baseline: validate + raw insert", v + i))
    say(line("POST with 1% corrections, 99% unchanged", t_corr, ratio=False))
    say(line("POST again (idempotent replay, 200)", t_replay, ratio=False))
    say(f"\nendpoint rate {n / p:,.0f} records/s = {v / p:.2f} of validation alone, {(v + i) / p:.2f} of validate + "
        f"raw insert; {stored:,} rows in tax_record")
    if args.json:
        Path(args.json).write_text(json.dumps({"records": n, "dialect": dialect, "endpoint_per_s": n / p,
                                               "validate_per_s": n / v, "raw_insert_per_s": n / i,
                                               "floor_per_s": n / (v + i)}, indent=2))


if __name__ == "__main__":
    main()
