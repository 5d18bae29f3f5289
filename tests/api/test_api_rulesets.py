"""/v1/rulesets: publish (immutable, validated, layered), read, diff, resolve (bitemporal)."""

from __future__ import annotations

import datetime as dt
import re

from tests.conftest import proposal
from tests.factories import by_rule, child_doc, paths, simple_proposal, standalone_doc, tax_rule

SANMENXIA_RESOLVED_32 = {
    # rule → (layer, layer_version, threshold, unit)
    "plot_ratio_min": ("national-2008", "2008.1", "0.6", None),
    "building_coefficient_min": ("national-2008", "2008.1", "30", "%"),
    "admin_land_share_max": ("national-2008", "2008.1", "7", "%"),
    "green_ratio_max": ("national-2008", "2008.1", "20", "%"),
    "environment_standard": ("henan-standard-land", "2021.1", True, None),
    "investment_intensity_min": ("sanmenxia-standard-land", "2021.2", "220", "万元/亩"),
    "tax_per_mu_min": ("sanmenxia-standard-land", "2021.2", "15", "万元/亩"),
    "output_per_mu_min": ("sanmenxia-standard-land", "2021.2", "300", "万元/亩"),
    "construction_conditions": ("sanmenxia-standard-land", "2021.2", True, None),
}


def publish(client, doc: dict, status: int = 201) -> dict:
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == status, r.text
    return r.json()


