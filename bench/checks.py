"""Benchmark: proposal checks through durable_rules vs the reference evaluator, and
``POST /v1/checks/proposal:batch`` with persistence vs the reference evaluator without it.

Run from the repository root::

    MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864 \\
        .venv/bin/python bench/checks.py [--n 3000] [--batch 10000] [--database-url URL]

The two MALLOC_* variables are read by glibc once, at process start (setting them
from inside this script has no effect), and the durable engine's throughput depends
on them (docs/engine.md; the service sets them for its workers in
``standard-land serve`` and in the Dockerfile).  Run the benchmark with them in the
environment; the script prints whether they were set.

It is a benchmark, not a test: it prints figures and ratios against baselines measured
in the same run, on the same inputs.  It does check that both engines return the same
outcome for every check it times, and that the batch's stored verdicts equal the
baseline's, and stops if they do not.

Phase A — µs per proposal check, single-proposal path (no resolution cache, no storage):
  ``app.checks.proposal.evaluate(req, registry, engine, known_at=...)`` end to end, for
  ``--n`` varied Sanmenxia "3+N+1" proposals (industry, land unit, given vs derived
  indicators, optional output, some failing, some incomplete), on a Registry built by
  ``app.checks.golden.bundled_registry()``, with ``by_name("durable")`` and
  ``REFERENCE``; then the bare engine call ``engine.evaluate(program, values)`` on the
  exact (program, values) pairs those checks produced, so the engine's own share shows.
  Each timing is taken ``--rounds`` times, engines alternating; the best round counts.

Phase B — decisions/s of the batch endpoint with persistence:
  ``--batch`` proposals (another seed) POSTed as ONE request to
  ``/v1/checks/proposal:batch`` through ``fastapi.testclient.TestClient`` (so the figure
  includes JSON parsing, request validation, evaluation under the service's engine
  (``STANDARD_LAND_ENGINE``, default durable), the hash-chained decision append in one
  transaction, and response serialization; not the client's JSON encoding of the body,
  done before the clock starts), on a fresh SQLite database in a temporary directory or
  on ``--database-url``.  Baseline, same items, same run: the reference
  evaluator without persistence or HTTP — ``ProposalRequest.model_validate`` plus
  ``evaluate(..., cache=...)`` exactly as ``run_batch`` calls it.  The batch's verdicts
  are checked against the baseline's.

Phase C — a summary table, CPU count and Python version.  Peak RSS is printed after
each phase (``ru_maxrss``: the process's high-water mark, so it never goes down).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MALLOC_VARS = {"MALLOC_MMAP_THRESHOLD_": "4194304", "MALLOC_TRIM_THRESHOLD_": "67108864"}

# GB/T 4754-2017 manufacturing divisions: 32 and 26 have their own Sanmenxia investment
# thresholds; the others take the default; plot-ratio minima differ (national 2008 table).
CODES = ["32", "32", "26", "31", "33", "34", "35", "38", "39", "40", "13", "27"]
AS_OF = ["2021-06-30", "2022-09-15", "2024-03-01", "2025-11-20"]


# ---------------------------------------------------------------- inputs

def _q(x: float, places: int) -> str:
    """A decimal string (the API accepts JSON numbers or decimal strings)."""
    return str(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places)))


def make_body(rng: random.Random) -> dict:
    """One Sanmenxia proposal body; values drawn around the thresholds so that
    verdicts differ (pass / fail / incomplete) and rounding matters."""
    code = rng.choice(CODES)
    mu = rng.uniform(20, 200)
    unit = rng.choices(["亩", "公顷", "m2"], weights=[6, 2, 2])[0]
    if unit == "亩":
        land_v = round(mu, 2)
        mu = land_v
    elif unit == "公顷":
        land_v = round(mu / 15, 4)
        mu = land_v * 15
    else:
        land_v = round(mu * 2000 / 3, 1)
        mu = land_v * 3 / 2000
    m2 = mu * 2000 / 3
    measures: dict = {
        "fixed_asset_investment": {"value": _q(mu * rng.uniform(185, 290), 2), "unit": "万元"},
    }
    if rng.random() < 0.97:                      # 3 %: tax missing → incomplete
        measures["annual_tax"] = {"value": _q(mu * rng.uniform(12.5, 22), 2), "unit": "万元"}
    if rng.random() < 0.5:                       # output is not required: sometimes absent
        measures["annual_output"] = {"value": _q(mu * rng.uniform(260, 420), 1), "unit": "万元"}
    indicators: dict = {}
    pr = rng.uniform(0.55, 1.8)
    if rng.random() < 0.7:
        indicators["plot_ratio"] = {"value": _q(pr, 3)}
    else:
        measures["total_floor_area"] = {"value": _q(m2 * pr, 1), "unit": "m2"}
    bc = rng.uniform(27, 60)
    if rng.random() < 0.7:
        indicators["building_coefficient"] = {"value": _q(bc, 2), "unit": "%"}
    else:
        measures["building_footprint"] = {"value": _q(m2 * bc / 100, 1), "unit": "m2"}
    admin = rng.uniform(2, 7.6)
    if rng.random() < 0.8:
        indicators["admin_land_share"] = ({"value": _q(admin, 2), "unit": "%"} if rng.random() < 0.8
                                          else {"value": _q(admin / 100, 4), "unit": "fraction"})
    else:
        measures["admin_land_area"] = {"value": _q(m2 * admin / 100, 1), "unit": "m2"}
    green = rng.uniform(4, 21)
    if rng.random() < 0.8:
        indicators["green_ratio"] = {"value": _q(green, 2), "unit": "%"}
    else:
        measures["green_area"] = {"value": _q(m2 * green / 100, 1), "unit": "m2"}
    indicators["environment_attested"] = {"value": rng.random() < 0.97}
    if rng.random() < 0.98:                      # 2 %: the "+1" missing → incomplete
        indicators["construction_conditions_attested"] = {"value": rng.random() < 0.97}
    return {
        "as_of": rng.choice(AS_OF),
        "jurisdiction": "411200",
        "industry": {"code": code, "classification": "GB/T 4754-2017"},
        "land_area": {"value": str(land_v), "unit": unit},
        "measures": measures,
        "indicators": indicators,
    }


def make_bodies(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [make_body(rng) for _ in range(n)]


# ---------------------------------------------------------------- helpers

def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # KiB on Linux


def say(msg: str = "") -> None:
    print(msg, flush=True)


def rss(phase: str) -> float:
    v = peak_rss_mib()
    say(f"  peak RSS after {phase}: {v:.1f} MiB")
    return v


def timed(fn, rounds: int, cpu: list[float] | None = None) -> tuple[float, list[float]]:
    """Run ``fn`` ``rounds`` times (GC collected first, not disabled); best and all wall times (s).
    ``cpu``, if given, receives each round's CPU time of this thread."""
    times = []
    for _ in range(rounds):
        gc.collect()
        c0 = time.thread_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.thread_time() - c0)
    return min(times), times


