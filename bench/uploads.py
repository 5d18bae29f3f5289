"""Benchmark: hostile and large .xlsx uploads against a real server — its memory, the time to the
answer, and whether it keeps answering /healthz meanwhile (issue 10, item 2).

Run from the repository root::

    .venv/bin/python bench/uploads.py [--only NAME ...] [--json FILE]

It is a benchmark, not a test: it prints a table.  It starts ``uvicorn app.main:app`` (one
worker, as tests/trust_support.py does) on a fresh SQLite file, then POSTs each workbook to
``/v1/tax-records:xlsx`` once:

  summary-3M   3,000,000 rows of 合计 (15 MB)
  zip-bomb     8,000,000 identical rows, deflated as far as it goes (~1 MB)
  sst-bomb     107,000,000 one-letter shared strings (4.4 MB; 1.8 GB of XML)
  real-1M      1,000,000 valid tax rows (7 MB)
  valid-100k   a valid 100,000-row tax workbook written by openpyxl, with a title row (2 MB)

For each: the server's resident memory before (idle) and at its peak — summed over its process
tree (the workbook reader's worker processes and their fork server included), polled from /proc
every 10 ms —, the time to the answer and its status, and /healthz polled every 50 ms during
the upload: the worst latency and the number of probes.

Baselines, same run, same server: /healthz at idle (50 probes: median and worst), a workbook of
two valid rows first (it also starts the reader's fork server, which then stays: the idle figures
of the later rows include it), and the valid-100k records POSTed as a JSON batch to
``/v1/tax-records`` (time and peak memory), against which the workbook's figures are given as
ratios.  Targets (issue 10): every hostile file
under 300 MB above idle, /healthz under 1 s throughout.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1e6


def say(msg: str = "") -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- the server's process tree

def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree_rss(root: int) -> tuple[int, int]:
    """(bytes resident summed over ``root`` and its descendants, number of processes)."""
    kids = _children()
    total, n, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
            n += 1
        except OSError:
            pass
        todo += kids.get(pid, [])
    return total, n


class Peak:
    """Polls the tree's RSS every ``every`` seconds while in use; ``peak`` is the largest seen."""

    def __init__(self, root: int, every: float = 0.01) -> None:
        self.root, self.every, self.peak, self.procs = root, every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, n = tree_rss(self.root)
            self.peak, self.procs = max(self.peak, rss), max(self.procs, n)
            self._stop.wait(self.every)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        rss, n = tree_rss(self.root)
        self.peak, self.procs = max(self.peak, rss), max(self.procs, n)


def idle_rss(root: int, settle: float = 2.0) -> int:
    """The tree's RSS once it has stopped changing (workers gone, memory returned)."""
    time.sleep(settle)
    samples = []
    for _ in range(5):
        samples.append(tree_rss(root)[0])
        time.sleep(0.1)
    return min(samples)


# ---------------------------------------------------------------- the workbooks

def workbooks(only: set[str] | None) -> list[tuple[str, str, object]]:
    """(name, description, bytes or a function making them): made lazily, one at a time."""
    from tests import xlsx_bombs as xb

    def valid() -> bytes:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("税收")
        ws.append(["2025 年度税收入库情况"])
        ws.append(xb.TAX_HEADER)
        for r in xb.tax_rows(100_000, tag="B" + uuid.uuid4().hex[0].upper()):
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def tiny() -> bytes:
        return xb.workbook([xb.row(xb.TAX_HEADER), *(xb.row(r) for r in xb.tax_rows(2, tag="T" + uuid.uuid4().hex[0].upper()))])

    table = [("tiny", "2 valid tax rows (baseline: the fixed cost of a workbook read)", tiny),
             ("summary-3M", "3,000,000 rows of 合计", lambda: xb.summary_rows(3_000_000)),
             ("zip-bomb", "8,000,000 identical rows, deflate -9", lambda: xb.zip_bomb(8_000_000)),
             ("sst-bomb", "107,000,000 shared strings", lambda: xb.shared_strings_bomb(107_000_000)),
             ("real-1M", "1,000,000 valid tax rows", lambda: xb.real_rows(1_000_000)),
             ("valid-100k", "valid 100,000-row tax workbook", valid)]
    return [t for t in table if only is None or t[0] in only or t[0] == "tiny"]


# ---------------------------------------------------------------- one upload, measured

