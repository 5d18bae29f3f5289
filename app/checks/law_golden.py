"""Golden cases of the other law documents (``app.checks.law`` kinds), OpenFisca style.

A YAML file per document folder, ``<kind folder>/tests/*.yaml`` (e.g. ``rules/scoring/tests/``), with
inputs and the outputs expected, worked out by hand.  Each case runs through the functions the service
runs (no HTTP, no database) on the bundled document, parsed by the kind's own parser, under every
engine given; the engines must agree.  The formats are in docs/law-documents.md ("Golden cases").

    document: huangyan-2022-example        # id, or {id, version}; default: the file of the same name above tests/
    cases:
      - name: …
        request: {year: 2024, enterprises: [...]}
        expected: {verdict: complete, enterprises: {A: {score: "100", rank: 1, class: A}}}

``expected`` is matched as a subset: every key given must be in the result, with an equal value
(numbers as decimal text or numbers compare by value); keys not given are not checked.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.checks import law, scoring
from app.checks import low_efficiency as lowe
from app.checks.contract import check_model
from app.core.errors import InputError, pydantic_problems
from app.engine import Engine
from app.engine.comparisons import Comparisons
from app.lifecycle import idle
from app.lifecycle.state import State, fold
from app.lifecycle.terms import terms_of
from app.schemas.contract import ContractRequest

# The kinds with a runner below; the other kinds' folders may hold no tests/ yet.
KINDS = ("scoring", "low_efficiency", "idle_land", "contract_model")


@dataclass
class LawCaseResult:
    kind: str
    file: Path
    name: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def fail(self, msg: str) -> None:
        self.ok = False
        self.problems.append(msg)


def case_files() -> list[tuple[str, Path]]:
    """(kind, file) of every golden-case file beside a bundled law document."""
    return [(k, p) for k in KINDS for p in sorted((law.KINDS[k].folder / "tests").glob("*.yaml"))]


class _CaseLoader(yaml.SafeLoader):
    """YAML 1.1 reads on/off/yes/no as booleans, and lifecycle events have a field named ``on``: in
    case files only true and false are booleans."""


_BOOL = "tag:yaml.org,2002:bool"
_CaseLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _BOOL] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_CaseLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_file(path: Path) -> dict:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader) or {}  # noqa: S506 (a SafeLoader)
    if not isinstance(raw, dict) or not isinstance(raw.get("cases"), list):
        raise ValueError(f"{path}: a golden-case file is a mapping with a list of cases")
    return raw


@cache
def bundled(kind: str) -> dict[tuple[str, str], law.Law]:
    """Every bundled document of a kind, parsed by its kind's parser, by (id, version)."""
    out = {}
    for p in law.bundled_files(kind):
        meta, value, text = law.validate(kind, yaml.safe_load(p.read_text(encoding="utf-8")))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()      # as the store addresses it
        out[(meta.id, meta.version)] = law.Law(kind, meta.id, meta.version, digest, meta.status, meta.title,
                                               meta.jurisdiction, meta.effective_from, meta.effective_to, value)
    return out


def document(kind: str, path: Path, ref: Any) -> law.Law:
    """The document a case names: ``id``, ``{id, version}`` (default version: the highest), or none
    (the document of the file in the folder above whose name is the case file's)."""
    docs = bundled(kind)
    if isinstance(ref, dict) and ref.get("id") is None:
        ref = {**ref, "id": document(kind, path, None).id}
    if ref is None:
        above = path.parent.parent / path.name
        if not above.exists():
            raise ValueError(f"no `document:` and no {above.name} above tests/")
        ref = yaml.safe_load(above.read_text(encoding="utf-8"))["id"]
    rid, ver = (ref.get("id"), ref.get("version")) if isinstance(ref, dict) else (ref, None)
    found = [d for (i, v), d in docs.items() if i == rid and (ver is None or v == str(ver))]
    if not found:
        raise ValueError(f"no bundled {kind} document {rid}{'@' + str(ver) if ver else ''} (have {sorted(docs)})")
    return max(found, key=lambda d: law.version_key(d.version))


# ---------------------------------------------------------------- matching