# ---------------------------------------------------------------- phase A

def phase_a(n: int, rounds: int, seed: int) -> dict:
    from app.checks import proposal
    from app.checks.golden import bundled_registry
    from app.engine import REFERENCE, Engine, by_name
    from app.schemas.proposal import ProposalRequest

    durable = by_name("durable")
    registry = bundled_registry()
    known_at = dt.datetime.now(dt.UTC)
    reqs = [ProposalRequest.model_validate(b) for b in make_bodies(n, seed)]

    # The (program, values) pairs each check hands its engine, for the bare-engine timing.
    # Capturing also checks that durable and reference return the same outcome for every
    # check (everything else in evaluate() is shared code) and compiles durable's programs.
    pairs: list = []
    mismatches: list = []

    def capture(program, values):
        values = dict(values)
        expected = REFERENCE.evaluate(program, values)
        if durable.evaluate(program, values) != expected:
            mismatches.append((program.digest, values))
        pairs.append((program, values))
        return expected

    capturing = Engine("capture", "0", capture)
    ref_results = [proposal.evaluate(r, registry, capturing, known_at=known_at) for r in reqs]
    if mismatches:
        sys.exit(f"durable and reference disagree on {len(mismatches)} of {n} proposals — fix that before timing")
    verdicts = Counter(r["verdict"] for r in ref_results)
    del ref_results
    programs = len({p.digest for p, _ in pairs})
    checks_per = statistics.mean(len(p.checks) for p, _ in pairs)
    say(f"  {n} proposals, verdicts {dict(verdicts)}; {programs} distinct programs, "
        f"{checks_per:.1f} engine checks per proposal; durable == reference on every check")

    warm = reqs[: min(200, n)]
    for e in (durable, REFERENCE):
        for r in warm:
            proposal.evaluate(r, registry, e, known_at=known_at)
        for p, v in pairs[: len(warm)]:
            e.evaluate(p, v)

    def e2e(engine):
        def run():
            for r in reqs:
                proposal.evaluate(r, registry, engine, known_at=known_at)
        return run

    def bare(engine):
        ev = engine.evaluate

        def run():
            for p, v in pairs:
                ev(p, v)
        return run

    out: dict = {"n": n, "verdicts": dict(verdicts), "checks_per": checks_per}
    for label, make in (("e2e", e2e), ("bare", bare)):
        best: dict = {"durable": [], "reference": []}
        cpu: dict = {"durable": [], "reference": []}
        for i in range(rounds):            # alternate so drift hits both engines alike
            order = [("durable", durable), ("reference", REFERENCE)]
            for name, e in order if i % 2 == 0 else order[::-1]:
                t, _ = timed(make(e), 1, cpu[name])
                best[name].append(t)
        for name, ts in best.items():
            out[f"{label}_{name}_us"] = min(ts) / n * 1e6
            # CPU time of this thread: on a shared machine wall time also counts the
            # time other processes held the CPU; CPU time is the check's own cost.
            out[f"{label}_{name}_cpu_us"] = min(cpu[name]) / n * 1e6
            say(f"  {label:4} {name:9}: " + ", ".join(f"{t / n * 1e6:8.1f}" for t in ts) + "  µs/check per round (wall); "
                + ", ".join(f"{t / n * 1e6:8.1f}" for t in cpu[name]) + " (CPU)")
    return out


