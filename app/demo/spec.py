"""The demo's spec (parcels, years, seed, last year), its constants and the generated data set."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from app.core.errors import Problem

DEMO_NAME = "示例园区（合成数据）"
JURISDICTION = "411202"                     # 河南省三门峡市湖滨区
LOW_RS = "henan-park-low-efficiency-example"
TAX_RS = "sanmenxia-standard-land"          # in force from 2021-02-10
NATIONAL_RS = "national-2008"               # contracts signed before the Sanmenxia rule set
SANMENXIA_FROM = dt.date(2021, 2, 10)
TARGET_TAX_PER_MU = 15
TARGET_SOURCE = ("三政办〔2021〕5号 一（二）工作目标：3—5 年内产业集聚区工业用地亩均税收达到 15 万元（园区目标；"
                 "依据豫政办〔2020〕43号“百园增效”行动，http://kbm75.com/xy/hn/987976.html）；示例园区套用")
M2_PER_MU = Decimal(10000) / Decimal(15)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # no I, O, S, V, Z
INDUSTRIES = ("38", "34", "39", "32", "26", "35")

SHARES = (("approved_unsupplied", Decimal("0.08")), ("idle", Decimal("0.06")), ("government", Decimal("0.02")),
          ("stalled", Decimal("0.03")), ("suspended", Decimal("0.03")), ("overdue", Decimal("0.02")),
          ("construction", Decimal("0.08")), ("warehouse", Decimal("0.03")), ("allocated", Decimal("0.03")))
KINDS = {
    "approved_unsupplied": "已批未供",
    "idle": "未动工满一年（企业原因）",
    "government": "政府原因未动工（迟延交地）",
    "stalled": "开工后停建满一年且开发不足三分之一",
    "suspended": "停建缓建满 12 个月（开发已过三分之一，不属闲置）",
    "stopped": "竣工投产后停产满 12 个月",
    "overdue": "超过约定竣工日期两年未竣工",
    "construction": "在建（未到竣工期限）",
    "warehouse": "仓储用地（已竣工）",
    "allocated": "划拨用地",
    "completed": "已竣工投产",
}
WITH_CONTRACT = frozenset(KINDS) - {"approved_unsupplied", "allocated"}
OPERATING = frozenset({"completed", "warehouse", "stalled", "suspended", "stopped", "overdue"})   # file tax
STOPPED_SHARE = Decimal("0.03")
MIN_PARCELS, MAX_PARCELS = 20, 20_000


# =========================================================================== the spec

@dataclass(frozen=True)
class Spec:
    parcels: int = 300
    years: int = 5
    seed: int = 1
    last_year: int = 2025

    def problems(self) -> list[Problem]:
        out = []
        if not MIN_PARCELS <= self.parcels <= MAX_PARCELS:
            out.append(Problem("parcels", f"宗地数应在 {MIN_PARCELS}–{MAX_PARCELS} 之间"))
        if not 1 <= self.years <= 20:
            out.append(Problem("years", "年数应在 1–20 之间"))
        if not 2022 <= self.last_year <= 2100:
            out.append(Problem("last_year", "最后年度应在 2022–2100 之间（三门峡规则集 2021-02-10 起施行）"))
        if not 0 <= self.seed < 10**9:
            out.append(Problem("seed", "seed 应在 0–999999999 之间"))
        return out

    @property
    def key(self) -> str:
        return f"standard-land-demo:{self.seed}:{self.parcels}:{self.years}:{self.last_year}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def park_id(self) -> str:
        return f"demo-s{self.seed}-n{self.parcels}-y{self.years}-{self.last_year}"

    @property
    def first_year(self) -> int:
        return self.last_year - self.years + 1

    @property
    def tax_years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def as_of(self) -> dt.date:
        """The demo's reference date: 31 December of the last year."""
        return dt.date(self.last_year, 12, 31)


@dataclass
class Demo:
    """The generated raw data: plain request dicts, as a client would post them."""

    spec: Spec
    park: dict
    parcels: list[dict]                          # ParcelIn
    contracts: list[dict]                        # ContractRequest
    events: dict[str, list[dict]]                # contract_no → events (EventBatch items)
    tax_batches: list[dict]                      # {"batch_id", "records"} as posted to /v1/tax-records
    plans: dict[str, list[dict]]                 # parcel code → plan versions (PlanIn), oldest first
    kinds: dict[str, str]                        # parcel code → kind (see KINDS)
    enterprises: dict[str, dict]                 # uscc → {"name", "profile", "parcels": [codes]}
    scoring: dict = field(default_factory=dict)  # the scoring request body (POST /v1/scoring/runs)

    @property
    def park_id(self) -> str:
        return self.spec.park_id

    def counts(self) -> dict:
        by_kind: dict[str, int] = {}
        for k in self.kinds.values():
            by_kind[k] = by_kind.get(k, 0) + 1
        return {"parcels": len(self.parcels), "by_kind": dict(sorted(by_kind.items())),
                "contracts": len(self.contracts), "events": sum(len(v) for v in self.events.values()),
                "enterprises": len(self.enterprises), "tax_batches": len(self.tax_batches),
                "tax_records": sum(len(b["records"]) for b in self.tax_batches),
                "plans": len(self.plans), "plan_versions": sum(len(v) for v in self.plans.values()),
                "scoring_enterprises": len(self.scoring.get("enterprises", []))}
