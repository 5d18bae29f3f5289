"""32 concurrent clients posting checks to a real server (uvicorn, 2 worker processes)
for STRESS_SECONDS (default 60): no error, no crash, findings identical to the
reference evaluator, and one unbroken decision chain."""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.checks import proposal as proposal_check
from app.checks.golden import bundled_registry
from app.engine import REFERENCE
from app.schemas.proposal import ProposalRequest
from tests.conftest import proposal
from tests.trust_support import Server

SECONDS = float(os.environ.get("STRESS_SECONDS", "60"))
CLIENTS = 32


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    log = Path(tmp_path_factory.mktemp("server")) / "server.log"
    srv = Server(database_url, log, workers=2, env={"STANDARD_LAND_ENGINE": "durable"}, ready="/healthz")
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    yield srv.base, srv.proc, log
    srv.stop()


def _bodies(n: int) -> list[dict]:
    rnd = random.Random(20211)
    out = []
    for i in range(n):
        b = proposal()
        b["industry"] = {"code": rnd.choice(["32", "26", "13", "29", "3251", "43"])}
        b["measures"]["fixed_asset_investment"] = {"value": str(rnd.choice([17000, 19800, 19799, 22500, 30000])),
                                                   "unit": "万元"}
        b["indicators"]["plot_ratio"] = {"value": str(rnd.choice(["0.6", "0.59", "0.995", "1.0", "1.2"]))}
        b["indicators"]["green_ratio"] = {"value": str(rnd.choice([12, 20, 20.004, 21])), "unit": "%"}
        if i % 7 == 0:
            del b["indicators"]["environment_attested"]
        out.append(b)
    return out


def test_32_clients_for_a_minute(server):
    base, proc, log = server
    bodies = _bodies(200)
    registry = bundled_registry()
    now = dt.datetime.now(dt.UTC)
    expected = [proposal_check.evaluate(ProposalRequest.model_validate(b), registry, REFERENCE, known_at=now)
                for b in bodies]
    before = httpx.get(f"{base}/v1/decisions/verify", timeout=60).json()
    assert before["ok"], before

    errors: list[str] = []
    done = [0] * CLIENTS
    stop = time.monotonic() + SECONDS

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=base, timeout=60) as c:
            while time.monotonic() < stop and len(errors) < 20:
                i = rnd.randrange(len(bodies))
                try:
                    r = c.post("/v1/checks/proposal", json=bodies[i])
                except httpx.HTTPError as e:
                    errors.append(f"client {k}: {type(e).__name__}: {e}")
                    continue
                if r.status_code != 200:
                    errors.append(f"client {k}: HTTP {r.status_code} {r.text[:300]}")
                    continue
                got = r.json()
                if got["findings"] != expected[i]["findings"] or got["verdict"] != expected[i]["verdict"]:
                    errors.append(f"client {k}: findings differ from the reference for body {i}")
                done[k] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert proc.poll() is None, f"server died: {log.read_text()[-2000:]}"
    assert errors == [], (errors[:5], log.read_text()[-3000:])
    total = sum(done)
    assert total > CLIENTS, f"only {total} checks completed in {SECONDS}s"
    after = httpx.get(f"{base}/v1/decisions/verify", timeout=120).json()
    assert after["ok"], after
    assert after["checked"] - before["checked"] == total
    print(f"\n{total} checks by {CLIENTS} clients in {SECONDS:.0f}s = {total / SECONDS:.0f}/s, chain intact")