def _num(x: Any) -> Decimal | None:
    if isinstance(x, bool) or not isinstance(x, int | float | str | Decimal):
        return None
    try:
        d = Decimal(str(x))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def match(want: Any, got: Any, path: str, res: LawCaseResult) -> None:
    """``want`` as a subset of ``got``: a failure per difference, at its path."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            res.fail(f"{path}: expected a mapping, got {got!r}")
            return
        for k, w in want.items():
            if k not in got:
                res.fail(f"{path}.{k}: not in the result (have {sorted(map(str, got))})".lstrip("."))
            else:
                match(w, got[k], f"{path}.{k}".lstrip("."), res)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            res.fail(f"{path}: expected {want!r}, got {got!r}")
            return
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            match(w, g, f"{path}.{i}", res)
    elif isinstance(want, dt.date):
        if got != want.isoformat():
            res.fail(f"{path}: expected {want.isoformat()}, got {got!r}")
    elif (wn := _num(want)) is not None and (gn := _num(got)) is not None:
        if wn != gn:                          # "1.50" and 1.5 are the same number
            res.fail(f"{path}: expected {want}, got {got}")
    elif want != got:
        res.fail(f"{path}: expected {want!r}, got {got!r}")


def _merge(base: Any, over: Any) -> Any:
    """``over`` laid on ``base``, mappings merged key by key (a null in ``over`` clears the key)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _merge(out.get(k), v)
        return out
    return copy.deepcopy(over)


def _plain(x: Any) -> Any:
    """YAML dates as ISO text (request bodies arrive as JSON)."""
    return json.loads(json.dumps(x, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))


def _state(data: dict, case: dict, as_of: dt.date) -> State | None:
    """The contract (the file's, with the case's changes) folded with the case's events to ``as_of``."""
    body = _merge(data.get("contract"), case.get("contract") or {}) if data.get("contract") or case.get("contract") else None
    if body is None:
        return None
    contract = ContractRequest.model_validate(_plain(body))
    events = [{"id": f"e{i}", **_plain(e)} for i, e in enumerate(case.get("events") or [])]
    return fold(contract, events, as_of)


def _agree(res: LawCaseResult, outs: list[Any], engines: list[Engine]) -> Any:
    for e, o in zip(engines[1:], outs[1:], strict=True):
        if o != outs[0]:
            res.fail(f"engines disagree: {engines[0].name} vs {e.name}")
    return outs[0]


# ---------------------------------------------------------------- one runner per kind


def _scoring(data: dict, case: dict, path: Path, engines: list[Engine], res: LawCaseResult) -> None:
    doc = document("scoring", path, case.get("document", data.get("document")))
    body = {"ruleset": doc.id, "ruleset_version": doc.version, **_plain(case.get("request") or {})}

    def resolve(rid: str, version: str | None) -> tuple[scoring.ScoringRuleSet, dict]:
        d = document("scoring", path, {"id": rid, "version": version})
        return d.value, law.pin(d)

    expected = case.get("expected") or {}
    try:
        req = scoring.parse_request(body, resolve=resolve)
    except InputError as e:
        _invalid(res, expected, [f"{p.path}: {p.msg}" for p in e.problems])
        return
    if "invalid" in expected:
        res.fail("expected invalid input, got a run")
    # The run names its engine; the rest must not depend on it.
    out = _agree(res, [{**scoring.evaluate(req, e), "engine": None} for e in engines], engines)
    out = {**out, "enterprises": {r["id"]: r for r in out["results"]}}
    match(expected, out, "", res)


def _low_efficiency(data: dict, case: dict, path: Path, engines: list[Engine], res: LawCaseResult) -> None:
    as_of = case["as_of"]
    st = _state(data, case, as_of)
    f = case.get("facts") or {}
    if set(f) - FACTS:
        raise ValueError(f"unknown facts {sorted(set(f) - FACTS)} (allowed: {sorted(FACTS)})")

    def frac(k: str) -> Fraction | None:
        return None if f.get(k) is None else Fraction(str(f[k]))

    req = f.get("plot_ratio_requirement")
    requirement = None if req is None else lowe.Requirement(
        None if req.get("value") is None else Fraction(str(req["value"])), req.get("op") == ">",
        req.get("source", "contract"), req.get("status", "ok"), req.get("message", "golden case"))
    tax = frac("tax_per_mu")
    facts = lowe.ParcelFacts(state=st, contract_area=frac("contract_area"), tax_per_mu=tax,
                             tax_status=f.get("tax_status", "ok" if tax is not None else "insufficient_data"),
                             tax_note=None, park_average=frac("park_average"), tax_year=f.get("tax_year", as_of.year - 1),
                             plot_ratio=frac("plot_ratio"), investment_intensity=frac("investment_intensity"),
                             contract_intensity=frac("contract_intensity"), plot_ratio_requirement=requirement)
    for version, want in (case.get("expected") or {}).items():
        doc = document("low_efficiency", path, {"id": data.get("document"), "version": version})
        rs = doc.value.doc
        outs = []
        for engine in engines:
            a = Comparisons()
            builders = lowe.predicates(rs, facts, as_of, a)
            h = a.run(engine)
            outs.append({r["predicate"]: r for r in (b(h) for b in builders)})
        got = _agree(res, outs, engines)
        # A bare status stands for {status: …}.
        match({k: {"status": w} if isinstance(w, str) else w for k, w in want.items()}, got, str(version), res)