def resolve(client, **params) -> dict:
    r = client.get("/v1/rulesets/resolve", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def threshold_of(resolved: dict, rule: str):
    return {x["rule"]: x for x in resolved["rules"]}[rule]["threshold"]


# ---------------------------------------------------------------- publish

def test_publish_returns_201_with_summary(client, uid):
    rid = f"t-{uid}"
    before = dt.datetime.now(dt.UTC)
    body = publish(client, standalone_doc(rid))
    after = dt.datetime.now(dt.UTC)
    assert {"id", "version", "digest", "published_at"} <= set(body)
    assert (body["id"], body["version"]) == (rid, "1")
    assert re.fullmatch(r"[0-9a-f]{64}", body["digest"])
    published = dt.datetime.fromisoformat(body["published_at"])
    assert published.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= published <= after + dt.timedelta(seconds=1)


def test_identical_document_again_is_200_with_same_digest(client, uid):
    rid = f"t-{uid}"
    first = publish(client, standalone_doc(rid))
    again = publish(client, standalone_doc(rid), status=200)
    assert again == first
    # key order and number spelling (15 vs "15.0") do not change the canonical digest
    reordered = dict(reversed(list(standalone_doc(rid, tax="15.0").items())))
    assert publish(client, reordered, status=200)["digest"] == first["digest"]
    versions = client.get(f"/v1/rulesets/{rid}").json()["versions"]
    assert len(versions) == 1


def test_same_version_with_different_content_is_409(client, uid):
    rid = f"t-{uid}"
    first = publish(client, standalone_doc(rid, tax=15))
    r = client.post("/v1/rulesets", json=standalone_doc(rid, tax=16))
    assert r.status_code == 409, r.text
    assert first["digest"] in r.json()["detail"]
    # the published version is unchanged
    stored = client.get(f"/v1/rulesets/{rid}/versions/1").json()
    assert stored["digest"] == first["digest"]
    assert stored["document"]["rules"][0]["threshold"] == "15"
    r2 = client.post("/v1/rulesets", json=standalone_doc(rid, tax=15, title="改了标题"))
    assert r2.status_code == 409


def test_invalid_document_lists_every_problem_with_its_path(client, uid):
    rid = f"t-{uid}"
    doc = standalone_doc(rid)
    cite = {"doc": "t-doc"}
    doc["rules"] = [
        {"id": "a", "indicator": "tax_per_acre", "role": "core", "op": ">=", "threshold": 1,
         "unit": "万元/亩", "cite": cite},
        {"id": "b", "indicator": "tax_per_mu", "role": "core", "op": "=>", "threshold": 15, "unit": "万元/亩",
         "cite": cite},
        {"id": "c", "indicator": "tax_per_mu", "role": "core", "op": ">=", "threshold": 15, "unit": "%",
         "cite": cite},
        {"id": "d", "indicator": "tax_per_mu", "role": "core", "op": ">=", "threshold": 15, "unit": "万元/亩",
         "cite": {"doc": "undeclared-doc"}},
        {"id": "e", "indicator": "green_ratio", "role": "n", "op": "<=", "threshold": 20, "unit": "m2",
         "cite": cite},
    ]
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 422, r.text
    assert paths(r) == {"rules.0.indicator", "rules.1.op", "rules.2.unit", "rules.3.cite.doc", "rules.4.unit"}
    msgs = {d["path"]: d["msg"] for d in r.json()["detail"]}
    assert "tax_per_acre" in msgs["rules.0.indicator"]
    assert "=>" in msgs["rules.1.op"]
    assert "undeclared-doc" in msgs["rules.3.cite.doc"]
    assert client.get(f"/v1/rulesets/{rid}").status_code == 404


def test_other_invalid_documents(client, uid):
    rid = f"t-{uid}"
    cases = [
        (standalone_doc(rid, jurisdiction="41120"), "jurisdiction"),
        (standalone_doc(rid, jurisdiction="012345"), "jurisdiction"),
        (standalone_doc(rid, effective_to="2019-12-31"), "effective_to"),
        (standalone_doc(rid, status="draft"), "status"),
        (standalone_doc(rid, rules=[]), "rules"),
        (standalone_doc(rid, precision={"mode": "round_half_up"}), "precision.places"),
        (standalone_doc(rid, tax=-1), "rules.0.threshold"),
        (standalone_doc(rid, tax="NaN"), "rules.0.threshold"),
        (standalone_doc(rid, tax="0.0000001"), "rules.0.threshold"),          # 7 decimals
        (standalone_doc(rid, tax=[10, 20]), "rules.0.threshold"),              # a list for >=
        (standalone_doc(rid, unexpected=True), "unexpected"),
        (standalone_doc("Bad_Id"), "id"),
    ]
    # 1 元/m2 = 1/15 万元/亩: not exact to 6 decimals in the canonical unit
    inexact = standalone_doc(rid)
    inexact["rules"][0]["unit"] = "元/m2"
    inexact["rules"][0]["threshold"] = 1
    cases.append((inexact, "rules.0.threshold"))
    between = standalone_doc(rid)
    between["rules"][0].update(op="between", threshold=[20, 10])
    cases.append((between, "rules.0.threshold"))
    dup = standalone_doc(rid)
    dup["rules"][1]["id"] = "tax_per_mu_min"
    cases.append((dup, "rules.1.id"))
    for doc, path in cases:
        r = client.post("/v1/rulesets", json=doc)
        assert r.status_code == 422, (path, r.text)
        assert any(p == path or p.startswith(path + ".") for p in paths(r)), (path, r.json())
    assert client.get(f"/v1/rulesets/{rid}").status_code == 404


def test_threshold_in_another_unit_is_converted(client, uid):
    rid = f"t-{uid}"
    doc = standalone_doc(rid)
    doc["rules"][0].update(threshold=225000, unit="元/亩")      # = 22.5 万元/亩
    publish(client, doc)
    assert threshold_of(resolve(client, ruleset=rid, as_of="2024-03-01"), "tax_per_mu_min") == "22.5"
    v = client.post("/v1/checks/proposal", json=simple_proposal(rid, tax_wan=2025)).json()   # 22.5 万元/亩
    f = by_rule(v["findings"])["tax_per_mu_min"]
    assert (f["status"], f["threshold"], f["margin"]) == ("pass", "22.5", "0.00")


# ---------------------------------------------------------------- layers

def test_child_that_loosens_its_parent_is_refused(client, uid):
    rid = f"loose-{uid}"
    r = client.post("/v1/rulesets", json=child_doc(rid, [tax_rule(10)], jurisdiction="411202"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    # one problem per parent version in force (sanmenxia 2021.1 and its citation correction 2021.2)
    assert [d["path"] for d in detail] == ["rules.0.threshold"] * 2
    assert all("tax_per_mu_min" in d["msg"] and "sanmenxia-standard-land" in d["msg"] for d in detail)
    assert "relaxation" in detail[0]["msg"]
    assert client.get(f"/v1/rulesets/{rid}").status_code == 404


def test_child_equal_or_stricter_than_parent_is_accepted(client, uid):
    publish(client, child_doc(f"same-{uid}", [tax_rule(15)], jurisdiction="411202"))
    publish(client, child_doc(f"tight-{uid}", [tax_rule(20)], jurisdiction="411202"))
    # > 15 is stricter than >= 15; >= 14.99 is not
    publish(client, child_doc(f"gt-{uid}", [tax_rule(15, op=">")], jurisdiction="411202"))
    r = client.post("/v1/rulesets", json=child_doc(f"lt-{uid}", [tax_rule("14.99")], jurisdiction="411202"))
    assert r.status_code == 422


def test_child_by_industry_loosening_is_refused(client, uid):
    rule = {"id": "investment_intensity_min", "indicator": "investment_intensity", "role": "core", "op": ">=",
            "threshold": 200, "by_industry": {"32": 210, "26": 250}, "unit": "万元/亩",
            "cite": {"doc": "county-doc"}}
    r = client.post("/v1/rulesets", json=child_doc(f"inv-{uid}", [rule], jurisdiction="411202"))
    assert r.status_code == 422, r.text
    assert paths(r) == {"rules.0.by_industry.32"}


def test_child_that_loosens_a_grandparent_rule_is_refused(client, uid):
    """national-2008 says green_ratio ≤ 20 %; Sanmenxia inherits it unchanged.  A county
    layer under Sanmenxia saying ≤ 25 % loosens the rule it inherits and carries no
    relaxation, so publishing it must be refused (docs/rule-sets.md, Layers)."""
    rule = {"id": "green_ratio_max", "indicator": "green_ratio", "role": "n", "op": "<=", "threshold": 25,
            "unit": "%", "cite": {"doc": "county-doc"}}
    rid = f"gp-{uid}"
    r = client.post("/v1/rulesets", json=child_doc(rid, [rule], jurisdiction="411281"))
    assert r.status_code == 422, r.text
    assert "rules.0.threshold" in paths(r)
    assert "green_ratio_max" in r.json()["detail"][0]["msg"]


def test_looser_child_does_not_replace_a_not_covered_parent_rule(client):
    """Beihai 2023GC07007 (parent national-2008) asks plot ratio 0.7–1.8.  For 2017-29 the
    national minimum is ambiguous (2002-29 → 0.8, 2002-30 → 1.0: not_covered).  Beihai's
    0.7 is looser than both candidates, so its range must not supersede the national rule:
    plot_ratio_min has to stay in force (not_covered → manual review).  The service lets
    any child rule replace a parent rule whose threshold is None for the industry."""
    res = resolve(client, ruleset="beihai-2023gc07007", industry="29", as_of="2024-03-01")
    rules = {x["rule"]: x for x in res["rules"]}
    assert "plot_ratio_min" in rules, sorted(rules)
    assert (rules["plot_ratio_min"]["layer"], rules["plot_ratio_min"]["status"]) == ("national-2008",
                                                                                     "not_covered")
    assert rules["plot_ratio_range"]["supersedes"] == []
    # for 2017-26 (national 0.6) the parcel's 0.7–1.8 is stricter and does replace it
    res26 = resolve(client, ruleset="beihai-2023gc07007", industry="26", as_of="2024-03-01")
    rules26 = {x["rule"]: x for x in res26["rules"]}
    assert "plot_ratio_min" not in rules26
    assert rules26["plot_ratio_range"]["supersedes"] == ["national-2008:plot_ratio_min"]
    assert rules26["plot_ratio_range"]["threshold"] == ["0.7", "1.8"]


def test_child_stricter_than_every_candidate_replaces_a_not_covered_parent_rule(client, uid):
    """2017-29 → national candidates 0.8 and 1.0; a parcel asking 1.2–3.0 is stricter than
    both, so it supersedes the national rule and the verdict no longer needs review."""
    rid = f"parcel-{uid}"
    rule = {"id": "plot_ratio_range", "indicator": "plot_ratio", "role": "core", "op": "between",
            "threshold": ["1.2", "3.0"], "cite": {"doc": "county-doc"}}
    publish(client, child_doc(rid, [rule], parent="national-2008", jurisdiction="450599",
                              effective_from="2023-01-01"))
    res = resolve(client, ruleset=rid, industry="29", as_of="2024-03-01")
    rules = {x["rule"]: x for x in res["rules"]}
    assert "plot_ratio_min" not in rules
    assert rules["plot_ratio_range"]["supersedes"] == ["national-2008:plot_ratio_min"]
    assert rules["plot_ratio_range"]["threshold"] == ["1.2", "3"]
    body = proposal(ruleset=rid, industry={"code": "29"})
    body["indicators"]["plot_ratio"] = {"value": "1.19"}
    v = client.post("/v1/checks/proposal", json=body).json()
    f = by_rule(v["findings"])["plot_ratio_range"]
    assert (f["status"], f["actual"], f["margin"]) == ("fail", "1.19", "-0.01")
    assert v["verdict"] == "fail"


def test_child_with_unpublished_parent_is_refused(client, uid):
    r = client.post("/v1/rulesets", json=child_doc(f"orphan-{uid}", [tax_rule(20)], parent=f"nobody-{uid}"))
    assert r.status_code == 422
    assert paths(r) == {"parent"}


def test_relaxation_is_accepted_and_shown_in_findings(client, uid):
    rid = f"relax-{uid}"
    reason = "省级重点项目一事一议，经县政府常务会议同意"
    rule = tax_rule(10, relaxation={"doc": "county-doc", "reason": reason})
    body = publish(client, child_doc(rid, [rule], jurisdiction="411204", applies_to=None))
    assert body["id"] == rid

    # the county resolves to the child; its tax rule replaces the city's
    res = resolve(client, jurisdiction="411204", industry="32", as_of="2024-03-01")
    assert res["ruleset"]["id"] == rid
    assert [layer["id"] for layer in res["ruleset"]["layers"]] == [
        "national-2008", "henan-standard-land", "sanmenxia-standard-land", rid]
    rules = {x["rule"]: x for x in res["rules"]}
    assert len(res["rules"]) == 9
    assert (rules["tax_per_mu_min"]["layer"], rules["tax_per_mu_min"]["threshold"]) == (rid, "10")
    assert reason in rules["tax_per_mu_min"]["relaxation"]
    assert rules["tax_per_mu_min"]["supersedes"] == ["sanmenxia-standard-land:tax_per_mu_min"]

    body = proposal(jurisdiction="411204")
    body["measures"]["annual_tax"] = {"value": 900, "unit": "万元"}     # 10 万元/亩
    r = client.post("/v1/checks/proposal", json=body)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["verdict"] == "pass"
    assert v["ruleset"]["id"] == rid
    f = by_rule(v["findings"])["tax_per_mu_min"]
    assert (f["status"], f["layer"], f["threshold"], f["actual"], f["margin"]) == (
        "pass", rid, "10", "10.00", "0.00")
    assert reason in f["relaxation"] and "测县〔2022〕3号" in f["relaxation"]
    assert any(reason in w and "tax_per_mu_min" in w for w in v["warnings"]), v["warnings"]
    # rules the relaxation does not touch carry no relaxation
    assert all("relaxation" not in x for x in v["findings"] if x["rule"] != "tax_per_mu_min")

    # 9.99 万元/亩 fails even the relaxed rule
    body["measures"]["annual_tax"] = {"value": "899.1", "unit": "万元"}
    v2 = client.post("/v1/checks/proposal", json=body).json()
    assert by_rule(v2["findings"])["tax_per_mu_min"]["status"] == "fail"


def test_relaxation_citing_an_undeclared_document_is_refused(client, uid):
    rule = tax_rule(10, relaxation={"doc": "nowhere", "reason": "r"})
    r = client.post("/v1/rulesets", json=child_doc(f"relax-{uid}", [rule], jurisdiction="411202"))
    assert r.status_code == 422
    assert "rules.0.relaxation.doc" in paths(r)


# ---------------------------------------------------------------- read

def test_list_and_get(client, uid):
    rid = f"t-{uid}"
    v1 = publish(client, standalone_doc(rid, jurisdiction="419902"))
    v2 = publish(client, standalone_doc(rid, version="2", effective_from="2024-01-01", tax=20,
                                        jurisdiction="419902"))
    listing = client.get("/v1/rulesets").json()
    ids = {x["id"]: x for x in listing}
    assert {"national-2008", "henan-standard-land", "sanmenxia-standard-land", "beihai-2023gc07007",
            "longchang-standard-land", rid} <= set(ids)
    smx = ids["sanmenxia-standard-land"]
    assert (smx["jurisdiction"], smx["parent"], smx["status"]) == ("411200", "henan-standard-land", "example")
    assert [v["version"] for v in smx["versions"]] == ["2021.1", "2021.2"]
    assert smx["versions"][0]["source"] == "bundled"

    only = client.get("/v1/rulesets", params={"jurisdiction": "419902"}).json()
    assert [x["id"] for x in only] == [rid]

    one = client.get(f"/v1/rulesets/{rid}").json()
    assert one["id"] == rid and one["parent"] is None and one["jurisdiction"] == "419902"
    assert [(v["version"], v["digest"], v["effective_from"], v["source"]) for v in one["versions"]] == [
        ("1", v1["digest"], "2020-01-01", "api"), ("2", v2["digest"], "2024-01-01", "api")]

    ver = client.get(f"/v1/rulesets/{rid}/versions/2").json()
    assert (ver["id"], ver["version"], ver["digest"], ver["published_at"]) == (
        rid, "2", v2["digest"], v2["published_at"])
    assert ver["document"]["rules"][0]["threshold"] == "20"
    assert ver["document"]["effective_from"] == "2024-01-01"

    assert client.get(f"/v1/rulesets/nothing-{uid}").status_code == 404
    assert client.get(f"/v1/rulesets/{rid}/versions/9").status_code == 404
    assert client.get("/v1/rulesets", params={"jurisdiction": "4199"}).status_code == 422


def test_bundled_version_document(client):
    ver = client.get("/v1/rulesets/sanmenxia-standard-land/versions/2021.1").json()
    assert ver["document"]["parent"] == "henan-standard-land"
    inv = {r["id"]: r for r in ver["document"]["rules"]}["investment_intensity_min"]
    assert inv["by_industry"] == {"32": "220", "26": "250"}
    assert inv["threshold"] == "200"


def test_diff_between_two_versions(client, uid):
    rid = f"t-{uid}"
    publish(client, standalone_doc(rid))
    v2 = standalone_doc(rid, version="2", tax=20, title="测试规则集（修订）")
    v2["rules"].append({"id": "output_per_mu_min", "indicator": "output_per_mu", "role": "n", "op": ">=",
                        "threshold": 300, "unit": "万元/亩", "required": False,
                        "cite": {"doc": "t-doc", "article": "第三条"}})
    v2["rules"] = [r for r in v2["rules"] if r["id"] != "investment_intensity_min"]
    publish(client, v2)
    r = client.get(f"/v1/rulesets/{rid}/diff", params={"from": "1", "to": "2"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["id"], d["from"], d["to"]) == (rid, "1", "2")
    assert d["fields"] == {"title": {"from": "测试规则集", "to": "测试规则集（修订）"}}
    assert d["changed"] == [{"rule": "tax_per_mu_min", "indicator": "tax_per_mu",
                             "changes": {"threshold": {"from": "15", "to": "20"}}}]
    assert [x["id"] for x in d["added"]] == ["output_per_mu_min"]
    assert d["added"][0]["threshold"] == "300"
    assert [x["id"] for x in d["removed"]] == ["investment_intensity_min"]

    back = client.get(f"/v1/rulesets/{rid}/diff", params={"from": "2", "to": "1"}).json()
    assert back["changed"][0]["changes"]["threshold"] == {"from": "20", "to": "15"}
    assert [x["id"] for x in back["added"]] == ["investment_intensity_min"]

    assert client.get(f"/v1/rulesets/{rid}/diff", params={"from": "1", "to": "1"}).status_code == 422
    assert client.get(f"/v1/rulesets/{rid}/diff", params={"from": "1", "to": "7"}).status_code == 404


# ---------------------------------------------------------------- resolve

def test_resolve_sanmenxia_for_industry_32(client):
    res = resolve(client, jurisdiction="411200", industry="32", as_of="2024-03-01")
    assert res["ruleset"]["id"] == "sanmenxia-standard-land"
    assert res["ruleset"]["example"] is True
    assert res["as_of"] == "2024-03-01"
    assert res["industry"] == {"code": "32", "classification": "GB/T 4754-2017"}
    got = {x["rule"]: (x["layer"], x["layer_version"], x["threshold"], x["unit"]) for x in res["rules"]}
    assert got == SANMENXIA_RESOLVED_32
    rules = {x["rule"]: x for x in res["rules"]}
    assert rules["investment_intensity_min"]["cite"] == {"doc": "example",
                                                         "article": "亩均投资强度示例值（方案二（四）只列指标名称，未规定数值）"}
    assert rules["plot_ratio_min"]["status"] == "applies"
    assert rules["investment_intensity_min"]["example"] is True
    assert rules["plot_ratio_min"]["example"] is False


def test_resolve_other_industries(client):
    res26 = resolve(client, jurisdiction="411200", industry="26", as_of="2024-03-01")
    assert threshold_of(res26, "investment_intensity_min") == "250"
    assert threshold_of(res26, "plot_ratio_min") == "0.6"          # 2002-26 化学原料
    res13 = resolve(client, jurisdiction="411200", industry="13", as_of="2024-03-01")
    assert threshold_of(res13, "investment_intensity_min") == "200"
    assert threshold_of(res13, "plot_ratio_min") == "1"
    res29 = resolve(client, jurisdiction="411200", industry="29", as_of="2024-03-01")
    pr = {x["rule"]: x for x in res29["rules"]}["plot_ratio_min"]
    assert pr["status"] == "not_covered" and pr["threshold"] is None
    assert "29→0.8" in pr["message"] and "30→1" in pr["message"]


def test_county_without_own_rule_set_resolves_the_city(client):
    res = resolve(client, jurisdiction="411221", industry="32", as_of="2024-03-01")
    assert res["ruleset"]["id"] == "sanmenxia-standard-land"
    r = client.post("/v1/checks/proposal", json=proposal(jurisdiction="411221"))
    assert r.status_code == 200, r.text
    assert r.json()["ruleset"]["id"] == "sanmenxia-standard-land"
    assert r.json()["verdict"] == "pass"
    # a Henan city without rules falls back to the province, then the nation
    for code, rid in (("410100", "henan-standard-land"), ("110101", "national-2008")):
        assert resolve(client, jurisdiction=code, as_of="2024-03-01")["ruleset"]["id"] == rid


def test_any_well_formed_code_may_be_published(client, uid):
    rid = f"t-{uid}"
    publish(client, standalone_doc(rid, jurisdiction="411299", tax=17, applies_to=None))
    assert [x["id"] for x in client.get("/v1/rulesets", params={"jurisdiction": "411299"}).json()] == [rid]
    res = resolve(client, jurisdiction="411299", as_of="2024-03-01")
    assert res["ruleset"]["id"] == rid
    assert threshold_of(res, "tax_per_mu_min") == "17"
    # its siblings still resolve the city
    city = resolve(client, jurisdiction="411221", as_of="2024-03-01")
    assert city["ruleset"]["id"] == "sanmenxia-standard-land"


def test_resolve_errors(client, uid):
    assert client.get("/v1/rulesets/resolve", params={"jurisdiction": "411200"}).status_code == 422
    r = client.get("/v1/rulesets/resolve", params={"ruleset": f"none-{uid}", "as_of": "2024-03-01"})
    assert r.status_code == 422 and paths(r) == {"ruleset"}
    r = client.get("/v1/rulesets/resolve", params={"jurisdiction": "411200", "as_of": "2000-01-01"})
    assert r.status_code == 422 and paths(r) == {"jurisdiction"}


# ---------------------------------------------------------------- bitemporal

def test_as_of_before_effective_from_resolves_the_older_version(client, uid):
    rid = f"t-{uid}"
    a = publish(client, standalone_doc(rid, version="A", tax=15))
    b = publish(client, standalone_doc(rid, version="B", tax=20, effective_from="2024-01-01"))
    assert dt.datetime.fromisoformat(b["published_at"]) > dt.datetime.fromisoformat(a["published_at"])

    for as_of, version, tax in (("2020-01-01", "A", "15"), ("2023-12-31", "A", "15"),
                                ("2024-01-01", "B", "20"), ("2024-03-01", "B", "20")):
        res = resolve(client, ruleset=rid, as_of=as_of)
        assert (res["ruleset"]["version"], threshold_of(res, "tax_per_mu_min")) == (version, tax), as_of
    r = client.get("/v1/rulesets/resolve", params={"ruleset": rid, "as_of": "2019-12-31"})
    assert r.status_code == 422

    # a proposal at 18 万元/亩 passes under A and fails under B
    early = client.post("/v1/checks/proposal", json=simple_proposal(rid, tax_wan=1620, as_of="2023-06-01"))
    late = client.post("/v1/checks/proposal", json=simple_proposal(rid, tax_wan=1620, as_of="2024-03-01"))
    early, late = early.json(), late.json()
    assert (early["ruleset"]["version"], early["verdict"]) == ("A", "pass")
    assert (late["ruleset"]["version"], late["verdict"]) == ("B", "fail")
    assert early["pinned"] == [a["digest"]] and late["pinned"] == [b["digest"]]
    assert by_rule(late["findings"])["tax_per_mu_min"]["margin"] == "-2.00"


def test_known_at_before_publication_resolves_what_was_known(client, uid):
    rid = f"t-{uid}"
    a = publish(client, standalone_doc(rid, version="A", tax=15))
    b = publish(client, standalone_doc(rid, version="B", tax=20, effective_from="2024-01-01"))
    known_a, known_b = a["published_at"], b["published_at"]
    assert known_a < known_b

    res = resolve(client, ruleset=rid, as_of="2024-03-01", known_at=known_a)
    assert (res["ruleset"]["version"], threshold_of(res, "tax_per_mu_min")) == ("A", "15")
    res = resolve(client, ruleset=rid, as_of="2030-01-01", known_at=known_a)
    assert res["ruleset"]["version"] == "A"
    res = resolve(client, ruleset=rid, as_of="2024-03-01", known_at=known_b)
    assert res["ruleset"]["version"] == "B"
    # before anything was published nothing is known
    before = (dt.datetime.fromisoformat(known_a) - dt.timedelta(seconds=1)).isoformat()
    assert client.get("/v1/rulesets/resolve",
                      params={"ruleset": rid, "as_of": "2024-03-01", "known_at": before}).status_code == 422

    # the same through a proposal check
    body = simple_proposal(rid, tax_wan=1620, known_at=known_a)
    v = client.post("/v1/checks/proposal", json=body).json()
    assert (v["ruleset"]["version"], v["verdict"], v["pinned"]) == ("A", "pass", [a["digest"]])
    assert dt.datetime.fromisoformat(v["known_at"]) == dt.datetime.fromisoformat(known_a)


def test_newer_version_with_the_same_effective_from_wins_for_later_known_at(client, uid):
    rid = f"t-{uid}"
    a = publish(client, standalone_doc(rid, version="A", tax=15))
    b = publish(client, standalone_doc(rid, version="B", tax=16))      # same effective_from: a correction
    assert resolve(client, ruleset=rid, as_of="2024-03-01")["ruleset"]["version"] == "B"
    for known_at, version in ((a["published_at"], "A"), (b["published_at"], "B")):
        res = resolve(client, ruleset=rid, as_of="2024-03-01", known_at=known_at)
        assert (res["ruleset"]["version"], threshold_of(res, "tax_per_mu_min")) == (
            version, {"A": "15", "B": "16"}[version])


def test_effective_to_ends_a_version(client, uid):
    rid = f"t-{uid}"
    publish(client, standalone_doc(rid, version="A", tax=15, effective_to="2023-01-01"))
    assert resolve(client, ruleset=rid, as_of="2022-12-31")["ruleset"]["version"] == "A"
    r = client.get("/v1/rulesets/resolve", params={"ruleset": rid, "as_of": "2023-01-01"})
    assert r.status_code == 422 and paths(r) == {"as_of"}


def test_parent_version_is_chosen_by_the_same_dates(client, uid):
    """A child layer under a parent with two versions uses the parent version in force."""
    parent, child = f"p-{uid}", f"c-{uid}"
    publish(client, standalone_doc(parent, version="1", tax=10, jurisdiction="419903"))
    publish(client, standalone_doc(parent, version="2", tax=12, effective_from="2024-01-01",
                                   jurisdiction="419903"))
    rule = {"id": "investment_intensity_min", "indicator": "investment_intensity", "role": "core", "op": ">=",
            "threshold": 250, "unit": "万元/亩", "cite": {"doc": "county-doc"}}
    publish(client, child_doc(child, [rule], parent=parent, jurisdiction="419904",
                              effective_from="2021-01-01"))
    early = resolve(client, ruleset=child, as_of="2023-06-01")
    late = resolve(client, ruleset=child, as_of="2024-06-01")
    assert [(x["id"], x["version"]) for x in early["ruleset"]["layers"]] == [(parent, "1"), (child, "1")]
    assert [(x["id"], x["version"]) for x in late["ruleset"]["layers"]] == [(parent, "2"), (child, "1")]
    assert threshold_of(early, "tax_per_mu_min") == "10" and threshold_of(late, "tax_per_mu_min") == "12"
    assert threshold_of(late, "investment_intensity_min") == "250"
    assert {x["rule"]: x["layer"] for x in late["rules"]}["investment_intensity_min"] == child


def test_published_at_is_utc_whatever_the_database_session_time_zone(client, database_url, uid, tmp_path):
    """Guard: published_at must be an instant, not a wall-clock time.  Were it stored in a
    ``timestamp without time zone`` column, PostgreSQL would convert the aware UTC value to
    the *session* time zone (PGTZ, server default) before dropping the offset, and a
    service in Asia/Shanghai would record versions as published 8 hours in the future —
    invisible to checks with the default known_at (now) until then."""
    if not database_url.startswith("postgres"):
        import pytest
        pytest.skip("PostgreSQL only: SQLite has no session time zone")
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    from tests.conftest import ROOT

    rid = f"tz-{uid}"
    f = tmp_path / "tz.yaml"
    f.write_text(yaml.safe_dump(standalone_doc(rid, tax=17), allow_unicode=True), encoding="utf-8")
    exe = Path(sys.executable).with_name("standard-land")
    env = {**os.environ, "DATABASE_URL": database_url, "PGTZ": "Asia/Shanghai"}
    before = dt.datetime.now(dt.UTC)
    p = subprocess.run([str(exe), "rules", "publish", str(f)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    after = dt.datetime.now(dt.UTC)
    assert p.returncode == 0, p.stderr

    versions = client.get(f"/v1/rulesets/{rid}").json()["versions"]
    published = dt.datetime.fromisoformat(versions[0]["published_at"])
    assert before - dt.timedelta(seconds=5) <= published <= after + dt.timedelta(seconds=5), published
    r = client.get("/v1/rulesets/resolve", params={"ruleset": rid, "as_of": "2024-03-01"})
    assert r.status_code == 200, r.text
    assert threshold_of(r.json(), "tax_per_mu_min") == "17"
