"""Proposal check: does a parcel's proposed indicator set meet the rules in force?

Flow: normalise the request (units → canonical, exact) → resolve the layered
rule set → take each indicator as given or derive it from measures → round as
each rule's layer declares → let the engine compare → assemble findings and the
verdict (docs/verdicts.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.checks import indicator_catalog
from app.checks.proposal_findings import finding, overall, precision_of, warnings
from app.checks.proposal_normalise import Normalised, normalise
from app.core import clock
from app.core.errors import InputError, Problem
from app.core.gc import gc_paused
from app.core.numbers import round_half_up
from app.engine import Engine
from app.engine.comparisons import Compiled
from app.rulesets.layering import map_industry
from app.rulesets.resolve import EffectiveRule, Registry, Resolution
from app.schemas.proposal import ProposalRequest
from app.store import decisions, rulesets
from indicators.catalog import Catalog, load_catalog

# ---------------------------------------------------------------- evaluation

def _slot(er: EffectiveRule) -> str:
    mode, places = precision_of(er)
    return f"{er.rule.indicator}|{mode}|{places}"


def comparisons(resolution: Resolution, waived: set[str]) -> Compiled[int]:
    """The engine comparisons of the rules that need one, keyed by the index of their
    effective rule; rules on the same indicator at the same precision share its slot."""
    return Compiled([(i, _slot(er), er.rule.op, er.concrete.threshold) for i, er in enumerate(resolution.rules)
                     if er.concrete.status is None and er.rule.id not in waived])


# (comparisons, feeds) per effective-rule list and waiver set.  Effective rules are cached
# per rule-set chain and industry (Registry._effective), so a process sees few of these;
# each entry keeps its rule list alive, so the id() in its key cannot be reused.
_COMPILED: dict[tuple[int, frozenset], tuple[list, Compiled[int], list[tuple]]] = {}
_COMPILED_MAX = 1024


def _compiled(resolution: Resolution, waived: frozenset) -> tuple[Compiled[int], list[tuple]]:
    """The comparisons, and per check where its value comes from
    (slot, indicator, decimal places to round half up to, or None for strict)."""
    rules = resolution.rules
    hit = _COMPILED.get((id(rules), waived))
    if hit is None or hit[0] is not rules:
        compiled = comparisons(resolution, set(waived))
        feeds = []
        for i in compiled.keys:
            mode, places = precision_of(rules[i])
            feeds.append((_slot(rules[i]), rules[i].rule.indicator, places if mode == "round_half_up" else None))
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        hit = _COMPILED[(id(rules), waived)] = (rules, compiled, feeds)
    return hit[1], hit[2]


def evaluate(req: ProposalRequest, registry: Registry, engine: Engine, *, known_at: dt.datetime,
             pinned: list[str] | None = None, cache: dict | None = None,
             catalog: tuple[Catalog, list[dict]] | None = None) -> dict:
    """The verdict for one proposal (no storage).  Raises InputError on bad input.

    ``cache`` (optional) memoises resolutions across the items of one batch.  ``catalog``: the
    indicator catalog in force on ``as_of`` and the pins of its documents (``indicator_catalog.in_force``;
    default the bundled base), recorded under ``law``."""
    cat, law_pins = catalog if catalog is not None else (load_catalog(), [indicator_catalog.base_pin()])
    norm = normalise(req, cat)
    industry = req.industry.model_dump() if req.industry else None
    key = (req.ruleset, req.jurisdiction, req.as_of, known_at, tuple(pinned or ()),
           tuple(sorted(industry.items())) if industry else None, req.parcel, req.park)
    resolution = cache.get(key) if cache is not None else None
    if resolution is None:
        resolution = registry.resolve(ruleset=req.ruleset, jurisdiction=req.jurisdiction, as_of=req.as_of,
                                      known_at=known_at, industry=industry, pinned=pinned,
                                      parcel=req.parcel, park=req.park)
        if cache is not None:
            cache[key] = resolution
    waivers = {w.rule: w for w in req.waivers}
    unknown = sorted(set(waivers) - {er.rule.id for er in resolution.rules}) if waivers else None
    if unknown:
        raise InputError([Problem("waivers", f"豁免的规则不在生效规则中 (waived rules not in force: {unknown})")])

    _admitted_from_ruleset(norm, resolution, req)
    compiled, feeds = _compiled(resolution, frozenset(waivers))
    values: dict[str, Fraction | None] = {}
    for slot, indicator, places in feeds:
        v, _ = norm.value(indicator)
        if v is not None and places is not None:
            v = round_half_up(v, places)
        values[slot] = v
    by_rule = compiled.run(engine, values)

    findings = [finding(er, by_rule.get(i), norm, waivers.get(er.rule.id)) for i, er in enumerate(resolution.rules)]
    ref, warned, pinned_digests = _about(resolution)
    return {
        "verdict": overall(findings),
        "ruleset": {**ref, "layers": [dict(layer) for layer in ref["layers"]]},
        "as_of": req.as_of.isoformat(),
        "known_at": known_at.isoformat(),
        "industry": dict(industry) if industry is not None else None,
        "findings": findings,
        "warnings": list(warned),
        "engine": engine.name,
        "engine_version": engine.version,
        "pinned": list(pinned_digests),
        "law": list(law_pins),
    }


# The parts of a verdict that depend on the resolution alone, per resolution object (a
# batch's items share theirs); each entry keeps its resolution alive, so its id() is not reused.
_ABOUT: dict[int, tuple[Resolution, dict, list[str], list[str]]] = {}


def _about(resolution: Resolution) -> tuple[dict, list[str], list[str]]:
    hit = _ABOUT.get(id(resolution))
    if hit is None or hit[0] is not resolution:
        if len(_ABOUT) >= _COMPILED_MAX:
            _ABOUT.clear()
        hit = _ABOUT[id(resolution)] = (resolution, resolution.ref(), warnings(resolution),
                                        [layer.digest for layer in resolution.layers])
    return hit[1], hit[2], hit[3]


def _admitted_from_ruleset(norm: Normalised, resolution: Resolution, req: ProposalRequest) -> None:
    """industry_admitted from the most specific layer that publishes an admitted list.

    A published list outranks anything the applicant states about itself."""
    for layer in reversed(resolution.layers):
        if layer.doc.admitted_industries is None:
            continue
        norm.given.pop("industry_admitted", None)
        norm.derived.pop("industry_admitted", None)
        if req.industry is None:
            return
        cands, _ = map_industry(req.industry.code, req.industry.classification, layer.doc)
        if cands is None:
            return
        ok = any(c.startswith(a) for c in cands for a in layer.doc.admitted_industries)
        norm.derived["industry_admitted"] = Fraction(int(ok))
        return

# ---------------------------------------------------------------- with the decision log

def _record(req: ProposalRequest, result: dict) -> dict:
    rec = {"kind": "proposal", "request": req.model_dump(mode="json", exclude_none=True), **result}
    if req.reference is not None:
        rec["reference"] = req.reference       # the caller's own id, echoed in batch results
    return rec


def run(session: Session, req: ProposalRequest, engine: Engine) -> dict:
    """Check one proposal and store the decision."""
    known_at = req.known_at or clock.utcnow()
    registry = rulesets.registry(session)
    catalog = indicator_catalog.in_force(session, req.as_of)
    session.rollback()      # hand the connection back to the pool while the engine works
    result = evaluate(req, registry, engine, known_at=known_at, catalog=catalog)
    return decisions.append(session, [_record(req, result)])[0]


def run_batch(session: Session, reqs: list[ProposalRequest], engine: Engine,
              also: Callable[[Connection, list[dict]], None] | None = None) -> list[dict]:
    """Check many proposals; every problem of every item is reported (paths under
    ``items.N``) and nothing is stored unless all are valid: one transaction.
    ``also`` writes rows that belong with the batch in that transaction (``decisions.append``)."""
    now = clock.utcnow()
    reg = rulesets.registry(session)
    catalogs = {d: indicator_catalog.in_force(session, d) for d in {r.as_of for r in reqs}}
    session.rollback()
    cache: dict = {}
    results, problems = [], []
    # A batch builds ~100 dicts per item and keeps them all; the cyclic collector would
    # rescan that growing heap again and again.  Nothing here makes reference cycles.
    with gc_paused():
        for i, req in enumerate(reqs):
            try:
                results.append(_record(req, evaluate(req, reg, engine, known_at=req.known_at or now, cache=cache,
                                                       catalog=catalogs[req.as_of])))
            except InputError as e:
                problems.extend(Problem(f"items.{i}.{p.path}".rstrip("."), p.msg) for p in e.problems)
        if problems:
            raise InputError(problems)
        return decisions.append(session, results, also=also)
