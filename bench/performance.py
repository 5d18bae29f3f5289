"""Benchmark: the cost of a performance audit for a contract with ten years of tax
records and a full event history.

    MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864 \\
        .venv/bin/python bench/performance.py [--n 300] [--database-url URL]

Prints, in one run and on the same contract:
  (a) GET /v1/contracts/{no}/performance through the API (TestClient): loading the
      contract, events and tax records, the audit under the durable engine, and the
      stored decision;
  (b) the audit alone (app.checks.performance.audit) with the durable engine;
  (c) baseline: the audit alone with the reference evaluator;
and the ratios.  A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="audits per measurement")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sl-bench-perf-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.db"

    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.checks.performance import audit
    from app.engine import REFERENCE, by_name
    from app.main import app
    from app.schemas.contract import ContractRequest
    from app.store import contracts, rulesets, tax
    from app.store.db import get_engine
    from indicators.identifiers import synthetic_uscc

    uscc = synthetic_uscc(org8="BENCH001")
    no = f"BENCH-{int(time.time())}"
    body = {
        "contract_no": no, "model": "GF-2008-2601", "transferee": {"name": "基准企业", "uscc": uscc},
        "jurisdiction": "411202", "industry": {"code": "38"}, "signed_on": "2014-01-10",
        "land_area": {"value": 30, "unit": "亩"}, "land_price": {"value": 1200, "unit": "万元"},
        "commitments": {"fixed_asset_investment": {"value": 9000, "unit": "万元"},
                        "plot_ratio": {"min": 1.2, "max": 2.0}, "building_coefficient": {"min": 40, "unit": "%"},
                        "admin_land_share": {"max": 7, "unit": "%"}, "green_ratio": {"max": 15, "unit": "%"},
                        "tax_per_mu": {"value": 20, "unit": "万元/亩", "from_year": 2016}},
        "schedule": {"delivery_on": "2014-03-01", "start_by": "2014-09-01", "complete_by": "2015-12-31"},
        "penalties": {"late_payment_permille": 1, "late_start_permille": 1, "late_completion_permille": 0.5,
                      "over_limit_permille": 5, "late_delivery_permille": 1, "shortfall_aggregate": "max",
                      "tax_shortfall": "pay_difference"},
        "clauses": {"extension_notice_days": 30, "extension_max_years": 1},
    }
    events = [{"type": "payment", "on": "2014-02-01", "due_on": "2014-01-31", "amount": {"value": 1200, "unit": "万元"}},
              {"type": "delivered", "on": "2014-03-05"},
              {"type": "extension_approved", "on": "2014-08-01", "new_start_by": "2015-03-01"},
              {"type": "started", "on": "2015-02-20"},
              {"type": "progress", "on": "2015-06-30", "developed_area": {"value": 8000, "unit": "m2"},
               "area_to_develop": {"value": 20000, "unit": "m2"}, "invested": {"value": 4000, "unit": "万元"},
               "total_investment": {"value": 9000, "unit": "万元"}},
              {"type": "completion_accepted", "on": "2016-07-01", "fixed_asset_investment": {"value": 8600, "unit": "万元"},
               "total_floor_area": {"value": 25000, "unit": "m2"}, "building_footprint": {"value": 9000, "unit": "m2"},
               "green_area": {"value": 2800, "unit": "m2"}, "admin_land_area": {"value": 1200, "unit": "m2"}}]
    records = [{"uscc": uscc, "year": y, "tax_paid": {"value": 500 + 13 * i, "unit": "万元"},
                "policy_refunds": {"value": 40, "unit": "万元"}} for i, y in enumerate(range(2016, 2026))]
    as_of = dt.date(2026, 6, 30)
    with TestClient(app) as client:
        assert client.post("/v1/contracts", json=body).status_code in (200, 201)
        assert client.post(f"/v1/contracts/{no}/events", json={"events": events}).status_code == 201
        assert client.post("/v1/tax-records", json={"batch_id": f"bench-{no}", "records": records}).status_code in (200, 201)

        def api() -> None:
            r = client.get(f"/v1/contracts/{no}/performance", params={"as_of": as_of.isoformat()})
            assert r.status_code == 200, r.text

        with Session(get_engine()) as s:
            c = ContractRequest.model_validate(contracts.get(s, no)[1])
            ev = contracts.events(s, no)
            recs = tax.current_records(s, uscc)
            reg = rulesets.registry(s)
        now = dt.datetime.now(dt.UTC)
        durable, reference = by_name("durable"), REFERENCE
        kw = {"tax_records": recs, "registry": reg, "known_at": now}
        findings = len(audit(c, ev, as_of, durable, **kw)["findings"])

        def timed(fn) -> float:
            for _ in range(min(20, args.n)):
                fn()
            t = time.perf_counter()
            for _ in range(args.n):
                fn()
            return (time.perf_counter() - t) / args.n * 1e6

        t_api = timed(api)
        t_durable = timed(lambda: audit(c, ev, as_of, durable, **kw))
        t_ref = timed(lambda: audit(c, ev, as_of, reference, **kw))
    print(f"standard-land bench/performance.py — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}; MALLOC_* set: {'MALLOC_MMAP_THRESHOLD_' in os.environ}")
    print(f"contract with {len(events)} events and {len(records)} tax years → {findings} findings per audit")
    print(f"  (a) GET performance via API, durable, stored decision : {t_api:9.0f} µs")
    print(f"  (b) audit alone, durable engine                       : {t_durable:9.0f} µs")
    print(f"  (c) audit alone, reference evaluator (baseline)       : {t_ref:9.0f} µs")
    print(f"  ratios: (a)/(c) {t_api / t_ref:.2f}×, (b)/(c) {t_durable / t_ref:.2f}×")


if __name__ == "__main__":
    main()
