"""Writes stay inside the key's jurisdiction (issue 10, item 4), on a database of its own.

Every write operation of the OpenAPI document (POST/PUT/PATCH/DELETE under /v1) and every
page form that writes is listed here with a request that writes land of 411202 (三门峡湖滨区),
or exempted with the reason: a write route added later fails ``test_every_write_route_is_listed``
until it is.  For each: a key of 411203 (陕州区) is refused with 403 naming the object and the
key's jurisdiction, and nothing is stored (every table's row count unchanged); a key of 411202
and a city key (411200) succeed.  Keys are made with the ``standard-land keys`` command.
"""

from __future__ import annotations

import html.parser
import itertools
import json
import uuid
from collections.abc import Callable

import pytest

from indicators.identifiers import synthetic_uscc
from tests.conftest import new_key as make_key
from tests.conftest import proposal, scratch_app
from tests.contract_factory import base_contract, mu

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OWN, OTHER, CITY = "411202", "411203", "411200"
_n = itertools.count(1)


# ---------------------------------------------------------------- a database of our own

@pytest.fixture(scope="module")
def http(database_url, tmp_path_factory):
    with scratch_app(tmp_path_factory.mktemp("write-scope"), "write_scope_tests") as c:
        yield c


def new_key(role: str, jurisdiction: str | None = None) -> str:
    return make_key(role, jurisdiction, label=f"write scope {role} {jurisdiction}")


@pytest.fixture(scope="module")
def keys(http) -> dict[str, dict[str, str]]:
    return {"officer": {"all": new_key("officer"), "own": new_key("officer", OWN), "other": new_key("officer", OTHER),
                        "city": new_key("officer", CITY)},
            "rule_admin": {"own": new_key("rule_admin", OWN), "other": new_key("rule_admin", OTHER),
                           "city": new_key("rule_admin", CITY)}}


