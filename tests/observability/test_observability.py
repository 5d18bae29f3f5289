"""Observability: /metrics, JSON request logs with request and decision ids, /healthz,
and the deployment files (compose.yaml, deploy/nginx.conf, Dockerfile) checked against
the code they refer to."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app.observability.logging import JsonFormatter
from tests.conftest import ROOT, proposal


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))), 0.0)


def failing_proposal() -> dict:
    # 19000 万元 over 90 亩 = 211.11 万元/亩 < 220 for industry 32: investment intensity fails
    body = proposal()
    body["measures"] = {**body["measures"], "fixed_asset_investment": {"value": 19000, "unit": "万元"}}
    return body


# ------------------------------------------------------------------ /metrics in process

def test_metrics_count_checks_by_kind_and_verdict(client):
    before = scrape(client)
    for body in (proposal(), proposal(), failing_proposal()):
        r = client.post("/v1/checks/proposal", json=body)
        assert r.status_code == 200
    assert r.json()["verdict"] == "fail"
    after = scrape(client)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("standard_land_decisions_total", kind="proposal", verdict="pass") == 2
    assert delta("standard_land_decisions_total", kind="proposal", verdict="fail") == 1
    assert delta("standard_land_http_requests_total", route="/v1/checks/proposal", method="POST", status="200") == 3
    # latency histogram by route template: +Inf bucket and count move together
    assert delta("standard_land_http_request_duration_seconds_count", route="/v1/checks/proposal", method="POST") == 3
    assert delta("standard_land_http_request_duration_seconds_bucket",
                 route="/v1/checks/proposal", method="POST", le="+Inf") == 3
    assert delta("standard_land_http_request_duration_seconds_sum", route="/v1/checks/proposal", method="POST") > 0
    # one engine evaluation per check, each timed
    assert delta("standard_land_engine_seconds_count") == 3
    assert 0 < delta("standard_land_engine_seconds_sum") < 3


def test_invalid_input_counts_a_422_and_no_decision(client):
    before = scrape(client)
    r = client.post("/v1/checks/proposal", json={**proposal(), "land_area": {"value": -1, "unit": "亩"}})
    assert r.status_code == 422
    after = scrape(client)
    assert (sample(after, "standard_land_http_requests_total", route="/v1/checks/proposal", method="POST", status="422")
            - sample(before, "standard_land_http_requests_total", route="/v1/checks/proposal", method="POST",
                     status="422")) == 1
    decided = [k for k in after if k[0] == "standard_land_decisions_total" and after[k] != before.get(k, 0.0)]
    assert decided == []


def test_batch_sizes_are_observed(client):
    before = scrape(client)
    r = client.post("/v1/checks/proposal:batch", json={"items": [proposal()] * 7})
    assert r.status_code == 200 and r.json()["count"] == 7
    after = scrape(client)
    assert sample(after, "standard_land_batch_items_count", kind="proposal") - \
        sample(before, "standard_land_batch_items_count", kind="proposal") == 1
    assert sample(after, "standard_land_batch_items_sum", kind="proposal") - \
        sample(before, "standard_land_batch_items_sum", kind="proposal") == 7
    # 7 falls in the le=10 bucket, not in le=1
    assert sample(after, "standard_land_batch_items_bucket", kind="proposal", le="10.0") - \
        sample(before, "standard_land_batch_items_bucket", kind="proposal", le="10.0") == 1
    assert sample(after, "standard_land_batch_items_bucket", kind="proposal", le="1.0") - \
        sample(before, "standard_land_batch_items_bucket", kind="proposal", le="1.0") == 0
    assert sample(after, "standard_land_decisions_total", kind="proposal", verdict="pass") - \
        sample(before, "standard_land_decisions_total", kind="proposal", verdict="pass") == 7


def test_tax_batch_size_is_observed(client):
    from indicators.identifiers import synthetic_uscc

    tag = uuid.uuid4().hex[:4].upper()
    records = [{"uscc": synthetic_uscc(org8=f"MB{tag}{i:02d}"), "year": 2025, "tax_paid": {"value": 10 + i, "unit": "万元"}}
               for i in range(3)]
    before = scrape(client)
    r = client.post("/v1/tax-records", json={"batch_id": f"obs-{uuid.uuid4().hex[:12]}", "records": records})
    assert r.status_code == 201, r.text
    after = scrape(client)
    assert sample(after, "standard_land_batch_items_sum", kind="tax_records") - \
        sample(before, "standard_land_batch_items_sum", kind="tax_records") == 3


def test_routes_are_templates_not_raw_paths(client):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for i in ids:
        assert client.get(f"/v1/decisions/{i}").status_code == 404
    client.get(f"/no-such-page/{uuid.uuid4()}")
    text = client.get("/metrics").text
    assert not any(i in text for i in ids)
    samples = scrape(client)
    assert sample(samples, "standard_land_http_requests_total",
                  route="/v1/decisions/{decision_id}", method="GET", status="404") >= 3
    assert sample(samples, "standard_land_http_requests_total", route="unmatched", method="GET", status="404") >= 1


def test_pool_gauge_follows_checked_out_connections(client):
    from app.store.db import get_engine

    base = sample(scrape(client), "standard_land_db_pool_in_use")
    engine = get_engine()
    with engine.connect(), engine.connect():
        assert sample(scrape(client), "standard_land_db_pool_in_use") == base + 2
    assert sample(scrape(client), "standard_land_db_pool_in_use") == base


# ------------------------------------------------------------------ request ids and log lines

def test_request_id_is_echoed_or_generated(client):
    r = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert r.headers["x-request-id"] == "lb-7f3a.42"
    generated = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # an id that could forge log lines or explode in size is replaced, not echoed
    for bad in ("a b\nlevel=error", "x" * 500):
        got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert got != bad and re.fullmatch(r"[0-9a-f]{32}", got)


def test_json_log_line_carries_request_and_decision_ids(client, caplog):
    rid = f"obs-{uuid.uuid4().hex}"
    with caplog.at_level(logging.INFO, logger="standard_land.request"):
        r = client.post("/v1/checks/proposal", json=proposal(), headers={"X-Request-ID": rid})
    assert r.status_code == 200
    records = [rec for rec in caplog.records if getattr(rec, "request_id", None) == rid]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["logger"] == "standard_land.request"
    assert entry["msg"] == "POST /v1/checks/proposal 200"
    assert (entry["method"], entry["route"], entry["status"]) == ("POST", "/v1/checks/proposal", 200)
    assert entry["request_id"] == rid
    assert entry["decision_id"] == r.json()["decision_id"]
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] > 0
    assert "request" not in entry and "1350" not in line      # no body, no tax amount


def test_batch_log_line_counts_decisions_and_caps_ids(client, caplog):
    rid = f"obs-{uuid.uuid4().hex}"
    with caplog.at_level(logging.INFO, logger="standard_land.request"):
        r = client.post("/v1/checks/proposal:batch", json={"items": [proposal()] * 25}, headers={"X-Request-ID": rid})
    assert r.status_code == 200
    (rec,) = [x for x in caplog.records if getattr(x, "request_id", None) == rid]
    entry = json.loads(JsonFormatter().format(rec))
    stored = [i["decision_id"] for i in r.json()["items"]]
    assert entry["decision_count"] == 25
    assert entry["decision_ids"] == stored[:20]


# ------------------------------------------------------------------ /healthz

def test_healthz_reports_database_and_migration_revision(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    files = sorted((ROOT / "app/store/migrations/versions").glob("[0-9]*.py"))
    newest = re.search(r'^revision\s*=\s*["\']([^"\']+)', files[-1].read_text(), re.M).group(1)
    assert body["migration"] == {"revision": newest, "head": newest, "current": True}


def test_healthz_answers_503_fast_when_the_database_hangs(client, monkeypatch):
    from sqlalchemy import create_engine

    from app.api import health

    # A "server" that completes the TCP handshake (kernel backlog) and then never answers.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    port = hang.getsockname()[1]
    dead = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/nothing")
    monkeypatch.setattr(health, "get_engine", lambda: dead)
    try:
        t0 = time.monotonic()
        r = client.get("/healthz")
        elapsed = time.monotonic() - t0
    finally:
        hang.close()          # the abandoned probe's connection is reset and its thread ends
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json()["status"] == "degraded" and r.json()["database"].startswith("unavailable")
    assert elapsed < health.PROBE_TIMEOUT + 1.5
    dead.dispose()


# ------------------------------------------------------------------ a real server: workers, logs, metrics

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`standard-land serve --workers 2 --log-format json` on its own SQLite database."""
    tmp = tmp_path_factory.mktemp("obs-server")
    port = _free_port()
    log = tmp / "stderr.log"
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "STANDARD_LAND_LOG_FORMAT")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}", "STANDARD_LAND_ENGINE": "durable"}
    exe = Path(sys.executable).parent / "standard-land"
    with log.open("w") as errf:
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", "2", "--log-format", "json"],
                                cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=errf)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    ready = 0
    while time.monotonic() < deadline and ready < 2:
        try:
            # both workers up: several fresh connections answer
            ready = ready + 1 if httpx.get(f"{base}/healthz", timeout=1).status_code == 200 else 0
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text()}")
        time.sleep(0.3)
    if ready < 2:
        proc.kill()
        pytest.fail(f"server did not start: {log.read_text()}")
    yield base, log
    proc.terminate()
    proc.wait(timeout=30)


