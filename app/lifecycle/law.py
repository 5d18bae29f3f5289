"""Legal data for the lifecycle: contract models (rules/contract-models/*.yaml) and the
idle-land rules of 53号令 (rules/lifecycle/idle-land-53.yaml).  Data, not code."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import yaml

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

    def cite(self, entry: dict) -> dict:
        doc = self.documents.get(entry.get("doc"), {})
        return {"doc": entry.get("doc"), "article": entry.get("article"), "title": doc.get("title"),
                "number": doc.get("number"), "url": doc.get("url")}


@cache
def contract_models() -> dict[str, ContractModel]:
    out = {}
    for path in sorted((RULES_DIR / "contract-models").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[raw["id"]] = ContractModel(raw["id"], raw["title"], raw["status"], raw["documents"],
                                       raw.get("required", {}), raw.get("limits", {}),
                                       raw.get("late_completion_base", "total_price"))
    return out


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

    def disposal(self, measure: str) -> dict:
        return next(o for o in self.disposal_options if o["measure"] == measure)

    def cite(self, article: str) -> dict:
        doc = self.documents["mlr-53"]
        return {"doc": "mlr-53", "article": article, "title": doc["title"], "number": doc["number"], "url": doc["url"]}


@cache
def idle_land_law() -> IdleLandLaw:
    raw = yaml.safe_load((RULES_DIR / "lifecycle" / "idle-land-53.yaml").read_text(encoding="utf-8"))
    return IdleLandLaw(
        id=raw["id"], title=raw["title"], documents=raw["documents"],
        idle_fee_after_years=int(raw["idle_fee_after_years"]), reclaim_after_years=int(raw["reclaim_after_years"]),
        idle_fee_share_of_price=Fraction(raw["idle_fee_share_of_price"]),
        stalled_suspended_years=int(raw["stalled_suspended_years"]),
        stalled_developed_share=Fraction(raw["stalled_developed_share"]),
        stalled_invested_share=Fraction(raw["stalled_invested_share"]),
        invested_excludes_land_price=bool(raw["invested_excludes_land_price"]),
        government_causes=tuple(raw["government_causes"]),
        government_cause_labels=dict(raw["government_cause_labels"]),
        disposal_options=tuple(dict(o) for o in raw["disposal_options"]),
    )
