"""Benchmark: the yearly evaluation and the 一宗一策 ledger of a park of 5,000 parcels with ten
years of tax records, against baselines measured in the same run on the same park.

Run from the repository root::

    .venv/bin/python bench/parks.py [--parcels 5000] [--years 10] [--rounds 3] [--database-url URL]

It is a benchmark, not a test: it prints figures and ratios (and stops if a response is not
what it should be).  The park is the synthetic demo park (``app.demo``, seed fixed) with
``--parcels`` parcels and ``--years`` years of tax records ending 2025, loaded through the
same service functions as the API (contracts with their clause checks, lifecycle events, the
park and its parcels in one transaction, one tax batch per year, plans, a scoring run); the
load is timed and reported on its own.  Default database: a fresh SQLite file in a temporary
directory; with ``--database-url`` the demo park is loaded there (again: a no-op).

Timed (best of ``--rounds``), through ``fastapi.testclient.TestClient``:
  GET /v1/parks/{id}/evaluation?year=2025   (classifies every parcel on 31 December with the rule
                                             engine, the park 亩均税收 of 2025 and 2024; stores a decision)
  GET /v1/parks/{id}/ledger?as_of=2025-12-31 (classifies every parcel; plans; the rows)
  and, for scale, the .xlsx and .svg exports of the same evaluation and ledger (one round each).

Baselines, same park, same run:
  raw SQL — one query summing the park's industrial area and its 2025 tax (current records,
    paid + refunds) joined through the contracts: what a database alone needs to read the numbers;
  load — ``app.checks.parks.data.load``: every row the evaluation reads (park, parcels, contracts and
    their documents, events, tax records, holdings), parsed, nothing evaluated;
  load + park tax — the same plus ``app.checks.parks.tax.park_tax`` for 2025 and 2024 (the exact arithmetic of the
    park figure, no classification, no rule engine).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def say(msg: str = "") -> None:
    print(msg, flush=True)


def timed(fn, rounds: int) -> tuple[float, list[float], object]:
    ts, out = [], None
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), ts, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parcels", type=int, default=5000, help="parcels in the park (default 5000)")
    ap.add_argument("--years", type=int, default=10, help="years of tax records, ending 2025 (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per figure; the best counts (default 3)")
    ap.add_argument("--seed", type=int, default=20251127)
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temporary directory")
    args = ap.parse_args()
    rounds = max(1, args.rounds)

    url = args.database_url
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='sl-bench-parks-')) / 'bench.db'}"
    os.environ["DATABASE_URL"] = url
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # starlette's notice about httpx
        from fastapi.testclient import TestClient
    from sqlalchemy import text
    from sqlmodel import Session

    from app import demo
    from app.checks.parks.common import q
    from app.checks.parks.data import load
    from app.checks.parks.tax import park_tax
    from app.checks.visibility import ALL
    from app.engine import selected
    from app.main import app
    from app.store.db import get_engine, reset_engine

    reset_engine()
    spec = demo.Spec(parcels=args.parcels, years=args.years, seed=args.seed, last_year=2025)
    year, as_of = spec.last_year, spec.as_of.isoformat()
    pid = spec.park_id
    say(f"park benchmark: {spec.parcels:,} parcels, tax {spec.first_year}–{spec.last_year}, {rounds} round(s); "
        f"database {url.split('@')[-1]}")
    say(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}; engine {selected().name}")

    t0 = time.perf_counter()
    data = demo.generate(spec)
    t_gen = time.perf_counter() - t0
    c = data.counts()
    say(f"generated in {t_gen:.1f} s: {c['contracts']:,} contracts, {c['events']:,} events, {c['tax_records']:,} tax records "
        f"of {c['enterprises']:,} enterprises, {c['plan_versions']} plan versions, "
        f"{c['scoring_enterprises']:,} enterprises to score")

    with TestClient(app) as client:
        engine = get_engine()
        dialect = engine.dialect.name
        with Session(engine) as session:
            session.rollback()
            t0 = time.perf_counter()
            summary = demo.load(session, data, selected(), say=say)
            t_load = time.perf_counter() - t0
        say(f"loaded in {t_load:.1f} s (created: {summary['created']})")

        def get(path: str, **params) -> object:
            r = client.get(path, params=params)
            if r.status_code != 200:
                sys.exit(f"unexpected response {r.status_code} for {path}: {r.text[:1000]}")
            return r

        # ---------------------------------------------------------------- baselines
        numeric = "NUMERIC"
        # "t.year + 0": SQLite (no statistics) would otherwise walk the year index (see app/store/tax.py)
        raw_sql = text(f"""
            SELECT COUNT(*), SUM(CAST(p.area_mu AS {numeric})),
                   SUM(CAST(t.tax_paid AS {numeric}) + COALESCE(CAST(t.policy_refunds AS {numeric}), 0))
            FROM parcel p
            JOIN contract c ON c.contract_no = p.contract_no
            JOIN tax_record t ON t.uscc = c.transferee_uscc AND t.year + 0 = :year AND t.current
            WHERE p.park_id = :pid AND p.use = 'industrial'""")

        def raw() -> tuple:
            with engine.connect() as conn:
                return tuple(conn.execute(raw_sql, {"pid": pid, "year": year}).one())

        def load_only() -> object:
            with Session(engine) as s:
                return load(s, pid, ALL)

        def load_tax() -> object:
            with Session(engine) as s:
                d = load(s, pid, ALL)
                return park_tax(d, year), park_tax(d, year - 1)

        say("\ntiming baselines …")
        b_raw, ts_raw, raw_out = timed(raw, rounds)
        b_load, ts_load, _ = timed(load_only, rounds)
        b_tax, ts_tax, (pt, _) = timed(load_tax, rounds)

        # ---------------------------------------------------------------- endpoints
        say("timing GET evaluation …")
        e_eval, ts_eval, r = timed(lambda: get(f"/v1/parks/{pid}/evaluation", year=year), rounds)
        ev = r.json()
        if ev["land"]["registered"]["count"] != spec.parcels or ev["tax_per_mu"]["value"] is None:
            sys.exit(f"unexpected evaluation: {ev['land']['registered']}, {ev['tax_per_mu']['value']}")
        if ev["tax_per_mu"]["value"]["value"] != q(pt.value, "万元/亩")["value"]:
            sys.exit("evaluation and park_tax disagree")
        say("timing GET ledger …")
        e_led, ts_led, r = timed(lambda: get(f"/v1/parks/{pid}/ledger", as_of=as_of), rounds)
        led = r.json()
        say("timing exports (one round each) …")
        e_xlsx, _, _ = timed(lambda: get(f"/v1/parks/{pid}/evaluation.xlsx", year=year), 1)
        e_lxlsx, _, _ = timed(lambda: get(f"/v1/parks/{pid}/ledger.xlsx", as_of=as_of), 1)
        e_svg, _, _ = timed(lambda: get(f"/v1/parks/{pid}/evaluation.svg", year=year, chart="tax_per_mu"), 1)

    def per(ts: list[float]) -> str:
        return ", ".join(f"{t:.2f}" for t in ts)

    def line(label: str, t: float, base: float | None = None) -> str:
        tail = "" if base is None else f"   = {t / base:8.1f} × raw SQL, {t / b_load:5.1f} × load, {t / b_tax:5.1f} × load+tax"
        return f"  {label:48} {t:8.3f} s{tail}"

    n_counted = len(ev["tax_per_mu"]["parcels_counted"])
    say()
    say(f"park {pid} ({dialect}): {spec.parcels:,} parcels, {c['contracts']:,} contracts, {c['tax_records']:,} tax records "
        f"({spec.first_year}–{spec.last_year}); {year}: {n_counted:,} parcels counted, park 亩均税收 "
        f"{ev['tax_per_mu']['value']['value']} 万元/亩 ({ev['verdict']}); ledger {led['count']:,} rows")
    say(f"raw SQL result: {raw_out[0]:,} joined rows, area {float(raw_out[1]):,.2f} 亩, tax {float(raw_out[2]):,.2f} 万元 "
        f"(naive: a shared enterprise's tax is counted once per parcel)")
    say(f"data: generated in {t_gen:.1f} s, loaded in {t_load:.1f} s through the service functions "
        f"(scoring run: {summary['scoring'].get('status')})")
    say(f"\nper round (s): evaluation {per(ts_eval)}; ledger {per(ts_led)}; raw SQL {per(ts_raw)}; load {per(ts_load)}; "
        f"load+tax {per(ts_tax)}")
    say(f"\nbest of {rounds}:")
    say(line("baseline: raw SQL sum of tax and area", b_raw))
    say(line("baseline: load the park's rows (load)", b_load))
    say(line("baseline: load + park_tax 2025, 2024 (no engine)", b_tax))
    say(line(f"GET /v1/parks/{{id}}/evaluation?year={year}", e_eval, b_raw))
    say(line(f"GET /v1/parks/{{id}}/ledger?as_of={as_of}", e_led, b_raw))
    say(line("GET …/evaluation.xlsx (one round)", e_xlsx, b_raw))
    say(line("GET …/ledger.xlsx (one round)", e_lxlsx, b_raw))
    say(line("GET …/evaluation.svg?chart=tax_per_mu (one round)", e_svg, b_raw))
    say(f"\nevaluation: {e_eval / spec.parcels * 1000:.2f} ms per parcel; classification and the rest beyond load+tax: "
        f"{e_eval - b_tax:.2f} s ({(e_eval - b_tax) / e_eval:.0%} of the endpoint)")


if __name__ == "__main__":
    main()