def test_served_logs_are_json_lines_with_ids_and_no_amounts(served):
    base, log = served
    rid = f"obs-{uuid.uuid4().hex}"
    r = httpx.post(f"{base}/v1/checks/proposal", json=proposal(), headers={"X-Request-ID": rid}, timeout=30)
    assert r.status_code == 200 and r.headers["x-request-id"] == rid
    did = r.json()["decision_id"]
    from indicators.identifiers import synthetic_uscc

    amount = "4321.9876"
    uscc = synthetic_uscc(org8="MB" + uuid.uuid4().hex[:6].upper())
    t = httpx.post(f"{base}/v1/tax-records", timeout=30, json={
        "batch_id": f"obs-{uuid.uuid4().hex[:8]}",
        "records": [{"uscc": uscc, "year": 2025, "tax_paid": {"value": amount, "unit": "万元"}}]})
    assert t.status_code == 201, t.text
    time.sleep(0.5)           # the worker's stderr is unbuffered, but let the write land
    lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip()]
    entries = [json.loads(ln) for ln in lines]          # every line, the supervisor's too, is JSON
    assert all({"ts", "level", "logger", "msg"} <= e.keys() for e in entries)
    (check,) = [e for e in entries if e.get("request_id") == rid]
    assert check["decision_id"] == did and check["route"] == "/v1/checks/proposal" and check["status"] == 200
    assert [e for e in entries if e.get("route") == "/v1/tax-records" and e.get("status") == 201]
    assert amount not in log.read_text(encoding="utf-8")
    assert not [e for e in entries if e["logger"] == "uvicorn.access"]   # one line per request, ours


