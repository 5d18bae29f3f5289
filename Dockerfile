# standard-land — FastAPI rules service (durable_rules engine + reference evaluator).
#
#   DOCKER_BUILDKIT=1 docker build -t standard-land .
#   docker run --read-only --tmpfs /tmp -p 127.0.0.1:8000:8000 -v standard-land-var:/srv/standard-land/var standard-land
#   docker run -e WORKERS=4 -e DATABASE_URL=postgresql://user:pw@db/standard_land ... standard-land
#   docker-compose up --build     (PostgreSQL, two replicas behind nginx: compose.yaml)
#   deploy/offline/build-images.sh --mirror URL   (no registry: every base image from a Debian mirror,
#                                                  this file built with PYTHON_IMAGE=<the local Python base>)
#
# Runs as uid 10001 and needs a writable file system only in its volume and /tmp (where
# PROMETHEUS_MULTIPROC_DIR points), so the root file system may be read-only.
#
# Python 3.12: durable-rules 2.0.28 installs on 3.13 but fails on import (PyEval_CallObject
# was removed); pyproject.toml says requires-python ">=3.11,<3.13".
# The engine is not thread-safe and is serialized per process: scale with WORKERS
# (processes) or containers, not threads (docs/engine.md).
# Needs BuildKit for the RUN --mount below: the default builder since Docker 23, DOCKER_BUILDKIT=1
# with Debian's docker.io 20.10.  No `# syntax=` line: it would pull the frontend from a registry.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# ---------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# durable-rules ships as an sdist only (C sources): compilers are needed to build it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY app/ app/
COPY indicators/ indicators/
COPY rules/ rules/

# One wheel per distribution: the project (non-editable, with its rule YAML and golden
# cases, catalog YAML, CSV tables and Alembic migrations as package data) and every
# dependency, durable-rules compiled here.
RUN pip wheel --wheel-dir /wheels -c requirements.lock . \
 && ls -l /wheels

# ---------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

# No compilers here: install the prebuilt wheels only (--no-index), from a bind mount so
# the wheel files themselves never become an image layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels standard-land \
 && python -c "import durable.engine, app.main, indicators.catalog; \
from app.store.rulesets import bundled_files; n = len(bundled_files()); \
assert n > 0, 'no bundled rule sets in the installed package'; print(n, 'bundled rule sets')"

RUN groupadd --system --gid 10001 standard-land \
 && useradd --system --uid 10001 --gid 10001 --home-dir /srv/standard-land --no-create-home \
            --shell /usr/sbin/nologin standard-land \
 && mkdir -p /srv/standard-land/var \
 && chown -R 10001:10001 /srv/standard-land/var

# glibc reads the MALLOC_* tunables at process start only; we measured ~5k
# bare engine evaluations/s per process without them, ~8.5k with them.
# DATABASE_URL: SQLite (WAL) on the volume by default; set a postgresql:// URL to share
# one database between several containers.  STANDARD_LAND_ENGINE=reference selects the
# plain-Python evaluator.
ENV MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=67108864 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////srv/standard-land/var/standard-land.db \
    WORKERS=2 \
    STANDARD_LAND_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/standard-land-metrics

# The working directory holds nothing but var/: uvicorn puts the cwd first on sys.path,
# so no source tree here may shadow the installed package.
WORKDIR /srv/standard-land
# A named volume is initialised from the image (owned by 10001); a bind-mounted host
# directory must be writable by uid 10001.
VOLUME ["/srv/standard-land/var"]

USER 10001:10001

EXPOSE 8000

# /healthz answers 503 when the database is unavailable; urlopen raises on any non-2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# sh -c so ${WORKERS} is expanded at run time; exec so the server is PID 1 and gets SIGTERM.
# `standard-land serve` is uvicorn (httptools, uvloop) plus the set-up its workers share:
# JSON logs from every process, and an emptied PROMETHEUS_MULTIPROC_DIR so /metrics sums
# all workers of the container.
CMD ["sh", "-c", "exec standard-land serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
