"""Support for the tax-confidentiality tests (test_tax_visibility, test_tax_sentinel): the app on a
database of its own (keys would end open mode for the rest of the suite), keys made with the
``standard-land keys`` command, and builders for cross-county links.

Links across counties are made with a key without jurisdiction: a county officer may not link
its land to another county's contract (writes are scoped), but a broader key may, and the county
key must then still not see the other county's tax."""

from __future__ import annotations

import io
import uuid
from typing import Any

import openpyxl

from indicators.identifiers import synthetic_uscc
from tests.conftest import new_key as make_key
from tests.conftest import scratch_app
from tests.contract_factory import base_contract, m2, mu, wan

CDE_SCHEDULE = {"delivery_on": "2021-03-10", "start_by": "2021-04-01", "complete_by": "2022-06-30"}
STARTED = {"type": "started", "on": "2021-04-01"}
COMPLETED = {"type": "completion_accepted", "on": "2022-06-30", "fixed_asset_investment": wan(9000),
             "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
             "green_area": m2(2000)}
WITHHELD = "不在本辖区权限内"


# The app on a database of its own (keys end open mode for the rest of the suite).
own_app = scratch_app


class As:
    """The test client, sending one key (as a Bearer header, or as the pages' cookie)."""

    def __init__(self, client, secret: str, cookie: bool = False):
        from app.access.auth import COOKIE

        self.client, self.secret = client, secret
        self.headers = {"Cookie": f"{COOKIE}={secret}"} if cookie else {"Authorization": f"Bearer {secret}"}

    def page(self) -> As:
        return As(self.client, self.secret, cookie=True)

    def request(self, method: str, url: str, **kw):
        return self.client.request(method, url, headers={**self.headers, **kw.pop("headers", {})},
                                   follow_redirects=False, **kw)

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.request("POST", url, **kw)


def new_key(role: str, jurisdiction: str | None = None) -> str:
    return make_key(role, jurisdiction, label=f"tax scope {role} {jurisdiction or 'all'}")


def uscc_in(region: str, tag: str) -> str:
    """A valid USCC registered in ``region`` (``tag``: up to 8 characters from 0-9, A-F)."""
    return synthetic_uscc(region=region, org8=tag.upper().rjust(8, "0")[-8:])


def contract(uid: str, n: int, uscc: str, jurisdiction: str, *, tax_from: int = 2024, **over: Any) -> dict:
    body = base_contract((uid + "00000000")[:8], n, signed_on="2021-03-01", schedule=CDE_SCHEDULE, jurisdiction=jurisdiction,
                         transferee={"name": f"测试企业 {n}", "uscc": uscc}, **over)
    body["commitments"]["tax_per_mu"] = {"value": 20, "unit": "万元/亩", "from_year": tax_from}
    return body


def register_built(officer: As, body: dict) -> str:
    r = officer.post("/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    r = officer.post(f"/v1/contracts/{body['contract_no']}/events", json={"events": [STARTED, COMPLETED]})
    assert r.status_code == 201, r.text
    return body["contract_no"]


def parcel_code(county: str) -> str:
    return f"{county}{uuid.uuid4().int % 10**6:06d}GB{uuid.uuid4().int % 10**5:05d}"


def import_park(officer: As, pid: str, jurisdiction: str, contracts: list[str], county: str = "411202") -> list[str]:
    """A park under ``jurisdiction`` with one transferred 30-亩 parcel per contract; the codes."""
    codes = [parcel_code(county) for _ in contracts]
    r = officer.post("/v1/parks:import", json={
        "park": {"id": pid, "name": f"测试园区 {pid}", "name_valid_from": "2009-01-01", "jurisdiction": jurisdiction,
                 "planned_area": mu(1000), "target_tax_per_mu": {"value": 15, "unit": "万元/亩"}, "target_source": "测试",
                 "ruleset": "henan-park-low-efficiency-example", "tax_ruleset": "sanmenxia-standard-land"},
        "parcels": [{"code": c, "park": pid, "area": mu(30), "supply_status": "transferred", "contract_no": no}
                    for c, no in zip(codes, contracts, strict=True)]})
    assert r.status_code == 201, r.text
    return codes


def post_tax(poster: As, batch_id: str, *records: dict, status: int = 201) -> dict:
    r = poster.post("/v1/tax-records", json={"batch_id": batch_id, "records": list(records)})
    assert r.status_code == status, r.text
    return r.json()


def record(uscc: str, year: int, paid: Any, refunds: Any = None, region: str | None = None) -> dict:
    rec: dict = {"uscc": uscc, "year": year, "tax_paid": {"value": str(paid), "unit": "万元"}}
    if refunds is not None:
        rec["policy_refunds"] = {"value": str(refunds), "unit": "万元"}
    if region is not None:
        rec["tax_region"] = region
    return rec


def sheet_text(data: bytes) -> str:
    """Every cell value of every sheet of a workbook, as text."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                     if c is not None)


def body_text(response) -> str:
    """What a response shows: xlsx cells, or the body as text (JSON, HTML, SVG)."""
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        return sheet_text(response.content)
    return response.content.decode("utf-8", errors="replace")
