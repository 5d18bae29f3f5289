"""亩均效益综合评价 (亩均论英雄) scoring runs over a population of enterprises.

    score = Σ_i value_i ÷ benchmark_i × weight_i        (docs/domain.md; weights sum to 100)

Everything the formula leaves open is declared in the scoring rule set
(``rules/scoring/*.yaml``), never guessed here:

- **missing data**, per indicator: ``average`` (the population's average sub-score on that
  indicator: the mean over every enterprise of the run that has a value for it, after any
  cap), ``zero`` (sub-score 0), ``exclude_and_reweight`` (left out; the score becomes
  Σ sub-scores × 100 ÷ Σ weights used) or ``incomplete`` (the enterprise is not scored and is
  reported as incomplete).  An indicator without a policy takes ``missing_default``, and
  that defaults to ``incomplete``;
- an optional **cap** per sub-score (points);
- **ranking**: descending score, ties (``better_rank``: 1, 2, 2, 4; ``worse_rank``: 1, 3, 3, 4),
  and the precision the ranks are taken at (exact, or rounded half-up to n places);
- **classes** by rank percentile: with N enterprises scored, rank r has percentile
  r ÷ N × 100 and falls in the first band whose upper bound it does not exceed
  (``inclusive: true``) or stays below (``inclusive: false``; the last band always includes 100).

Arithmetic is exact (``Fraction``).  The class of each distinct percentile is decided by the
rule engine: percentile against each band's upper bound, 10 percentiles per evaluation (one
compiled program per rule set); the service's engine adapter cross-checks durable_rules with
the reference evaluator, and the classes are checked once more against the plain comparison
here (fail closed).

A run is stored as one ``scoring_run`` row (its document: the request, normalised, and every
result) and one decision (kind ``scoring``, verdict ``complete`` or ``incomplete``) whose
``document_digest`` is the SHA-256 of the stored document, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert
from sqlmodel import Session

from app.core import clock
from app.core.errors import InputError, NotFound, Problem
from app.core.numbers import dec_str, round_half_up
from app.engine import Engine
from app.engine import program as prog
from app.engine.durable import EngineError
from app.store import decisions
from app.store.models import ScoringRun
from indicators import units
from rules import RULES_DIR

log = logging.getLogger("standard_land.scoring")

SCORING_DIR = RULES_DIR / "scoring"
DEFAULT_RULESET = "huangyan-2022-example"

POLICIES = {
    "average": "无数据：取总体平均单项得分 (the population's average sub-score)",
    "zero": "无数据：单项得分计 0 (sub-score 0)",
    "exclude_and_reweight": "无数据：不计该项，按其余权重折算 (left out; score rescaled to the weights used)",
    "incomplete": "无数据：企业不计分、不排名，报告为数据不全 (enterprise not scored: incomplete)",
}
TIES = ("better_rank", "worse_rank")
STATUSES = ("example", "official")
HUNDRED = Fraction(100)
GRID = 10**6                    # engine thresholds: on the 10^-6 grid
MAX_BANDS = 20                  # × CHUNK checks per engine program (durable fails near 400)
CHUNK = 10                      # percentiles per engine evaluation (measured fastest; 100 overflows durable)

MAX_ENTERPRISES = 50_000
MAX_ID, MAX_NAME = 64, 200
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_ABS_DEC = Decimal(10**12)
MAX_PLACES = 12

_P12, _P6 = 10**12, 10**6
_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _dec(x: Fraction | None) -> str | None:
    """``numbers.dec_str(x)`` in integer arithmetic (a run formats ~30 numbers per enterprise):
    exact up to 12 decimals, else rounded half-up to 6; trailing zeros dropped."""
    if x is None:
        return None
    n, d = x.numerator, x.denominator
    q, r = divmod(n * _P12, d)
    if r == 0:
        t = Decimal(q).scaleb(-12)
    else:
        t = Decimal((2 * n * _P6 + d) // (2 * d) if n >= 0 else -((-2 * n * _P6 + d) // (2 * d))).scaleb(-6)
    return format(t.normalize() if t != 0 else Decimal(0), "f")


class ScoringRuleSetInvalid(RuntimeError):
    """A bundled scoring rule-set file is invalid: a fault of the deployment, not of a request."""


# ---------------------------------------------------------------- the rule set

@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    weight: Fraction
    benchmark: Fraction
    missing: str
    cap: Fraction | None
    max: Fraction | None
    cite: dict | None
    max_dec: Decimal | None = None      # the same bound, for checking inputs before they become fractions


@dataclass(frozen=True)
class Band:
    cls: str
    from_pct: Fraction
    to_pct: Fraction
    label: str | None


@dataclass(frozen=True)
class ScoringRuleSet:
    id: str
    version: str
    title: str
    status: str
    jurisdiction: str | None
    population: dict
    documents: dict
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...]
    inclusive: bool
    ties: str
    places: int | None              # None: rank on the exact score
    classes_cite: dict | None
    notes: str | None
    digest: str
    source: str = ""

    @property
    def by_key(self) -> dict[str, Indicator]:
        return {i.key: i for i in self.indicators}

    def summary(self) -> dict:
        return {"id": self.id, "version": self.version, "digest": self.digest, "status": self.status,
                "title": self.title, "jurisdiction": self.jurisdiction}

    def describe(self) -> dict:
        """What a run used, in the order of the table columns."""
        return {
            **self.summary(),
            "population": self.population,
            "indicators": [{"key": i.key, "label": i.label, "unit": i.unit, "weight": dec_str(i.weight),
                            "benchmark": dec_str(i.benchmark), "missing_policy": i.missing,
                            "cap": dec_str(i.cap), "cite": _cite(self, i.cite)} for i in self.indicators],
            "ranking": {"order": "descending", "ties": self.ties,
                        "precision": {"mode": "strict"} if self.places is None
                        else {"mode": "round_half_up", "places": self.places}},
            "classes": {"basis": "rank_percentile", "inclusive": self.inclusive,
                        "bands": [{"class": b.cls, "from_pct": dec_str(b.from_pct), "to_pct": dec_str(b.to_pct),
                                   "label": b.label} for b in self.bands],
                        "cite": _cite(self, self.classes_cite)},
        }


def _cite(rs: ScoringRuleSet, cite: dict | None) -> dict | None:
    if not cite:
        return None
    doc = rs.documents.get(cite["doc"], {})
    return {**cite, "title": doc.get("title"), "number": doc.get("number"), "url": doc.get("url")}


def _number(raw: Any, path: str, problems: list[Problem]) -> Fraction | None:
    """An exact number from YAML/JSON: an integer, a decimal string, a Decimal, or a float (by its text)."""
    if isinstance(raw, bool) or raw is None:
        problems.append(Problem(path, "应为数值 (a number is required)"))
        return None
    if isinstance(raw, int):
        return Fraction(raw)
    try:
        d = Decimal(str(raw).strip()) if isinstance(raw, str | float | Decimal) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        problems.append(Problem(path, f"应为有限数值 (a finite number is required, got {raw!r})"))
        return None
    return Fraction(d)


def _canonical_doc(raw: Any) -> str:
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


TOP_KEYS = {"id", "version", "title", "status", "jurisdiction", "population", "formula", "documents",
            "missing_default", "indicators", "ranking", "classes", "notes"}
INDICATOR_KEYS = {"key", "label", "unit", "weight", "benchmark", "missing", "cap", "bounds", "cite", "note"}


def validate(raw: Any, source: str = "") -> ScoringRuleSet:
    """A scoring rule-set document → ScoringRuleSet; every problem, with its path, in one InputError."""
    p: list[Problem] = []
    if not isinstance(raw, dict):
        raise InputError([Problem("", "规则集应为映射 (the document must be a mapping)")])
    for k in sorted(set(raw) - TOP_KEYS):
        p.append(Problem(k, f"未知字段 (unknown field {k!r})"))
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        p.append(Problem("id", "id 应为小写字母、数字和连字符 (lower-case letters, digits and '-', ≤ 64)"))
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        p.append(Problem("version", "version 应为非空字符串，如 \"2022.1\" (a quoted version string)"))
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        p.append(Problem("title", "缺少标题 (title is required)"))
    if raw.get("status") not in STATUSES:
        p.append(Problem("status", f"status 应为 {' | '.join(STATUSES)}"))
    jurisdiction = raw.get("jurisdiction")
    if jurisdiction is not None and not (isinstance(jurisdiction, str) and re.fullmatch(r"\d{6}", jurisdiction)):
        p.append(Problem("jurisdiction", "应为 6 位 GB/T 2260 代码字符串 (a quoted 6-digit code)"))
    population = raw.get("population")
    if not isinstance(population, dict) or not isinstance(population.get("key"), str):
        p.append(Problem("population", "应声明评价对象，如 {key: above_scale, label: 规上工业企业}"))
        population = {}
    documents = raw.get("documents")
    if not isinstance(documents, dict) or not documents:
        p.append(Problem("documents", "应列出引用的文件 (the cited documents: title, number, url)"))
        documents = {}
    for name, doc in documents.items():
        if not isinstance(doc, dict) or not isinstance(doc.get("title"), str) or "url" not in doc:
            p.append(Problem(f"documents.{name}", "每个文件应有 title 和 url（未知时写 null）"))

    def cite_of(c: Any, path: str) -> dict | None:
        if c is None:
            return None
        if not isinstance(c, dict) or not isinstance(c.get("doc"), str) or set(c) - {"doc", "article"}:
            p.append(Problem(path, "引用应为 {doc: …, article: …}"))
            return None
        if c["doc"] not in documents:
            p.append(Problem(f"{path}.doc", f"引用的文件 {c['doc']!r} 不在 documents 中 (unknown document)"))
        return dict(c)

    population_cite = cite_of(population.get("cite"), "population.cite") if population else None
    default = raw.get("missing_default", "incomplete")
    if default not in POLICIES:
        p.append(Problem("missing_default", f"未知的缺失数据处理 (unknown policy {default!r}; use {' | '.join(POLICIES)})"))
        default = "incomplete"

    indicators: list[Indicator] = []
    items = raw.get("indicators")
    if not isinstance(items, list) or not items:
        p.append(Problem("indicators", "应至少有一个指标 (at least one indicator)"))
        items = []
    seen: set[str] = set()
    for n, it in enumerate(items):
        path = f"indicators.{n}"
        if not isinstance(it, dict):
            p.append(Problem(path, "指标应为映射 (a mapping)"))
            continue
        for k in sorted(set(it) - INDICATOR_KEYS):
            p.append(Problem(f"{path}.{k}", f"未知字段 (unknown field {k!r})"))
        key = it.get("key")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            p.append(Problem(f"{path}.key", "key 应为小写字母、数字和下划线 (lower-case snake_case)"))
            key = None
        elif key in seen:
            p.append(Problem(f"{path}.key", f"指标重复 (duplicate indicator {key!r})"))
        seen.add(key or "")
        unit = it.get("unit")
        if not isinstance(unit, str) or not unit.strip():
            p.append(Problem(f"{path}.unit", "应声明单位 (unit is required)"))
        weight = _number(it.get("weight"), f"{path}.weight", p)
        if weight is not None and weight <= 0:
            p.append(Problem(f"{path}.weight", "权重应大于 0 (weight must be > 0)"))
        benchmark = _number(it.get("benchmark"), f"{path}.benchmark", p)
        if benchmark is not None and benchmark <= 0:
            p.append(Problem(f"{path}.benchmark", "基准值应大于 0 (benchmark must be > 0: it divides)"))
        policy = it.get("missing", default)
        if policy not in POLICIES:
            p.append(Problem(f"{path}.missing", f"未知的缺失数据处理 (unknown policy {policy!r}; use {' | '.join(POLICIES)})"))
        cap = None
        if it.get("cap") is not None:
            cap = _number(it["cap"], f"{path}.cap", p)
            if cap is not None and cap <= 0:
                p.append(Problem(f"{path}.cap", "封顶分值应大于 0 (cap must be > 0, or null for no cap)"))
        mx = None
        bounds = it.get("bounds")
        if bounds is not None:
            if not isinstance(bounds, dict) or set(bounds) - {"max"}:
                p.append(Problem(f"{path}.bounds", "bounds 只支持 {max: …} (values below 0 are always refused)"))
            elif bounds.get("max") is not None:
                mx = _number(bounds["max"], f"{path}.bounds.max", p)
                if mx is not None and mx <= 0:
                    p.append(Problem(f"{path}.bounds.max", "上限应大于 0 (max must be > 0)"))
        label = it.get("label")
        if not isinstance(label, str) or not label.strip():
            p.append(Problem(f"{path}.label", "缺少中文名称 (label is required)"))
        cite = cite_of(it.get("cite"), f"{path}.cite")
        if key and weight and benchmark and isinstance(unit, str) and isinstance(label, str):
            indicators.append(Indicator(key, label, unit, weight, benchmark, policy if policy in POLICIES else default,
                                        cap, mx, cite, None if mx is None else Decimal(mx.numerator) / mx.denominator))
    weights = [_number(it.get("weight"), "", []) for it in items if isinstance(it, dict)]
    if items and all(w is not None for w in weights) and sum(weights) != HUNDRED:
        p.append(Problem("indicators", f"权重之和应为 100 (weights must sum to 100, they sum to {dec_str(sum(weights))})"))

    ranking = raw.get("ranking")
    ties, places = "better_rank", None
    if not isinstance(ranking, dict):
        p.append(Problem("ranking", "应声明排名规则 (declare ranking: {order: descending, ties: better_rank, "
                                    "precision: {mode: strict}})"))
    else:
        for k in sorted(set(ranking) - {"order", "ties", "precision"}):
            p.append(Problem(f"ranking.{k}", f"未知字段 (unknown field {k!r})"))
        if ranking.get("order", "descending") != "descending":
            p.append(Problem("ranking.order", "只支持 descending（得分高者排名靠前）"))
        ties = ranking.get("ties")
        if ties not in TIES:
            p.append(Problem("ranking.ties", f"应声明同分处理 (declare ties: {' | '.join(TIES)})"))
        prec = ranking.get("precision")
        if not isinstance(prec, dict) or prec.get("mode") not in ("strict", "round_half_up"):
            p.append(Problem("ranking.precision", "应为 {mode: strict} 或 {mode: round_half_up, places: n}"))
        elif prec["mode"] == "round_half_up":
            places = prec.get("places")
            if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 6:
                p.append(Problem("ranking.precision.places", "places 应为 0–6 的整数"))
                places = None

    bands: list[Band] = []
    classes = raw.get("classes")
    inclusive = True
    classes_cite = None
    if not isinstance(classes, dict):
        p.append(Problem("classes", "应声明分类档次 (classes: {basis: rank_percentile, inclusive: true, bands: [...]})"))
        classes = {}
    else:
        for k in sorted(set(classes) - {"basis", "inclusive", "bands", "cite"}):
            p.append(Problem(f"classes.{k}", f"未知字段 (unknown field {k!r})"))
        if classes.get("basis") != "rank_percentile":
            p.append(Problem("classes.basis", "只支持 rank_percentile（按排名百分比）"))
        inclusive = classes.get("inclusive")
        if not isinstance(inclusive, bool):
            p.append(Problem("classes.inclusive", "应明确声明边界是否包含 (declare inclusive: true or false)"))
            inclusive = True
        classes_cite = cite_of(classes.get("cite"), "classes.cite")
    raw_bands = classes.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands or len(raw_bands) > MAX_BANDS:
        p.append(Problem("classes.bands", f"应有 1–{MAX_BANDS} 个档次 (1 to {MAX_BANDS} bands)"))
        raw_bands = []
    names: set[str] = set()
    prev_to = Fraction(0)
    for n, b in enumerate(raw_bands):
        path = f"classes.bands.{n}"
        if not isinstance(b, dict) or set(b) - {"class", "from_pct", "to_pct", "label"}:
            p.append(Problem(path, "档次应为 {class, from_pct, to_pct, label}"))
            continue
        cls = b.get("class")
        if not isinstance(cls, str) or not cls.strip() or cls in names:
            p.append(Problem(f"{path}.class", "档次名称应非空且不重复 (a unique class name)"))
        names.add(str(cls))
        lo = _number(b.get("from_pct"), f"{path}.from_pct", p)
        hi = _number(b.get("to_pct"), f"{path}.to_pct", p)
        if lo is None or hi is None:
            continue
        if lo != prev_to:
            what = "应从 0 开始" if n == 0 else f"应等于上一档的 to_pct {dec_str(prev_to)}（档次之间不得有空隙或重叠）"
            p.append(Problem(f"{path}.from_pct", f"from_pct {dec_str(lo)} {what} (bands must cover 0–100 without gaps)"))
        if hi <= lo:
            p.append(Problem(f"{path}.to_pct", "to_pct 应大于 from_pct"))
        if (hi * GRID).denominator != 1:
            p.append(Problem(f"{path}.to_pct", "to_pct 最多 6 位小数 (the engine compares on a 10^-6 grid)"))
        bands.append(Band(str(cls), lo, hi, b.get("label") if isinstance(b.get("label"), str) else None))
        prev_to = hi
    if raw_bands and prev_to != HUNDRED:
        p.append(Problem("classes.bands", f"最后一档应止于 100 (bands must end at 100, they end at {dec_str(prev_to)})"))

    if p:
        raise InputError(p)
    pop = {"key": population["key"], "label": population.get("label"), "cite": None}
    rs = ScoringRuleSet(
        id=rid, version=version, title=raw["title"], status=raw["status"], jurisdiction=jurisdiction,
        population=pop, documents={k: dict(v) for k, v in documents.items()}, indicators=tuple(indicators),
        bands=tuple(bands), inclusive=inclusive, ties=ties, places=places, classes_cite=classes_cite,
        notes=raw.get("notes"), digest=hashlib.sha256(_canonical_doc(raw).encode("utf-8")).hexdigest(), source=source)
    rs.population["cite"] = _cite(rs, population_cite)
    return rs


def load_file(path: Path) -> ScoringRuleSet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InputError([Problem("", f"YAML 无法解析 (not valid YAML): {e}")]) from None
    return validate(raw, source=path.name)


@cache
def bundled(root: Path = SCORING_DIR) -> tuple[dict[str, dict[str, ScoringRuleSet]], dict[str, str]]:
    """(id → version → rule set, file → problems) of the bundled files, validated once per process."""
    by_id: dict[str, dict[str, ScoringRuleSet]] = {}
    errors: dict[str, str] = {}
    for path in sorted(root.glob("*.yaml")):
        try:
            rs = load_file(path)
        except InputError as e:
            errors[path.name] = str(e)
            log.error("scoring rule set %s is invalid: %s", path.name, e)
            continue
        other = by_id.setdefault(rs.id, {}).get(rs.version)
        if other is not None and other.digest != rs.digest:
            errors[path.name] = f"{rs.id} {rs.version} is also in {other.source} with other content"
            continue
        by_id[rs.id][rs.version] = rs
    return by_id, errors


def _version_key(v: str) -> tuple:
    return tuple((0, int(x), "") if (x.isascii() and x.isdigit()) else (1, 0, x) for x in re.split(r"[.\-]", v))


def get_ruleset(rid: str, version: str | None = None) -> ScoringRuleSet:
    by_id, errors = bundled()
    if rid not in by_id:
        bad = [f"{f}: {e}" for f, e in errors.items() if Path(f).stem == rid]
        if bad:
            raise ScoringRuleSetInvalid(f"scoring rule set {rid!r} is invalid: {'; '.join(bad)}")
        known = ", ".join(sorted(by_id)) or "none"
        raise InputError([Problem("ruleset", f"未知的评价规则集 (unknown scoring rule set {rid!r}; known: {known})")])
    versions = by_id[rid]
    if version is None:
        return versions[max(versions, key=_version_key)]
    if version not in versions:
        known = ", ".join(sorted(versions, key=_version_key))
        raise InputError([Problem("ruleset_version", f"规则集 {rid} 没有版本 {version!r} (known: {known})")])
    return versions[version]


# ---------------------------------------------------------------- the request

@dataclass(frozen=True)
class Enterprise:
    index: int
    id: str
    name: str | None
    values: dict[str, Fraction | None]         # every indicator of the rule set; None = no data
    texts: dict[str, str | None]               # the same as exact decimal text


@dataclass(frozen=True)
class Request:
    ruleset: ScoringRuleSet
    year: int
    enterprises: tuple[Enterprise, ...]

    def normalised(self) -> dict:
        return {"ruleset": {"id": self.ruleset.id, "version": self.ruleset.version, "digest": self.ruleset.digest},
                "year": self.year,
                "enterprises": [{"id": e.id, "name": e.name, "values": e.texts} for e in self.enterprises]}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _value(raw: Any, ind: Indicator, path: str, p: list[Problem]) -> Fraction | None:
    """A bare number (in the rule set's unit) or {"value": …, "unit": …}; null = no data."""
    if raw is None:
        return None
    unit = None
    if isinstance(raw, dict):
        extra = set(raw) - {"value", "unit"}
        if extra or "value" not in raw:
            p.append(Problem(path, "应为数值、null 或 {\"value\": …, \"unit\": …}"))
            return None
        unit, raw = raw.get("unit"), raw["value"]
        if raw is None:
            return None
        if unit is not None and not isinstance(unit, str):
            p.append(Problem(f"{path}.unit", "单位应为字符串 (unit must be a string)"))
            return None
        path_v = f"{path}.value"
    else:
        path_v = path
    if isinstance(raw, float):             # a dict built in Python (JSON bodies give Decimal)
        raw = Decimal(repr(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        p.append(Problem(path_v, f"应为数值 (a number is required, got {type(raw).__name__})"))
        return None
    try:
        d = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        p.append(Problem(path_v, f"不是数值 (not a number: {raw!r})"))
        return None
    # Checked on the Decimal first: a value like 1e999999 never becomes a Fraction.
    if not d.is_finite():
        p.append(Problem(path_v, "应为有限数值 (NaN and infinities are refused)"))
        return None
    if d.copy_abs() > MAX_ABS_DEC:     # abs() rounds to the context and overflows on 1e999999999
        p.append(Problem(path_v, "数值过大 (absolute value above 10^12)"))
        return None
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp < -MAX_PLACES:
        p.append(Problem(path_v, f"小数位过多 (more than {MAX_PLACES} decimal places)"))
        return None
    if unit is None or unit.strip() in ("", ind.unit):
        if d < 0:
            p.append(Problem(path_v, f"不能为负数 (must be ≥ 0, got {format(d, 'f')})"))
            return None
        if ind.max_dec is not None and d > ind.max_dec:
            p.append(Problem(path_v, f"超出合理范围 (above the sanity bound {dec_str(ind.max)} {ind.unit})"))
            return None
        return Fraction(d)
    try:
        declared = units.lookup(ind.unit)
        v = units.to_canonical(Fraction(d), unit, declared.kind) / declared.factor
    except units.UnitError as e:
        p.append(Problem(f"{path}.unit", f"{e} (the rule set's unit for {ind.key} is {ind.unit!r})"))
        return None
    if v < 0:
        p.append(Problem(path_v, f"不能为负数 (must be ≥ 0, got {dec_str(v)})"))
        return None
    if ind.max is not None and v > ind.max:
        p.append(Problem(path_v, f"超出合理范围 (above the sanity bound {dec_str(ind.max)} {ind.unit} "
                                 f"after conversion: {dec_str(v)})"))
        return None
    return v


def parse_request(body: bytes | str | dict, ruleset: ScoringRuleSet | None = None) -> Request:
    """Validate a run request; every problem, with its path, in one InputError.  ``ruleset``,
    if given, is used instead of the bundled one the body names (tests, local files)."""
    if isinstance(body, bytes | str):
        try:
            raw = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as e:
            raise InputError([Problem("", f"请求体不是有效的 JSON (invalid JSON: {e})")]) from None
    else:
        raw = body
    if not isinstance(raw, dict):
        raise InputError([Problem("", "请求体应为 JSON 对象 (a JSON object is required)")])
    p: list[Problem] = []
    for k in sorted(set(raw) - {"ruleset", "ruleset_version", "year", "enterprises"}):
        p.append(Problem(k, f"未知字段 (unknown field {k!r})"))
    rid = raw.get("ruleset", DEFAULT_RULESET)
    version = raw.get("ruleset_version")
    rs = ruleset
    if rs is not None:
        pass
    elif not isinstance(rid, str):
        p.append(Problem("ruleset", "应为规则集 id 字符串"))
    elif version is not None and not isinstance(version, str):
        p.append(Problem("ruleset_version", "应为版本字符串，如 \"2022.1\""))
    else:
        try:
            rs = get_ruleset(rid, version)
        except InputError as e:
            p += e.problems
    year = raw.get("year")
    if type(year) is not int or not MIN_YEAR <= year <= MAX_YEAR:
        p.append(Problem("year", f"评价年度应为 {MIN_YEAR}–{MAX_YEAR} 的整数 (an integer year)"))
    ents = raw.get("enterprises")
    out: list[Enterprise] = []
    if not isinstance(ents, list):
        p.append(Problem("enterprises", "应为企业列表 (a list of enterprises)"))
        ents = []
    elif not ents:
        p.append(Problem("enterprises", "企业列表为空 (the population is empty)"))
    elif len(ents) > MAX_ENTERPRISES:
        p.append(Problem("enterprises", f"企业过多 (at most {MAX_ENTERPRISES:,} enterprises per run, got {len(ents):,})"))
        ents = []
    seen: dict[str, int] = {}
    for i, e in enumerate(ents):
        path = f"enterprises.{i}"
        if not isinstance(e, dict):
            p.append(Problem(path, "企业应为 JSON 对象 (an object: {id, name, values})"))
            continue
        for k in sorted(set(e) - {"id", "name", "values"}):
            p.append(Problem(f"{path}.{k}", f"未知字段 (unknown field {k!r})"))
        eid = e.get("id")
        if not isinstance(eid, str) or not eid.strip() or len(eid.strip()) > MAX_ID:
            p.append(Problem(f"{path}.id", f"应为 1–{MAX_ID} 个字符的标识（统一社会信用代码或名称）"))
            eid = None
        else:
            eid = eid.strip()
            first = seen.setdefault(eid, i)
            if first != i:
                p.append(Problem(f"{path}.id", f"企业重复 (duplicate id {eid!r}: same as enterprises.{first})"))
        name = e.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            p.append(Problem(f"{path}.name", f"名称应为不超过 {MAX_NAME} 个字符的字符串"))
            name = None
        vals = e.get("values")
        values: dict[str, Fraction | None] = {}
        if not isinstance(vals, dict):
            p.append(Problem(f"{path}.values", "应为 {指标: 数值} 对象 (an object of indicator values)"))
        elif rs is not None:
            by_key = rs.by_key
            for k in vals:
                if k not in by_key:
                    p.append(Problem(f"{path}.values.{k}",
                                     f"未知指标 (unknown indicator {k!r}; {rs.id} scores {', '.join(by_key)})"))
            values = {ind.key: _value(vals.get(ind.key), ind, f"{path}.values.{ind.key}", p) for ind in rs.indicators}
        if eid is not None:
            out.append(Enterprise(i, eid, name.strip() if isinstance(name, str) else None, values,
                                  {k: _dec(v) for k, v in values.items()}))
    if p:
        raise InputError(p)
    return Request(rs, year, tuple(out))


# ---------------------------------------------------------------- scoring (pure, exact)

@dataclass
class Sub:
    value: Fraction | None
    sub: Fraction | None
    status: str             # scored | capped | average | zero | excluded | missing
    note: str | None = None


@dataclass
class Result:
    ent: Enterprise
    subs: dict[str, Sub]
    exact: Fraction | None = None       # Σ sub-scores (rescaled if an indicator was excluded)
    score: Fraction | None = None       # as ranked: exact, or rounded as the rule set says
    weight_used: Fraction = HUNDRED
    missing: list[str] = field(default_factory=list)
    incomplete_because: list[str] = field(default_factory=list)
    rank: int | None = None
    percentile: Fraction | None = None
    cls: str | None = None


def _raw_sub(v: Fraction, ind: Indicator, factor: Fraction | None = None) -> tuple[Fraction, bool]:
    s = v * (factor if factor is not None else ind.weight / ind.benchmark)
    if ind.cap is not None and s > ind.cap:
        return ind.cap, True
    return s, False


def score_all(rs: ScoringRuleSet, enterprises: Iterable[Enterprise]) -> tuple[list[Result], dict]:
    """Sub-scores and scores of every enterprise (no ranks yet), and the average sub-score
    (with the number of enterprises it is taken over) of each indicator whose policy is ``average``."""
    ents = list(enterprises)
    factors = [(ind, ind.weight / ind.benchmark) for ind in rs.indicators]
    raw = [[None if (v := e.values.get(ind.key)) is None else _raw_sub(v, ind, f) for ind, f in factors] for e in ents]
    avg: dict[str, tuple[Fraction | None, int]] = {}
    for j, ind in enumerate(rs.indicators):
        if ind.missing == "average":
            subs = [row[j][0] for row in raw if row[j] is not None]
            avg[ind.key] = (sum(subs, Fraction(0)) / len(subs) if subs else None, len(subs))
    results = []
    for e, row in zip(ents, raw, strict=True):
        subs: dict[str, Sub] = {}
        r = Result(e, subs)
        total, used = Fraction(0), Fraction(0)
        for ind, got in zip(rs.indicators, row, strict=True):
            if got is not None:
                s, capped = got
                subs[ind.key] = Sub(e.values[ind.key], s, "capped" if capped else "scored",
                                    f"封顶 {dec_str(ind.cap)} 分 (capped)" if capped else None)
            else:
                r.missing.append(ind.key)
                policy = ind.missing
                if policy == "average":
                    a, n = avg[ind.key]
                    if a is None:
                        subs[ind.key] = Sub(None, None, "missing", "无数据，且总体中无企业有该项数据，平均分无从计算 "
                                                                   "(no enterprise has data: no average)")
                        r.incomplete_because.append(ind.key)
                        continue
                    subs[ind.key] = Sub(None, a, "average", f"无数据：取总体 {n} 家有数据企业的平均单项得分 "
                                                            f"(average sub-score of the {n} enterprises with data)")
                elif policy == "zero":
                    subs[ind.key] = Sub(None, Fraction(0), "zero", POLICIES["zero"])
                elif policy == "exclude_and_reweight":
                    subs[ind.key] = Sub(None, None, "excluded", POLICIES["exclude_and_reweight"])
                    continue
                else:
                    subs[ind.key] = Sub(None, None, "missing", POLICIES["incomplete"])
                    r.incomplete_because.append(ind.key)
                    continue
            total += subs[ind.key].sub
            used += ind.weight
        r.weight_used = used
        if not r.incomplete_because:
            if used == 0:
                r.incomplete_because = list(r.missing)
            else:
                r.exact = total if used == HUNDRED else total * HUNDRED / used
                r.score = r.exact if rs.places is None else round_half_up(r.exact, rs.places)
        results.append(r)
    return results, avg


def rank(rs: ScoringRuleSet, results: list[Result]) -> int:
    """Ranks and percentiles of the scored results (in place); returns N, the number ranked.

    Sorted on exact integer keys (each score over the common denominator of all scores),
    which compare much faster than fractions and are equal exactly when the scores are."""
    scored = [r for r in results if r.score is not None]
    common = math.lcm(*(r.score.denominator for r in scored)) if scored else 1
    keys = {id(r): r.score.numerator * (common // r.score.denominator) for r in scored}
    scored.sort(key=lambda r: keys[id(r)], reverse=True)
    n = len(scored)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and keys[id(scored[j + 1])] == keys[id(scored[i])]:
            j += 1
        rk = i + 1 if rs.ties == "better_rank" else j + 1
        pct = Fraction(rk * 100, n)
        for r in scored[i:j + 1]:
            r.rank, r.percentile = rk, pct
        i = j + 1
    return n


def class_of(rs: ScoringRuleSet, pct: Fraction) -> str:
    """The plain comparison: the first band whose upper bound the percentile does not exceed."""
    last = len(rs.bands) - 1
    for k, b in enumerate(rs.bands):
        if pct <= b.to_pct if (rs.inclusive or k == last) else pct < b.to_pct:
            return b.cls
    raise ValueError(f"percentile {pct} above 100")


@cache
def _band_program(bands: tuple[Band, ...], inclusive: bool) -> prog.Program:
    last = len(bands) - 1
    return prog.build([(f"p{j}", "<=" if inclusive or k == last else "<", b.to_pct)
                       for j in range(CHUNK) for k, b in enumerate(bands)])


def classify(rs: ScoringRuleSet, percentiles: Iterable[Fraction], engine: Engine) -> dict[Fraction, str]:
    """Class of each distinct percentile, decided by the rule engine (CHUNK per evaluation)."""
    program = _band_program(rs.bands, rs.inclusive)
    nb = len(rs.bands)
    todo = list(dict.fromkeys(percentiles))
    out: dict[Fraction, str] = {}
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        # Padding slots get 0, which every band's upper bound (> 0) admits: no action fires for them.
        values = {f"p{j}": chunk[j] if j < len(chunk) else Fraction(0) for j in range(CHUNK)}
        outcomes = engine.evaluate(program, values)
        for j, pct in enumerate(chunk):
            got = next((rs.bands[k].cls for k in range(nb) if outcomes[f"c{j * nb + k}"] == prog.PASS), None)
            want = class_of(rs, pct)
            if got != want:
                raise EngineError(f"class of percentile {pct}: engine {got!r}, plain comparison {want!r}")
            out[pct] = got
    return out


def evaluate(req: Request, engine: Engine) -> dict:
    """Score, rank and classify; the run document (no ids, no storage)."""
    rs = req.ruleset
    results, avg = score_all(rs, req.enterprises)
    n = rank(rs, results)
    classes = classify(rs, (r.percentile for r in results if r.percentile is not None), engine)
    for r in results:
        if r.percentile is not None:
            r.cls = classes[r.percentile]
    order = sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.ent.index))
    labels = {b.cls: b.label for b in rs.bands}
    fixed = {i.key: (_dec(i.benchmark), _dec(i.weight)) for i in rs.indicators}
    counts = {b.cls: 0 for b in rs.bands}
    for r in results:
        if r.cls is not None:
            counts[r.cls] += 1
    incomplete = len(results) - n
    desc = rs.describe()
    for item in desc["indicators"]:
        if item["key"] in avg:
            a, k = avg[item["key"]]
            item["average_sub_score"], item["average_over"] = dec_str(a), k
    notes = []
    if rs.status == "example":
        notes.append(f"评价规则集 {rs.id} {rs.version} 为示例数据（status: example），未经官方核实，不能作为正式评价依据。")
    if incomplete:
        notes.append(f"{incomplete} 家企业数据不全，未计分、未排名；排名百分比按已计分的 {n} 家计算。")
    return {
        "kind": "scoring",
        "verdict": "complete" if incomplete == 0 else "incomplete",
        "year": req.year,
        "ruleset": desc,
        "request_digest": hashlib.sha256(decisions.canonical(req.normalised()).encode("utf-8")).hexdigest(),
        "counts": {"enterprises": len(results), "scored": n, "incomplete": incomplete},
        "class_counts": counts,
        "results": [_result_dict(r, rs, fixed, labels, n) for r in order],
        "notes": notes,
        "engine": {"name": engine.name, "version": engine.version},
    }


def _result_dict(r: Result, rs: ScoringRuleSet, fixed: Mapping[str, tuple[str, str]], labels: Mapping[str, str | None],
                 n: int) -> dict:
    subs = {}
    texts = r.ent.texts
    for ind in rs.indicators:
        s = r.subs[ind.key]
        bench, weight = fixed[ind.key]
        subs[ind.key] = {"value": texts[ind.key], "benchmark": bench, "weight": weight, "sub_score": _dec(s.sub),
                         "status": s.status, "note": s.note}
    out = {"index": r.ent.index, "id": r.ent.id, "name": r.ent.name, "complete": r.score is not None,
           "score": _dec(r.score) if rs.places is None else dec_str(r.score, rs.places), "weight_used": _dec(r.weight_used),
           "rank": r.rank, "rank_of": n if r.rank is not None else None, "percentile": _dec(r.percentile),
           "class": r.cls, "class_label": labels.get(r.cls) if r.cls else None,
           "missing": r.missing, "incomplete_because": r.incomplete_because, "sub_scores": subs}
    if rs.places is not None:
        out["score_unrounded"] = _dec(r.exact)
    return out


# ---------------------------------------------------------------- storage

def run(session: Session, req: Request, engine: Engine) -> str:
    """Evaluate and store: the ``scoring_run`` row and its decision, in one transaction.
    Returns the stored document as JSON text, with ``decision_id``."""
    doc = evaluate(req, engine)
    run_id = str(uuid.uuid4())
    created = clock.utcnow()
    doc = {"run_id": run_id, "created_at": created.isoformat(timespec="microseconds"), **doc}
    text = decisions.canonical(doc)
    record = {"kind": "scoring", "verdict": doc["verdict"], "run_id": run_id, "year": req.year,
              "ruleset": req.ruleset.summary(), "example": req.ruleset.status == "example",
              "counts": doc["counts"], "class_counts": doc["class_counts"], "request_digest": doc["request_digest"],
              "document_digest": hashlib.sha256(text.encode("utf-8")).hexdigest(),
              "engine": engine.name, "engine_version": engine.version}
    row = {"id": run_id, "ruleset_id": req.ruleset.id, "ruleset_digest": req.ruleset.digest, "year": req.year,
           "created_at": created, "document": text}

    def add_run(conn: Any, stored: list[dict]) -> None:
        # In the decision's own transaction: the run and its decision are stored together.
        conn.execute(insert(ScoringRun.__table__).values(**row, decision_id=stored[0]["decision_id"]))

    stored = decisions.append(session, [record], also=add_run)[0]
    return _with_decision(text, stored["decision_id"])


def _with_decision(text: str, decision_id: str | None) -> str:
    return '{"decision_id":' + json.dumps(decision_id) + "," + text[1:]


def get_run(session: Session, run_id: str) -> str:
    row = session.get(ScoringRun, run_id)
    if row is None:
        raise NotFound(f"scoring run {run_id} not found")
    return _with_decision(row.document, row.decision_id)


def table(doc: dict) -> dict:
    """A run as one flat table (for spreadsheets): ``columns`` and ``rows``, one row per
    enterprise in rank order, every sub-score in its own columns; numbers as decimal text."""
    keys = [i["key"] for i in doc["ruleset"]["indicators"]]
    columns = ["rank", "percentile", "class", "class_label", "id", "name", "score", "complete", "missing", "weight_used"]
    for k in keys:
        columns += [f"{k}.value", f"{k}.sub_score", f"{k}.status"]
    rows = []
    for r in doc["results"]:
        row = [r["rank"], r["percentile"], r["class"], r["class_label"], r["id"], r["name"], r["score"], r["complete"],
               ",".join(r["missing"]), r["weight_used"]]
        for k in keys:
            s = r["sub_scores"][k]
            row += [s["value"], s["sub_score"], s["status"]]
        rows.append(row)
    return {"run_id": doc.get("run_id"), "year": doc.get("year"),
            "ruleset": {k: doc["ruleset"][k] for k in ("id", "version", "digest", "status")},
            "indicators": [{k: i[k] for k in ("key", "label", "unit", "weight", "benchmark")}
                           for i in doc["ruleset"]["indicators"]],
            "columns": columns, "rows": rows}
