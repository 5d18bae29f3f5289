"""Prometheus metrics: what is counted, and the /metrics exposition.

Single process: the default registry.  Several uvicorn workers: prometheus-client's
multiprocess mode, selected by ``PROMETHEUS_MULTIPROC_DIR`` (set before any worker
imports prometheus_client; ``standard-land serve --workers N`` does it).  Each worker
then writes its samples to files in that directory and a scrape of any worker sums them.

Labels are bounded sets only — a route *template*, never a raw path, so that ids in
URLs cannot grow the number of time series.
"""

from __future__ import annotations

import os
from collections import Counter as _Tally
from collections.abc import Callable, Iterable
from pathlib import Path
from time import perf_counter
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The *_created series double the output and no dashboard here reads them.
disable_created_metrics()


def _ensure_multiprocess_dir() -> None:
    """In multiprocess mode prometheus-client opens a file in the directory for every metric
    without labels as soon as it is created, i.e. at this module's import, before
    ``standard-land serve`` prepares the directory: it must exist by then.  The image names one
    under /tmp, which starts empty (a tmpfs under a read-only root, or a fresh container)."""
    d = os.environ.get(MULTIPROC_ENV)
    if not d:
        return
    try:
        Path(d).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RuntimeError(f"{MULTIPROC_ENV}={d}: cannot create the metrics directory ({e.strerror}); "
                           "point it at a writable directory") from None


# Latency: a kept-alive check takes about a millisecond, a 10,000-item batch seconds.
_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# One engine evaluation: tens of µs (docs/engine.md); a slow one is a finding in itself.
_ENGINE = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1)
_SIZES = (1, 10, 100, 1_000, 10_000, 100_000)

_ensure_multiprocess_dir()
HTTP_REQUESTS = Counter("standard_land_http_requests", "HTTP requests by route template, method and status",
                        ["route", "method", "status"])
HTTP_LATENCY = Histogram("standard_land_http_request_duration_seconds",
                         "time from request to the end of the response, by route template",
                         ["route", "method"], buckets=_LATENCY)
DECISIONS = Counter("standard_land_decisions", "decisions stored (committed), by kind and verdict",
                    ["kind", "verdict"])
ENGINE_TIME = Histogram("standard_land_engine_seconds", "time inside one rule-engine evaluation",
                        buckets=_ENGINE)
BATCH_ITEMS = Histogram("standard_land_batch_items", "items per accepted batch (proposal:batch, tax records)",
                        ["kind"], buckets=_SIZES)
DB_POOL_IN_USE = Gauge("standard_land_db_pool_in_use", "database connections checked out of the pool",
                       multiprocess_mode="livesum")


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(path: str | None = None) -> str:
    """Create (or empty) the samples directory before the workers start: files left by an
    earlier run would otherwise be summed into this run's counters."""
    import tempfile

    if path is None:
        path = tempfile.mkdtemp(prefix="standard-land-metrics-")
    d = Path(path)
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob("*.db"):
        f.unlink()
    return str(d)


def forget_dead_workers() -> None:
    """A worker that died leaves its live gauge file behind; uvicorn has no hook for a
    child's exit, so each new worker clears the files of pids that no longer exist."""
    d = multiprocess_dir()
    if d is None:
        return
    for f in Path(d).glob("gauge_live*_*.db"):
        try:
            pid = int(f.stem.rsplit("_", 1)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, d)
        except (ValueError, PermissionError):
            continue


def exposition() -> tuple[bytes, str]:
    """The current samples in Prometheus text format, and their content type."""
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# (route, method, status) → the two labelled children: ``labels()`` takes a lock and builds
# keys on every call, a third of this function's cost.  Bounded like the label sets.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = _REQUEST_CHILDREN[key] = (HTTP_REQUESTS.labels(route, method, str(status)),
                                             HTTP_LATENCY.labels(route, method))
    children[0].inc()
    children[1].observe(seconds)


def count_decisions(records: Iterable[dict]) -> None:
    # One increment per (kind, verdict), not per decision: a batch stores 10,000.
    for (kind, verdict), n in _Tally((r["kind"], r["verdict"]) for r in records).items():
        DECISIONS.labels(kind, verdict).inc(n)


def observe_batch(kind: str, items: int) -> None:
    BATCH_ITEMS.labels(kind).observe(items)


def timed_evaluate(evaluate: Callable[..., Any]) -> Callable[..., Any]:
    """``evaluate`` with each call's duration observed in the engine histogram."""
    observe = ENGINE_TIME.observe

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            observe(perf_counter() - t0)

    return timed


_POOL_WATCHED = False


def watch_pool() -> None:
    """Track connections checked out of every SQLAlchemy pool in this process (the service has
    one engine per worker; a listener on the Pool class also covers an engine created later)."""
    global _POOL_WATCHED
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    if _POOL_WATCHED:
        return
    _POOL_WATCHED = True
    event.listen(Pool, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(Pool, "checkin", lambda *_: DB_POOL_IN_USE.dec())
