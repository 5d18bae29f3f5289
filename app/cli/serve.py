"""``standard-land serve``: the HTTP service."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from app.cli.common import err


def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(help="worker processes (the engine is serialized per process)")] = 1,
          reload: bool = False,
          log_format: Annotated[str | None, typer.Option(
              "--log-format", help="json or text (default: json when STANDARD_LAND_ENV=production, else text)")] = None,
          ) -> None:
    """Run the HTTP service (uvicorn with httptools/uvloop)."""
    import uvicorn

    from app.observability import logging as obs_logging
    from app.observability import metrics

    if log_format is not None and log_format not in ("json", "text"):
        err.print(f"[red]--log-format must be json or text (got {log_format!r})[/]")
        raise typer.Exit(2)
    # glibc heuristics halve the engine's throughput without these (docs/engine.md);
    # they reach worker processes spawned below.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "4194304")
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "67108864")
    # Workers are separate processes: they learn the log format and the metrics directory
    # from the environment.  Several workers need prometheus-client's multiprocess mode.
    os.environ[obs_logging.FORMAT_ENV] = log_format or obs_logging.log_format()
    if metrics.multiprocess_dir() is not None or workers > 1:
        os.environ[metrics.MULTIPROC_ENV] = metrics.prepare_multiprocess_dir(metrics.multiprocess_dir())
    # log_config=None: the supervisor's own lines use our format too, not uvicorn's.
    obs_logging.configure()
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, reload=reload,
                http="httptools", loop="uvloop", log_level="info", log_config=None, access_log=False)