def test_served_metrics_sum_every_worker(served):
    base, log = served

    def total() -> float:
        # a fresh connection each time: the kernel hands it to either worker
        text = httpx.get(f"{base}/metrics", timeout=10).text
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        return sum(s.value for s in fams["standard_land_decisions"].samples
                   if s.name == "standard_land_decisions_total" and s.labels["kind"] == "proposal")

    def pids(rids: set[str]) -> set[int]:
        entries = (json.loads(ln) for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip())
        return {e["pid"] for e in entries if e.get("request_id") in rids}

    start = total()
    rids: set[str] = set()
    # fresh connections until both workers have stored decisions (the kernel picks the worker)
    while len(rids) < 8 or (len(pids(rids)) < 2 and len(rids) < 200):
        rid = f"obs-{uuid.uuid4().hex}"
        r = httpx.post(f"{base}/v1/checks/proposal", json=proposal(), headers={"X-Request-ID": rid}, timeout=30)
        assert r.status_code == 200
        rids.add(rid)
        if len(rids) % 8 == 0:
            time.sleep(0.2)
    assert len(pids(rids)) == 2
    # whichever worker answers the scrape, it reports the sum over both
    assert {total() - start for _ in range(6)} == {len(rids)}


def test_a_dead_workers_live_gauge_is_dropped_its_counters_kept(tmp_path):
    """Multiprocess mode: a worker that died (here: a process that exited) leaves files behind;
    the next worker's start-up drops its pool gauge but keeps its counts."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    dead = ("from app.observability import metrics\n"
            "metrics.DB_POOL_IN_USE.inc(5)\n"
            "metrics.count_decisions([{'kind': 'proposal', 'verdict': 'pass'}] * 3)\n")
    subprocess.run([sys.executable, "-c", dead], env=env, check=True, timeout=60, cwd=ROOT)
    assert list(tmp_path.glob("gauge_livesum_*.db"))
    report = ("import json\n"
              "from prometheus_client.parser import text_string_to_metric_families\n"
              "from app.observability import metrics\n"
              "def values():\n"
              "    body, _ = metrics.exposition()\n"
              "    return {s.name: s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples\n"
              "            if s.name in ('standard_land_db_pool_in_use', 'standard_land_decisions_total')}\n"
              "print(json.dumps(values()))\n"
              "metrics.forget_dead_workers()\n"
              "print(json.dumps(values()))\n")
    out = subprocess.run([sys.executable, "-c", report], env=env, check=True, timeout=60, cwd=ROOT,
                         capture_output=True, text=True).stdout.splitlines()
    before, after = (json.loads(line) for line in out[-2:])
    assert before == {"standard_land_db_pool_in_use": 5.0, "standard_land_decisions_total": 3.0}
    assert after == {"standard_land_db_pool_in_use": 0.0, "standard_land_decisions_total": 3.0}


# ------------------------------------------------------------------ deployment files

def _app_reads(name: str) -> bool:
    """Whether the service reads environment variable ``name`` (a string literal in app/,
    or a ${NAME} in the Dockerfile's command)."""
    if f"${{{name}" in (ROOT / "Dockerfile").read_text():
        return True
    if name == "PROMETHEUS_MULTIPROC_DIR":
        import prometheus_client.values as values

        return name in Path(values.__file__).read_text()
    return any(f'"{name}"' in p.read_text(encoding="utf-8") for p in (ROOT / "app").rglob("*.py"))


def test_compose_file_refers_to_what_exists(monkeypatch):
    from app.main import app
    from app.store.db import database_url

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "app", "lb"} <= services.keys()

    db = services["db"]
    # an image name is a variable (deploy/offline builds local ones) whose default is the public image
    assert re.fullmatch(r"\$\{POSTGRES_IMAGE:-postgres:16\}", db["image"]), db["image"]
    vol = db["volumes"][0].split(":")[0]
    assert vol in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    app_svc = services["app"]
    build = app_svc["build"]
    context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
    assert dockerfile.is_file()
    assert app_svc["depends_on"]["db"]["condition"] == "service_healthy"
    env = app_svc["environment"]
    unread = [k for k in env if not _app_reads(k)]
    assert unread == []
    assert "WORKERS" in env and "PROMETHEUS_MULTIPROC_DIR" in env

    # DATABASE_URL: the db service's credentials, and a scheme app/store/db.py turns into psycopg
    url = env["DATABASE_URL"]
    user, password = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_PASSWORD"]
    assert url == f"postgresql://{user}:{password}@db:5432/{db['environment']['POSTGRES_DB']}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert database_url().startswith("postgresql+psycopg://")

    # the healthcheck asks a path the app serves, on the port the image exposes
    probe = " ".join(app_svc["healthcheck"]["test"])
    m = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", probe)
    assert m is not None
    port, path = m.groups()
    assert "get" in app.openapi()["paths"][path]
    dockerfile_text = dockerfile.read_text()
    assert f"EXPOSE {port}" in dockerfile_text
    assert port in [str(p) for p in app_svc["expose"]]

    # the balancer's config exists and forwards to the app service on that port
    lb = services["lb"]
    src = lb["volumes"][0].split(":")[0]
    nginx = (ROOT / src).read_text()
    assert re.search(rf"server\s+app:{port}\s*;", nginx)
    assert lb["depends_on"]["app"]["condition"] == "service_healthy"
    assert any(p.endswith(":80") for p in lb["ports"]) and re.search(r"listen\s+80\s*;", nginx)


def test_dockerfile_starts_several_workers_with_multiprocess_metrics():
    text = (ROOT / "Dockerfile").read_text()
    cmd = [ln for ln in text.splitlines() if ln.startswith("CMD ")][-1]
    assert "standard-land serve" in cmd and "--workers ${WORKERS" in cmd
    env_block = text[text.rindex("ENV MALLOC_MMAP_THRESHOLD_"):]
    assert re.search(r"WORKERS=([2-9]|\d\d)", env_block)
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/" in env_block
    assert "STANDARD_LAND_LOG_FORMAT=json" in env_block


def test_serve_rejects_an_unknown_log_format():
    exe = Path(sys.executable).parent / "standard-land"
    r = subprocess.run([str(exe), "serve", "--log-format", "xml"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--log-format" in r.stderr
