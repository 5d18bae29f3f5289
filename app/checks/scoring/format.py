"""The scoring rule-set document (``rules/scoring/*.yaml``, or published as law kind ``scoring``).

A strict pydantic model: no unknown fields, no coercion (a version must be a quoted string, a
flag a boolean), exact numbers (integers, decimal strings or YAML floats read by their text,
never a float's binary value).  The rules that span several fields are validators of the field
that holds them, so that one pass reports every problem of the document:

- the indicators' weights sum to 100 and their keys are unique (checked on the raw list, so
  this is reported beside the problems of a single indicator);
- a citation names a document of ``documents`` (the names come in the validation context);
- the bands cover 0–100 without gaps or overlaps, their upper bounds on the engine's 10^-6 grid;
- ``effective_to``, if given, is after ``effective_from`` (it is the first day no longer in force,
  as for every law document: docs/law-documents.md).

``validate(raw)`` turns the document into a ``ScoringRuleSet``, or raises ``InputError`` with
every problem at its dotted path and a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.core.errors import InputError, Problem
from app.core.numbers import dec_str

from .ruleset import GRID, HUNDRED, MAX_BANDS, POLICIES, STATUSES, TIES, Band, Indicator, ScoringRuleSet, cite

_RULE = "scoring_rule"          # the error type of every rule below: its message is already the answer


def _fail(*problems: tuple[str, str]) -> NoReturn:
    """Problems at paths relative to the field being validated ("" = the field itself)."""
    raise PydanticCustomError(_RULE, "{message}", {"message": "; ".join(m for _, m in problems),
                                                   "problems": list(problems)})


MAX_ABS = Decimal(10**12)       # weights, benchmarks, caps, bounds and percentages are far below
MAX_PLACES = 12


def _exact(raw: Any) -> Fraction | None:
    """An exact number from YAML/JSON: an integer, a decimal string, a Decimal, or a float (by its
    text); None if it is none, or beyond 10^12 or 12 decimal places.  A document is published
    through the API now: "1e999999999" must not become a Fraction (checked on the Decimal first)."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        d = Decimal(str(raw).strip()) if isinstance(raw, int | str | float | Decimal) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or d.copy_abs() > MAX_ABS:
        return None
    exp = d.as_tuple().exponent
    return Fraction(d) if isinstance(exp, int) and exp >= -MAX_PLACES else None


def _number(positive: str | None = None, nullable: bool = False) -> PlainValidator:
    def parse(raw: Any) -> Fraction | None:
        if raw is None and nullable:
            return None
        x = _exact(raw)
        if x is None:
            _fail(("", "应为数值 (a number is required)" if raw is None or isinstance(raw, bool)
                   else f"应为有限数值，绝对值不超过 10^12、最多 12 位小数 (a finite number ≤ 10^12 with at most "
                        f"12 decimals is required, got {str(raw)[:40]!r})"))
        if positive and x <= 0:
            _fail(("", positive))
        return x
    return PlainValidator(parse)


def _date(nullable: bool) -> PlainValidator:
    """A calendar date: a YAML date or ISO text (as published through the API), nothing else."""
    def parse(raw: Any) -> dt.date | None:
        if raw is None and nullable:
            return None
        if type(raw) is dt.date:             # a YAML date (a datetime is refused: a date has no time)
            return raw
        if isinstance(raw, str) and len(raw) == 10:     # "YYYY-MM-DD" only, not "20220101"
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        _fail(("", f"应为日期 YYYY-MM-DD (a date, got {raw!r})"))
    return PlainValidator(parse)