def measure(base: str, pid: int, url: str, files: dict | None = None, content: bytes | None = None,
            headers: dict | None = None) -> dict:
    idle = idle_rss(pid)
    probes: list[float] = []
    failures: list[str] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=10) as c:
            while True:     # at least once, even when the answer comes first
                t0 = time.perf_counter()
                try:
                    if c.get(f"{base}/healthz").status_code != 200:
                        failures.append("status")
                except httpx.HTTPError as e:
                    failures.append(type(e).__name__)
                probes.append(time.perf_counter() - t0)
                if done.wait(0.05):
                    break

    prober = threading.Thread(target=probe, daemon=True)
    with Peak(pid) as peak, httpx.Client(timeout=600) as c:
        prober.start()
        t0 = time.perf_counter()
        r = c.post(f"{base}{url}", files=files, content=content, headers=headers)
        elapsed = time.perf_counter() - t0
        done.set()
        prober.join()
    detail = r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else None
    msg = detail[0]["msg"] if isinstance(detail, list) and detail else (detail if isinstance(detail, str) else "")
    return {"status": r.status_code, "seconds": elapsed, "idle_mb": idle / MB, "peak_mb": peak.peak / MB,
            "above_idle_mb": (peak.peak - idle) / MB, "processes": peak.procs, "healthz_worst_ms": max(probes) * 1000,
            "healthz_probes": len(probes), "healthz_failures": len(failures), "message": msg[:90],
            "after_mb": idle_rss(pid) / MB}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="workbook names (default: all five)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()

    from tests.trust_support import Server

    tmp = Path(tempfile.mkdtemp(prefix="sl-bench-uploads-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    say(f"upload benchmark: uvicorn (1 worker) on {url}")
    say(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"{platform.platform()}")
    server = Server(url, tmp / "server.log").start()
    results: dict[str, dict] = {}
    try:
        pid = server.proc.pid
        base = server.base
        with httpx.Client(timeout=10) as c:
            idle_probes = []
            for _ in range(50):
                t0 = time.perf_counter()
                c.get(f"{base}/healthz")
                idle_probes.append(time.perf_counter() - t0)
                time.sleep(0.02)
        say(f"baseline /healthz at idle: median {statistics.median(idle_probes) * 1000:.1f} ms, "
            f"worst {max(idle_probes) * 1000:.1f} ms (50 probes)")
        say(f"server idle RSS at start: {tree_rss(pid)[0] / MB:.0f} MB")
        say()
        valid_bytes = None
        for name, desc, make in workbooks(set(args.only) if args.only else None):
            data = make()
            if name == "valid-100k":
                valid_bytes = data
            say(f"{name}: {desc}, {len(data) / MB:.2f} MB … ")
            res = measure(base, pid, f"/v1/tax-records:xlsx?batch_id=bench-{name}-{uuid.uuid4().hex[:8]}",
                          files={"file": (f"{name}.xlsx", data, XLSX)})
            res |= {"file_mb": len(data) / MB, "description": desc}
            results[name] = res
            say(f"  → {res['status']} in {res['seconds']:.2f} s; peak {res['above_idle_mb']:.0f} MB above idle; "
                f"/healthz worst {res['healthz_worst_ms']:.0f} ms; {res['message']}")
            del data
        if valid_bytes is not None:
            # Baseline: the same records as one JSON batch.
            from openpyxl import load_workbook

            ws = load_workbook(io.BytesIO(valid_bytes), read_only=True).worksheets[0]
            records = [{"uscc": u, "year": y, "tax_paid": {"value": p, "unit": "万元"},
                        "policy_refunds": {"value": f, "unit": "万元"}}
                       for u, y, p, f in ws.iter_rows(min_row=3, values_only=True)]
            body = json.dumps({"batch_id": f"bench-json-{uuid.uuid4().hex[:8]}", "records": records},
                              ensure_ascii=False).encode()
            # The same USCCs again: a new batch of the same records is all "unchanged"; post new ones
            # by changing the year, so that the JSON batch stores as many rows as the workbook did.
            body = body.replace(b'"year": 2025', b'"year": 2024')
            res = measure(base, pid, "/v1/tax-records", content=body, headers={"content-type": "application/json"})
            res |= {"file_mb": len(body) / MB, "description": "the valid-100k records as a JSON batch (baseline)"}
            results["json-100k"] = res
            say(f"json-100k (baseline): {res['status']} in {res['seconds']:.2f} s; peak {res['above_idle_mb']:.0f} MB "
                f"above idle; /healthz worst {res['healthz_worst_ms']:.0f} ms")
    finally:
        server.stop()

    say()
    say(f"{'workbook':<12} {'size MB':>8} {'status':>6} {'answer s':>9} {'idle MB':>8} {'peak MB':>8} "
        f"{'+idle MB':>9} {'after MB':>9} {'procs':>5} {'/healthz worst ms':>18} {'probes':>7}")
    for name, r in results.items():
        say(f"{name:<12} {r['file_mb']:8.2f} {r['status']:>6} {r['seconds']:9.2f} {r['idle_mb']:8.0f} {r['peak_mb']:8.0f} "
            f"{r['above_idle_mb']:9.0f} {r['after_mb']:9.0f} {r['processes']:5d} {r['healthz_worst_ms']:18.0f} "
            f"{r['healthz_probes']:7d}")
    if "valid-100k" in results and "json-100k" in results:
        x, j = results["valid-100k"], results["json-100k"]
        say()
        say(f"valid-100k ÷ JSON batch of the same records: time {x['seconds'] / j['seconds']:.2f}×, "
            f"memory above idle {x['above_idle_mb'] / max(j['above_idle_mb'], 1):.2f}×")
    hostile = [r for n, r in results.items() if n not in ("tiny", "valid-100k", "json-100k")]
    if hostile:
        worst_mem = max(r["above_idle_mb"] for r in hostile)
        worst_hz = max(r["healthz_worst_ms"] for r in results.values())
        say(f"targets: hostile files under 300 MB above idle — worst {worst_mem:.0f} MB "
            f"({'met' if worst_mem < 300 else 'NOT met'}); /healthz under 1 s — worst {worst_hz:.0f} ms "
            f"({'met' if worst_hz < 1000 else 'NOT met'}); failed probes: {sum(r['healthz_failures'] for r in results.values())}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
