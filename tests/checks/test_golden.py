"""Golden cases of the bundled rule sets (rules/**/tests/*.yaml), OpenFisca style.

Every case runs under both engines (durable_rules and the reference evaluator) on a
registry built from the bundled files; every rule of every bundled rule set must be
seen passing and failing; and the national plot-ratio table must match its source CSV.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from app import engine as engines
from app.checks import golden
from app.rulesets.document import validate_document
from app.store.rulesets import RULES_DIR, load_yaml

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = RULES_DIR / "cn" / "national-2008" / "2008.1.yaml"
FAR_CSV = ROOT / "indicators" / "data" / "far_min_2008.csv"


def _cases() -> list:
    params = []
    for path in golden.case_files():
        rel = path.relative_to(RULES_DIR).as_posix()
        for i, case in enumerate(golden.load_cases(path)):
            # ids stay ASCII (pytest would escape the Chinese names); the name is in any failure
            params.append(pytest.param(path, case, id=f"{rel}::{i}"))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def registry():
    return golden.bundled_registry()


@pytest.fixture(scope="module")
def engine_list():
    return [engines.by_name("durable"), engines.REFERENCE]


def test_case_files_exist():
    assert CASES, "no golden case files found under rules/**/tests/"


@pytest.mark.parametrize(("path", "case"), CASES)
def test_golden_case(path, case, registry, engine_list):
    assert isinstance(case, dict), f"{path}: a case must be a mapping, got {case!r}"
    default = golden._default_ruleset(path)
    res = golden.run_case(path, case, registry, engine_list, default)
    assert res.ok, f"{path.relative_to(RULES_DIR)} :: {res.name}\n  " + "\n  ".join(res.problems)


def test_every_rule_seen_passing_and_failing(registry, engine_list):
    results = []
    for path in golden.case_files():
        results.extend(golden.run_file(path, registry, engine_list))
    gaps = golden.coverage_gaps(results, registry)
    assert not gaps, "rules not covered by golden cases:\n  " + "\n  ".join(gaps)


def test_national_plot_ratio_table_matches_csv():
    doc = validate_document(load_yaml(NATIONAL))
    rule = next(r for r in doc.rules if r.id == "plot_ratio_min")
    yaml_rows = [(code, Decimal(value)) for code, value in (rule.by_industry or {}).items()]
    with FAR_CSV.open(encoding="utf-8", newline="") as f:
        csv_rows = [(r["code_2002"], Decimal(r["min_plot_ratio"])) for r in csv.DictReader(f)]
    assert [c for c, _ in yaml_rows] == [c for c, _ in csv_rows], "codes differ (or their order)"
    for (code, y), (_, c) in zip(yaml_rows, csv_rows, strict=True):
        assert y == c, f"2002 division {code}: rule file {y} ≠ far_min_2008.csv {c}"