# ---------------------------------------------------------------- phase B

def phase_b(batch: int, seed: int, database_url: str | None, warmup: int) -> dict:
    tmp = None
    if database_url is None:
        tmp = Path(tempfile.mkdtemp(prefix="sl-bench-"))
        database_url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["DATABASE_URL"] = database_url

    from fastapi.testclient import TestClient
    from sqlalchemy import func
    from sqlmodel import Session, select

    from app.checks import proposal
    from app.checks.golden import bundled_registry
    from app.engine import REFERENCE, selected
    from app.main import app
    from app.schemas.proposal import ProposalRequest
    from app.store.db import get_engine, reset_engine
    from app.store.models import Decision

    reset_engine()
    bodies = make_bodies(batch, seed)
    engine_name = selected().name
    say(f"  database {database_url.split('@')[-1]}; batch engine {engine_name} (STANDARD_LAND_ENGINE="
        f"{os.environ.get('STANDARD_LAND_ENGINE', '')!r})")

    # Baseline: reference evaluator, no HTTP, no persistence — what run_batch does before append().
    registry = bundled_registry()

    def baseline():
        now = dt.datetime.now(dt.UTC)
        cache: dict = {}
        return [proposal.evaluate(ProposalRequest.model_validate(b), registry, REFERENCE, known_at=now, cache=cache)
                for b in bodies]

    for b in bodies[:warmup]:
        proposal.evaluate(ProposalRequest.model_validate(b), registry, REFERENCE, known_at=dt.datetime.now(dt.UTC))
    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    base = baseline()
    t_base = time.perf_counter() - t0
    cpu_base = time.process_time() - c0
    base_verdicts = [r["verdict"] for r in base]
    del base
    say(f"  baseline (reference, validate + evaluate, no persistence): {batch} in {t_base:.2f} s "
        f"= {batch / t_base:,.0f} decisions/s")
    rss("baseline")

    with TestClient(app) as client:            # lifespan: create tables, load bundled rule sets
        with Session(get_engine()) as s:
            before = s.exec(select(func.count()).select_from(Decision)).one()
        # Warm-up through the same endpoint (compiles the durable programs, warms the ORM).
        w = client.post("/v1/checks/proposal:batch", json={"items": make_bodies(warmup, seed + 7)})
        assert w.status_code == 200, w.text[:2000]
        # The body is encoded before the clock starts: a client's JSON encoding is not the
        # service's work (the figure still includes the in-process transport).
        raw = json.dumps({"items": bodies}, ensure_ascii=False).encode()
        gc.collect()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        resp = client.post("/v1/checks/proposal:batch", content=raw, headers={"content-type": "application/json"})
        t_batch = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu_batch = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)     # all threads of the process
        assert resp.status_code == 200, resp.text[:2000]
        resp_mib = len(resp.content) / 2**20
        engine_tag = f'"engine":"{engine_name}"'.encode()
        engine_count = resp.content.count(engine_tag)   # no json.loads of the whole response:
        del resp                                         # it would dominate the peak RSS
        with Session(get_engine()) as s:
            after = s.exec(select(func.count()).select_from(Decision)).one()
            batch_verdicts = list(s.exec(select(Decision.verdict).order_by(Decision.seq.desc())
                                         .limit(batch)).all())[::-1]
    stored = after - before - warmup
    differ = sum(a != b for a, b in zip(batch_verdicts, base_verdicts, strict=True))
    say(f"  CPU time: batch {cpu_batch:.2f} s = {batch / cpu_batch:,.0f} decisions per CPU-second; baseline "
        f"{cpu_base:.2f} s = {batch / cpu_base:,.0f}")
    say(f"  batch: POST {batch} items in {t_batch:.2f} s = {batch / t_batch:,.0f} decisions/s; "
        f"response {resp_mib:.1f} MiB; {stored} decisions stored; {engine_count} verdicts by {engine_name}")
    if stored != batch:
        sys.exit(f"expected {batch} stored decisions, found {stored}")
    if differ:
        sys.exit(f"batch verdicts differ from the reference baseline on {differ} of {batch} items")
    say(f"  stored batch verdicts == baseline verdicts on all {batch}")
    db_mib = None
    if tmp is not None:
        db_mib = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
        say(f"  SQLite files: {db_mib:.1f} MiB")
    reset_engine()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"batch": batch, "t_base": t_base, "t_batch": t_batch, "engine": engine_name,
            "base_per_s": batch / t_base, "batch_per_s": batch / t_batch, "db_mib": db_mib,
            "base_per_cpu_s": batch / cpu_base, "batch_per_cpu_s": batch / cpu_batch,
            "verdicts": dict(Counter(base_verdicts))}


