"""Tax confidentiality through every path (issue 10, item 1 and the batch summary of item 10).

Linking never widens what a key may see: a 411202 contract whose transferee's tax is reported
in 411203, and a 411202 park whose parcels point at such contracts, show a 411202 key none of
that enterprise's tax — not in the performance audit, the contract page, the park evaluation
(JSON, .xlsx, .svg, page), the parcel view, the ledger, stored decisions or batch summaries —
while a city key (4112) sees it (the positive control: each test can fail).  The park aggregate
follows the disclosure rule (at least 3 contributors, none above 85 %).  Runs on a database of
its own (keys end open mode)."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import openpyxl
import pytest
from sqlmodel import Session

from app.store.db import get_engine
from app.store.models import ScoringRun
from tests.tax_scope_support import (
    WITHHELD,
    As,
    body_text,
    contract,
    import_park,
    new_key,
    own_app,
    post_tax,
    record,
    register_built,
    uscc_in,
)

AS_OF = "2025-06-30"
X_PAID, Y_PAID = "123.4567", "900.1357"          # X: the 411203 transferee of the county's own contract
X_TPM = "4.115223"                                # 123.4567 ÷ 30, as the audit prints it (prefix)


@pytest.fixture(scope="module")
def http(database_url, tmp_path_factory):
    with own_app(tmp_path_factory.mktemp("taxvis"), "tax_visibility") as client:
        yield client


@pytest.fixture(scope="module")
def who(http) -> dict[str, As]:
    return {"officer": As(http, new_key("officer")),            # no jurisdiction: may link across counties
            "tax": As(http, new_key("tax_system")),
            "county": As(http, new_key("officer", "411202")),
            "county_auditor": As(http, new_key("auditor", "411202")),
            "city": As(http, new_key("auditor", "411200")),
            "other_county": As(http, new_key("auditor", "411203")),
            "county_tax": As(http, new_key("tax_system", "411202"))}


@pytest.fixture(scope="module")
def world(who) -> dict:
    uid = uuid.uuid4().hex[:6]
    x, y = uscc_in("411203", uid + "01"), uscc_in("411203", uid + "02")
    # 招商引资: the county registers its own contract with an enterprise of another county.
    c1 = register_built(who["county"], contract(uid, 1, x, "411202"))
    c2 = register_built(who["officer"], contract(uid, 2, y, "411203"))
    post_tax(who["tax"], f"vis-{uid}", record(x, 2024, X_PAID), record(y, 2024, Y_PAID))
    park = f"vis-{uid}"
    codes = import_park(who["officer"], park, "411202", [c1, c2])
    return {"uid": uid, "x": x, "y": y, "c1": c1, "c2": c2, "park": park, "p1": codes[0], "p2": codes[1]}


def _secret_free(text: str, w: dict, usccs: bool = False) -> None:
    """No figure of X or Y; with ``usccs``, not even their codes (the evaluation ties each to its
    tax; a parcel's contract, which names its transferee, is no tax data)."""
    for s in (X_PAID, Y_PAID, X_TPM, "123.45", "900.13", *((w["x"], w["y"]) if usccs else ())):
        assert s not in text, (s, text[:2000])


# ---------------------------------------------------------------- a contract

def test_performance_withholds_the_other_countys_tax(who, world):
    url = f"/v1/contracts/{world['c1']}/performance"
    r = who["county"].get(url, params={"as_of": AS_OF})
    assert r.status_code == 200, r.text
    body = r.json()
    year = [f for f in body["findings"] if f["kind"] == "tax_per_mu" and f.get("year") == 2024]
    assert len(year) == 1 and year[0]["status"] == "withheld" and year[0]["amount"] is None, year
    assert WITHHELD in year[0]["message"] and year[0]["inputs"] == {}
    assert body["verdict"] != "pass" and body["amount_total_complete"] is False and body["withheld_years"] == [2024]
    assert body["tax_regions"] == []
    _secret_free(r.text, world)
    # the positive control: the city sees the figure through the same contract
    city = who["city"].get(url, params={"as_of": AS_OF}).json()
    f = next(f for f in city["findings"] if f["kind"] == "tax_per_mu" and f.get("year") == 2024)
    assert f["status"] == "fail" and f["inputs"]["tax_paid"] == X_PAID, f
    assert city["tax_regions"] == ["411203"] and "amount_total_complete" not in city


def test_contract_page_withholds_the_other_countys_tax(who, world):
    page = who["county"].page().get(f"/contracts/{world['c1']}", params={"as_of": AS_OF})
    assert page.status_code == 200, page.text[:500]
    assert WITHHELD in page.text and "缺失" not in page.text
    for s in (X_PAID, X_TPM, "123.45", "123.46"):
        assert s not in page.text, s
    city = who["city"].page().get(f"/contracts/{world['c1']}", params={"as_of": AS_OF})
    # the page shows computed figures to two decimals: 123.4567 万元 as 123.46
    assert city.status_code == 200 and "123.46" in city.text


def test_decisions_holding_tax_need_every_region(http, who, world):
    from sqlmodel import Session

    from app.store import decisions
    from app.store.db import get_engine

    perf = who["city"].get(f"/v1/contracts/{world['c1']}/performance", params={"as_of": AS_OF}).json()
    ev = who["city"].get(f"/v1/parks/{world['park']}/evaluation", params={"year": 2024}).json()
    own = who["county"].get(f"/v1/parks/{world['park']}/evaluation", params={"year": 2024}).json()
    assert set(ev["tax_regions"]) == {"411203"} and own["tax_regions"] == []
    for d in (perf["decision_id"], ev["decision_id"]):
        assert who["city"].get(f"/v1/decisions/{d}").status_code == 200
        for key in ("county", "county_auditor"):
            r = who[key].get(f"/v1/decisions/{d}")
            assert r.status_code == 403 and "411203" in r.json()["detail"], (key, r.text)
            assert who[key].post(f"/v1/decisions/{d}/replay").status_code == 403
    assert who["county"].get(f"/v1/decisions/{own['decision_id']}").status_code == 200
    # the contract page lists the city's audit without its verdict or total
    page = who["county"].page().get(f"/contracts/{world['c1']}")
    assert perf["decision_id"] in page.text and page.text.count(WITHHELD) >= 2
    # decisions stored before tax rows had a region: derived from the USCCs they name
    legacy_perf = {k: v for k, v in perf.items() if k not in ("tax_regions", "decision_id", "seq", "created_at",
                                                               "prev_hash", "hash")}
    legacy_ev = {k: v for k, v in ev.items() if k not in ("tax_regions", "decision_id", "seq", "created_at",
                                                          "prev_hash", "hash")}
    with Session(get_engine()) as session:
        stored = decisions.append(session, [legacy_perf, legacy_ev])
    for d in stored:
        assert "tax_regions" not in d
        assert who["city"].get(f"/v1/decisions/{d['decision_id']}").status_code == 200
        assert who["county"].get(f"/v1/decisions/{d['decision_id']}").status_code == 403, d["kind"]


# ---------------------------------------------------------------- a park

def _park_reads(w: dict) -> list[tuple[str, dict]]:
    p = w["park"]
    return [(f"/v1/parks/{p}/evaluation", {"year": 2024}), (f"/v1/parks/{p}/evaluation.xlsx", {"year": 2024}),
            (f"/v1/parks/{p}/evaluation.svg", {"year": 2024}),
            (f"/v1/parks/{p}/evaluation.svg", {"year": 2024, "chart": "categories"}),
            (f"/v1/parks/{p}/ledger", {"as_of": AS_OF}), (f"/v1/parks/{p}/ledger.xlsx", {"as_of": AS_OF}),
            (f"/v1/parcels/{w['p1']}", {"as_of": AS_OF}), (f"/v1/parcels/{w['p2']}", {"as_of": AS_OF}),
            (f"/parks/{p}/evaluation", {"year": 2024}), (f"/parks/{p}/ledger", {"as_of": AS_OF})]


def test_park_views_withhold_linked_enterprises(who, world):
    for key in ("county", "county_auditor"):
        for url, params in _park_reads(world):
            client = who[key].page() if not url.startswith("/v1") else who[key]
            r = client.get(url, params=params)
            assert r.status_code == 200, (key, url, r.text[:300])
            _secret_free(body_text(r), world, usccs="evaluation" in url)
    ev = who["county"].get(f"/v1/parks/{world['park']}/evaluation", params={"year": 2024}).json()
    t = ev["tax_per_mu"]
    assert t["status"] == "withheld" and t["value"] is None and t["total_tax"] is None, t   # two contributors
    assert t["parcels_counted"] == [] and {p["code"] for p in t["parcels_withheld"]} == {world["p1"], world["p2"]}
    assert ev["verdict"] == "withheld" and ev["target"]["status"] == "withheld" and ev["pulling_down"] == []
    page = who["county"].page().get(f"/parks/{world['park']}/evaluation", params={"year": 2024}).text
    assert WITHHELD in page and "缺失" not in page
    # the parcel: its tax and its tax-based low-efficiency result are withheld; the others stay
    view = who["county"].get(f"/v1/parcels/{world['p1']}", params={"as_of": AS_OF}).json()
    assert view["tax"]["status"] == "withheld" and view["tax"]["tax_per_mu"] is None and view["tax"]["inputs"] == {}
    low = view["assessment"]["low_efficiency"]
    preds = {p["predicate"]: p for p in low["predicates"]}
    assert preds["tax_per_mu_below_park_average"]["status"] == "withheld"
    assert preds["tax_per_mu_below_park_average"]["value"] is None
    assert preds["plot_ratio_below"]["status"] == "not_met"
    assert low["status"] == "withheld" and view["categories"] == []
    led = who["county"].get(f"/v1/parks/{world['park']}/ledger", params={"as_of": AS_OF}).json()
    assert world["p1"] in led["withheld"] and world["p1"] not in {r["parcel"]["code"] for r in led["rows"]}
    # positive control: the city sees both enterprises, the total, and X's parcel as low-efficiency
    city = who["city"].get(f"/v1/parks/{world['park']}/evaluation", params={"year": 2024}).json()
    assert city["tax_per_mu"]["total_tax"]["value"] == "1023.5924"
    assert {p["inputs"]["uscc"] for p in city["tax_per_mu"]["parcels_counted"]} == {world["x"], world["y"]}
    city_led = who["city"].get(f"/v1/parks/{world['park']}/ledger", params={"as_of": AS_OF}).json()
    row = next(r for r in city_led["rows"] if r["parcel"]["code"] == world["p1"])
    assert row["category_codes"] == ["LOW_EFF"] and city_led["withheld"] == []
    for url, params in _park_reads(world)[:3]:
        assert X_PAID[:6] in body_text(who["city"].get(url, params=params)) or url.endswith(".svg"), url
    assert world["x"] in body_text(who["city"].get(f"/v1/parks/{world['park']}/evaluation.xlsx", params={"year": 2024}))


def _aggregate_park(who: dict, tag: str, enterprises: list[tuple[str, str]]) -> str:
    """A 411202 park with one parcel per (region, tax paid in 2024) enterprise; its id."""
    uid = uuid.uuid4().hex[:6]
    nos, recs = [], []
    for i, (region, paid) in enumerate(enterprises, start=1):
        u = uscc_in(region, uid + f"{i:02d}")
        nos.append(register_built(who["officer"], contract(uid, i, u, region)))
        recs.append(record(u, 2024, paid))
    post_tax(who["tax"], f"agg-{tag}-{uid}", *recs)
    pid = f"agg-{tag}-{uid}"
    import_park(who["officer"], pid, "411202", nos)
    return pid


def _tax(client: As, pid: str) -> dict:
    r = client.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024})
    assert r.status_code == 200, r.text
    return r.json()["tax_per_mu"]


