"""Random rule-set documents posted to ``POST /v1/rulesets`` (issue 6, item 4).

Valid documents (docs/rule-sets.md, as tests/factories.py builds them) are mutated at random places:
wrong types, missing and unknown keys, huge and non-finite numbers, deep nesting, unknown
operators, long and odd unicode strings.  The service answers 200/201/409/422, never a 5xx, and
a 422 lists every problem with its path.  Valid random documents round-trip: published, read
back unchanged and resolvable.

Every fuzz document has its own id and the jurisdiction ``FUZZ_JURISDICTION``, which no other
test resolves (its chain 659971 → 659900 → 650000 → 100000 names no other rule set), so what
the fuzzer publishes changes no other test's resolution.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.core.numbers import dec_str
from tests.factories import standalone_doc

FUZZ_JURISDICTION = "659971"
OK_STATUSES = {200, 201, 409, 422}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def fresh_id() -> str:
    return f"fz-{uuid.uuid4().hex[:12]}"


def base_doc(rid: str) -> dict:
    return standalone_doc(rid, jurisdiction=FUZZ_JURISDICTION)


def deep(depth: int) -> Any:
    v: Any = 1
    for i in range(depth):
        v = [v] if i % 2 else {"k": v}
    return v


ODD_TEXT = st.sampled_from(["", " ", "\u0000", "\ud7ff", "‮RTL", "a.b.c", "0", "¹²³", "NaN", "Infinity", "1e400",
                            "<>", "between", "is_true", "null", "'; DROP TABLE rule_set_version; --", "${jndi:x}",
                            "\n\t\r"]) | st.sampled_from([1_000, 200_000]).map(lambda n: "\U0002a6a5x" * n)
ODD_NUMBER = st.sampled_from([0, -1, -0.0, 1e308, -1e308, 5e-324, 10**30, -(10**30), 2**63, 10**400,
                              float("nan"), float("inf"), float("-inf"), 0.1 + 0.2, 1e-7, 123456789.123456789])
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30), ODD_TEXT, ODD_NUMBER,
                 st.integers(min_value=20, max_value=45).map(deep))
JSON_VALUE = st.recursive(LEAF, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                          max_leaves=12)


def places(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path in the document, the root included."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += places(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += places(v, (*prefix, i))
    return out


def mutate(doc: dict, data) -> dict:
    """One to four random edits at random places."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        where = data.draw(st.sampled_from(places(doc)[1:]), label="where")
        parent = doc
        for p in where[:-1]:
            parent = parent[p]
        key = where[-1]
        kind = data.draw(st.sampled_from(["replace", "delete", "add_key", "operator", "wrap"]), label="kind")
        if kind == "replace":
            parent[key] = data.draw(JSON_VALUE, label="value")
        elif kind == "delete":
            del parent[key]
        elif kind == "add_key" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=40) | ODD_TEXT.filter(bool), label="new key")] = \
                data.draw(JSON_VALUE, label="new value")
        elif kind == "operator":
            rules = doc.get("rules")
            if isinstance(rules, list) and rules and isinstance(rules[0], dict):
                rules[0]["op"] = data.draw(st.sampled_from(["=>", "==", "!=", "~", "between", "in", "is_true", "",
                                                            ">= ", "≥", "$ex", "$nex"]) | st.text(max_size=5),
                                           label="op")
        elif kind == "wrap":
            parent[key] = [parent[key]] if data.draw(st.booleans(), label="as list") else {"value": parent[key]}
        if not doc or isinstance(doc, list):
            break
    return doc


def confine(doc: Any, rid: str) -> Any:
    """Keep a mutated document away from other tests' rule sets: a well-formed id becomes the
    fuzz id and a well-formed jurisdiction the fuzz jurisdiction (malformed ones stay: they are
    the point)."""
    if isinstance(doc, dict):
        if isinstance(doc.get("id"), str) and doc["id"][:1].isalnum() and doc["id"].isascii():
            doc["id"] = rid
        j = doc.get("jurisdiction")
        if isinstance(j, int | str) and str(j).isascii() and str(j).isdigit() and len(str(j)) == 6:
            doc["jurisdiction"] = FUZZ_JURISDICTION
    return doc


def publish(client, body: Any):
    # json.dumps writes NaN and Infinity as bare tokens, as a careless client would.
    return client.post("/v1/rulesets", content=json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                       headers={"content-type": "application/json"})


def assert_answer(r) -> None:
    assert r.status_code in OK_STATUSES | {413}, (r.status_code, r.text[:500])
    if r.status_code == 422:
        detail = r.json()["detail"]
        assert isinstance(detail, list) and detail
        for d in detail:
            assert isinstance(d["path"], str) and d["msg"], d


