"""Which rule-set versions apply, and the effective layered rules for a request.

Version choice (bitemporal): among the versions published by ``known_at``, the
one with the latest ``effective_from`` on or before ``as_of`` whose
``effective_to`` (exclusive) is null or after ``as_of``.

Rule-set choice, when a request names none (``leaf_for``): among the sets in force for the
request's jurisdiction or a unit above it, the most specific level wins — parcel (``applies_to.
parcels`` names the request's parcel) > park (``applies_to.parks``) > county > city > province >
national; within a level a set for the request's industry (``applies_to.industries``, the
longest matching code) before a set for every industry; a set whose child also applies gives
way to the child.  Publishing a second set at the same level for the same jurisdiction,
target, industries and dates is refused (``conflicts``), so one set is left; should an older
database hold two, the first published is taken (never an error at check time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.core.errors import InputError, Problem
from app.rulesets.document import Rule, RuleSetDoc
from app.rulesets.layering import Concrete, at_least_as_strict, concrete, covers, map_industry
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


LEVELS = ("national", "province", "city", "county", "park", "parcel")
LEVEL_ZH = {"national": "国家", "province": "省", "city": "市", "county": "县（区）", "park": "园区", "parcel": "宗地"}


def level(doc: RuleSetDoc) -> str:
    """The level a rule set is written for: its ``applies_to`` target, else its jurisdiction's rank."""
    a = doc.applies_to
    if a is not None and a.parcels:
        return "parcel"
    if a is not None and a.parks:
        return "park"
    j = doc.jurisdiction
    if j == "100000":
        return "national"
    if j.endswith("0000"):
        return "province"
    if j.endswith("00"):
        return "city"
    return "county"


def industry_match(doc: RuleSetDoc, industry: dict | None) -> int | None:
    """How specifically ``doc`` applies to the request's industry: 0 for a set for every
    industry, the length of the longest matching code of ``applies_to.industries`` otherwise;
    None when it does not apply (another industry, or none given)."""
    wanted = doc.applies_to.industries if doc.applies_to is not None else None
    if not wanted:
        return 0
    code = industry.get("code") if industry else None
    if not code:
        return None
    candidates, _ = map_industry(code, industry.get("classification") or doc.classification, doc)
    if not candidates:
        return None
    best = []
    for cand in candidates:          # an ambiguous industry must fall under the set for every candidate
        hits = [len(w) for w in wanted if cand.startswith(w)]
        if not hits:
            return None
        best.append(max(hits))
    return min(best)


def targets(doc: RuleSetDoc, parcel: str | None, park: str | None) -> bool:
    a = doc.applies_to
    if a is None:
        return True
    if a.parcels and (parcel is None or parcel.strip().upper() not in {p.upper() for p in a.parcels}):
        return False
    return not (a.parks and (park is None or park not in a.parks))


def _overlap(a: RuleSetDoc, b: RuleSetDoc) -> bool:
    """Whether two sets would compete for some request: same level and jurisdiction, a common
    parcel or park, the same industries (a shared code, or both for every industry), and
    effective periods that meet."""
    if a.jurisdiction != b.jurisdiction or level(a) != level(b):
        return False
    ta, tb = a.applies_to, b.applies_to
    pa, pb = (ta.parcels or ta.parks) if ta else None, (tb.parcels or tb.parks) if tb else None
    if pa is not None and pb is not None and not {x.upper() for x in pa} & {x.upper() for x in pb}:
        return False
    ia, ib = (ta.industries if ta else None), (tb.industries if tb else None)
    if bool(ia) != bool(ib) or (ia and ib and not set(ia) & set(ib)):
        return False
    end_a, end_b = a.effective_to or dt.date.max, b.effective_to or dt.date.max
    return a.effective_from < end_b and b.effective_from < end_a


def conflicts(doc: RuleSetDoc, others: list[RuleSetDoc], ancestors: dict[str, set[str]]) -> list[RuleSetDoc]:
    """The published versions of other rule sets that ``doc`` would compete with (so that a
    request naming no rule set could not tell them apart).  A layer and its ancestors do not
    compete (the child wins); versions of the same id do not (the later one wins)."""
    mine = ancestors.get(doc.id, set()) | ({doc.parent} if doc.parent else set())
    return [o for o in others
            if o.id != doc.id and o.id not in mine and doc.id not in ancestors.get(o.id, set()) and _overlap(doc, o)]


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

    def ancestors(self, rid: str) -> set[str]:
        """Every id above ``rid`` through the parents of any of its versions."""
        out: set[str] = set()
        todo = [rid]
        while todo:
            for p in self.by_id.get(todo.pop(), ()):
                if p.doc.parent and p.doc.parent not in out:
                    out.add(p.doc.parent)
                    todo.append(p.doc.parent)
        return out

    def leaf_for(self, jurisdiction: str, as_of: dt.date, known_at: dt.datetime, industry: dict | None = None,
                 parcel: str | None = None, park: str | None = None) -> str:
        """The most specific rule set in force for a jurisdiction (and parcel, park, industry):
        see the module's docstring for the order."""
        chain = tables.jurisdiction_chain(jurisdiction)
        ranked = []
        for vs in self.by_id.values():
            p = pick_version(vs, as_of, known_at)
            if p is None or p.doc.jurisdiction not in chain or not targets(p.doc, parcel, park):
                continue
            spec = industry_match(p.doc, industry)
            if spec is not None:
                ranked.append(((LEVELS.index(level(p.doc)), len(tables.jurisdiction_chain(p.doc.jurisdiction)), spec), p))
        if not ranked:
            raise InputError([Problem("jurisdiction", f"{jurisdiction} 及其上级在 {as_of} 均无生效规则集 "
                                                      f"(no rule set in force for {jurisdiction} or above on {as_of})")])
        top = max(rank for rank, _ in ranked)
        best = [p for rank, p in ranked if rank == top]
        above = set().union(*(self.ancestors(p.id) for p in best))
        leaves = [p for p in best if p.id not in above] or best
        # One left after publish-time checks; an older database may hold two: the first published.
        return min(leaves, key=lambda p: (p.published_at, p.id)).id

    def resolve(self, *, ruleset: str | None, jurisdiction: str | None, as_of: dt.date,
                known_at: dt.datetime, industry: dict | None,
                pinned: list[str] | None = None, parcel: str | None = None, park: str | None = None) -> Resolution:
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
                ruleset = self.leaf_for(jurisdiction, as_of, known_at, industry, parcel, park)
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
