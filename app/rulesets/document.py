"""The rule-set document (docs/rule-sets.md, a contract) and its validation.

Structural checks come from the pydantic model; semantic checks (known
indicator, operator fits the indicator, unit of the right kind, citations
resolve, thresholds on the engine's decimal grid) from ``validate_document``.
Both report every problem with its field path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.errors import InputError, Problem, pydantic_problems
from indicators import tables, units
from indicators.catalog import Catalog, bundled_in_force

OPS = (">=", "<=", ">", "<", "between", "in", "is_true")
# Operators whose threshold is implied by the operator itself: a rule author may leave the
# threshold out (``op: is_true`` means "must be true"); the document is normalised to the
# explicit form, so both spellings have the same digest.
IMPLIED_THRESHOLDS: dict[str, Any] = {"is_true": True}
# Thresholds reach the engine as integers scaled by 10**GRID_PLACES; a threshold
# with more decimals (in the indicator's canonical unit) could not be compared exactly.
GRID_PLACES = 6

Number = Decimal
# Codes, keys and ids: short, so that a document cannot carry megabyte keys into the registry,
# the verdicts that cite it, or the engine (docs/engine.md).
Short = Annotated[str, Field(max_length=64)]


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc: str = Field(max_length=64)
    article: str | None = Field(default=None, max_length=500)


class Relaxation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    indicator: str = Field(max_length=64)
    role: Literal["core", "n", "plus_one"]
    op: str = Field(max_length=16)
    threshold: Number | list[Number] | bool | None = None
    by_industry: dict[Short, Number | list[Number] | None] | None = Field(default=None, max_length=2000)
    unit: str | None = Field(default=None, max_length=32)
    required: bool = True
    cite: Citation
    relaxation: Relaxation | None = None
    example: bool | None = None     # this value is an example (not sourced); shown in every finding
    note: str | None = Field(default=None, max_length=4000)

    @field_validator("by_industry", mode="before")
    @classmethod
    def _keys_as_str(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): x for k, x in v.items()}
        return v


class Precision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["round_half_up", "strict"]
    places: int | None = Field(default=None, ge=0, le=GRID_PLACES)


class TaxBasis(BaseModel):
    model_config = ConfigDict(extra="forbid")
    includes: list[Short] = Field(default_factory=list, max_length=50)
    refunds_added_back: bool = False
    period: str | None = Field(default=None, max_length=200)


def web_url(value: str | None) -> bool:
    """An absolute http(s) URL with a host: the only kind of link a stored document may carry
    (``javascript:``, ``data:`` and the like would run in the officer's browser when shown as a link)."""
    if not isinstance(value, str) or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return False
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and rest[:1] not in ("", "/", "\\", "?", "#")


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    number: str | None = Field(default=None, max_length=200)



class IndustryMap(BaseModel):
    """Maps codes of another classification onto this rule set's own codes (a
    modelling choice of the rule author, e.g. GB/T 4754 divisions → local sector groups)."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(alias="from", max_length=64)
    map: dict[Short, Short] = Field(max_length=5000)
    note: str | None = Field(default=None, max_length=4000)

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_str(cls, v: Any) -> Any:
        return {str(k): str(x) for k, x in v.items()} if isinstance(v, dict) else v


class AppliesTo(BaseModel):
    """What a rule set is specific to, below its jurisdiction (optional).  ``parcels``: the
    transfer conditions of named parcels (宗地代码 / 地块编号, e.g. Beihai 2023GC07007);
    ``parks``: one or more parks (ids as registered); ``industries``: industry codes (prefixes,
    in the rule set's classification).  It decides which set a request gets when it names no
    rule set (``app.rulesets.resolve``): the most specific level wins."""

    model_config = ConfigDict(extra="forbid")
    parcels: list[Short] | None = Field(default=None, min_length=1, max_length=1000)
    parks: list[Short] | None = Field(default=None, min_length=1, max_length=1000)
    industries: list[Short] | None = Field(default=None, min_length=1, max_length=500)


class RuleSetDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$")
    title: str = Field(min_length=1, max_length=500)
    status: Literal["example", "official"]
    jurisdiction: str = Field(max_length=16)
    parent: str | None = Field(default=None, max_length=64)
    effective_from: dt.date
    effective_to: dt.date | None = None
    classification: str = Field(max_length=64)
    precision: Precision
    tax_basis: TaxBasis | None = None
    documents: dict[Short, Document] = Field(max_length=500)
    industry_map: list[IndustryMap] | None = Field(default=None, max_length=20)
    # labels of this rule set's own industry codes, if local
    industries: dict[Short, Annotated[str, Field(max_length=500)]] | None = Field(default=None, max_length=5000)
    # Industries admitted on the parcel (codes in this rule set's classification): feeds the
    # industry_admitted indicator when the request does not state the list itself.
    admitted_industries: list[Short] | None = Field(default=None, max_length=5000)
    notes: str | None = Field(default=None, max_length=20_000)
    applies_to: AppliesTo | None = None
    rules: list[Rule] = Field(min_length=1, max_length=500)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float | Decimal) else v

    @field_validator("jurisdiction", mode="before")
    @classmethod
    def _juris_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


# ---------------------------------------------------------------- validation

def _is_numeric_op(op: str) -> bool:
    return op in (">=", "<=", ">", "<")


def threshold_to_canonical(value: Decimal, unit: str | None, kind: str) -> Fraction:
    return units.to_canonical(value, unit, kind)


def _check_threshold(value: Any, op: str, unit: str | None, kind: str, path: str, out: list[Problem]) -> None:
    """Check one threshold (the default or a per-industry one) against the operator."""
    if value is None:
        return
    if op == "is_true":
        if value is not True:
            out.append(Problem(path, "is_true 规则的阈值应为 true (threshold of is_true must be true)"))
        return
    if isinstance(value, bool):
        out.append(Problem(path, f"运算符 {op} 需要数值阈值 (operator {op} needs a numeric threshold)"))
        return
    if op == "between":
        if not (isinstance(value, list) and len(value) == 2):
            out.append(Problem(path, "between 需要 [下限, 上限] (between needs [low, high])"))
            return
        values = value
    elif op == "in":
        if not (isinstance(value, list) and value):
            out.append(Problem(path, "in 需要非空列表 (in needs a non-empty list)"))
            return
        values = value
    else:
        if isinstance(value, list):
            out.append(Problem(path, f"运算符 {op} 需要单个数值 (operator {op} needs one number)"))
            return
        values = [value]
    converted = []
    for i, v in enumerate(values):
        p = f"{path}.{i}" if isinstance(value, list) else path
        if not v.is_finite():
            out.append(Problem(p, "阈值必须是有限数 (threshold must be finite)"))
            return
        try:
            c = threshold_to_canonical(v, unit, kind)
        except units.UnitError as e:
            out.append(Problem(path.rsplit(".", 1)[0] + ".unit" if "." in path else "unit", str(e)))
            return
        if (c * 10**GRID_PLACES).denominator != 1:
            out.append(Problem(p, f"阈值换算为标准单位后超过 {GRID_PLACES} 位小数 (threshold {v} {unit or ''} "
                                  f"is not exact to {GRID_PLACES} decimals in {units.CANONICAL[kind] or 'the canonical unit'}; "
                                  f"state it in the canonical unit)"))
        if c < 0:
            out.append(Problem(p, "阈值不能为负 (threshold must not be negative)"))
        converted.append(c)
    if op == "between" and len(converted) == 2 and converted[0] > converted[1]:
        out.append(Problem(path, "下限大于上限 (low bound above high bound)"))


def url_problems(raw: dict) -> list[Problem]:
    """Each ``documents.*.url`` that is not an http(s) URL.  Checked when a rule set is published,
    not in the model: a version stored before this check still reads (and is shown as text)."""
    docs = raw.get("documents")
    if not isinstance(docs, dict):
        return []
    return [Problem(f"documents.{key}.url",
                    "文件链接只能是 http:// 或 https:// 开头的网址 (url must be an absolute http or https URL)")
            for key, d in docs.items() if isinstance(d, dict) and isinstance(d.get("url"), str) and not web_url(d["url"])]


def validate_document(raw: Any, catalog: Catalog | None = None) -> RuleSetDoc:
    """Parse and validate a rule-set document; raise InputError listing every problem.

    ``catalog``: the indicator catalog in force on its ``effective_from`` (the published documents,
    given by the caller); without it, the bundled catalog documents in force on that date."""
    if not isinstance(raw, dict):
        raise InputError([Problem("", "规则集必须是对象 (a rule set is a mapping)")])
    urls = url_problems(raw)
    try:
        doc = RuleSetDoc.model_validate(raw)
    except ValidationError as e:
        raise InputError(pydantic_problems(e) + urls) from None
    cat = catalog if catalog is not None else bundled_in_force(doc.effective_from)
    out: list[Problem] = list(urls)
    if not tables.valid_jurisdiction(doc.jurisdiction) and doc.jurisdiction != "100000":
        out.append(Problem("jurisdiction", f"不是有效的 6 位行政区划代码 (not a 6-digit GB/T 2260 code): {doc.jurisdiction!r}"))
    if doc.effective_to is not None and doc.effective_to <= doc.effective_from:
        out.append(Problem("effective_to", "失效日期须晚于生效日期 (effective_to must be after effective_from)"))
    if doc.precision.mode == "round_half_up" and doc.precision.places is None:
        out.append(Problem("precision.places", "round_half_up 需要 places (places is required)"))
    if doc.parent == doc.id:
        out.append(Problem("parent", "规则集不能以自身为上级 (a rule set cannot be its own parent)"))
    if doc.applies_to is not None:
        a = doc.applies_to
        if a.parcels and a.parks:
            out.append(Problem("applies_to", "parcels 与 parks 只能给出其一 (give parcels or parks, not both)"))
        for name, values in (("parcels", a.parcels), ("parks", a.parks), ("industries", a.industries)):
            for i, v in enumerate(values or ()):
                if not v.strip() or v != v.strip():
                    out.append(Problem(f"applies_to.{name}.{i}", "不能为空或含首尾空白 (empty or padded)"))
            if values and len(set(values)) != len(values):
                out.append(Problem(f"applies_to.{name}", "有重复项 (duplicates)"))
    seen: set[str] = set()
    for i, r in enumerate(doc.rules):
        base = f"rules.{i}"
        if r.id in seen:
            out.append(Problem(f"{base}.id", f"规则编号重复 (duplicate rule id {r.id!r})"))
        seen.add(r.id)
        ind = cat.indicators.get(r.indicator)
        if ind is None:
            out.append(Problem(f"{base}.indicator",
                               f"未知指标 (unknown indicator {r.indicator!r}); known: {sorted(cat.indicators)}"))
            continue
        if r.op not in OPS:
            out.append(Problem(f"{base}.op", f"无效运算符 (bad operator {r.op!r}); use one of {list(OPS)}"))
            continue
        if ind.is_boolean and r.op != "is_true":
            out.append(Problem(f"{base}.op", f"布尔指标只能用 is_true (indicator {r.indicator} is boolean: use is_true)"))
            continue
        if not ind.is_boolean and r.op == "is_true":
            out.append(Problem(f"{base}.op", f"指标 {r.indicator} 是数值指标，不能用 is_true"))
            continue
        if not ind.is_boolean:
            try:
                units.to_canonical(Decimal(0), r.unit, ind.kind)
            except units.UnitError as e:
                out.append(Problem(f"{base}.unit", f"{e} (indicator {r.indicator} is in {ind.unit or 'no unit'})"))
                continue
        if r.threshold is None and not r.by_industry and r.op in IMPLIED_THRESHOLDS:
            r.threshold = IMPLIED_THRESHOLDS[r.op]
        if r.threshold is None and not r.by_industry:
            out.append(Problem(f"{base}.threshold", "缺少阈值 (threshold or by_industry is required)"))
        _check_threshold(r.threshold, r.op, r.unit, ind.kind, f"{base}.threshold", out)
        for code, t in (r.by_industry or {}).items():
            if not code.strip() or len(code) > 16:
                out.append(Problem(f"{base}.by_industry.{code}", "无效行业代码 (bad industry code)"))
            _check_threshold(t, r.op, r.unit, ind.kind, f"{base}.by_industry.{code}", out)
        if r.cite.doc not in doc.documents:
            out.append(Problem(f"{base}.cite.doc",
                               f"引用的文件未在 documents 中声明 (document {r.cite.doc!r} is not in documents)"))
        if r.relaxation and r.relaxation.doc not in doc.documents:
            out.append(Problem(f"{base}.relaxation.doc", f"document {r.relaxation.doc!r} is not in documents"))
    if out:
        raise InputError(out)
    # One canonical form everywhere: a document read from YAML (Decimal("1.0")) and the
    # same document read back from the database ("1") must be the same object.
    return RuleSetDoc.model_validate(json.loads(canonical_json(doc)))


# ---------------------------------------------------------------- digest

def _canon(o: Any) -> Any:
    if isinstance(o, Decimal):
        s = format(o.normalize(), "f")
        return s
    if isinstance(o, dict):
        return {k: _canon(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_canon(v) for v in o]
    if isinstance(o, dt.date):
        return o.isoformat()
    return o


def canonical_json(doc: RuleSetDoc) -> str:
    data = _canon(doc.model_dump(mode="python", by_alias=True))
    # ``applies_to`` came later: left out when absent, so that every document published before
    # keeps its digest (decisions pin digests; bundled files are republished at start-up).
    if data.get("applies_to") is None:
        data.pop("applies_to", None)
    else:
        data["applies_to"] = {k: v for k, v in data["applies_to"].items() if v is not None}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(doc: RuleSetDoc) -> str:
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


_SAFE = re.compile(r"[^0-9A-Za-z]")


def engine_name(doc_id: str, version: str, dig: str) -> str:
    return f"{_SAFE.sub('_', doc_id)}@{_SAFE.sub('_', version)}@{dig[:12]}"