@FUZZ
@given(data=st.data())
def test_mutated_documents_never_break_the_service(client, data) -> None:
    rid = fresh_id()
    doc = confine(mutate(base_doc(rid), data), rid)
    r = publish(client, doc)
    assert_answer(r)
    event(f"status {r.status_code}")
    if r.status_code in (200, 201):
        got = client.get(f"/v1/rulesets/{rid}/versions/{r.json()['version']}")
        assert got.status_code == 200 and got.json()["digest"] == r.json()["digest"]
        assert client.get("/v1/rulesets/resolve", params={"ruleset": rid, "as_of": "2024-06-01"}).status_code \
            in (200, 404, 422)


@FUZZ
@given(value=JSON_VALUE, field=st.sampled_from(["id", "version", "title", "status", "jurisdiction", "parent",
                                                "effective_from", "effective_to", "classification", "precision",
                                                "documents", "rules", "tax_basis", "industries", "notes"]))
def test_any_value_in_any_top_level_field(client, value, field: str) -> None:
    rid = fresh_id()
    doc = confine({**base_doc(rid), field: value}, rid)
    r = publish(client, doc)
    assert_answer(r)
    event(f"status {r.status_code}")


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON_VALUE)
def test_documents_that_are_not_rule_sets_at_all(client, body) -> None:
    r = publish(client, body)
    assert_answer(r)
    assert r.status_code != 201 or isinstance(body, dict)


TITLE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=200) \
    .filter(str.strip)
THRESHOLD = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tax=THRESHOLD, investment=THRESHOLD, title=TITLE,
       version=st.from_regex(r"\A[0-9A-Za-z][0-9A-Za-z.\-]{0,31}\Z"),
       effective_from=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)),
       by_industry=st.dictionaries(st.sampled_from(["13", "26", "32", "33", "39", "C"]), THRESHOLD, max_size=3))
def test_valid_random_documents_round_trip(client, tax, investment, title, version, effective_from, by_industry) -> None:
    rid = fresh_id()
    doc = base_doc(rid)
    doc.update(title=title, version=version, effective_from=effective_from.isoformat())
    doc["rules"][0]["threshold"] = str(tax)
    doc["rules"][1]["threshold"] = str(investment)
    if by_industry:
        doc["rules"][1]["by_industry"] = {k: str(v) for k, v in by_industry.items()}
    r = publish(client, doc)
    assert r.status_code == 201, r.text[:500]
    assert publish(client, doc).status_code == 200                 # the same document again: a no-op

    stored = client.get(f"/v1/rulesets/{rid}/versions/{version}").json()
    assert stored["digest"] == r.json()["digest"]
    assert stored["document"]["title"] == title
    assert Decimal(str(stored["document"]["rules"][0]["threshold"])) == tax

    code = next(iter(by_industry), "32")
    res = client.get("/v1/rulesets/resolve", params={"ruleset": rid, "as_of": effective_from.isoformat(),
                                                     "industry": code})
    assert res.status_code == 200, res.text[:500]
    thresholds = {x["rule"]: x["threshold"] for x in res.json()["rules"]}
    assert thresholds["tax_per_mu_min"] == dec_str(Fraction(tax))
    assert thresholds["investment_intensity_min"] == dec_str(Fraction(by_industry.get(code, investment)))

    changed = {**doc, "title": title + "（改）"}
    assert publish(client, changed).status_code == 409             # published versions are immutable


def test_parent_cycles_are_refused_or_resolved_without_looping(client) -> None:
    a, b = fresh_id(), fresh_id()
    assert publish(client, base_doc(a)).status_code == 201
    assert publish(client, {**base_doc(b), "parent": a}).status_code == 201
    # a@2 names b as its parent: a → b → a.
    r = publish(client, {**base_doc(a), "version": "2", "parent": b, "effective_from": "2021-01-01"})
    assert r.status_code in (201, 422), r.text[:500]
    res = client.get("/v1/rulesets/resolve", params={"ruleset": a, "as_of": "2024-01-01"})
    assert res.status_code in (200, 422), res.text[:500]
    if res.status_code == 422:
        assert any("cycle" in d["msg"] or "循环" in d["msg"] for d in res.json()["detail"])
    c = fresh_id()
    r = publish(client, {**base_doc(c), "parent": c})
    assert r.status_code == 422 and [d["path"] for d in r.json()["detail"]] == ["parent"]


def test_long_strings_and_keys_are_refused_at_their_paths(client) -> None:
    rid = fresh_id()
    doc = base_doc(rid)
    doc["title"] = "标" * 300_000
    doc["documents"]["k" * 65] = {"title": "t"}
    doc["rules"][0]["by_industry"] = {"C3" * 50_000: 20}
    doc["rules"][1]["cite"]["article"] = "条" * 501
    r = publish(client, doc)
    assert r.status_code == 422
    paths = {d["path"] for d in r.json()["detail"]}
    assert {"title", "rules.1.cite.article"} <= paths
    assert any(p.startswith("documents.") for p in paths)
    assert any(p.startswith("rules.0.by_industry.") for p in paths)
    assert client.get(f"/v1/rulesets/{rid}").status_code == 404