def test_park_aggregate_follows_the_disclosure_rule(who, monkeypatch):
    # three 411203 enterprises, none above 85 %, and one of the county's own
    many = _aggregate_park(who, "many", [("411203", "100"), ("411203", "110"), ("411203", "120"), ("411202", "90")])
    t = _tax(who["county_auditor"], many)
    assert t["status"] == "ok" and t["total_tax"]["value"] == "420" and t["value"]["value"] == "3.5", t
    assert len(t["parcels_counted"]) == 1 and len(t["parcels_withheld"]) == 3          # rows: only its own
    # two contributors: withheld for the county, shown to the city that sees both
    two = _aggregate_park(who, "two", [("411203", "200"), ("411202", "50")])
    t = _tax(who["county_auditor"], two)
    assert t["status"] == "withheld" and t["value"] is None and t["total_tax"] is None and WITHHELD in t["message"]
    assert [p["allocated_tax"]["value"] for p in t["parcels_counted"]] == ["50"]
    assert _tax(who["city"], two)["total_tax"]["value"] == "250"
    # one enterprise above 85 %
    big = _aggregate_park(who, "big", [("411203", "1000"), ("411203", "10"), ("411203", "10")])
    t = _tax(who["county_auditor"], big)
    assert t["status"] == "withheld" and t["total_tax"] is None
    assert "1020" not in body_text(who["county_auditor"].get(f"/v1/parks/{big}/evaluation.xlsx", params={"year": 2024}))
    assert _tax(who["city"], big)["total_tax"]["value"] == "1020"
    assert who["other_county"].get(f"/v1/parks/{big}/evaluation", params={"year": 2024}).status_code == 403
    # both numbers are configuration
    monkeypatch.setenv("STANDARD_LAND_TAX_MAX_SHARE_PERCENT", "100")
    assert _tax(who["county_auditor"], big)["total_tax"]["value"] == "1020"
    monkeypatch.setenv("STANDARD_LAND_TAX_MIN_CONTRIBUTORS", "4")
    assert _tax(who["county_auditor"], many)["status"] == "withheld"
    assert _tax(who["city"], many)["total_tax"]["value"] == "420"