def _idle_land(data: dict, case: dict, path: Path, engines: list[Engine], res: LawCaseResult) -> None:
    doc = document("idle_land", path, case.get("document", data.get("document")))
    st = _state(data, case, case["as_of"])
    if st is None:
        raise ValueError("an idle-land case needs a contract")
    ins = idle.inputs(st, terms_of(st.terms).price_wan, doc.value)
    outs = []
    for engine in engines:
        a = Comparisons()
        for key, value, op, threshold in idle.tests(st, ins, doc.value):
            a.add(key, value, op, threshold)
        outs.append(idle.finding(st, ins, a.run(engine), doc.value))
    match(case.get("expected") or {}, _agree(res, outs, engines), "", res)


def _contract_model(data: dict, case: dict, path: Path, engines: list[Engine], res: LawCaseResult) -> None:
    doc = document("contract_model", path, case.get("document", data.get("document")))
    body = _plain(_merge(data.get("contract") or {}, case.get("contract") or {}))
    try:
        req = ContractRequest.model_validate(body)
    except ValidationError as e:
        _invalid(res, case.get("expected") or {}, [f"{p.path}: {p.msg}" for p in pydantic_problems(e)])
        return
    by_clause: dict[str, list[str]] = {}
    for f in check_model(req, doc.value, []):
        by_clause.setdefault(f["clause"], []).append(f["status"])
    # A clause's statuses in the order reported; a bare status stands for a list of one.
    want = {k: [w] if isinstance(w, str) else w for k, w in (case.get("expected", {}).get("findings") or {}).items()}
    match(want, by_clause, "findings", res)


def _invalid(res: LawCaseResult, expected: dict, problems: list[str]) -> None:
    want = expected.get("invalid")
    if want is None:
        res.fail("invalid input: " + "; ".join(problems))
        return
    for p in want if isinstance(want, list) else []:
        if not any(x.startswith(f"{p}:") for x in problems):
            res.fail(f"expected a problem at {p}; got {problems}")


RUNNERS: dict[str, Callable[[dict, dict, Path, list[Engine], LawCaseResult], None]] = {
    "scoring": _scoring, "low_efficiency": _low_efficiency, "idle_land": _idle_land, "contract_model": _contract_model,
}


CASE_KEYS = {
    "scoring": {"name", "document", "request", "expected"},
    "low_efficiency": {"name", "as_of", "contract", "events", "facts", "expected"},
    "idle_land": {"name", "document", "as_of", "contract", "events", "expected"},
    "contract_model": {"name", "document", "contract", "expected"},
}
FACTS = {"tax_year", "tax_per_mu", "tax_status", "park_average", "plot_ratio", "plot_ratio_requirement",
         "investment_intensity", "contract_intensity", "contract_area"}


def run_case(kind: str, path: Path, data: dict, case: dict, engines: list[Engine]) -> LawCaseResult:
    res = LawCaseResult(kind, path, str(case.get("name", "?")) if isinstance(case, dict) else "?")
    if not isinstance(case, dict):
        res.fail(f"a case must be a mapping, got {case!r}")
        return res
    # A misspelt key would silently test nothing: refuse it, and a case that expects nothing.
    unknown = sorted(set(case) - CASE_KEYS[kind])
    if unknown or not case.get("expected"):
        res.fail(f"unknown keys {unknown} (allowed: {sorted(CASE_KEYS[kind])})" if unknown else "nothing expected")
        return res
    try:
        RUNNERS[kind](data, case, path, engines, res)
    except (ValueError, KeyError, TypeError, InputError, ValidationError) as e:
        res.fail(f"case could not run: {type(e).__name__}: {e}")
    return res


def run_all(engines: list[Engine]) -> list[LawCaseResult]:
    out = []
    for kind, path in case_files():
        data = load_file(path)
        out.extend(run_case(kind, path, data, c, engines) for c in data["cases"])
    return out
