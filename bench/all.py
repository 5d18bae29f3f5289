"""The performance bar (issue 6, item 7) in one run: every figure next to its baseline,
measured in the same run, and against its target.

Run from the repository root::

    .venv/bin/python bench/all.py [--database-url URL [--reset-postgres]] [--quick]

Runs, one after another, each in its own process with the MALLOC_* variables the
service is deployed with:

  bench/http_load.py  single checks over HTTP (p50/p99 on one kept-alive connection) and
                      checks/s at 32 connections, against a constant FastAPI endpoint
                      served the same way (2 uvicorn workers each);
  bench/checks.py     the durable engine vs the reference evaluator (µs per 3+N+1 check),
                      and proposal:batch of 10,000 with persistence vs the reference
                      evaluator without persistence (decisions/s);
  bench/tax.py        100,000 tax records in one batch (records/s) vs validation alone
                      and the driver's raw insert.

Without ``--database-url`` each uses a fresh SQLite file in a temporary directory.  With
a PostgreSQL URL, ``--reset-postgres`` empties that database's public schema first (your
own database only).  ``--quick`` runs smaller sizes (a smoke run, not the bar).  Each
script's own output is printed as it runs; the summary table comes last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from checks import MALLOC_VARS  # noqa: E402

TARGETS = {"batch": 4000, "p99_ms": 5.0, "ratio": 0.25, "engine_us": 150.0}


def run(script: str, args: list[str], out: Path) -> dict:
    cmd = [sys.executable, str(BENCH / script), *args, "--json", str(out)]
    print(f"\n$ {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True, cwd=BENCH.parent, env={**os.environ, **MALLOC_VARS})
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--reset-postgres", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run, not the bar")
    args = ap.parse_args()
    db = ["--database-url", args.database_url] if args.database_url else []
    tmp = Path(tempfile.mkdtemp(prefix="sl-bench-all-"))
    load0 = os.getloadavg()[0]

    h = run("http_load.py", db + (["--reset-postgres"] if args.reset_postgres else [])
            + (["--requests", "500", "--duration", "4"] if args.quick else []), tmp / "http.json")
    c = run("checks.py", db + (["--n", "500", "--batch", "2000"] if args.quick else []), tmp / "checks.json")
    t = run("tax.py", db + (["--records", "20000", "--rounds", "1"] if args.quick else ["--rounds", "2"]),
            tmp / "tax.json")

    a, b = c["a"], c["b"]
    s, k = h["service"], h["constant"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    rows = [
        ("single check p50, one connection (ms)", f"{s['single']['p50_ms']:.2f}", f"{k['single']['p50_ms']:.2f}",
         f"{s['single']['p50_ms'] / k['single']['p50_ms']:.1f}×", ""),
        ("single check p99, one connection (ms)", f"{s['single']['p99_ms']:.2f}", f"{k['single']['p99_ms']:.2f}",
         f"{s['single']['p99_ms'] / k['single']['p99_ms']:.1f}×",
         f"≤ {TARGETS['p99_ms']:g} ms: {verdict(s['single']['p99_ms'] <= TARGETS['p99_ms'])}"),
        ("checks/s, 32 connections", f"{s['concurrent']['rps']:,.0f}", f"{k['concurrent']['rps']:,.0f}",
         f"{h['ratio_concurrent']:.1%}",
         f"≥ 25 %, 0 failed: {verdict(h['ratio_concurrent'] >= TARGETS['ratio'] and s['concurrent']['failed'] == 0)}"),
        ("  failed requests", str(s["concurrent"]["failed"]), str(k["concurrent"]["failed"]), "", ""),
        (f"proposal:batch {b['batch']:,} + persistence (decisions/s)", f"{b['batch_per_s']:,.0f}",
         f"{b['base_per_s']:,.0f}", f"{b['batch_per_s'] / b['base_per_s']:.2f}×",
         f"≥ {TARGETS['batch']:,}: {verdict(b['batch_per_s'] >= TARGETS['batch'])}"),
        ("engine µs per 3+N+1 check (durable vs reference)", f"{a['bare_durable_us']:.1f}",
         f"{a['bare_reference_us']:.1f}", f"{a['bare_durable_us'] / a['bare_reference_us']:.1f}×",
         f"≤ {TARGETS['engine_us']:g} µs: {verdict(a['bare_durable_us'] <= TARGETS['engine_us'])}"),
        ("  the same, CPU time of the benchmark thread (µs)", f"{a['bare_durable_cpu_us']:.1f}",
         f"{a['bare_reference_cpu_us']:.1f}", f"{a['bare_durable_cpu_us'] / a['bare_reference_cpu_us']:.1f}×",
         f"≤ {TARGETS['engine_us']:g} µs: {verdict(a['bare_durable_cpu_us'] <= TARGETS['engine_us'])}"),
        ("  batch, decisions per CPU-second of the process", f"{b['batch_per_cpu_s']:,.0f}",
         f"{b['base_per_cpu_s']:,.0f}", f"{b['batch_per_cpu_s'] / b['base_per_cpu_s']:.2f}×",
         f"≥ {TARGETS['batch']:,}: {verdict(b['batch_per_cpu_s'] >= TARGETS['batch'])}"),
        ("  server CPU per single check, one connection (ms)", f"{s['single']['server_cpu_ms']:.2f}",
         f"{k['single']['server_cpu_ms']:.2f}", f"{s['single']['server_cpu_ms'] / k['single']['server_cpu_ms']:.1f}×", ""),
        ("  server CPU per check at 32 connections (ms)", f"{s['concurrent']['server_cpu_ms']:.2f}",
         f"{k['concurrent']['server_cpu_ms']:.2f}",
         f"{k['concurrent']['server_cpu_ms'] / s['concurrent']['server_cpu_ms']:.1%}", "≈ throughput ratio if CPU-bound"),
        ("check end to end, no HTTP/storage (µs)", f"{a['e2e_durable_us']:.1f}", f"{a['e2e_reference_us']:.1f}",
         f"{a['e2e_durable_us'] / a['e2e_reference_us']:.2f}×", ""),
        (f"tax records {t['records']:,} in one batch (records/s)", f"{t['endpoint_per_s']:,.0f}",
         f"{t['floor_per_s']:,.0f}", f"{t['endpoint_per_s'] / t['floor_per_s']:.2f}×", "baseline: validate + raw insert"),
    ]
    print(f"\n==== summary ({'quick smoke run' if args.quick else 'full'}; database "
          f"{(args.database_url or 'fresh SQLite files').split('@')[-1]}; load average {load0:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end; {os.cpu_count()} CPUs)")
    print(f"  {'figure':50} {'measured':>10} {'baseline':>10} {'ratio':>7}  target")
    for name, m, base, r, target in rows:
        print(f"  {name:50} {m:>10} {base:>10} {r:>7}  {target}")
    print("  baselines: constant FastAPI endpoint (HTTP rows), reference evaluator without persistence "
          "(batch), reference evaluator (engine rows), validate + raw driver insert (tax)")


if __name__ == "__main__":
    main()