# ---------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="proposals timed per engine in phase A (default 3000)")
    ap.add_argument("--batch", type=int, default=10_000, help="items in the batch POST, at most 10000 (default 10000)")
    ap.add_argument("--database-url", default=None,
                    help="database for phase B (default: fresh SQLite in a temp dir, deleted afterwards)")
    ap.add_argument("--rounds", type=int, default=2, help="timed rounds per phase-A figure; best counts (default 2)")
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--skip-batch", action="store_true", help="phase A only")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    if not 1 <= args.batch <= 10_000:
        ap.error("--batch must be 1..10000 (the endpoint's MAX_BATCH)")

    say(f"standard-land bench/checks.py — Python {platform.python_version()} ({sys.executable}), "
        f"{os.cpu_count()} CPUs, {platform.platform()}")
    la = " ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"  load average {la} (other processes on the machine skew every figure)")
    for k, v in MALLOC_VARS.items():
        cur = os.environ.get(k)
        state = "set" if cur == v else (f"set to {cur!r} (recommended {v})" if cur else f"NOT set (recommended {v})")
        say(f"  {k} {state}")
    if any(os.environ.get(k) != v for k, v in MALLOC_VARS.items()):
        say("  note: glibc reads these only at process start; re-run with them in the environment for service-like figures")
    from importlib.metadata import version
    say(f"  durable-rules {version('durable-rules')}")
    rss("imports")

    say(f"\n[A] µs per proposal check: {args.n} varied Sanmenxia proposals, {args.rounds} rounds")
    t0 = time.perf_counter()
    a = phase_a(args.n, args.rounds, args.seed)
    say(f"  phase A took {time.perf_counter() - t0:.1f} s")
    rss_a = rss("phase A")

    b = None
    rss_b = None
    if not args.skip_batch:
        say(f"\n[B] proposal:batch with persistence: {args.batch} items via fastapi.testclient.TestClient")
        t0 = time.perf_counter()
        b = phase_b(args.batch, args.seed + 1, args.database_url, warmup=min(200, args.batch))
        say(f"  phase B took {time.perf_counter() - t0:.1f} s")
        rss_b = rss("phase B")

    say("\n[C] summary")
    rows = [
        ("check end to end, durable", f"{a['e2e_durable_us']:.1f} µs"),
        ("check end to end, reference", f"{a['e2e_reference_us']:.1f} µs"),
        ("  ratio durable ÷ reference", f"{a['e2e_durable_us'] / a['e2e_reference_us']:.2f}×"),
        ("bare engine call, durable", f"{a['bare_durable_us']:.1f} µs"),
        ("bare engine call, reference", f"{a['bare_reference_us']:.1f} µs"),
        ("bare engine call CPU time, durable", f"{a['bare_durable_cpu_us']:.1f} µs"),
        ("bare engine call CPU time, reference", f"{a['bare_reference_cpu_us']:.1f} µs"),
        ("  target: durable ≤ 150 µs per check (wall)", "met" if a["bare_durable_us"] <= 150 else "MISSED"),
        ("  ratio durable ÷ reference", f"{a['bare_durable_us'] / a['bare_reference_us']:.1f}×"),
        ("engine share of a check, durable", f"{a['bare_durable_us'] / a['e2e_durable_us']:.0%}"),
        ("engine share of a check, reference", f"{a['bare_reference_us'] / a['e2e_reference_us']:.0%}"),
        ("checks/s per process, durable", f"{1e6 / a['e2e_durable_us']:,.0f}"),
        ("checks/s per process, reference", f"{1e6 / a['e2e_reference_us']:,.0f}"),
        ("peak RSS after A", f"{rss_a:.1f} MiB"),
    ]
    if b is not None:
        rows += [
            (f"batch {b['batch']} + persistence ({b['engine']})", f"{b['batch_per_s']:,.0f} decisions/s"),
            ("baseline reference, no persistence", f"{b['base_per_s']:,.0f} decisions/s"),
            ("  ratio batch ÷ baseline", f"{b['batch_per_s'] / b['base_per_s']:.2f}×"),
            ("  target: ≥ 4,000 decisions/s (wall)", "met" if b["batch_per_s"] >= 4000 else "MISSED"),
            ("batch, decisions per CPU-second", f"{b['batch_per_cpu_s']:,.0f}"),
            ("baseline, decisions per CPU-second", f"{b['base_per_cpu_s']:,.0f}"),
            ("peak RSS after B", f"{rss_b:.1f} MiB"),
        ]
    rows += [("CPUs", str(os.cpu_count())), ("Python", platform.python_version()),
             ("load average at end (1 min)", f"{os.getloadavg()[0]:.2f}"),
             ("MALLOC_* set", "yes" if all(os.environ.get(k) == v for k, v in MALLOC_VARS.items()) else "no")]
    if args.json:
        Path(args.json).write_text(json.dumps({"a": a, "b": b}, indent=2))
    w = max(len(k) for k, _ in rows)
    say("  " + "-" * (w + 22))
    for k, v in rows:
        say(f"  {k:<{w}}  {v:>18}")
    say("  " + "-" * (w + 22))


if __name__ == "__main__":
    main()
