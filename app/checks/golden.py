"""Golden cases: YAML files next to each rule set (``…/tests/*.yaml``), OpenFisca style.

    cases:
      - name: 刚好达到下限
        input: {as_of: 2024-03-01, industry: {code: "32"}, land_area: {value: 90, unit: 亩}, ...}
        expected:
          verdict: pass
          findings: {plot_ratio_min: pass, building_coefficient_min: fail}

``input`` is a proposal request; ``ruleset`` defaults to the rule set in the folder
above ``tests/``.  Finding keys are rule ids, or ``layer:rule`` where two layers
share a rule id.  Cases run without a database, on a registry built from the
bundled files, under every engine given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.checks import law, proposal
from app.core import clock
from app.core.errors import InputError, pydantic_problems
from app.engine import Engine
from app.rulesets.document import digest, validate_document
from app.rulesets.layering import ancestry_problems
from app.rulesets.resolve import Published, Registry
from app.schemas.proposal import ProposalRequest
from app.store.rulesets import RULES_DIR, bundled_files, load_yaml
from indicators.catalog import bundled_in_force

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class CaseResult:
    file: Path
    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)   # (layer, rule) → status
    verdict: str | None = None


def bundled_registry(root: Path = RULES_DIR) -> Registry:
    """Every bundled version, validated (including against its parents), published from EPOCH on, one
    second apart in file order — as the service publishes them at start-up — so that a later version
    of a rule set with the same ``effective_from`` (a correction, e.g. sanmenxia 2021.2) wins."""
    reg = Registry()
    docs = [validate_document(load_yaml(p)) for p in bundled_files(root)]
    by_id: dict[str, list] = {}
    for d in docs:
        by_id.setdefault(d.id, []).append(d)
    for i, d in enumerate(docs):
        problems = ancestry_problems(d, by_id)
        if problems:
            raise InputError(problems)
        reg.add(Published(d, digest(d), EPOCH + dt.timedelta(seconds=i)))
    return reg


def case_files(root: Path = RULES_DIR) -> list[Path]:
    # rules/examples/: documents published through the API in their tests, not bundled.  The tests/
    # folders of the other law documents (rules/scoring/tests/ …) hold their own cases (law_golden).
    law_tests = {k.folder / "tests" for k in law.KINDS.values()}
    return sorted(p for p in root.rglob("tests/*.yaml")
                  if "examples" not in p.relative_to(root).parts and p.parent not in law_tests)


def _default_ruleset(case_file: Path) -> str | None:
    for p in sorted(case_file.parent.parent.glob("*.yaml")):
        raw = load_yaml(p)
        if isinstance(raw, dict) and "id" in raw:
            return raw["id"]
    return None


def load_cases(path: Path) -> list[dict]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return raw.get("cases", raw) if isinstance(raw, dict) else raw


def run_file(path: Path, registry: Registry, engines: list[Engine]) -> list[CaseResult]:
    default = _default_ruleset(path)
    out = []
    for case in load_cases(path):
        out.append(run_case(path, case, registry, engines, default))
    return out


def run_case(path: Path, case: dict, registry: Registry, engines: list[Engine], default: str | None) -> CaseResult:
    name = case.get("name", "?")
    res = CaseResult(path, name, ok=True)
    body = dict(case.get("input") or {})
    body.setdefault("ruleset", default)
    expected = case.get("expected") or {}
    try:
        req = ProposalRequest.model_validate(body)
    except ValidationError as e:
        return _invalid(res, expected, [f"{p.path}: {p.msg}" for p in pydantic_problems(e)])
    results = []
    for engine in engines:
        try:
            results.append(proposal.evaluate(req, registry, engine, known_at=clock.utcnow(),
                                             catalog=(bundled_in_force(req.as_of), [])))
        except InputError as e:
            return _invalid(res, expected, [f"{p.path}: {p.msg}" for p in e.problems])
    first = results[0]
    for other in results[1:]:
        if other["findings"] != first["findings"] or other["verdict"] != first["verdict"]:
            res.ok = False
            res.problems.append(f"engines disagree: {first['engine']} vs {other['engine']}")
    res.verdict = first["verdict"]
    res.statuses = {(f["layer"], f["rule"]): f["status"] for f in first["findings"]}
    if "invalid" in expected:
        res.ok = False
        res.problems.append("expected invalid input, got a verdict")
    if "verdict" in expected and expected["verdict"] != first["verdict"]:
        res.ok = False
        res.problems.append(f"verdict: expected {expected['verdict']}, got {first['verdict']}")
    by_rule: dict[str, list[str]] = {}
    for (layer, rule), status in res.statuses.items():
        by_rule.setdefault(rule, []).append(status)
        by_rule[f"{layer}:{rule}"] = [status]
    for key, want in (expected.get("findings") or {}).items():
        got = by_rule.get(key)
        if got is None:
            res.ok = False
            res.problems.append(f"{key}: no such finding (have {sorted(k for k in by_rule if ':' not in k)})")
        elif len(got) > 1:
            res.ok = False
            res.problems.append(f"{key}: ambiguous, name it as layer:rule")
        elif got[0] != want:
            res.ok = False
            res.problems.append(f"{key}: expected {want}, got {got[0]}")
    return res


def _invalid(res: CaseResult, expected: dict[str, Any], problems: list[str]) -> CaseResult:
    want = expected.get("invalid")
    res.verdict = "invalid"
    if want is None:
        res.ok = False
        res.problems.extend(problems)
        return res
    # ``invalid`` lists field paths that must be reported.
    for path in want if isinstance(want, list) else []:
        if not any(p.startswith(f"{path}:") for p in problems):
            res.ok = False
            res.problems.append(f"expected a problem at {path}; got {problems}")
    return res


def run_all(engines: list[Engine], root: Path = RULES_DIR) -> list[CaseResult]:
    reg = bundled_registry(root)
    out: list[CaseResult] = []
    for f in case_files(root):
        out.extend(run_file(f, reg, engines))
    return out


def coverage_gaps(results: list[CaseResult], registry: Registry) -> list[str]:
    """Rules of bundled rule sets not seen both passing and failing in some golden case."""
    seen: dict[tuple[str, str], set[str]] = {}
    for r in results:
        for key, status in r.statuses.items():
            seen.setdefault(key, set()).add(status)
    gaps = []
    for p in registry.by_digest.values():
        for rule in p.doc.rules:
            got = seen.get((p.id, rule.id), set())
            missing = {"pass", "fail"} - got
            if missing:
                gaps.append(f"{p.id}@{p.version}:{rule.id} never {'/'.join(sorted(missing))}")
    return sorted(gaps)
