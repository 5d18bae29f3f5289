"""Legal data for the lifecycle: contract models (rules/contract-models/*.yaml) and the
idle-land rules of 53号令 (rules/lifecycle/idle-land-53.yaml).  Data, not code.

Both are dated, versioned documents (docs/law-documents.md).  ``parse_contract_model`` and
``parse_idle_land_law`` turn a document into the object the lifecycle uses, or raise
``InputError`` with the path of every problem; the law-document store (``app.checks.law``)
calls them when a document is published, and ``contract_models`` / ``idle_land_law`` read the
bundled files with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import yaml

from app.core.errors import InputError, Problem
from rules import RULES_DIR


@dataclass(frozen=True)
class ContractModel:
    id: str
    title: str
    status: str
    documents: dict
    required: dict          # dotted field → {article, doc}
    limits: dict            # dotted field → {op, value, article, doc}
    late_completion_base: str
    version: str = ""
    effective_from: dt.date | None = None

    def cite(self, entry: dict) -> dict:
        doc = self.documents.get(entry.get("doc"), {})
        return {"doc": entry.get("doc"), "article": entry.get("article"), "title": doc.get("title"),
                "number": doc.get("number"), "url": doc.get("url")}


@dataclass(frozen=True)
class IdleLandLaw:
    id: str
    title: str
    documents: dict
    idle_fee_after_years: int
    reclaim_after_years: int
    idle_fee_share_of_price: Fraction
    stalled_suspended_years: int
    stalled_developed_share: Fraction
    stalled_invested_share: Fraction
    invested_excludes_land_price: bool
    government_causes: tuple[str, ...]
    government_cause_labels: dict
    disposal_options: tuple[dict, ...]          # Art. 12: measure, proposal, article, label, cap_years
    version: str = ""
    effective_from: dt.date | None = None

    def disposal(self, measure: str) -> dict:
        return next(o for o in self.disposal_options if o["measure"] == measure)

    def cite(self, article: str) -> dict:
        doc = self.documents["mlr-53"]
        return {"doc": "mlr-53", "article": article, "title": doc["title"], "number": doc["number"], "url": doc["url"]}


# ---------------------------------------------------------------- parsing and validation

# The id of the 53号令 parameter document (rules/lifecycle/idle-land-53.yaml): the audits resolve it by date.
IDLE_LAND_ID = "idle-land-53"
COMPARISONS = (">=", "<=")
LATE_COMPLETION_BASES = ("total_price", "uncompleted_floor_share")
DISPOSAL_MEASURES = ("extend_start", "change_use_or_planning", "temporary_use", "negotiated_paid_reclaim", "swap")


class _Reader:
    """Collects every problem of a document with its path."""

    def __init__(self, raw: Any) -> None:
        self.problems: list[Problem] = []
        if not isinstance(raw, dict):
            self.problems.append(Problem("", "文档应为映射 (the document must be a mapping)"))
            raw = {}
        self.raw = raw

    def bad(self, path: str, msg: str) -> None:
        self.problems.append(Problem(path, msg))

    def text(self, key: str, *, optional: bool = False) -> str | None:
        v = self.raw.get(key)
        if v is None and optional:
            return None
        if not isinstance(v, str) or not v.strip():
            self.bad(key, "必填，应为非空文本 (required text)")
            return None
        return v

    def mapping(self, key: str, *, optional: bool = False) -> dict:
        v = self.raw.get(key)
        if v is None and optional:
            return {}
        if not isinstance(v, dict):
            self.bad(key, "应为映射 (must be a mapping)")
            return {}
        return v

    def date(self, key: str) -> dt.date | None:
        v = self.raw.get(key)
        if isinstance(v, str):
            try:
                v = dt.date.fromisoformat(v)
            except ValueError:
                pass
        if not isinstance(v, dt.date) or isinstance(v, dt.datetime):
            self.bad(key, "应为日期 YYYY-MM-DD (must be a date)")
            return None
        return v

    def whole(self, key: str, lo: int = 0, hi: int = 100) -> int:
        v = self.raw.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.bad(key, f"应为 {lo}–{hi} 的整数 (an integer from {lo} to {hi})")
            return 0
        return v

    def share(self, key: str) -> Fraction:
        """An exact share in (0, 1], written as text ("0.2", "1/3") or an integer: never a float."""
        v = self.raw.get(key)
        try:
            if isinstance(v, bool) or not isinstance(v, str | int):
                raise ValueError
            f = Fraction(v.strip() if isinstance(v, str) else v)
        except (ValueError, ZeroDivisionError):
            self.bad(key, '应为精确比例文本，如 "0.2" 或 "1/3" (an exact share as text)')
            return Fraction(0)
        if not 0 < f <= 1:
            self.bad(key, "比例应大于 0 且不超过 1 (a share in (0, 1])")
        return f

    def flag(self, key: str) -> bool:
        v = self.raw.get(key)
        if not isinstance(v, bool):
            self.bad(key, "应为 true 或 false (must be a boolean)")
            return False
        return v

    def common(self) -> dict:
        """The fields every law document has (the store checks them too: a parser run alone checks them)."""
        out = {"id": self.text("id"), "title": self.text("title"), "version": self.text("version"),
               "effective_from": self.date("effective_from")}
        version = self.raw.get("version")
        if isinstance(version, int | float) and not isinstance(version, bool):
            self.problems.pop()          # the "required text" just reported: say what is wrong instead
            self.bad("version", '版本号应为文本，如 "2008.1"（加引号）(the version must be text, quoted)')
        if self.raw.get("status") not in ("example", "official"):
            self.bad("status", "应为 example 或 official")
        return out

    def documents(self) -> dict:
        docs = self.mapping("documents")
        for key, d in docs.items():
            if not isinstance(d, dict) or not isinstance(d.get("title"), str):
                self.bad(f"documents.{key}.title", "每个引用文件须有标题 (every cited document needs a title)")
        return docs

    def done(self) -> None:
        if self.problems:
            raise InputError(self.problems)


def parse_contract_model(raw: Any) -> ContractModel:
    """A contract-model document → ``ContractModel``; ``InputError`` with paths when it is not one."""
    r = _Reader(raw)
    head = r.common()
    docs = r.documents()
    required = r.mapping("required", optional=True)
    limits = r.mapping("limits", optional=True)
    for field, entry in required.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("article"), str):
            r.bad(f"required.{field}.article", "须写明条款 (the article is required)")
        elif entry.get("doc") not in docs:
            r.bad(f"required.{field}.doc", f"引用的文件 {entry.get('doc')!r} 不在 documents 中")
    for field, lim in limits.items():
        if not isinstance(lim, dict):
            r.bad(f"limits.{field}", "应为映射 (must be a mapping)")
            continue
        if lim.get("op") not in COMPARISONS:
            r.bad(f"limits.{field}.op", f"应为 {' 或 '.join(COMPARISONS)}")
        v = lim.get("value")
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            r.bad(f"limits.{field}.value", "应为非负数 (a non-negative number)")
        if not isinstance(lim.get("article"), str):
            r.bad(f"limits.{field}.article", "须写明条款 (the article is required)")
        if lim.get("doc") not in docs:
            r.bad(f"limits.{field}.doc", f"引用的文件 {lim.get('doc')!r} 不在 documents 中")
    base = raw.get("late_completion_base", "total_price") if isinstance(raw, dict) else None
    if base not in LATE_COMPLETION_BASES:
        r.bad("late_completion_base", f"应为 {' 或 '.join(LATE_COMPLETION_BASES)}")
    r.done()
    return ContractModel(head["id"], head["title"], raw["status"], docs, required, limits, base,
                         version=head["version"], effective_from=head["effective_from"])


def parse_idle_land_law(raw: Any) -> IdleLandLaw:
    """A 53号令 parameter document → ``IdleLandLaw``; ``InputError`` with paths when it is not one."""
    r = _Reader(raw)
    head = r.common()
    docs = r.documents()
    if "mlr-53" not in docs:
        r.bad("documents.mlr-53", "须包含 53号令本身（键 mlr-53），认定结论引用它")
    fee_years, reclaim_years = r.whole("idle_fee_after_years", 1, 10), r.whole("reclaim_after_years", 1, 10)
    if fee_years and reclaim_years and reclaim_years <= fee_years:
        r.bad("reclaim_after_years", "无偿收回的年限应长于征收闲置费的年限")
    causes = raw.get("government_causes") if isinstance(raw, dict) else None
    if not isinstance(causes, list) or not causes or not all(isinstance(c, str) for c in causes):
        r.bad("government_causes", "应为非空文本列表 (a non-empty list of cause keys)")
        causes = []
    labels = r.mapping("government_cause_labels")
    for c in causes:
        if not isinstance(labels.get(c), str):
            r.bad(f"government_cause_labels.{c}", "每个原因须有中文说明")
    options = raw.get("disposal_options") if isinstance(raw, dict) else None
    if not isinstance(options, list):
        r.bad("disposal_options", "应为列表 (a list)")
        options = []
    for i, o in enumerate(options):
        if not isinstance(o, dict):
            r.bad(f"disposal_options.{i}", "应为映射 (must be a mapping)")
            continue
        for k in ("measure", "proposal", "article", "label"):
            if not isinstance(o.get(k), str):
                r.bad(f"disposal_options.{i}.{k}", "必填文本 (required text)")
        cap = o.get("cap_years")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0):
            r.bad(f"disposal_options.{i}.cap_years", "应为正整数 (a positive integer)")
    measures = [o.get("measure") for o in options if isinstance(o, dict)]
    ext = next((o for o in options if isinstance(o, dict) and o.get("measure") == "extend_start"), None)
    if ext is None or not isinstance(ext.get("cap_years"), int):
        r.bad("disposal_options", "须包含 extend_start（第十二条（一））及其 cap_years：延期申请按它核对")
    if len(set(measures)) != len(measures):
        r.bad("disposal_options", "处置方式重复 (a measure appears twice)")
    law = IdleLandLaw(
        id=head["id"], title=head["title"], documents=docs,
        idle_fee_after_years=fee_years, reclaim_after_years=reclaim_years,
        idle_fee_share_of_price=r.share("idle_fee_share_of_price"),
        stalled_suspended_years=r.whole("stalled_suspended_years", 1, 10),
        stalled_developed_share=r.share("stalled_developed_share"),
        stalled_invested_share=r.share("stalled_invested_share"),
        invested_excludes_land_price=r.flag("invested_excludes_land_price"),
        government_causes=tuple(causes), government_cause_labels=dict(labels),
        disposal_options=tuple(dict(o) for o in options if isinstance(o, dict)),
        version=head["version"], effective_from=head["effective_from"],
    )
    r.done()
    return law


# ---------------------------------------------------------------- the bundled documents

def _bundled(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def contract_models() -> dict[str, ContractModel]:
    """The bundled contract models by id (the latest file of each)."""
    out = {}
    for path in sorted((RULES_DIR / "contract-models").glob("*.yaml")):
        m = parse_contract_model(_bundled(path))
        out[m.id] = m
    return out


@cache
def idle_land_law() -> IdleLandLaw:
    """The bundled 53号令 parameters."""
    return parse_idle_land_law(_bundled(RULES_DIR / "lifecycle" / "idle-land-53.yaml"))