Number = Annotated[Fraction, _number()]
NonBlank = Annotated[str, StringConstraints(pattern=r"\S")]
Policy = Literal["average", "zero", "exclude_and_reweight", "incomplete"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", arbitrary_types_allowed=True, frozen=True)


class Cite(_Strict):
    doc: str
    article: str | None = None

    @field_validator("doc")
    @classmethod
    def _known(cls, doc: str, info: ValidationInfo) -> str:
        names = (info.context or {}).get("documents", set())
        if doc not in names:
            _fail(("", f"引用的文件 {doc!r} 不在 documents 中 (unknown document)"))
        return doc


class Population(_Strict):
    key: str
    label: str | None = None
    cite: Cite | None = None


class Document(_Strict):
    title: str
    url: str | None                    # required: null when not known
    number: str | None = None


class Bounds(_Strict):
    max: Annotated[Fraction | None, _number("上限应大于 0 (max must be > 0)", nullable=True)] = None


class IndicatorDoc(_Strict):
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: NonBlank
    unit: NonBlank
    weight: Annotated[Fraction, _number("权重应大于 0 (weight must be > 0)")]
    benchmark: Annotated[Fraction, _number("基准值应大于 0 (benchmark must be > 0: it divides)")]
    missing: Policy | None = None      # None: the document's missing_default
    cap: Annotated[Fraction | None, _number("封顶分值应大于 0 (cap must be > 0, or null for no cap)", nullable=True)] = None
    bounds: Bounds | None = None
    cite: Cite | None = None
    note: str | None = None


class Precision(_Strict):
    mode: Literal["strict", "round_half_up"]
    places: Annotated[int, Field(ge=0, le=6)] | None = None

    @model_validator(mode="after")
    def _places_given(self) -> Precision:
        if self.mode == "round_half_up" and self.places is None:
            _fail(("places", "places 应为 0–6 的整数"))
        return self


class Ranking(_Strict):
    order: Literal["descending"] = "descending"
    ties: Literal["better_rank", "worse_rank"]
    precision: Precision


class BandDoc(_Strict):
    cls: Annotated[str, StringConstraints(pattern=r"\S"), Field(alias="class")]
    from_pct: Number
    to_pct: Number
    label: str | None = None


class Classes(_Strict):
    basis: Literal["rank_percentile"]
    inclusive: bool
    bands: Annotated[list[BandDoc], Field(min_length=1, max_length=MAX_BANDS)]
    cite: Cite | None = None

    @field_validator("bands")
    @classmethod
    def _contiguous(cls, bands: list[BandDoc]) -> list[BandDoc]:
        p: list[tuple[str, str]] = []
        names: set[str] = set()
        prev_to = Fraction(0)
        for n, b in enumerate(bands):
            if b.cls in names:
                p.append((f"{n}.class", "档次名称应非空且不重复 (a unique class name)"))
            names.add(b.cls)
            if b.from_pct != prev_to:
                what = "应从 0 开始" if n == 0 else f"应等于上一档的 to_pct {dec_str(prev_to)}（档次之间不得有空隙或重叠）"
                p.append((f"{n}.from_pct", f"from_pct {dec_str(b.from_pct)} {what} (bands must cover 0–100 without gaps)"))
            if b.to_pct <= b.from_pct:
                p.append((f"{n}.to_pct", "to_pct 应大于 from_pct"))
            if (b.to_pct * GRID).denominator != 1:
                p.append((f"{n}.to_pct", "to_pct 最多 6 位小数 (the engine compares on a 10^-6 grid)"))
            prev_to = b.to_pct
        if prev_to != HUNDRED:
            p.append(("", f"最后一档应止于 100 (bands must end at 100, they end at {dec_str(prev_to)})"))
        if p:
            _fail(*p)
        return bands


class RuleSetDoc(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
    version: NonBlank
    title: NonBlank
    status: Literal["example", "official"]
    jurisdiction: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    effective_from: Annotated[dt.date, _date(nullable=False)]
    effective_to: Annotated[dt.date | None, _date(nullable=True)] = None
    population: Population
    formula: str | None = None
    documents: Annotated[dict[str, Document], Field(min_length=1)]
    missing_default: Policy = "incomplete"
    indicators: Annotated[list[IndicatorDoc], Field(min_length=1)]
    ranking: Ranking
    classes: Classes
    notes: str | None = None

    @field_validator("effective_to")
    @classmethod
    def _not_before(cls, end: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("effective_from")
        if end is not None and start is not None and end <= start:
            _fail(("", f"effective_to {end} 应晚于 effective_from {start} (effective_to must be after effective_from)"))
        return end

    @field_validator("indicators", mode="wrap")
    @classmethod
    def _whole_list(cls, items: Any, handler: ValidatorFunctionWrapHandler) -> list[IndicatorDoc]:
        # Unique keys and the sum of the weights are read from the raw list, so that they are
        # reported even when one indicator is invalid (as the weights of the others still are).
        p: list[tuple[str, str]] = []
        if isinstance(items, list) and items:
            seen: set[str] = set()
            for n, it in enumerate(items):
                key = it.get("key") if isinstance(it, dict) else None
                if isinstance(key, str) and key in seen:
                    p.append((f"{n}.key", f"指标重复 (duplicate indicator {key!r})"))
                if isinstance(key, str):
                    seen.add(key)
            weights = [_exact(it.get("weight")) for it in items if isinstance(it, dict)]
            if weights and all(w is not None for w in weights) and sum(weights) != HUNDRED:
                p.append(("", f"权重之和应为 100 (weights must sum to 100, they sum to {dec_str(sum(weights))})"))
        try:
            out = handler(items)
        except ValidationError as e:
            if not p:
                raise
            _fail(*[(x.path, x.msg) for x in problems(e, prefix=("indicators",), strip=1)], *p)
        if p:
            _fail(*p)
        return out


# ---------------------------------------------------------------- messages

_POLICY = f"未知的缺失数据处理 (unknown policy {{input}}; use {' | '.join(POLICIES)})"
_CITE = "引用应为 {doc: …, article: …}"
_TEXT = "应为字符串 (text)"
# By path pattern (list indexes and document names as "*"); the longest matching prefix answers.
MESSAGES = {
    "": "规则集应为映射 (the document must be a mapping)",
    "id": "id 应为小写字母、数字和连字符 (lower-case letters, digits and '-', ≤ 64)",
    "version": "version 应为非空字符串，如 \"2022.1\" (a quoted version string)",
    "title": "缺少标题 (title is required)",
    "status": f"status 应为 {' | '.join(STATUSES)}",
    "jurisdiction": "应为 6 位 GB/T 2260 代码字符串 (a quoted 6-digit code)",
    "effective_from": "应声明生效日期 YYYY-MM-DD (effective_from: the first day the rule set applies)",
    "effective_to": "失效日期应为 YYYY-MM-DD 或省略 (effective_to: the first day no longer in force; absent = open)",
    "population": "应声明评价对象，如 {key: above_scale, label: 规上工业企业}",
    "population.cite": _CITE,
    "formula": _TEXT,
    "notes": _TEXT,
    "documents": "应列出引用的文件 (the cited documents: title, number, url)",
    "documents.*": "每个文件应有 title 和 url（未知时写 null）",
    "missing_default": _POLICY,
    "indicators": "应至少有一个指标 (at least one indicator)",
    "indicators.*": "指标应为映射 (a mapping)",
    "indicators.*.key": "key 应为小写字母、数字和下划线 (lower-case snake_case)",
    "indicators.*.label": "缺少中文名称 (label is required)",
    "indicators.*.unit": "应声明单位 (unit is required)",
    "indicators.*.weight": "应为数值 (a number is required)",
    "indicators.*.benchmark": "应为数值 (a number is required)",
    "indicators.*.missing": _POLICY,
    "indicators.*.bounds": "bounds 只支持 {max: …} (values below 0 are always refused)",
    "indicators.*.cite": _CITE,
    "indicators.*.note": _TEXT,
    "ranking": "应声明排名规则 (declare ranking: {order: descending, ties: better_rank, precision: {mode: strict}})",
    "ranking.order": "只支持 descending（得分高者排名靠前）",
    "ranking.ties": f"应声明同分处理 (declare ties: {' | '.join(TIES)})",
    "ranking.precision": "应为 {mode: strict} 或 {mode: round_half_up, places: n}",
    "ranking.precision.places": "places 应为 0–6 的整数",
    "classes": "应声明分类档次 (classes: {basis: rank_percentile, inclusive: true, bands: [...]})",
    "classes.basis": "只支持 rank_percentile（按排名百分比）",
    "classes.inclusive": "应明确声明边界是否包含 (declare inclusive: true or false)",
    "classes.cite": _CITE,
    "classes.bands": f"应有 1–{MAX_BANDS} 个档次 (1 to {MAX_BANDS} bands)",
    "classes.bands.*": "档次应为 {class, from_pct, to_pct, label}",
    "classes.bands.*.class": "档次名称应非空且不重复 (a unique class name)",
    "classes.bands.*.label": _TEXT,
}


def _message(loc: tuple, error: dict) -> str:
    parts = ["*" if isinstance(x, int) or (n == 1 and loc[0] == "documents") else str(x) for n, x in enumerate(loc)]
    if error["type"] == "extra_forbidden":
        return f"未知字段 (unknown field {loc[-1]!r})"
    for end in range(len(parts), -1, -1):
        text = MESSAGES.get(".".join(parts[:end]))
        if text is not None:
            return text.replace("{input}", repr(error.get("input")))
    return error.get("msg", "无效 (invalid)")


def problems(e: ValidationError, prefix: tuple = (), strip: int = 0) -> list[Problem]:
    """A ValidationError of ``RuleSetDoc`` as Problems: paths below ``prefix``, their first
    ``strip`` parts left out (a field's own validator reports paths relative to the field)."""
    out = []
    for err in e.errors():
        loc = (*prefix, *err["loc"])
        if err["type"] == _RULE:
            found = [((*loc, sub) if sub else loc, msg) for sub, msg in err["ctx"]["problems"]]
        else:
            found = [(loc, _message(loc, err))]
        out += [Problem(".".join(str(x) for x in path[strip:]), msg) for path, msg in found]
    return out


# ---------------------------------------------------------------- the document → ScoringRuleSet

def canonical(raw: Any) -> str:
    """The text the digest is taken of: sorted keys, no spaces, dates as ISO text."""
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def validate(raw: Any, source: str = "") -> ScoringRuleSet:
    """A scoring rule-set document → ScoringRuleSet; every problem, with its path, in one InputError."""
    documents = raw.get("documents") if isinstance(raw, dict) else None
    context = {"documents": set(documents) if isinstance(documents, dict) else set()}
    try:
        doc = RuleSetDoc.model_validate(raw, context=context)
    except ValidationError as e:
        raise InputError(problems(e)) from None
    docs = {k: v.model_dump() for k, v in doc.documents.items()}

    def cite_of(c: Cite | None) -> dict | None:
        return None if c is None else c.model_dump(exclude_none=True)

    indicators = tuple(
        Indicator(i.key, i.label, i.unit, i.weight, i.benchmark, i.missing or doc.missing_default, i.cap,
                  i.bounds.max if i.bounds else None, cite_of(i.cite),
                  None if i.bounds is None or i.bounds.max is None
                  else Decimal(i.bounds.max.numerator) / i.bounds.max.denominator)
        for i in doc.indicators)
    rs = ScoringRuleSet(
        id=doc.id, version=doc.version, title=doc.title, status=doc.status, jurisdiction=doc.jurisdiction,
        effective_from=doc.effective_from, effective_to=doc.effective_to,
        population={"key": doc.population.key, "label": doc.population.label, "cite": None},
        documents=docs, indicators=indicators,
        bands=tuple(Band(b.cls, b.from_pct, b.to_pct, b.label) for b in doc.classes.bands),
        inclusive=doc.classes.inclusive, ties=doc.ranking.ties,
        places=doc.ranking.precision.places if doc.ranking.precision.mode == "round_half_up" else None,
        classes_cite=cite_of(doc.classes.cite), notes=doc.notes,
        digest=hashlib.sha256(canonical(raw).encode("utf-8")).hexdigest(), source=source)
    rs.population["cite"] = cite(rs, cite_of(doc.population.cite))
    return rs
