"""Golden cases of the other law documents (``<kind folder>/tests/*.yaml``: scoring rule sets,
low-efficiency rule sets, the 53号令 parameters, contract models), run through the functions the
service runs, under both engines (app/checks/law_golden.py)."""

from __future__ import annotations

import copy

import pytest

from app import engine as engines
from app.checks import golden, law, law_golden
from rules import RULES_DIR


def _cases() -> list:
    params = []
    for kind, path in law_golden.case_files():
        rel = path.relative_to(RULES_DIR).as_posix()
        data = law_golden.load_file(path)
        for i, case in enumerate(data["cases"]):
            # ids stay ASCII (pytest would escape the Chinese names); the name is in any failure
            params.append(pytest.param(kind, path, data, case, id=f"{rel}::{i}"))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def engine_list():
    return [engines.by_name("durable"), engines.REFERENCE]


@pytest.mark.parametrize("kind", law_golden.KINDS)
def test_every_bundled_document_has_golden_cases(kind):
    have = {law_golden.document(kind, p, law_golden.load_file(p).get("document")).id
            for k, p in law_golden.case_files() if k == kind}
    ids = {d for d, _ in law_golden.bundled(kind)}
    assert ids and ids <= have, f"{kind}: documents without golden cases: {sorted(ids - have)}"


def test_both_low_efficiency_versions_are_tested():
    versions = {str(v) for k, p in law_golden.case_files() if k == "low_efficiency"
                for c in law_golden.load_file(p)["cases"] for v in c.get("expected") or {}}
    assert {v for _, v in law_golden.bundled("low_efficiency")} <= versions


@pytest.mark.parametrize(("kind", "path", "data", "case"), CASES)
def test_law_golden_case(kind, path, data, case, engine_list):
    res = law_golden.run_case(kind, path, data, case, engine_list)
    assert res.ok, f"{path.relative_to(RULES_DIR)} :: {res.name}\n  " + "\n  ".join(res.problems)


def test_a_wrong_expected_value_fails(engine_list):
    """The runner is not vacuous: a case with one expected figure changed fails, naming the figure."""
    kind, path = next((k, p) for k, p in law_golden.case_files() if k == "idle_land")
    data = law_golden.load_file(path)
    case = copy.deepcopy(next(c for c in data["cases"] if c.get("expected", {}).get("amount") == "240.00"))
    case["expected"]["amount"] = "240.01"
    res = law_golden.run_case(kind, path, data, case, engine_list)
    assert not res.ok and any(p.startswith("amount: expected 240.01") for p in res.problems), res.problems


def test_an_unknown_predicate_or_field_fails(engine_list):
    kind, path = next((k, p) for k, p in law_golden.case_files() if k == "low_efficiency")
    data = law_golden.load_file(path)
    case = copy.deepcopy(data["cases"][0])
    case["expected"]["2020.2"] = {"no_such_predicate": "holds"}
    res = law_golden.run_case(kind, path, data, case, engine_list)
    assert not res.ok and "no_such_predicate" in res.problems[0]


def test_standard_land_runner_skips_law_document_folders():
    law_tests = {k.folder / "tests" for k in law.KINDS.values()}
    assert not [p for p in golden.case_files() if p.parent in law_tests]


@pytest.mark.parametrize(("change", "words"), [
    ({"expectd": {}}, "unknown keys ['expectd']"),
    ({"expected": {}}, "nothing expected"),
    ({"facts": {"plot_ratoi": "0.5"}}, "unknown facts ['plot_ratoi']"),
])
def test_a_misspelt_case_fails(change, words, engine_list):
    kind, path = next((k, p) for k, p in law_golden.case_files() if k == "low_efficiency")
    data = law_golden.load_file(path)
    case = {**copy.deepcopy(data["cases"][0]), **change}
    res = law_golden.run_case(kind, path, data, case, engine_list)
    assert not res.ok and words in res.problems[0], res.problems
