"""Benchmark: single proposal checks over real HTTP, with persistence, against a constant
FastAPI endpoint served the same way in the same run.

Run from the repository root::

    .venv/bin/python bench/http_load.py [--workers 2] [--requests 2000] [--connections 32]
        [--duration 10] [--database-url URL [--reset-postgres]] [--json FILE]

Servers: ``uvicorn app.main:app`` and ``uvicorn bench.constant_app:app`` (a POST that reads
the body and returns a fixed JSON), each started by this script with the same options:
``--workers N --http httptools --loop uvloop --no-access-log``, the MALLOC_* variables the
service is deployed with (docs/engine.md), one at a time (never both at once)
on free local ports.  The service runs on a fresh SQLite file in a temporary directory, or
on ``--database-url``; ``--reset-postgres`` drops and recreates that database's ``public``
schema first (use it only on a database of your own).  No API keys are configured, so the
service runs open (it says so in its log); STANDARD_LAND_ENV must not be ``production``.

(a) one kept-alive connection: ``--requests`` POSTs of varied Sanmenxia proposals (the
    bodies of bench/checks.py) to /v1/checks/proposal, one after another over one
    ``http.client`` connection, after 200 warm-up requests; p50, p90, p99 and max latency,
    each request timed from before sending to after reading the whole response.
    Baseline: the same bodies to the constant endpoint.
(b) ``--connections`` concurrent kept-alive connections for ``--duration`` seconds with
    ``wrk`` (2 threads, a Lua script cycling through 500 bodies), requests/s and failed
    requests (socket errors, timeouts, non-2xx); baseline: the constant endpoint under the
    same load.  If wrk is missing (apt-get install wrk) an asyncio client is used instead
    and the output says so; it is slower than wrk and shares the 2 CPUs with the servers.

Every service response is checked (status 200, a verdict and a decision id) in (a); in
(b) the stored decisions are counted afterwards and must equal the successful requests.
A benchmark, not a test: figures depend on the machine and on what else runs on it (the
load average is printed before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from checks import MALLOC_VARS, make_bodies  # noqa: E402

PATH = "/v1/checks/proposal"


def say(msg: str = "") -> None:
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One uvicorn with N workers, started and stopped by this script."""

    def __init__(self, target: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        cmd = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(workers), "--http", "httptools", "--loop", "uvloop", "--no-access-log",
               "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, body: bytes, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; log:\n{self.log.read_text()[-3000:]}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("POST", PATH, body, {"content-type": "application/json"})
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit(f"server not ready after {timeout} s; log:\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server and its workers (from /proc): on a
        shared machine, the server's own cost per request whatever else runs."""
        kids: dict[int, list[int]] = {}
        ticks: dict[int, int] = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(d.name)
            kids.setdefault(int(fields[1]), []).append(pid)
            ticks[pid] = int(fields[11]) + int(fields[12])
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            total += ticks.get(pid, 0)
            todo += kids.get(pid, [])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        # The server's own process group (start_new_session): the master and its workers.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


# ---------------------------------------------------------------- (a) one connection

def sequential(port: int, bodies: list[bytes], n: int, warmup: int, check: bool) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json"}
    times = []
    for i in range(warmup + n):
        body = bodies[i % len(bodies)]
        t0 = time.perf_counter()
        conn.request("POST", PATH, body, headers)
        r = conn.getresponse()
        data = r.read()
        t = time.perf_counter() - t0
        if r.status != 200:
            sys.exit(f"request {i}: HTTP {r.status}: {data[:500]!r}")
        if check:
            out = json.loads(data)
            if "verdict" not in out or "decision_id" not in out:
                sys.exit(f"request {i}: no verdict or decision id: {data[:500]!r}")
        if i >= warmup:
            times.append(t)
    conn.close()
    return times


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latency_summary(times: list[float]) -> dict:
    return {"n": len(times), "p50_ms": pct(times, 50) * 1e3, "p90_ms": pct(times, 90) * 1e3,
            "p99_ms": pct(times, 99) * 1e3, "max_ms": max(times) * 1e3, "mean_ms": statistics.mean(times) * 1e3}


# ---------------------------------------------------------------- (b) concurrent connections

LUA = """
bodies = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "%s", {["Content-Type"] = "application/json"}, bodies[(counter %% #bodies) + 1])
end
"""


def lua_string(b: bytes) -> str:
    return '"' + "".join(f"\\{c:03d}" if c < 32 or c > 126 or c in (34, 92) else chr(c) for c in b) + '"'


def with_wrk(port: int, bodies: list[bytes], connections: int, duration: int, tmp: Path) -> dict:
    script = tmp / "post.lua"
    script.write_text(LUA % (", ".join(lua_string(b) for b in bodies), PATH))
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(script),
           f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    secs = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    lat = {}
    for q in ("50", "90", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            lat[f"p{q}_ms"] = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    return {"tool": "wrk", "requests": total, "seconds": secs, "rps": total / secs, "failed": sock + non2xx,
            "non2xx": non2xx, "socket_errors": sock, **lat}


async def _async_load(port: int, bodies: list[bytes], connections: int, duration: float) -> dict:
    ok = failed = 0
    lat: list[float] = []
    end = time.perf_counter() + duration

    async def one(k: int) -> None:
        nonlocal ok, failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = k
        while time.perf_counter() < end:
            body = bodies[i % len(bodies)]
            i += connections
            t0 = time.perf_counter()
            writer.write(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (PATH.encode(), len(body)) + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
            else:
                failed += 1
        writer.close()

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(k) for k in range(connections)), return_exceptions=True)
    secs = time.perf_counter() - t0
    failed += sum(isinstance(r, BaseException) for r in results)
    return {"tool": "asyncio client", "requests": ok + failed, "seconds": secs, "rps": (ok + failed) / secs,
            "failed": failed, "non2xx": failed, "socket_errors": 0, "p50_ms": pct(lat, 50) * 1e3,
            "p90_ms": pct(lat, 90) * 1e3, "p99_ms": pct(lat, 99) * 1e3}


def concurrent(port: int, bodies: list[bytes], connections: int, duration: int, tmp: Path) -> dict:
    if shutil.which("wrk"):
        return with_wrk(port, bodies, connections, duration, tmp)
    return asyncio.run(_async_load(port, bodies, connections, duration))


# ---------------------------------------------------------------- the run

def count_decisions(url: str) -> int:
    from sqlalchemy import create_engine, text

    from app.store.db import database_url
    os.environ["DATABASE_URL"] = url
    engine = create_engine(database_url())
    with engine.connect() as c:
        n = c.execute(text("select count(*) from decision")).scalar_one()
    engine.dispose()
    return n


def reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP SCHEMA public CASCADE")
        c.execute("CREATE SCHEMA public")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--requests", type=int, default=2000, help="timed requests on one connection (default 2000)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=int, default=10, help="seconds of load at --connections (default 10)")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temporary directory")
    ap.add_argument("--reset-postgres", action="store_true",
                    help="drop and recreate the public schema of --database-url first (your own database only)")
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    if os.environ.get("STANDARD_LAND_ENV") == "production":
        sys.exit("STANDARD_LAND_ENV=production refuses to run without API keys; unset it for the benchmark")

    tmp = Path(tempfile.mkdtemp(prefix="sl-http-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    if args.reset_postgres:
        if not url.startswith("postgres"):
            sys.exit("--reset-postgres needs a PostgreSQL --database-url")
        reset_postgres(url)
    env = {**os.environ, **MALLOC_VARS, "DATABASE_URL": url}
    env.pop("STANDARD_LAND_ENGINE", None)          # the default engine: durable_rules
    bodies = [json.dumps(b, ensure_ascii=False).encode() for b in make_bodies(500, args.seed)]

    say(f"standard-land bench/http_load.py — Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}")
    say(f"  uvicorn --workers {args.workers} --http httptools --loop uvloop --no-access-log; database "
        f"{url.split('@')[-1]}; load generator for (b): {'wrk' if shutil.which('wrk') else 'asyncio client'}")
    say(f"  load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    results: dict = {"workers": args.workers, "database": url.split("@")[-1].split("/")[-1],
                     "load_before": os.getloadavg()[0]}
    for name, target in (("constant", "bench.constant_app:app"), ("service", "app.main:app")):
        server = Server(target, args.workers, env, tmp / f"{name}.log")
        try:
            server.wait_ready(bodies[0])
            before = count_decisions(url) if name == "service" else 0
            say(f"\n[{name}] (a) one kept-alive connection, {args.requests} requests after 200 warm-up")
            sequential(server.port, bodies, 200, 0, check=False)                  # warm-up
            cpu0 = server.cpu_seconds()
            seq = latency_summary(sequential(server.port, bodies, args.requests, 0, check=name == "service"))
            seq["server_cpu_ms"] = (server.cpu_seconds() - cpu0) / args.requests * 1e3
            say("  p50 {p50_ms:.2f} ms, p90 {p90_ms:.2f} ms, p99 {p99_ms:.2f} ms, max {max_ms:.2f} ms; server CPU "
                "{server_cpu_ms:.2f} ms per request".format(**seq))
            mid = count_decisions(url) if name == "service" else 0
            say(f"[{name}] (b) {args.connections} connections for {args.duration} s")
            cpu0 = server.cpu_seconds()
            con = concurrent(server.port, bodies, args.connections, args.duration, tmp)
            con["server_cpu_ms"] = (server.cpu_seconds() - cpu0) / max(con["requests"], 1) * 1e3
            say("  {rps:,.0f} requests/s ({requests} in {seconds:.1f} s, {tool}); failed {failed} "
                "(non-2xx {non2xx}, socket errors {socket_errors}); latency p50 {p50_ms:.1f} ms, p99 {p99_ms:.1f} ms; "
                "server CPU {server_cpu_ms:.2f} ms per request"
                .format(**{"p50_ms": float("nan"), "p99_ms": float("nan"), **con}))
            if name == "service":
                stored_a, stored_b = mid - before, count_decisions(url) - mid
                say(f"  decisions stored: (a) {stored_a} (warm-up included), (b) {stored_b}")
                if stored_a != args.requests + 200:
                    sys.exit(f"(a) stored {stored_a} decisions for {args.requests + 200} requests")
                if stored_b != con["requests"] - con["failed"]:
                    say(f"  NOTE: (b) stored {stored_b} decisions for {con['requests'] - con['failed']} successful "
                        f"requests (wrk stops mid-request at the deadline: the difference is requests in flight)")
                con["stored"] = stored_b
            results[name] = {"single": seq, "concurrent": con}
        finally:
            server.stop()
    results["load_after"] = os.getloadavg()[0]

    s, c = results["service"], results["constant"]
    ratio = s["concurrent"]["rps"] / c["concurrent"]["rps"]
    rows = [
        ("single check p50, one connection", f"{s['single']['p50_ms']:.2f} ms", f"{c['single']['p50_ms']:.2f} ms",
         f"{s['single']['p50_ms'] / c['single']['p50_ms']:.1f}×", ""),
        ("single check p99, one connection", f"{s['single']['p99_ms']:.2f} ms", f"{c['single']['p99_ms']:.2f} ms",
         f"{s['single']['p99_ms'] / c['single']['p99_ms']:.1f}×",
         "target ≤ 5 ms: " + ("met" if s["single"]["p99_ms"] <= 5 else "MISSED")),
        (f"checks/s at {args.connections} connections", f"{s['concurrent']['rps']:,.0f}",
         f"{c['concurrent']['rps']:,.0f}", f"{ratio:.1%}",
         "target ≥ 25 %, no failure: " + ("met" if ratio >= 0.25 and s["concurrent"]["failed"] == 0 else "MISSED")),
        ("server CPU per request, one connection", f"{s['single']['server_cpu_ms']:.2f} ms",
         f"{c['single']['server_cpu_ms']:.2f} ms", f"{s['single']['server_cpu_ms'] / c['single']['server_cpu_ms']:.1f}×",
         ""),
        (f"failed requests at {args.connections} connections", str(s["concurrent"]["failed"]),
         str(c["concurrent"]["failed"]), "", ""),
    ]
    say(f"\nsummary ({args.workers} workers each; load average after {results['load_after']:.2f})")
    say(f"  {'':38} {'service':>12} {'constant':>12} {'ratio':>8}")
    for k, a, b, r, note in rows:
        say(f"  {k:38} {a:>12} {b:>12} {r:>8}  {note}")
    results["ratio_concurrent"] = ratio
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
