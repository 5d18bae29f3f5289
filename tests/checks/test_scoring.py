"""亩均效益 scoring runs (亩均论英雄): POST /v1/scoring/runs, the stored run, its decision.

The bundled example rule set (rules/scoring/huangyan-2022-example.yaml) has the Huangyan 规上
weights and [S21] benchmarks:

    indicator             weight  benchmark
    tax_per_mu              30    24.097
    va_per_mu               20    136.16
    energy_efficiency       20    2.694
    emission_efficiency     10    4929.81   (missing → the population's average sub-score)
    labour_productivity     10    18.14
    rd_share                10    0.0302

so an enterprise whose every value is k × benchmark scores exactly 100 × k.  Expected scores
below are worked out by hand in the comments.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import threading
from decimal import Decimal
from fractions import Fraction

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.checks import scoring
from app.core.errors import InputError
from app.core.numbers import dec_str
from app.engine import REFERENCE, by_name
from app.store.db import get_engine
from app.store.models import ScoringRun
from app.store.rulesets import bundled_files

URL = "/v1/scoring/runs"
BENCH = {"tax_per_mu": "24.097", "va_per_mu": "136.16", "energy_efficiency": "2.694",
         "emission_efficiency": "4929.81", "labour_productivity": "18.14", "rd_share": "0.0302"}


def at(k, **over) -> dict:
    """Every value k × its benchmark (exact decimal text), then the overrides."""
    vals = {key: format(Decimal(b) * Decimal(str(k)), "f") for key, b in BENCH.items()}
    vals.update(over)
    return vals


def post(client, enterprises: list[dict], year: int = 2025, **extra):
    return client.post(URL, json={"year": year, "enterprises": enterprises, **extra})


def paths(r) -> set[str]:
    assert r.status_code == 422, r.text
    return {d["path"] for d in r.json()["detail"]}


def by_id(doc: dict) -> dict[str, dict]:
    return {r["id"]: r for r in doc["results"]}


# ---------------------------------------------------------------- a population scored by hand

def test_scores_by_hand(client):
    ents = [
        {"id": "E1", "name": "甲", "values": at(2)},     # every sub-score 2 × weight: 60+40+40+20+20+20 = 200
        {"id": "E2", "name": "乙", "values": at(1)},     # every sub-score = weight: 100
        # tax 30.5: 30.5 ÷ 24.097 × 30 = 915 ÷ 24.097 = 915000/24097 = 37.9715317…; the rest at
        # the benchmark: 20+20+10+10+10 = 70 → 107.9715317… (shown to 6 places: 107.971532)
        {"id": "E3", "name": "丙", "values": at(1, tax_per_mu=30.5)},
        # no emissions data: the average emissions sub-score of the four firms with data,
        # (20 + 10 + 10 + 5) ÷ 4 = 11.25; 30+20+20+10+10 = 90 → 101.25
        {"id": "E4", "name": "丁", "values": at(1, emission_efficiency=None)},
        {"id": "E5", "name": "戊", "values": at("0.5")},  # half of every weight: 50
    ]
    r = post(client, ents)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["verdict"] == "complete"
    assert doc["ruleset"]["id"] == "huangyan-2022-example" and doc["ruleset"]["status"] == "example"
    assert len(doc["ruleset"]["digest"]) == 64 and doc["year"] == 2025
    assert any("示例" in n for n in doc["notes"])
    res = by_id(doc)
    assert {k: res[k]["score"] for k in res} == {"E1": "200", "E2": "100", "E3": "107.971532", "E4": "101.25", "E5": "50"}
    assert res["E3"]["sub_scores"]["tax_per_mu"] == {
        "value": "30.5", "benchmark": "24.097", "weight": "30", "sub_score": dec_str(Fraction(915000, 24097)),
        "status": "scored", "note": None}
    assert res["E3"]["sub_scores"]["tax_per_mu"]["sub_score"] == "37.971532"
    emis = res["E4"]["sub_scores"]["emission_efficiency"]
    assert (emis["value"], emis["sub_score"], emis["status"]) == (None, "11.25", "average")
    assert "4" in emis["note"] and res["E4"]["missing"] == ["emission_efficiency"] and res["E4"]["complete"]
    info = {i["key"]: i for i in doc["ruleset"]["indicators"]}
    assert (info["emission_efficiency"]["average_sub_score"], info["emission_efficiency"]["average_over"]) == ("11.25", 4)
    assert [i["key"] for i in doc["ruleset"]["indicators"]] == list(BENCH)
    # every sub-score of every enterprise is reported
    assert all(set(x["sub_scores"]) == set(BENCH) for x in doc["results"])
    # ranks 1..5 of N = 5: percentiles 20, 40, 60, 80, 100 → A, B, B, C, D; results in rank order
    assert [(x["id"], x["rank"], x["percentile"], x["class"]) for x in doc["results"]] == [
        ("E1", 1, "20", "A"), ("E3", 2, "40", "B"), ("E4", 3, "60", "B"), ("E2", 4, "80", "C"), ("E5", 5, "100", "D")]
    assert doc["class_counts"] == {"A": 1, "B": 2, "C": 1, "D": 1}
    assert doc["counts"] == {"enterprises": 5, "scored": 5, "incomplete": 0}
    assert res["E1"]["class_label"] == "优先发展" and res["E1"]["rank_of"] == 5


def test_inclusive_percentile_boundaries(client):
    # 20 firms at 20×, 19×, … 1× the benchmarks: scores 2000, 1900, … 100, ranks 1..20 in order.
    ents = [{"id": f"B{i:02d}", "values": at(21 - i)} for i in range(1, 21)]
    doc = post(client, ents).json()
    got = {x["rank"]: (x["percentile"], x["class"]) for x in doc["results"]}
    assert got[5] == ("25", "A")       # 5 ÷ 20 = 25 %: on A's upper bound, inclusive → A
    assert got[6] == ("30", "B")
    assert got[14] == ("70", "B")      # 70 %: on B's upper bound → B
    assert got[15] == ("75", "C")
    assert got[19] == ("95", "C")      # 95 % → C
    assert got[20] == ("100", "D")
    assert [got[r][1] for r in range(1, 21)] == list("AAAAA" + "B" * 9 + "CCCCC" + "D")
    assert doc["class_counts"] == {"A": 5, "B": 9, "C": 5, "D": 1}
    assert by_id(doc)["B01"]["score"] == "2000" and by_id(doc)["B20"]["score"] == "100"


def test_ties_share_the_better_rank(client):
    ks = list(range(20, 0, -1))          # as above, but the 6th equals the 5th and the 20th the 19th
    ks[5], ks[19] = ks[4], ks[18]
    ents = [{"id": f"T{i:02d}", "values": at(k)} for i, k in enumerate(ks, 1)]
    doc = post(client, ents).json()
    res = by_id(doc)
    # T05 and T06 share rank 5 (25 % → A); the next is rank 7 (35 % → B)
    assert (res["T05"]["rank"], res["T06"]["rank"], res["T07"]["rank"]) == (5, 5, 7)
    assert (res["T05"]["class"], res["T06"]["class"], res["T07"]["class"]) == ("A", "A", "B")
    # T19 and T20 share rank 19 (95 % → C): nobody is in D (as Jingning 2022: D 0)
    assert (res["T19"]["rank"], res["T20"]["rank"]) == (19, 19)
    assert res["T20"]["percentile"] == "95" and res["T20"]["class"] == "C"
    assert doc["class_counts"] == {"A": 6, "B": 8, "C": 6, "D": 0}
    # equal ranks are listed in the order given
    assert [x["id"] for x in doc["results"]][4:6] == ["T05", "T06"]


def test_missing_data_without_policy_is_incomplete(client):
    # tax per mu missing: its policy is `incomplete` (the source says nothing), so X2 is not scored
    # and the 3 others are ranked among themselves: ranks 1..3 → 33.33 %, 66.67 %, 100 %
    ents = [{"id": "X1", "values": at(3)}, {"id": "X2", "values": at(5, tax_per_mu=None)},
            {"id": "X3", "values": at(2)}, {"id": "X4", "values": {k: v for k, v in at(1).items() if k != "va_per_mu"}}]
    ents.append({"id": "X5", "values": at(1)})
    doc = post(client, ents).json()
    res = by_id(doc)
    assert doc["verdict"] == "incomplete"
    assert doc["counts"] == {"enterprises": 5, "scored": 3, "incomplete": 2}
    for eid, key in (("X2", "tax_per_mu"), ("X4", "va_per_mu")):   # null and absent are both "no data"
        x = res[eid]
        assert (x["complete"], x["score"], x["rank"], x["percentile"], x["class"]) == (False, None, None, None, None)
        assert x["missing"] == [key] and x["incomplete_because"] == [key]
        assert x["sub_scores"][key]["status"] == "missing" and x["sub_scores"][key]["sub_score"] is None
    assert res["X2"]["sub_scores"]["va_per_mu"]["sub_score"] == "100"   # the other sub-scores are still shown
    assert [(x["id"], x["rank"], x["percentile"], x["class"]) for x in doc["results"][:3]] == [
        ("X1", 1, "33.333333", "B"), ("X3", 2, "66.666667", "B"), ("X5", 3, "100", "D")]
    assert [x["id"] for x in doc["results"][3:]] == ["X2", "X4"]
    assert any("数据不全" in n for n in doc["notes"])
    d = client.get(f"/v1/decisions/{doc['decision_id']}").json()
    assert (d["kind"], d["verdict"]) == ("scoring", "incomplete")


def test_no_emissions_data_anywhere_has_no_average(client):
    doc = post(client, [{"id": "N1", "values": at(1, emission_efficiency=None)},
                        {"id": "N2", "values": at(2, emission_efficiency=None)}]).json()
    assert doc["counts"]["scored"] == 0 and doc["verdict"] == "incomplete"
    assert all(x["incomplete_because"] == ["emission_efficiency"] for x in doc["results"])
    assert doc["class_counts"] == {"A": 0, "B": 0, "C": 0, "D": 0}


def test_values_with_units_and_as_text(client):
    # R&D 3.02 % = 0.0302 (the benchmark) → 10; tax 361.455 元/m² = 361.455 ÷ 15 = 24.097 万元/亩 → 30
    vals = at(1, rd_share={"value": 3.02, "unit": "%"}, tax_per_mu={"value": "361.455", "unit": "元/m2"},
              va_per_mu="136.160")
    doc = post(client, [{"id": "U1", "values": vals}]).json()
    x = doc["results"][0]
    assert x["sub_scores"]["rd_share"]["value"] == "0.0302" and x["sub_scores"]["rd_share"]["sub_score"] == "10"
    assert x["sub_scores"]["tax_per_mu"]["value"] == "24.097" and x["score"] == "100"
    # N = 1: rank 1 is 100 % → the last band
    assert (x["rank"], x["percentile"], x["class"]) == (1, "100", "D")


# ---------------------------------------------------------------- invalid input

def test_validation_errors_with_paths(client):
    ents = [
        {"id": "V1", "values": at(1, foo=1)},                                   # unknown indicator
        {"id": "V2", "values": at(1, tax_per_mu=-0.5)},                         # negative
        {"id": "V1", "values": at(1)},                                          # duplicate id
        {"id": "V4", "values": at(1, rd_share=3.5)},                            # a percentage sent as a fraction
        {"id": "V5", "values": at(1, va_per_mu=True, energy_efficiency="abc")},
        {"id": "V6", "values": at(1, rd_share={"value": 1, "unit": "吨"})},      # wrong unit kind
        {"id": "", "values": at(1)},
        {"id": "V8", "values": [1, 2]},
        {"id": "V9", "values": at(1), "extra": 1},
        "not an object",
    ]
    r = post(client, ents)
    assert paths(r) == {"enterprises.0.values.foo", "enterprises.1.values.tax_per_mu", "enterprises.2.id",
                        "enterprises.3.values.rd_share", "enterprises.4.values.va_per_mu",
                        "enterprises.4.values.energy_efficiency", "enterprises.5.values.rd_share.unit",
                        "enterprises.6.id", "enterprises.7.values", "enterprises.8.extra", "enterprises.9"}
    msgs = {d["path"]: d["msg"] for d in r.json()["detail"]}
    assert "duplicate" in msgs["enterprises.2.id"] and "enterprises.0" in msgs["enterprises.2.id"]
    assert "unknown indicator" in msgs["enterprises.0.values.foo"]
    assert r.json()["detail"][0]["loc"] == ["enterprises", 0, "values", "foo"]


@pytest.mark.parametrize("body,path", [
    ({"year": 2025, "enterprises": []}, "enterprises"),
    ({"year": 2025}, "enterprises"),
    ({"enterprises": [{"id": "a", "values": {}}]}, "year"),
    ({"year": "2025", "enterprises": [{"id": "a", "values": {}}]}, "year"),
    ({"year": 2025, "ruleset": "nope", "enterprises": [{"id": "a", "values": {}}]}, "ruleset"),
    ({"year": 2025, "ruleset_version": "1999.9", "enterprises": [{"id": "a", "values": {}}]}, "ruleset_version"),
    ({"year": 2025, "enterprises": [{"id": "a", "values": {}}], "population": "x"}, "population"),
])
def test_request_errors(client, body, path):
    assert path in paths(client.post(URL, json=body))


@pytest.mark.parametrize("value", ["1e999999", "1e-13", "Infinity", 10**13, {"value": 150, "unit": "%"}, {"unit": "%"}])
def test_bad_numbers(client, value):
    # huge exponents are refused before any exact arithmetic; 150 % is above R&D's bound of 1 after conversion
    r = post(client, [{"id": "a", "values": at(1, rd_share=value)}])
    assert any(p.startswith("enterprises.0.values.rd_share") for p in paths(r))


def test_too_many_enterprises(client):
    ents = [{"id": str(i), "values": {}} for i in range(scoring.MAX_ENTERPRISES + 1)]
    r = post(client, ents)
    assert paths(r) == {"enterprises"} and "50,000" in r.json()["detail"][0]["msg"]


def test_not_json_and_nan(client):
    r = client.post(URL, content=b'{"year": 2025, "enterprises": [{"id": "a", "values": {"tax_per_mu": NaN}}]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"][0]["msg"]
    r = client.post(URL, content=b"[1, 2", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_nothing_stored_on_invalid_input(client):
    before = client.get("/v1/decisions/verify").json()["checked"]
    assert post(client, [{"id": "a", "values": at(1, tax_per_mu=-1)}]).status_code == 422
    assert client.get("/v1/decisions/verify").json()["checked"] == before


# ---------------------------------------------------------------- storage and the decision

def test_stored_run_and_decision(client):
    r = post(client, [{"id": "S1", "values": at(2)}, {"id": "S2", "values": at(1, emission_efficiency=None)}])
    assert r.status_code == 201
    doc = r.json()
    got = client.get(f"{URL}/{doc['run_id']}")
    assert got.status_code == 200 and got.json() == doc
    d = client.get(f"/v1/decisions/{doc['decision_id']}").json()
    assert (d["kind"], d["verdict"], d["run_id"], d["year"]) == ("scoring", "complete", doc["run_id"], 2025)
    assert d["ruleset"]["digest"] == doc["ruleset"]["digest"] and d["example"] is True
    assert d["class_counts"] == doc["class_counts"] and d["request_digest"] == doc["request_digest"]
    with Session(get_engine()) as s:
        row = s.get(ScoringRun, doc["run_id"])
        assert row.decision_id == doc["decision_id"] and row.ruleset_id == "huangyan-2022-example"
        assert row.ruleset_digest == doc["ruleset"]["digest"] and row.year == 2025
        # the decision on the hash chain pins the stored document
        assert d["document_digest"] == hashlib.sha256(row.document.encode("utf-8")).hexdigest()
        assert json.loads(row.document) == {k: v for k, v in doc.items() if k != "decision_id"}
    assert client.get("/v1/decisions/verify").json()["ok"] is True


def test_same_request_same_request_digest(client):
    ents = [{"id": "R1", "values": at(1)}, {"id": "R2", "values": at(2)}]
    a, b = post(client, ents).json(), post(client, ents).json()
    assert a["run_id"] != b["run_id"] and a["request_digest"] == b["request_digest"]
    # 24.0970 and 24.097 are the same value
    c = post(client, [{"id": "R1", "values": at(1, tax_per_mu="24.0970")}, {"id": "R2", "values": at(2)}]).json()
    assert c["request_digest"] == a["request_digest"]


def test_table_for_spreadsheets(client):
    doc = post(client, [{"id": "T1", "name": "甲", "values": at(1)}, {"id": "T2", "values": at(3, rd_share=None)}]).json()
    t = client.get(f"{URL}/{doc['run_id']}/table").json()
    cols = t["columns"]
    assert cols[:10] == ["rank", "percentile", "class", "class_label", "id", "name", "score", "complete", "missing",
                         "weight_used"]
    assert cols[10:13] == ["tax_per_mu.value", "tax_per_mu.sub_score", "tax_per_mu.status"]
    assert len(cols) == 10 + 3 * 6 and all(len(row) == len(cols) for row in t["rows"])
    first = dict(zip(cols, t["rows"][0], strict=True))
    assert (first["id"], first["name"], first["score"], first["class"], first["rank"]) == ("T1", "甲", "100", "D", 1)
    second = dict(zip(cols, t["rows"][1], strict=True))
    assert second["complete"] is False and second["missing"] == "rd_share" and second["rd_share.status"] == "missing"
    assert [i["key"] for i in t["indicators"]] == list(BENCH)


def test_unknown_run(client):
    assert client.get(f"{URL}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_concurrent_runs_each_with_its_own_decision(client):
    out, errors = [], []

    def go(i: int) -> None:
        try:
            r = post(client, [{"id": f"C{i}", "values": at(i + 1)}, {"id": "other", "values": at(1)}])
            out.append(r.json())
        except Exception as e:     # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(out) == 6
    for doc in out:
        assert client.get(f"/v1/decisions/{doc['decision_id']}").json()["run_id"] == doc["run_id"]
    assert client.get("/v1/decisions/verify").json()["ok"] is True


def test_rulesets_listed(client):
    r = client.get("/v1/scoring/rulesets").json()
    assert any(x["id"] == "huangyan-2022-example" for x in r["rulesets"]) and r["invalid_files"] == {}
    one = client.get("/v1/scoring/rulesets/huangyan-2022-example").json()
    assert one["classes"]["inclusive"] is True and one["ranking"]["ties"] == "better_rank"
    assert "chacewang.com/newsdetail/news430850" in one["documents"]["hy-2022"]["url"]
    assert client.get("/v1/scoring/rulesets/nope").status_code == 404
    spec = client.get("/openapi.json").json()["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "enterprises" in spec["properties"] and "$ref" not in json.dumps(spec)


# ---------------------------------------------------------------- the rule set file

def raw_example() -> dict:
    return yaml.safe_load((scoring.SCORING_DIR / "huangyan-2022-example.yaml").read_text(encoding="utf-8"))


def problems_of(raw: dict) -> set[str]:
    with pytest.raises(InputError) as e:
        scoring.validate(raw)
    return {p.path for p in e.value.problems}


def test_bundled_file_is_valid_and_not_an_indicator_rule_set():
    rs = scoring.validate(raw_example())
    assert sum(i.weight for i in rs.indicators) == 100
    assert rs.by_key["emission_efficiency"].missing == "average" and rs.by_key["tax_per_mu"].missing == "incomplete"
    assert rs.by_key["tax_per_mu"].benchmark == Fraction("24.097") and all(i.cap is None for i in rs.indicators)
    assert [(b.cls, b.from_pct, b.to_pct) for b in rs.bands] == [("A", 0, 25), ("B", 25, 70), ("C", 70, 95), ("D", 95, 100)]
    assert rs.inclusive is True and rs.ties == "better_rank" and rs.status == "example"
    assert not [p for p in bundled_files() if "scoring" in p.parts]
    assert scoring.bundled()[1] == {}


def test_rule_set_validation_errors():
    raw = raw_example()
    raw["indicators"][0]["weight"] = 29                      # weights sum to 99
    raw["indicators"][1]["benchmark"] = 0
    raw["indicators"][2]["missing"] = "guess"
    raw["indicators"][3]["cite"] = {"doc": "nowhere"}
    raw["classes"]["bands"][1]["from_pct"] = 26              # a gap between 25 and 26
    raw["classes"]["bands"][3]["to_pct"] = 99                # does not reach 100
    del raw["classes"]["inclusive"]                          # inclusivity must be declared
    raw["ranking"]["ties"] = None
    raw["surprise"] = 1
    assert problems_of(raw) == {"indicators", "indicators.1.benchmark", "indicators.2.missing", "indicators.3.cite.doc",
                                "classes.bands.1.from_pct", "classes.bands", "classes.inclusive", "ranking.ties", "surprise"}


def test_rule_set_bands_must_not_overlap_or_start_late():
    raw = raw_example()
    raw["classes"]["bands"][0]["from_pct"] = 1
    raw["classes"]["bands"][2]["from_pct"] = 60
    raw["classes"]["bands"][2]["to_pct"] = "70.0000001"
    assert problems_of(raw) == {"classes.bands.0.from_pct", "classes.bands.2.from_pct", "classes.bands.2.to_pct",
                                "classes.bands.3.from_pct"}


# ---------------------------------------------------------------- declared policies (pure functions)

def variant(**policies) -> scoring.ScoringRuleSet:
    raw = raw_example()
    for ind in raw["indicators"]:
        if ind["key"] in policies:
            ind.update(policies[ind["key"]])
    return scoring.validate(raw)


def run_pure(rs: scoring.ScoringRuleSet, ents: list[dict], engine=REFERENCE) -> dict:
    return scoring.evaluate(scoring.parse_request({"year": 2025, "enterprises": ents}, ruleset=rs), engine)


def test_zero_and_exclude_and_reweight():
    rs = variant(rd_share={"missing": "zero"}, labour_productivity={"missing": "exclude_and_reweight"})
    doc = run_pure(rs, [{"id": "Z", "values": at(2, rd_share=None)},
                        {"id": "W", "values": at(2, labour_productivity=None)},
                        {"id": "ZW", "values": at(2, rd_share=None, labour_productivity=None)}])
    res = by_id(doc)
    # Z: 200 − the R&D sub-score 20, which counts 0 → 180
    assert res["Z"]["score"] == "180" and res["Z"]["sub_scores"]["rd_share"]["status"] == "zero"
    # W: labour productivity left out: sub-scores 60+40+40+20+20 = 180 over weights 90 → 180 × 100 ÷ 90 = 200
    assert (res["W"]["score"], res["W"]["weight_used"]) == ("200", "90")
    assert res["W"]["sub_scores"]["labour_productivity"]["status"] == "excluded"
    # ZW: 60+40+40+20+0 = 160 over weights 90 → 160 × 100 ÷ 90 = 177.777…
    assert res["ZW"]["score"] == "177.777778" and res["ZW"]["complete"] is True
    assert doc["verdict"] == "complete"


def test_cap_round_precision_worse_rank_and_exclusive_bands():
    raw = raw_example()
    raw["indicators"][0]["cap"] = 45                        # tax per mu: at most 1.5 × its weight
    raw["ranking"] = {"order": "descending", "ties": "worse_rank", "precision": {"mode": "round_half_up", "places": 1}}
    raw["classes"]["inclusive"] = False
    rs = scoring.validate(raw)
    ents = [{"id": "cap", "values": at(1, tax_per_mu="72.291")},          # 3 × benchmark → 90, capped at 45: 115
            {"id": "a", "values": at(1, tax_per_mu="24.1")},              # 30.003734… + 70 = 100.0037… → 100.0
            {"id": "b", "values": at(1)},                                 # 100 → 100.0: ties with a when rounded
            {"id": "c", "values": at("0.5")}]                             # 50
    doc = run_pure(rs, ents)
    res = by_id(doc)
    assert res["cap"]["sub_scores"]["tax_per_mu"]["status"] == "capped" and res["cap"]["score"] == "115.0"
    assert (res["a"]["score"], res["a"]["score_unrounded"], res["b"]["score"]) == ("100.0", "100.003735", "100.0")
    # worse_rank: a and b share rank 3 of 4 (75 %); not inclusive: 25 % (rank 1) is not A but B
    assert (res["cap"]["rank"], res["cap"]["class"]) == (1, "B")
    assert (res["a"]["rank"], res["b"]["rank"], res["a"]["class"]) == (3, 3, "C")
    assert (res["c"]["rank"], res["c"]["class"]) == (4, "D")        # the last band always includes 100


# ---------------------------------------------------------------- the engine decides the classes

def test_engine_classes_equal_the_plain_comparison():
    rs = scoring.get_ruleset(scoring.DEFAULT_RULESET)
    engine = by_name("durable")
    for n in (1, 2, 3, 7, 19, 20, 21, 99, 100, 101, 200):
        pcts = [Fraction(r * 100, n) for r in range(1, n + 1)]
        got = scoring.classify(rs, pcts, engine)
        assert got == {p: scoring.class_of(rs, p) for p in pcts}
    # 200 firms: rank 50 = 25 % → A, 51 = 25.5 % → B (no gap between "25 %" and "26 %")
    assert scoring.classify(rs, [Fraction(5000, 200), Fraction(5100, 200)], engine) == {25: "A", Fraction(51, 2): "B"}


def test_engine_with_the_most_bands():
    raw = raw_example()
    raw["classes"]["bands"] = [{"class": f"K{i}", "from_pct": 5 * i, "to_pct": 5 * i + 5} for i in range(scoring.MAX_BANDS)]
    rs = scoring.validate(raw)
    pcts = [Fraction(r * 100, 97) for r in range(1, 98)]
    assert scoring.classify(rs, pcts, by_name("durable")) == {p: scoring.class_of(rs, p) for p in pcts}
    raw2 = copy.deepcopy(raw)
    raw2["classes"]["bands"].append({"class": "X", "from_pct": 100, "to_pct": 101})
    assert "classes.bands" in problems_of(raw2)


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**9))
def test_fast_decimal_text_equals_dec_str(x):
    assert scoring.dec(x) == dec_str(x)


def test_invalid_bundled_file_is_reported(tmp_path):
    raw = raw_example()
    raw["indicators"][0]["weight"] = 31
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [", encoding="utf-8")
    by_id, errors = scoring.bundled(tmp_path)
    assert by_id == {} and set(errors) == {"bad.yaml", "broken.yaml"}
    assert "weights must sum to 100, they sum to 101" in errors["bad.yaml"]


def test_rule_set_is_dated():
    raw = raw_example()
    rs = scoring.validate(raw)
    assert rs.effective_from == dt.date(2022, 1, 1) and rs.effective_to is None
    assert rs.summary()["effective_from"] == "2022-01-01"
    del raw["effective_from"]
    assert problems_of(raw) == {"effective_from"}
    # published through the API the dates are ISO text; the digest is the same either way
    text = raw_example() | {"effective_from": "2022-01-01", "effective_to": "2023-01-01"}
    dated = raw_example() | {"effective_to": dt.date(2023, 1, 1)}
    assert scoring.validate(text).digest == scoring.validate(dated).digest
    assert scoring.validate(text).in_force(dt.date(2022, 12, 31)) and not scoring.validate(text).in_force(dt.date(2023, 1, 1))
    for bad in ("2022-13-01", "20220101", 20220101, True, "2022-01-01T00:00:00"):
        assert problems_of(raw_example() | {"effective_from": bad}) == {"effective_from"}, bad
    assert problems_of(raw_example() | {"effective_to": "2021-12-31"}) == {"effective_to"}
    assert problems_of(raw_example() | {"effective_to": "2022-01-01"}) == {"effective_to"}    # exclusive: empty


def test_rule_set_format_messages_are_chinese_with_paths():
    raw = raw_example()
    raw["version"] = 2022.1                                  # unquoted: a float, not a version string
    raw["indicators"][4]["key"] = "tax_per_mu"               # a duplicate
    raw["indicators"][5]["surprise"] = 1
    raw["documents"]["hy-2022"]["url"] = 3
    raw["ranking"]["precision"] = {"mode": "round_half_up"}  # places missing
    with pytest.raises(InputError) as e:
        scoring.validate(raw)
    got = {p.path: p.msg for p in e.value.problems}
    assert set(got) == {"version", "indicators.4.key", "indicators.5.surprise", "documents.hy-2022.url",
                        "ranking.precision.places"}
    assert got["indicators.4.key"].startswith("指标重复") and got["indicators.5.surprise"].startswith("未知字段")
    assert got["version"].startswith("version 应为非空字符串") and got["ranking.precision.places"] == "places 应为 0–6 的整数"
    assert problems_of([]) == {""}


# ---------------------------------------------------------------- replay of a stored run

def test_replay_of_a_run_is_identical_and_finds_a_changed_figure(client):
    # 100 元/m² = 100 ÷ 15 万元/亩 = 6.666…: shown to 6 places, kept exact ("20/3") for the replay
    ents = [{"id": "P1", "values": at(2, tax_per_mu={"value": 100, "unit": "元/m2"})},
            {"id": "P2", "values": at(1, emission_efficiency=None)}, {"id": "P3", "values": at("0.5")}]
    doc = post(client, ents).json()
    p1 = by_id(doc)["P1"]["sub_scores"]["tax_per_mu"]
    assert (p1["value"], p1["value_exact"]) == ("6.666667", "20/3")
    # 20/3 ÷ 24.097 × 30 = 200000/24097 = 8.2998…, not the sub-score of 6.666667
    assert p1["sub_score"] == dec_str(Fraction(200000, 24097))
    assert "value_exact" not in by_id(doc)["P2"]["sub_scores"]["tax_per_mu"]
    r = client.post(f"/v1/decisions/{doc['decision_id']}/replay")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["identical"] is True and got["differences"] == [] and got["kind"] == "scoring"
    assert got["run_id"] == doc["run_id"] and got["class_counts"] == doc["class_counts"]
    # A figure changed in the stored run is found, at the enterprise that has it.
    with Session(get_engine()) as s:
        row = s.get(ScoringRun, doc["run_id"])
        stored = json.loads(row.document)
        for x in stored["results"]:
            if x["id"] == "P3":
                x["score"] = "51"
        row.document = json.dumps(stored, ensure_ascii=False)
        s.add(row)
        s.commit()
    got = client.post(f"/v1/decisions/{doc['decision_id']}/replay").json()
    assert got["identical"] is False
    assert got["differences"] == [{"path": "results.P3.score", "stored": "51", "replayed": "50", "enterprise": "P3"}]


def test_replay_reports_an_altered_stored_value(client):
    doc = post(client, [{"id": "Q1", "values": at(2)}, {"id": "Q2", "values": at(1)}]).json()
    with Session(get_engine()) as s:
        row = s.get(ScoringRun, doc["run_id"])
        stored = json.loads(row.document)
        stored["results"][1]["sub_scores"]["rd_share"]["value"] = "0.0604"      # Q2's R&D doubled: 10 → 20
        row.document = json.dumps(stored, ensure_ascii=False)
        s.add(row)
        s.commit()
    got = client.post(f"/v1/decisions/{doc['decision_id']}/replay").json()
    paths = {d["path"] for d in got["differences"]}
    assert got["identical"] is False
    assert {"request_digest", "results.Q2.score", "results.Q2.sub_scores.rd_share.sub_score"} <= paths


def test_rule_set_numbers_are_bounded():
    # Published through the API: a number like 1e999999999 must be refused before it becomes a Fraction.
    for bad in ("1e999999999", "1e13", "0.0000000000001", "NaN", "x", 10**13):
        raw = raw_example()
        raw["indicators"][0]["benchmark"] = bad
        assert "indicators.0.benchmark" in problems_of(raw), bad
    raw = raw_example()
    raw["indicators"][0]["benchmark"] = "24.097000000000"           # 12 places: fine
    assert scoring.validate(raw).by_key["tax_per_mu"].benchmark == Fraction("24.097")
