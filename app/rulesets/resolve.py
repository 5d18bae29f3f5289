"""Which rule-set versions apply, and the effective layered rules for a request.

Version choice (bitemporal): among the versions published by ``known_at``, the
one with the latest ``effective_from`` on or before ``as_of`` whose
``effective_to`` (exclusive) is null or after ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.errors import InputError, Problem
from app.rulesets.document import Rule, RuleSetDoc
from app.rulesets.layering import Concrete, at_least_as_strict, concrete, covers
from indicators import tables


@dataclass(frozen=True)
class Published:
    doc: RuleSetDoc
    digest: str
    published_at: dt.datetime

    @property
    def id(self) -> str:
        return self.doc.id

    @property
    def version(self) -> str:
        return self.doc.version

    def ref(self) -> dict:
        return {"id": self.doc.id, "version": self.doc.version, "digest": self.digest, "status": self.doc.status,
                "title": self.doc.title, "jurisdiction": self.doc.jurisdiction}


@dataclass
class EffectiveRule:
    rule: Rule
    layer: Published
    concrete: Concrete
    supersedes: list[str] = field(default_factory=list)   # "layer-id:rule-id" of parent rules it replaces
    note: str | None = None                                # e.g. a relaxation shown in every finding
    static: dict | None = None                             # rule-only parts of its finding (cache)


@dataclass
class Resolution:
    layers: list[Published]            # root (national) first, the requested rule set last
    rules: list[EffectiveRule]
    industry: dict | None

    @property
    def leaf(self) -> Published:
        return self.layers[-1]

    def ref(self) -> dict:
        leaf = self.leaf
        return {"id": leaf.id, "version": leaf.version, "digest": leaf.digest, "status": leaf.doc.status,
                "title": leaf.doc.title,
                "example": any(layer.doc.status == "example" for layer in self.layers),
                "layers": [layer.ref() for layer in self.layers]}


def in_force(p: Published, as_of: dt.date) -> bool:
    d = p.doc
    return d.effective_from <= as_of and (d.effective_to is None or as_of < d.effective_to)


def pick_version(versions: list[Published], as_of: dt.date, known_at: dt.datetime) -> Published | None:
    cands = [p for p in versions if p.published_at <= known_at and in_force(p, as_of)]
    if not cands:
        return None
    return max(cands, key=lambda p: (p.doc.effective_from, p.published_at))


class Registry:
    """All published versions, indexed; filled by the store (``app.store.rulesets``)."""

    CACHE_SIZE = 4096

    def __init__(self) -> None:
        self.by_digest: dict[str, Published] = {}
        self.by_id: dict[str, list[Published]] = {}
        # Layers are immutable and content-addressed: the merged rules for a chain of
        # digests and an industry never change, so they are computed once per process.
        self._effective: dict[tuple, list[EffectiveRule]] = {}

    def add(self, p: Published) -> None:
        if p.digest in self.by_digest:
            return
        self.by_digest[p.digest] = p
        self.by_id.setdefault(p.id, []).append(p)

    def get(self, rid: str, version: str) -> Published | None:
        return next((p for p in self.by_id.get(rid, ()) if p.version == version), None)

    # ---------------------------------------------------------- resolution

    def chain(self, leaf_id: str, as_of: dt.date, known_at: dt.datetime) -> list[Published]:
        layers: list[Published] = []
        rid: str | None = leaf_id
        while rid is not None:
            if rid not in self.by_id:
                raise InputError([Problem("ruleset", f"未知规则集 (unknown rule set {rid!r})")])
            p = pick_version(self.by_id[rid], as_of, known_at)
            if p is None:
                raise InputError([Problem("as_of", f"规则集 {rid} 在 {as_of} 没有生效版本 (no version of {rid} "
                                                   f"in force on {as_of} known at {known_at:%Y-%m-%d %H:%M})")])
            if any(layer.id == p.id for layer in layers):
                raise InputError([Problem("ruleset", f"规则集层级循环 (parent cycle at {rid})")])
            layers.append(p)
            rid = p.doc.parent
        return list(reversed(layers))

    def leaf_for(self, jurisdiction: str, as_of: dt.date, known_at: dt.datetime) -> str:
        """The most specific rule set in force for a jurisdiction (walking up the GB/T 2260 tree)."""
        for code in tables.jurisdiction_chain(jurisdiction):
            live = {rid for rid, vs in self.by_id.items()
                    if (p := pick_version(vs, as_of, known_at)) is not None and p.doc.jurisdiction == code}
            if not live:
                continue
            parents = {pick_version(self.by_id[r], as_of, known_at).doc.parent for r in live}
            leaves = sorted(live - parents)
            if len(leaves) > 1:
                raise InputError([Problem("ruleset", f"行政区 {code} 有多个规则集，请指定 ruleset (several rule sets "
                                                     f"apply to {code}: {leaves}; name one in 'ruleset')")])
            return leaves[0]
        raise InputError([Problem("jurisdiction", f"{jurisdiction} 及其上级在 {as_of} 均无生效规则集 "
                                                  f"(no rule set in force for {jurisdiction} or above on {as_of})")])

    def resolve(self, *, ruleset: str | None, jurisdiction: str | None, as_of: dt.date,
                known_at: dt.datetime, industry: dict | None,
                pinned: list[str] | None = None) -> Resolution:
        if pinned is not None:
            try:
                layers = [self.by_digest[d] for d in pinned]
            except KeyError as e:
                raise InputError([Problem("ruleset", f"固定的规则集摘要不存在 (pinned digest {e} not found)")]) from None
        else:
            if ruleset is None:
                if jurisdiction is None:
                    raise InputError([Problem("jurisdiction",
                                              "需要 ruleset 或 jurisdiction (give a rule set or a jurisdiction)")])
                ruleset = self.leaf_for(jurisdiction, as_of, known_at)
            layers = self.chain(ruleset, as_of, known_at)
        code = industry.get("code") if industry else None
        cls = industry.get("classification") if industry else None
        key = (tuple(layer.digest for layer in layers), code, cls)
        rules = self._effective.get(key)
        if rules is None:
            rules = effective_rules(layers, code, cls)
            if len(self._effective) >= self.CACHE_SIZE:
                self._effective.clear()
            self._effective[key] = rules
        return Resolution(layers=layers, rules=rules, industry=industry)


def effective_rules(layers: list[Published], code: str | None, cls: str | None) -> list[EffectiveRule]:
    """Merge layers root → leaf.  A child rule replaces a parent rule on the same
    indicator when it covers the parent's sides and is at least as strict for this
    industry (or carries a documented relaxation); otherwise both stay in force."""
    out: list[EffectiveRule] = []
    for layer in layers:
        for rule in layer.doc.rules:
            er = EffectiveRule(rule, layer, concrete(rule, layer.doc, code, cls))
            if rule.relaxation:
                ref = layer.doc.documents.get(rule.relaxation.doc)
                er.note = f"放宽上级规定：{rule.relaxation.reason}（{ref.number or ref.title if ref else rule.relaxation.doc}）"
            keep = []
            for prev in out:
                if prev.rule.indicator == rule.indicator and covers(rule.op, prev.rule.op) and _replaces(er, prev):
                    er.supersedes.append(f"{prev.layer.id}:{prev.rule.id}")
                else:
                    keep.append(prev)
            out = keep + [er]
    return out


def _replaces(child: EffectiveRule, parent: EffectiveRule) -> bool:
    c, p = child.concrete, parent.concrete
    if c.threshold is None:                 # child has no value for this industry: parent stays
        return False
    if child.rule.relaxation or p.status == "not_required":
        return True
    if p.threshold is not None:
        parents = (p.threshold,)
    elif p.candidates:                      # ambiguous industry: stricter than every candidate?
        parents = p.candidates
    else:                                   # parent cannot tell (unmapped): it stays, for review
        return False
    return all(at_least_as_strict(child.rule.op, c.threshold, parent.rule.op, t)[0] for t in parents)