def row_counts() -> dict[str, int]:
    """Rows of every table: a refused write must leave all of them as they were."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    from app.store.db import get_engine

    with get_engine().connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in sorted(SQLModel.metadata.tables)}


def call(http, secret: str, method: str, url: str, **kw):
    return http.request(method, url, headers={"Authorization": f"Bearer {secret}", **kw.pop("headers", {})}, **kw)


def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


# ---------------------------------------------------------------- the land of 411202 (and 411203)

def code(n: int) -> str:
    return f"411202{(uuid.uuid4().int % 10**6):06d}GB{n:05d}"


@pytest.fixture(scope="module")
def land(http, keys) -> dict:
    """Set up with an unscoped officer key: a 411202 park with a transferred parcel on a 411202
    contract, and a 411203 park and contract."""
    admin = keys["officer"]["all"]
    uid = uuid.uuid4().hex[:8]
    out = {"park": f"hb-{uid}", "park3": f"sz-{uid}"}
    for pid, j in ((out["park"], OWN), (out["park3"], OTHER)):
        ok(call(http, admin, "POST", "/v1/parks", json={"id": pid, "name": f"园区 {pid}", "name_valid_from": "2010-01-01",
                                                         "jurisdiction": j, "planned_area": mu(1000)}))
    out["contract"] = base_contract(uid, 1)["contract_no"]
    ok(call(http, admin, "POST", "/v1/contracts", json=base_contract(uid, 1)))
    out["contract3"] = f"T-{uid}-3"
    transferee = {"name": "陕州企业", "uscc": synthetic_uscc(OTHER, f"{uid[:7]}3".upper())}
    ok(call(http, admin, "POST", "/v1/contracts",
            json=base_contract(uid, 3, jurisdiction=OTHER, parcel_code=None, transferee=transferee)))
    out["batch"] = f"batch-{uid}"
    ok(call(http, admin, "POST", "/v1/stock/batches", json={
        "id": out["batch"], "document": "豫政土〔2019〕12号", "approved_on": "2019-05-10", "jurisdiction": OWN,
        "area": mu(100), "parcels": [{"code": "X1", "area": mu(100)}]}))
    out["parcel"] = code(1)
    ok(call(http, admin, "POST", "/v1/parcels", json={"code": out["parcel"], "park": out["park"], "area": mu(30),
                                                       "supply_status": "transferred", "contract_no": out["contract"]}))
    return out


def unsupplied(park: str, n: int | None = None) -> dict:
    return {"code": code(n or next(_n)), "park": park, "area": mu(10), "supply_status": "approved_unsupplied",
            "approval": {"document": "豫政土〔2019〕12号", "date": "2019-05-10"}}


PLAN = {"as_of": "2025-01-10", "categories": ["idle"], "cause": {"type": "enterprise", "detail": "未动工"},
        "measure": "idle_fee", "deadline": "2025-04-30",
        "responsible": {"lead_unit": "三门峡市自然资源和规划局", "person": "张三"}, "progress": {"status": "planned"}}


def ruleset_doc() -> dict:
    """A 411202 child of the Sanmenxia set, in force in a year of its own (no two overlap)."""
    n = next(_n)
    return {"id": f"hubin-{uuid.uuid4().hex[:8]}", "version": "1", "title": "湖滨区测试规则集", "status": "example",
            "jurisdiction": OWN, "parent": "sanmenxia-standard-land", "effective_from": f"{2100 + n}-01-01",
            "effective_to": f"{2101 + n}-01-01", "classification": "GB/T 4754-2017",
            "precision": {"mode": "round_half_up", "places": 2}, "documents": {"d": {"title": "测试"}},
            "rules": [{"id": "tax_min", "indicator": "tax_per_mu", "role": "core", "op": ">=", "threshold": 16,
                       "unit": "万元/亩", "cite": {"doc": "d"}}]}


def low_efficiency_doc() -> dict:
    """A 411202 low-efficiency rule set (the bundled Henan example under a fresh id)."""
    from app.core import safe_yaml
    from rules import RULES_DIR

    raw = safe_yaml.load((RULES_DIR / "parks" / "low-efficiency-example-2020.2.yaml").read_text(encoding="utf-8"))
    raw = json.loads(json.dumps(raw, default=str))          # dates as text, as a client sends them
    return {**raw, "id": f"hubin-low-{uuid.uuid4().hex[:8]}", "jurisdiction": OWN, "title": "湖滨区低效用地认定（测试）"}


def catalog_doc() -> dict:
    """A 411202 indicator-catalog addition declaring one indicator of its own (a fresh key)."""
    key = f"hubin_{uuid.uuid4().hex[:8]}"
    return {"id": f"hubin-catalog-{key}", "version": "1", "title": "湖滨区指标目录补充（测试）", "status": "example",
            "jurisdiction": OWN, "effective_from": "2030-01-01",
            "indicators": {key: {"label": "湖滨区测试指标", "kind": "boolean", "direction": True, "role": "n"}}}


def parcels_sheet(park: str) -> bytes:
    from app.formats import parcel_sheets

    return parcel_sheets.parcels_sheet([unsupplied(park)], "宗地清单")


def proposals_sheet() -> bytes:
    from app.formats import excel

    return excel.proposals_sheet([proposal(jurisdiction=OWN)])


# Each write operation: (role, a request writing 411202 land, words the 403 must contain).
Request = tuple[str, str, dict]
CASES: dict[tuple[str, str], tuple[str, Callable[[dict], Request], str]] = {
    ("POST", "/v1/parks"): ("officer", lambda L: ("POST", "/v1/parks", {"json": {
        "id": f"p-{uuid.uuid4().hex[:8]}", "name": "新园区", "name_valid_from": "2020-01-01", "jurisdiction": OWN,
        "planned_area": mu(100)}}), "park"),
    ("POST", "/v1/parks/{park_id}/names"): ("officer", lambda L: ("POST", f"/v1/parks/{L['park']}/names", {"json": {
        "name": f"更名 {next(_n)}", "valid_from": f"{2020 + next(_n)}-01-01"}}), "park"),
    ("POST", "/v1/parks:import"): ("officer", lambda L: ("POST", "/v1/parks:import", {"json": {
        "park": {"id": (pid := f"i-{uuid.uuid4().hex[:8]}"), "name": "导入园区", "name_valid_from": "2020-01-01",
                 "jurisdiction": OWN, "planned_area": mu(100)},
        "parcels": [unsupplied(pid)]}}), "park"),
    ("POST", "/v1/parcels"): ("officer", lambda L: ("POST", "/v1/parcels", {"json": unsupplied(L["park"])}), "park"),
    ("PUT", "/v1/parcels/{code}/plan"): ("officer", lambda L: (
        "PUT", f"/v1/parcels/{L['parcel']}/plan", {"json": {**PLAN, "measure_detail": f"第 {next(_n)} 版"}}), "parcel"),
    ("POST", "/v1/parks/{park_id}/parcels:xlsx"): ("officer", lambda L: (
        "POST", f"/v1/parks/{L['park']}/parcels:xlsx", {"files": {"file": ("p.xlsx", parcels_sheet(L["park"]), XLSX)}}),
        "park"),
    ("POST", "/v1/contracts"): ("officer", lambda L: ("POST", "/v1/contracts", {"json": base_contract(
        uuid.uuid4().hex[:8], 1, parcel_code=None,
        # an outside investor (招商引资): the transferee's region is no scope check
        transferee={"name": "外地投资企业", "uscc": synthetic_uscc("330100", f"MA{uuid.uuid4().hex[:6].upper()}")})}),
        "contract"),
    ("POST", "/v1/contracts/{contract_no}/events"): ("officer", lambda L: (
        "POST", f"/v1/contracts/{L['contract']}/events", {"json": {"events": [{"type": "started", "on": "2023-03-01"}]}}),
        "contract"),
    ("POST", "/v1/checks/contract"): ("officer", lambda L: (
        "POST", "/v1/checks/contract", {"json": base_contract(uuid.uuid4().hex[:8], 1, parcel_code=None)}), "contract"),
    ("POST", "/v1/checks/proposal"): ("officer", lambda L: (
        "POST", "/v1/checks/proposal", {"json": proposal(jurisdiction=OWN)}), "proposal"),
    ("POST", "/v1/checks/proposal:batch"): ("officer", lambda L: (
        "POST", "/v1/checks/proposal:batch", {"json": {"items": [proposal(jurisdiction=OWN)]}}), "proposal"),
    ("POST", "/v1/checks/proposal:xlsx"): ("officer", lambda L: (
        "POST", "/v1/checks/proposal:xlsx", {"files": {"file": ("p.xlsx", proposals_sheet(), XLSX)}}), "proposal"),
    ("POST", "/v1/rulesets"): ("rule_admin", lambda L: ("POST", "/v1/rulesets", {"json": ruleset_doc()}), "rule set"),
    ("POST", "/v1/stock/batches"): ("officer", lambda L: ("POST", "/v1/stock/batches", {"json": {
        "id": f"b-{uuid.uuid4().hex[:8]}", "document": "豫政土〔2020〕1号", "approved_on": "2020-01-10",
        "jurisdiction": OWN, "area": mu(10)}}), "batch"),
    ("POST", "/v1/stock/batches/{batch_id}/events"): ("officer", lambda L: (
        "POST", f"/v1/stock/batches/{L['batch']}/events", {"json": {"events": [
            {"type": "supplied", "parcel": "X1", "on": "2021-01-01", "area": mu(1), "method": "allocation"}]}}),
        "batch"),
    ("POST", "/v1/law/{kind}"): ("rule_admin", lambda L: (
        "POST", "/v1/law/low_efficiency", {"json": low_efficiency_doc()}), "law document"),
    ("POST", "/v1/indicators"): ("rule_admin", lambda L: (
        "POST", "/v1/indicators", {"json": catalog_doc()}), "law document"),
}
# Write operations that write no land, and why.
EXEMPT = {
    ("POST", "/v1/tax-records"): "tax data posted by the tax system (tax_system role): enterprises, not land",
    ("POST", "/v1/tax-records:xlsx"): "the same as a sheet",
    ("POST", "/v1/scoring/runs"): "a scoring run names enterprises and indicator values, no park or parcel",
    ("POST", "/v1/decisions/{decision_id}/replay"): "recomputes a stored decision under the read scope; stores nothing",
}


def _write_operations() -> set[tuple[str, str]]:
    from app.main import app

    return {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops
            if p.startswith("/v1") and m.upper() in ("POST", "PUT", "PATCH", "DELETE")}


def test_every_write_route_is_listed():
    ops = _write_operations()
    assert ops - CASES.keys() - EXEMPT.keys() == set(), "write routes without a scope case"
    assert (CASES.keys() | EXEMPT.keys()) - ops == set(), "listed routes that no longer exist"


def _refused(r, word: str, key_jurisdiction: str = OTHER) -> None:
    assert r.status_code == 403, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert word in detail and key_jurisdiction in detail and "jurisdiction" in detail, detail


@pytest.mark.parametrize("op", sorted(CASES), ids=lambda op: f"{op[0]} {op[1]}")
def test_write_outside_the_key_is_refused_and_inside_succeeds(http, keys, land, op):
    role, make, word = CASES[op]
    before = row_counts()
    method, url, kw = make(land)
    _refused(call(http, keys[role]["other"], method, url, **kw), word)
    assert row_counts() == before, "a refused write stored something"
    for who in ("own", "city"):
        method, url, kw = make(land)
        r = call(http, keys[role][who], method, url, **kw)
        assert r.status_code in (200, 201), (who, r.status_code, r.text)


def test_stock_reads_stay_inside_the_key(http, keys, land):
    """A batch of 411202: a 411203 key is refused it (403) and does not see it in lists; a 411202 key does."""
    own, other = keys["officer"]["own"], keys["officer"]["other"]
    r = call(http, other, "GET", f"/v1/stock/batches/{land['batch']}")
    assert r.status_code == 403 and OTHER in r.json()["detail"], r.text
    assert call(http, other, "GET", "/v1/stock/batches", params={"jurisdiction": OWN}).status_code == 403
    for path in ("/v1/stock/batches", "/v1/stock/rectification"):
        assert call(http, other, "GET", path).status_code == 200
    assert land["batch"] not in {b["id"] for b in ok(call(http, other, "GET", "/v1/stock/batches"))["batches"]}
    assert land["batch"] in {b["id"] for b in ok(call(http, own, "GET", "/v1/stock/batches"))["batches"]}
    assert ok(call(http, own, "GET", f"/v1/stock/batches/{land['batch']}"))["jurisdiction"] == OWN
    linked = ok(call(http, other, "GET", "/v1/stock/linkage", params={"year": 2021}))
    assert all(c["jurisdiction"].startswith(OTHER) for c in linked["counties"])


# ---------------------------------------------------------------- linking across counties

def test_linking_a_parcel_to_another_countys_contract_is_refused(http, keys, land):
    own = keys["officer"]["own"]
    before = row_counts()
    linked = {**unsupplied(land["park"]), "supply_status": "transferred", "contract_no": land["contract3"]}
    del linked["approval"]
    _refused(call(http, own, "POST", "/v1/parcels", json=linked), land["contract3"], OWN)
    # the same link inside an import of a park of its own
    pid = f"own-{uuid.uuid4().hex[:8]}"
    body = {"park": {"id": pid, "name": "本区园区", "name_valid_from": "2020-01-01", "jurisdiction": OWN,
                     "planned_area": mu(100)}, "parcels": [{**linked, "park": pid}]}
    _refused(call(http, own, "POST", "/v1/parks:import", json=body), land["contract3"], OWN)
    # a parcel of its own county registered into the other county's park
    _refused(call(http, own, "POST", "/v1/parcels", json=unsupplied(land["park3"])), land["park3"], OWN)
    assert row_counts() == before
    # the unscoped key may link them (a province-wide office)
    ok(call(http, keys["officer"]["all"], "POST", "/v1/parcels", json=linked))


def test_import_of_an_other_county_park_carrying_own_contract_is_refused(http, keys, land):
    """A 411203 key imports a park of its own whose parcel points at a 411202 contract."""
    other = keys["officer"]["other"]
    before = row_counts()
    pid = f"sz2-{uuid.uuid4().hex[:8]}"
    parcel = {"code": f"411203{(uuid.uuid4().int % 10**6):06d}GB00001", "park": pid, "area": mu(30),
              "supply_status": "transferred", "contract_no": land["contract"]}
    body = {"park": {"id": pid, "name": "陕州园区", "name_valid_from": "2020-01-01", "jurisdiction": OTHER,
                     "planned_area": mu(100)}, "parcels": [parcel]}
    _refused(call(http, other, "POST", "/v1/parks:import", json=body), land["contract"])
    assert row_counts() == before


def test_plan_of_a_parcel_in_an_own_park_on_another_countys_contract_is_refused(http, keys, land):
    """A parcel of a 411202 park that (set up by a province-wide key) carries a 411203 contract:
    a 411202 key may not write its plan either — the contract is land of 411203."""
    code_ = code(90)
    ok(call(http, keys["officer"]["all"], "POST", "/v1/parcels", json={
        "code": code_, "park": land["park"], "area": mu(30), "supply_status": "transferred",
        "contract_no": land["contract3"]}))
    before = row_counts()
    _refused(call(http, keys["officer"]["own"], "PUT", f"/v1/parcels/{code_}/plan", json=PLAN), land["contract3"], OWN)
    assert row_counts() == before


# ---------------------------------------------------------------- the pages

class _Form(html.parser.HTMLParser):
    """The default values of the first POST form of a page (hidden fields such as a CSRF token
    included): text inputs, checked boxes, selected options, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.inside = self.done = False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post" and not self.done:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.setdefault(name, a.get("value") or "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and (self.select not in self.values or "selected" in a):
            self.values[self.select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def page_form(http, secret: str, path: str) -> dict[str, str]:
    http.cookies.clear()
    http.cookies.set("sl_key", secret)
    r = http.get(path)
    assert r.status_code == 200, r.text
    parser = _Form()
    parser.feed(r.text)
    return parser.values


def _proposal_fields() -> dict[str, str]:
    return {"jurisdiction": OWN, "industry.code": "32", "as_of": "2024-03-01", "land_area.value": "90",
            "measures.fixed_asset_investment.value": "19800", "measures.annual_tax.value": "1350",
            "indicators.plot_ratio.value": "0.8", "indicators.building_coefficient.value": "45",
            "indicators.admin_land_share.value": "5", "indicators.green_ratio.value": "12",
            "indicators.environment_attested.value": "on", "indicators.construction_conditions_attested.value": "on"}


def _contract_fields() -> dict[str, str]:
    from app.web.pages_contract_check import EXAMPLE

    return {**EXAMPLE, "contract_no": f"WEB-{uuid.uuid4().hex[:8]}", "jurisdiction": OWN}


def _ruleset_fields() -> dict[str, str]:
    import yaml

    return {"yaml": yaml.safe_dump(ruleset_doc(), allow_unicode=True)}


# Each page form that writes: (role, its path, the fields writing 411202 land, words of the refusal).
PAGE_CASES: dict[str, tuple[str, Callable[[], dict[str, str]], str]] = {
    "/proposal": ("officer", _proposal_fields, "proposal"),
    "/contracts/check": ("officer", _contract_fields, "contract"),
    "/rulesets/upload": ("rule_admin", _ruleset_fields, "rule set"),
}
PAGE_EXEMPT = {
    "/login": "stores nothing",
    "/logout": "clears the cookie; stores nothing",
    "/parks/scoring": "a scoring run names enterprises, no park or parcel (as POST /v1/scoring/runs)",
}


def _page_writes() -> set[str]:
    import pkgutil

    import app.web as web

    out = set()
    for mod in pkgutil.iter_modules(web.__path__):
        if not mod.name.startswith("pages_"):
            continue
        router = __import__(f"app.web.{mod.name}", fromlist=["router"]).router
        out |= {r.path for r in router.routes if set(getattr(r, "methods", ())) - {"GET", "HEAD"}}
    return out


def test_every_page_write_is_listed():
    pages = _page_writes()
    assert pages - PAGE_CASES.keys() - PAGE_EXEMPT.keys() == set(), "write pages without a scope case"
    assert (PAGE_CASES.keys() | PAGE_EXEMPT.keys()) - pages == set()


@pytest.mark.parametrize("path", sorted(PAGE_CASES))
def test_page_write_outside_the_key_is_refused(http, keys, land, path):
    role, fields, word = PAGE_CASES[path]
    origin = {"Origin": str(http.base_url).rstrip("/")}
    before = row_counts()
    form = {**page_form(http, keys[role]["other"], path), **fields()}
    r = http.post(path, data=form, headers=origin, follow_redirects=False)
    assert r.status_code == 403 and "text/html" in r.headers["content-type"], (r.status_code, r.text[-2000:])
    assert word in r.text and OTHER in r.text
    assert row_counts() == before
    for who in ("own", "city"):
        form = {**page_form(http, keys[role][who], path), **fields()}
        r = http.post(path, data=form, headers=origin, follow_redirects=False)
        assert r.status_code in (200, 201, 303), (who, r.status_code, r.text[-3000:])
        if path != "/rulesets/upload":
            assert r.status_code == 303, (who, r.text[-3000:])
    http.cookies.clear()

