"""Issue 13: the indicator catalog as data.  Formulas parsed into a safe tree and computed exactly;
catalog documents published through POST /v1/indicators (201 / 200 / 409 / 422 with paths), their
union in force listed by GET /v1/indicators; the Taizhou 路桥 example (rules/examples/) published
after its catalog addition and checked through the API with its golden cases; decisions pin the
catalog and replay with it."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import pytest

from app.core import safe_yaml
from indicators import formula as fx
from indicators.catalog import CatalogError, load_catalog, parse_document
from rules import RULES_DIR
from tests.conftest import scratch_app

TZ = RULES_DIR / "examples" / "331004-taizhou-luqiao"


def doc(path) -> dict:
    return json.loads(json.dumps(safe_yaml.load(path.read_text(encoding="utf-8")), default=str))


def addition(**indicators) -> dict:
    return {"id": "t-add", "version": "1", "title": "测试目录", "status": "example", "effective_from": "2024-01-01",
            "measures": {"head": {"label": "人数", "kind": "money", "bounds": {"min": 0, "max": 10}}},
            "indicators": indicators}


def ind(formula: str, **more) -> dict:
    return {"label": "x", "kind": "money_per_area", "direction": "min", "role": "n", "formula": formula, **more}


def problems(raw: dict) -> dict[str, str]:
    with pytest.raises(CatalogError) as e:
        parse_document(raw, "t@1", load_catalog())
    return dict(e.value.problems)


# ---------------------------------------------------------------- formulas

def test_formula_is_exact_and_missing_is_never_zero():
    tree = fx.parse("(value_added − 0) ÷ land_area × 100".replace("−", "-"))
    assert fx.evaluate(tree, {"value_added": Fraction(1), "land_area": Fraction(3)}) == Fraction(100, 3)
    assert fx.evaluate(fx.parse("a ÷ b"), {"a": Fraction(1)}) is None           # b absent: missing
    assert fx.evaluate(fx.parse("a ÷ b"), {"a": Fraction(1), "b": Fraction(0)}) is None
    assert fx.evaluate(fx.parse("0.1 + 0.2"), {}) == Fraction(3, 10)             # the decimal spelling, not binary


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "a.b", "a ** 2", "a if b else c", "a[0]",
                                  "a < b", "lambda: 1", "'x'", "a; b", "f(a)"])
def test_formula_needing_code_is_refused(text):
    with pytest.raises(fx.FormulaError):
        fx.parse(text)


def test_refused_at_publish_with_paths():
    p = problems(addition(a=ind("nope ÷ land_area"), b=ind("value_added ÷ head"), c=ind("len(value_added)"),
                          d=ind("value_added ÷ (energy_use + head)"), e={**ind("x"), "formula": None, "builtin": "mine"}))
    assert "undeclared measure 'nope'" in p["indicators.a.formula"]
    assert "may be zero" in p["indicators.b.formula"]          # head's bounds allow 0 and no guard
    assert "would need code" in p["indicators.c.formula"]
    assert "one measure" in p["indicators.d.formula"]
    assert "indicators.e.builtin" in p
    raw = addition()
    raw["measures"]["floors"] = {"label": "层", "kind": "area"}
    assert "measures.floors" in problems(raw)
    # a guard (missing when zero) or min_exclusive makes the division acceptable
    ok = parse_document(addition(b=ind("value_added ÷ head", zero_guard=["head"])), "t@1", load_catalog())
    assert ok.indicators["b"].measures == ("head", "value_added")


def test_base_catalog_derivations_unchanged():
    cat = load_catalog()
    assert cat.indicators["green_ratio"].formula == "green_area ÷ land_area × 100"
    assert cat.indicators["plot_ratio"].builtin == "plot_ratio"
    assert set(cat.indicators) >= {"investment_intensity", "tax_per_mu", "energy_efficiency", "rd_share"}


# ---------------------------------------------------------------- through the API

def _statuses(result: dict) -> dict[str, str]:
    return {f["rule"]: f["status"] for f in result["findings"]}


def test_taizhou_example_published_after_its_catalog_and_checked(database_url, tmp_path):
    catalog, ruleset = doc(TZ / "catalog.yaml"), doc(TZ / "taizhou-luqiao-example.yaml")
    cases = safe_yaml.load((TZ / "tests" / "cases.yaml").read_text(encoding="utf-8"))["cases"]
    with scratch_app(tmp_path, "catalog") as c:
        listed = c.get("/v1/indicators", params={"on": "2024-06-01"}).json()
        assert {d["id"] for d in listed["documents"]} == {"base"}
        assert "va_per_mu" not in {i["key"] for i in listed["indicators"]}

        # the rule set names indicators no catalog in force declares yet
        r = c.post("/v1/rulesets", json=ruleset)
        assert r.status_code == 422 and "va_per_mu" in r.text, r.text

        r = c.post("/v1/indicators", json=catalog)
        assert r.status_code == 201, r.text
        digest = r.json()["digest"]
        assert c.post("/v1/indicators", json=copy.deepcopy(catalog)).status_code == 200
        changed = copy.deepcopy(catalog)
        changed["title"] = "改过"
        assert c.post("/v1/indicators", json=changed).status_code == 409
        bad = copy.deepcopy(catalog)
        bad["version"] = "2"
        bad["indicators"]["labour_productivity"]["formula"] = "value_added ÷ employees"
        r = c.post("/v1/indicators", json=bad)
        assert r.status_code == 422 and "indicators.labour_productivity.formula" in r.text, r.text
        twice = {**catalog, "id": "another", "units": [], "measures": {},
                 "indicators": {"va_per_mu": catalog["indicators"]["va_per_mu"]}}
        r = c.post("/v1/indicators", json=twice)
        assert r.status_code == 422 and "indicators.va_per_mu" in r.text, r.text
        # … also when it would only take effect together with it later
        early = {**twice, "effective_from": "2023-01-01"}
        r = c.post("/v1/indicators", json=early)
        assert r.status_code == 422 and "2024-01-01" in r.text, r.text

        listed = c.get("/v1/indicators", params={"on": "2024-06-01"}).json()
        by_key = {i["key"]: i for i in listed["indicators"]}
        assert by_key["labour_productivity"]["unit"] == "万元/人·年"
        assert by_key["labour_productivity"]["source"]["id"] == "zhejiang-mujun-example"
        assert by_key["labour_productivity"]["formula"] == "value_added ÷ average_employees"
        assert by_key["tax_per_mu"]["source"]["id"] == "base"
        before = c.get("/v1/indicators", params={"on": "2023-12-31"}).json()
        assert "va_per_mu" not in {i["key"] for i in before["indicators"]}

        r = c.post("/v1/rulesets", json=ruleset)
        assert r.status_code == 201, r.text
        res = c.get("/v1/rulesets/resolve", params={"ruleset": ruleset["id"], "as_of": "2024-06-01", "industry": "34"})
        assert res.status_code == 200, res.text
        lp_rule = next(x for x in res.json()["rules"] if x["indicator"] == "labour_productivity")
        assert (lp_rule["label"], lp_rule["unit"], lp_rule["threshold"]) == ("全员劳动生产率", "万元/人·年", "30")

        # an unknown field of a proposal is refused at its path
        body = {**cases[0]["input"], "ruleset": ruleset["id"]}
        bogus = copy.deepcopy(body)
        bogus["measures"]["not_declared"] = {"value": 1, "unit": "人"}
        r = c.post("/v1/checks/proposal", json=bogus)
        assert r.status_code == 422 and "measures.not_declared" in r.text, r.text

        seen: set[tuple[str, str]] = set()
        for case in cases:
            r = c.post("/v1/checks/proposal", json={**case["input"], "ruleset": ruleset["id"]})
            assert r.status_code == 200, (case["name"], r.text)
            got = r.json()
            assert got["verdict"] == case["expected"]["verdict"], (case["name"], got["findings"])
            statuses = _statuses(got)
            for rule, status in case["expected"]["findings"].items():
                assert statuses[rule] == status, (case["name"], rule, statuses)
                seen.add((rule, status))
        # pass and fail for each of the eight indicators
        assert {(rule, s) for rule in (x["id"] for x in ruleset["rules"]) for s in ("pass", "fail")} <= seen

        # the labour productivity at its threshold after rounding: 5999 ÷ 200 = 29.995 → 30.00
        at = next(x for x in cases if "29.995" in x["name"])
        r = c.post("/v1/checks/proposal", json={**at["input"], "ruleset": ruleset["id"]}).json()
        lp = next(f for f in r["findings"] if f["rule"] == "labour_productivity_min")
        assert (lp["status"], lp["actual"], lp["unit"]) == ("pass", "30.00", "万元/人·年"), lp
        assert lp["source"] == "derived" and lp["example"] is True
        # only the notice's own values are unmarked rules (the document as a whole is an example)
        assert {x["id"] for x in ruleset["rules"] if not x.get("example")} == {"energy_efficiency_min", "plot_ratio_range"}

        # the decision pins the catalog documents it used, and replays with them
        pins = r["law"]
        assert {p["id"]: p["digest"] for p in pins}["zhejiang-mujun-example"] == digest
        again = c.post(f"/v1/decisions/{r['decision_id']}/replay").json()
        assert again["identical"], again
        assert again["law"] == pins

        # a newer catalog version (a test-only change of the formula) decides new checks; the stored
        # decision still replays identically under the version it pinned
        v2 = copy.deepcopy(catalog)
        v2["version"] = "2"
        v2["indicators"]["labour_productivity"]["formula"] = "(value_added - 1000) ÷ average_employees"
        assert c.post("/v1/indicators", json=v2).status_code == 201
        now = c.post("/v1/checks/proposal", json={**at["input"], "ruleset": ruleset["id"]}).json()
        lp2 = next(f for f in now["findings"] if f["rule"] == "labour_productivity_min")
        assert (lp2["status"], lp2["actual"]) == ("fail", "25.00"), lp2          # 4999 ÷ 200 = 24.995 → 25.00
        assert {p["id"]: p["version"] for p in now["law"]}["zhejiang-mujun-example"] == "2"
        again = c.post(f"/v1/decisions/{r['decision_id']}/replay").json()
        assert again["identical"] and again["law"] == pins, again