# ---------------------------------------------------------------- tax records

def _old_digest(records: list[dict]) -> str:
    rows = sorted([r["uscc"], r["year"], r["tax_paid"]["value"], None] for r in records)
    doc = {"unit": "万元", "fields": ["uscc", "year", "tax_paid", "policy_refunds"], "records": rows}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_tax_region_is_posted_validated_and_scoped(who):
    uid = uuid.uuid4().hex[:6]
    z, z2 = uscc_in("411203", uid + "0A"), uscc_in("411203", uid + "0B")
    # explicit region: a 411203-registered firm taxed by the 411202 authority is the county's to see
    post_tax(who["tax"], f"reg-{uid}", record(z, 2024, "77.7", region="411202"), record(z, 2023, "66.6"))
    hist = who["county_auditor"].get("/v1/tax-records", params={"uscc": z}).json()
    assert hist["count"] == 1 and hist["withheld"] == 1, hist
    shown = [r for r in hist["records"] if not r.get("withheld")]
    assert shown[0]["tax_paid"]["value"] == "77.7" and shown[0]["tax_region"] == "411202"
    assert "66.6" not in json.dumps(hist)
    assert who["city"].get("/v1/tax-records", params={"uscc": z}).json()["withheld"] == 0
    # validation: the field path, nothing stored
    r = who["tax"].post("/v1/tax-records", json={"batch_id": f"bad-{uid}", "records": [
        record(z2, 2024, 1, region="41120X"), record(z2, 2023, 1, region="４１１２０２"), record(z2, 2022, 1, region="41120")]})
    assert r.status_code == 422, r.text
    assert {p["path"] for p in r.json()["detail"]} == {f"records.{i}.tax_region" for i in range(3)}
    # a tax_system key of 411202 posts only 411202 records: 403 naming the others, nothing stored
    r = who["county_tax"].post("/v1/tax-records", json={"batch_id": f"out-{uid}", "records": [
        record(z2, 2024, 5, region="411202"), record(z2, 2023, 5)]})
    assert r.status_code == 403, r.text
    assert [p["path"] for p in r.json()["detail"]] == ["records.1.tax_region"]
    assert who["city"].get("/v1/tax-records", params={"uscc": z2}).json()["records"] == []
    ok = post_tax(who["county_tax"], f"in-{uid}", record(z2, 2024, 5, region="411202"))
    assert ok["count"] == 1
    # an old batch (no region) keeps its digest, and its retry is the same batch
    old = [record(uscc_in("411202", uid + "0C"), 2024, "12.5")]
    first = post_tax(who["tax"], f"old-{uid}", *old)
    assert first["digest"] == _old_digest(old)
    assert post_tax(who["tax"], f"old-{uid}", *old, status=200)["digest"] == first["digest"]
    # the workbook's column
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "年度", "实缴税额（万元）", "主管税务机关行政区划代码"])
    ws.append([z2, 2022, 3, 411202])
    buf = io.BytesIO()
    wb.save(buf)
    r = who["tax"].post("/v1/tax-records:xlsx", params={"batch_id": f"xlsx-{uid}"},
                        files={"file": ("tax.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 201, r.text
    rows = who["county_auditor"].get("/v1/tax-records", params={"uscc": z2, "year": 2022}).json()["records"]
    assert rows[0]["tax_region"] == "411202" and rows[0]["tax_paid"]["value"] == "3"


def test_batch_summary_lists_only_the_keys_usccs(who):
    uid = uuid.uuid4().hex[:6]
    outside, inside = uscc_in("411203", uid + "1A"), uscc_in("411202", uid + "1B")   # no contracts: unknown
    post_tax(who["tax"], f"batch-{uid}", record(outside, 2024, 1), record(inside, 2024, 2))
    county = who["county_auditor"].get(f"/v1/tax-records/batches/batch-{uid}").json()
    assert county["unknown_enterprises"] == {"count": 1, "uscc": [inside], "withheld": 1}, county
    assert outside not in json.dumps(county)
    city = who["city"].get(f"/v1/tax-records/batches/batch-{uid}").json()
    assert set(city["unknown_enterprises"]["uscc"]) == {outside, inside}


# ---------------------------------------------------------------- scoring runs

def test_scoring_runs_follow_the_tax_rows_region(who):
    uid = uuid.uuid4().hex[:6]
    # registered in the county but taxed in 411203, and the other way round
    w1, w2 = uscc_in("411202", uid + "2A"), uscc_in("411203", uid + "2B")
    post_tax(who["tax"], f"score-{uid}", record(w1, 2025, 10, region="411203"), record(w2, 2025, 10, region="411202"))
    values = {"tax_per_mu": "24.681357", "va_per_mu": "136", "energy_efficiency": "2.7", "emission_efficiency": "4900",
              "labour_productivity": "18", "rd_share": "0.03"}
    run = who["officer"].post("/v1/scoring/runs", json={"year": 2025, "enterprises": [
        {"id": w1, "values": values}, {"id": w2, "values": {**values, "tax_per_mu": "13.579246"}}]})
    assert run.status_code == 201, run.text
    rid = run.json()["run_id"]
    doc = who["county_auditor"].get(f"/v1/scoring/runs/{rid}").json()
    assert [r["id"] for r in doc["results"]] == [w2] and doc["scope"]["hidden"] == 1
    table = who["county_auditor"].get(f"/v1/scoring/runs/{rid}/table").json()
    assert [row[table["columns"].index("id")] for row in table["rows"]] == [w2]
    for url in (f"/v1/scoring/runs/{rid}.xlsx", f"/parks/scoring/runs/{rid}"):
        client = who["county_auditor"] if url.startswith("/v1") else who["county_auditor"].page()
        text = body_text(client.get(url))
        assert w2 in text and w1 not in text and "24.681357" not in text, url
    assert {r["id"] for r in who["city"].get(f"/v1/scoring/runs/{rid}").json()["results"]} == {w1, w2}
    # The replay of the run shows a county key only the differences of enterprises in its scope.
    decision = run.json()["decision_id"]
    assert who["county_auditor"].post(f"/v1/decisions/{decision}/replay").json()["identical"] is True
    with Session(get_engine()) as s:
        row = s.get(ScoringRun, rid)
        stored = json.loads(row.document)
        for r in stored["results"]:
            r["score"] = "1"                            # both enterprises' stored scores altered
        row.document = json.dumps(stored, ensure_ascii=False)
        s.add(row)
        s.commit()
    county = who["county_auditor"].post(f"/v1/decisions/{decision}/replay").json()
    assert county["identical"] is False and {d["enterprise"] for d in county["differences"]} == {w2}
    assert county["scope"]["hidden_differences"] == 1 and w1 not in json.dumps(county)
    city = who["city"].post(f"/v1/decisions/{decision}/replay").json()
    assert {d["enterprise"] for d in city["differences"]} == {w1, w2}


# ---------------------------------------------------------------- the migration

def test_migration_backfills_the_region_of_existing_rows(tmp_path):
    import datetime as dt

    from alembic import command
    from sqlalchemy import text

    from app.store.db import make_engine
    from app.store.migrate import _config
    from tests.trust_support import _url_for_driver, scratch_database

    with scratch_database(tmp_path, "tax_region_migration") as url:
        engine = make_engine(_url_for_driver(url))
        try:
            with engine.connect() as conn:
                command.upgrade(_config(conn), "0004")
                conn.commit()
                for i, code in enumerate((uscc_in("411203", "AB01"), "91ABCDEF00000000XX")):
                    conn.execute(text("INSERT INTO tax_record (batch_id, uscc, year, tax_paid, current, known_enterprise, "
                                      "uscc_valid, received_at) VALUES ('b', :u, :y, '1', true, true, true, :t)"),
                                 {"u": code, "y": 2020 + i, "t": dt.datetime.now(dt.UTC)})
                conn.commit()
                command.upgrade(_config(conn), "head")
                conn.commit()
                rows = dict(conn.execute(text("SELECT year, region FROM tax_record")).all())
        finally:
            engine.dispose()
    assert rows == {2020: "411203", 2021: None}
