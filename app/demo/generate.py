"""The demo data set: ``generate(spec)``, a pure function of the spec (same spec, same data)."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from app.checks import tax_per_mu as taxmu
from app.core.errors import InputError
from app.demo.spec import (
    DEMO_NAME,
    INDUSTRIES,
    JURISDICTION,
    LOW_RS,
    M2_PER_MU,
    NATIONAL_RS,
    OPERATING,
    SANMENXIA_FROM,
    SHARES,
    STOPPED_SHARE,
    TARGET_SOURCE,
    TARGET_TAX_PER_MU,
    TAX_RS,
    USCC_CHARS,
    Demo,
    Spec,
)
from app.lifecycle.periods import add_months
from indicators.identifiers import synthetic_uscc


def _q(x: float | Decimal, places: int = 2) -> Decimal:
    return Decimal(repr(x) if isinstance(x, float) else x).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _t(x: Decimal) -> str:
    """Decimal text without trailing zeros (the form the service stores)."""
    s = format(x.normalize(), "f")
    return "0" if s in ("-0", "") else s


def _day(rng: random.Random, a: dt.date, b: dt.date) -> dt.date:
    return a + dt.timedelta(days=rng.randint(0, max(0, (b - a).days)))


def _b31(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 31)
        out = USCC_CHARS[r] + out
    return out


def _counts(n: int) -> list[str]:
    kinds: list[str] = []
    for kind, share in SHARES:
        kinds += [kind] * max(1, int((share * n).to_integral_value(ROUND_HALF_UP)))
    return kinds + ["completed"] * (n - len(kinds))


def _contract(spec: Spec, i: int, code: str, tag: str, ent: dict, area: Decimal, signed: dt.date,
              schedule: dict[str, dt.date], rng: random.Random) -> dict:
    price = _q(area * _q(rng.uniform(15, 40)))
    return {
        "contract_no": f"DEMO-{tag}-{i:05d}",
        "model": "GF-2008-2601",
        "supervision_no": f"{JURISDICTION}{signed.year}B{i:05d}",
        "parcel_code": code,
        "transferee": {"name": ent["name"], "uscc": ent["uscc"]},
        "jurisdiction": JURISDICTION,
        "ruleset": TAX_RS if signed >= SANMENXIA_FROM else NATIONAL_RS,
        "industry": {"code": rng.choice(INDUSTRIES), "classification": "GB/T 4754-2017"},
        "signed_on": signed.isoformat(),
        "land_area": {"value": _t(area), "unit": "亩"},
        "land_price": {"value": _t(price), "unit": "万元"},
        "commitments": {
            "fixed_asset_investment": {"value": _t(_q(area * 300)), "unit": "万元"},
            "investment_intensity": {"value": "300", "unit": "万元/亩"},
            "plot_ratio": {"min": "1.2", "max": "2.0"},
            "building_coefficient": {"min": "40", "unit": "%"},
            "admin_land_share": {"max": "7", "unit": "%"},
            "green_ratio": {"max": "15", "unit": "%"},
            "tax_per_mu": {"value": "15", "unit": "万元/亩", "from_year": schedule["complete_by"].year + 1},
        },
        "schedule": {k: v.isoformat() for k, v in schedule.items()},
        "penalties": {"late_payment_permille": "1", "late_start_permille": "1", "late_completion_permille": "0.5",
                      "over_limit_permille": "5", "late_delivery_permille": "1", "shortfall_aggregate": "max",
                      "tax_shortfall": "pay_difference"},
        "clauses": {"extension_notice_days": 30, "extension_max_years": "1"},
    }


def _wan(x: Decimal) -> dict:
    return {"value": _t(x), "unit": "万元"}


def _mu(x: Decimal) -> dict:
    return {"value": _t(x), "unit": "亩"}


def _m2(x: Decimal) -> dict:
    return {"value": _t(_q(x)), "unit": "m2"}


def _progress(on: dt.date, area: Decimal, total: Decimal, developed: float, invested: float,
              suspended_since: dt.date | None = None) -> dict:
    ev = {"type": "progress", "on": on.isoformat(), "developed_area": _mu(_q(area * _q(developed, 4))),
          "area_to_develop": _mu(area), "invested": _wan(_q(total * _q(invested, 4))), "total_investment": _wan(total)}
    if suspended_since is not None:
        ev["suspended_since"] = suspended_since.isoformat()
    return ev


def _contract_no_of(contracts: list[dict], code: str) -> str:
    return next(c["contract_no"] for c in contracts if c["parcel_code"] == code)


def _uscc_of(contracts: list[dict], code: str) -> str:
    return next(c["transferee"]["uscc"] for c in contracts if c["parcel_code"] == code)


def generate(spec: Spec | None = None) -> Demo:
    """The demo data set for ``spec``: a pure function of it (same spec, same data)."""
    spec = spec or Spec()
    if spec.problems():
        raise InputError(spec.problems())
    rng = random.Random(spec.key)
    h = spec.digest
    tag = h[:6].upper()
    zone = f"9{int(h[6:10], 16) % 100:02d}{int(h[10:14], 16) % 1000:03d}"     # 地籍区 9xx + 地籍子区
    org_tag = _b31(int(h[14:22], 16), 4)
    Y, F = spec.last_year, spec.first_year
    kinds = _counts(spec.parcels)
    rng.shuffle(kinds)

    parcels, contracts, events, kind_of = [], [], {}, {}
    enterprises: dict[str, dict] = {}
    completed_solo: list[str] = []               # enterprises with one completed parcel (may take a second)
    info: dict[str, dict] = {}                   # code → dates and figures the tax generation needs

    def new_enterprise(profile: str) -> dict:
        n = len(enterprises) + 1
        uscc = synthetic_uscc(region=JURISDICTION, org8="D" + org_tag + _b31(n, 3))
        ent = {"uscc": uscc, "name": f"示例{n:04d}号制造有限公司（合成）", "profile": profile, "parcels": []}
        enterprises[uscc] = ent
        return ent

    for i, kind in enumerate(kinds, start=1):
        code = f"{JURISDICTION}{zone}GB{i:05d}"
        kind_of[code] = kind
        area = _q(rng.uniform(8, 120))
        parcel: dict[str, Any] = {"code": code, "park": spec.park_id, "area": _mu(area),
                                  "location": f"示例园区 {i} 号地块（虚构）"}
        if kind == "approved_unsupplied":
            approved = _day(rng, dt.date(Y - 5, 1, 1), dt.date(Y - 1, 6, 30))
            parcel.update(supply_status="approved_unsupplied", use="industrial",
                          approval={"document": f"豫政土〔{approved.year}〕{i}号（示例）", "date": approved.isoformat()})
            parcels.append(parcel)
            continue
        if kind == "allocated":
            parcel.update(supply_status="allocated", use="other",
                          supplied_on=_day(rng, dt.date(F - 2, 1, 1), dt.date(Y - 1, 12, 31)).isoformat())
            parcels.append(parcel)
            continue

        # a contract: who, when
        if kind == "completed" and completed_solo and rng.random() < 0.07:
            ent = enterprises[completed_solo.pop(rng.randrange(len(completed_solo)))]
        else:
            profile = {"completed": "low" if rng.random() < 0.12 else "normal", "warehouse": "warehouse"}.get(kind, "weak")
            ent = new_enterprise(profile)
            if kind == "completed":
                completed_solo.append(ent["uscc"])
        ent["parcels"].append(code)
        window = {"completed": (dt.date(F - 2, 1, 1), dt.date(Y - 2, 6, 30)),
                  "warehouse": (dt.date(F - 2, 1, 1), dt.date(Y - 2, 6, 30)),
                  "construction": (dt.date(Y - 1, 1, 1), dt.date(Y, 3, 31)),
                  "idle": (dt.date(Y - 3, 1, 1), dt.date(Y - 2, 6, 30)),
                  "government": (dt.date(Y - 3, 1, 1), dt.date(Y - 2, 6, 30)),
                  "stalled": (dt.date(Y - 4, 1, 1), dt.date(Y - 3, 6, 30)),
                  "suspended": (dt.date(Y - 4, 1, 1), dt.date(Y - 3, 6, 30)),
                  "overdue": (dt.date(Y - 6, 1, 1), dt.date(Y - 5, 6, 30))}[kind]
        signed = _day(rng, *window)
        delivery = signed + dt.timedelta(days=rng.randint(15, 45))
        start_by = add_months(signed, 6)
        complete_by = add_months(start_by, 18)
        schedule = {"delivery_on": delivery, "start_by": start_by, "complete_by": complete_by}
        c = _contract(spec, i, code, tag, ent, area, signed, schedule, rng)
        contracts.append(c)
        total = Decimal(c["commitments"]["fixed_asset_investment"]["value"])
        start_on = max(delivery + dt.timedelta(days=1), start_by - dt.timedelta(days=rng.randint(0, 40)))
        evs: list[dict] = []
        if kind != "government":
            evs.append({"type": "delivered", "on": delivery.isoformat()})
        done: dt.date | None = None
        if kind in ("completed", "warehouse"):
            done = complete_by - dt.timedelta(days=rng.randint(0, 90))
            low_far = kind == "completed" and rng.random() < 0.06        # plot ratio below 1.0: 低效
            far = _q(rng.uniform(0.6, 0.9) if low_far else rng.uniform(1.2, 2.0), 3)
            land_m2 = area * M2_PER_MU
            evs += [{"type": "started", "on": start_on.isoformat()},
                    {"type": "completion_accepted", "on": done.isoformat(),
                     "fixed_asset_investment": _wan(_q(total * _q(rng.uniform(1.0, 1.3), 3))),
                     "total_floor_area": _m2(land_m2 * far), "building_footprint": _m2(land_m2 * _q(rng.uniform(0.4, 0.55), 3)),
                     "admin_land_area": _m2(land_m2 * Decimal("0.05")), "green_area": _m2(land_m2 * Decimal("0.1"))}]
        elif kind == "construction":
            evs += [{"type": "started", "on": start_on.isoformat()},
                    _progress(dt.date(Y, 11, 30), area, total, rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8))]
        elif kind in ("stalled", "suspended"):
            # 停建: construction halted before completion acceptance, then a progress report with the figures
            since = _day(rng, dt.date(Y - 2, 1, 1), dt.date(Y - 1, 6, 30))
            dev, inv = ((rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.2)) if kind == "stalled"
                        else (rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.8)))
            evs += [{"type": "started", "on": start_on.isoformat()},
                    {"type": "construction_suspended", "on": since.isoformat()},
                    _progress(since + dt.timedelta(days=rng.randint(30, 90)), area, total, dev, inv)]
        elif kind == "overdue":
            evs += [{"type": "started", "on": start_on.isoformat()},
                    _progress(dt.date(Y - 1, 5, 1), area, total, rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.9))]
        elif kind == "government":
            evs.append({"type": "government_delay", "on": (signed + dt.timedelta(days=10)).isoformat(),
                        "cause": "late_delivery", "document": f"迟延交地情况说明（示例）第 {i} 号"})
        events[c["contract_no"]] = evs
        info.setdefault(code, {}).update(area=area, signed=signed, completed=done)
        parcel.update(supply_status="transferred", use="warehouse" if kind == "warehouse" else "industrial",
                      contract_no=c["contract_no"])
        parcels.append(parcel)

    # ---------------------------------------------------------------- 停产 after completion (own draw)
    # A separate generator: choosing these parcels changes no other figure of the data set.
    stop_rng = random.Random(spec.key + ":production-stopped")
    latest_done = dt.date(Y - 1, 3, 31)
    alone = [c for c, k in kind_of.items() if k == "completed" and info[c]["completed"] <= latest_done
             and len(enterprises[_uscc_of(contracts, c)]["parcels"]) == 1]
    alone.sort(key=lambda c: (enterprises[_uscc_of(contracts, c)]["profile"] != "low", c))
    for code in alone[:max(1, int((STOPPED_SHARE * spec.parcels).to_integral_value(ROUND_HALF_UP)))]:
        kind_of[code] = "stopped"
        stop = _day(stop_rng, info[code]["completed"] + dt.timedelta(days=60), dt.date(Y - 1, 6, 30))
        events[_contract_no_of(contracts, code)].append({"type": "production_stopped", "on": stop.isoformat()})

    # ---------------------------------------------------------------- a government delay disposed of
    agreed_start = dt.date(Y + 1, 3, 31)
    gov_codes = sorted(c for c, k in kind_of.items() if k == "government")
    for code in gov_codes[:1]:
        events[_contract_no_of(contracts, code)].append(
            {"type": "government_delay", "on": dt.date(Y, 11, 25).isoformat(), "cause": "late_delivery",
             "new_start_by": agreed_start.isoformat(), "document": f"补充协议（示例）第 {code[-5:]} 号"})

    # ---------------------------------------------------------------- tax records
    records: dict[int, list[dict]] = {y: [] for y in spec.tax_years}
    ent_area = {u: sum((info[c]["area"] for c in e["parcels"]), Decimal(0)) for u, e in enterprises.items()}
    counted_tax: dict[tuple[str, int], Decimal] = {}
    for uscc, ent in enterprises.items():
        if not any(kind_of[c] in OPERATING for c in ent["parcels"]):
            continue
        since = min(info[c]["signed"].year for c in ent["parcels"])
        done_years = [info[c]["completed"].year for c in ent["parcels"] if info[c]["completed"]]
        first_done = min(done_years) if done_years else None
        base, growth = rng.uniform(8, 24), rng.uniform(-0.03, 0.08)
        for y in spec.tax_years:
            if y < since or rng.random() < 0.06:
                continue
            if ent["profile"] == "normal":
                tpm = base * (1 + growth) ** (y - F) * (0.3 if first_done is None or y < first_done else 1.0)
            elif ent["profile"] == "low":
                tpm = rng.uniform(0.5, 2.5)
            elif ent["profile"] == "warehouse":
                tpm = rng.uniform(3, 10)
            else:
                tpm = rng.uniform(0.2, 1.5)
            paid = max(_q(tpm * float(ent_area[uscc])), Decimal("0.01"))
            refunds = _q(paid * _q(rng.uniform(0.02, 0.12), 3)) if rng.random() < 0.25 else None
            yuan = rng.random() < 0.1
            rec: dict[str, Any] = {"uscc": uscc, "year": y,
                                   "tax_paid": {"value": _t(paid * 10000), "unit": "元"} if yuan else _wan(paid)}
            if refunds is not None:
                rec["policy_refunds"] = {"value": _t(refunds * 10000), "unit": "元"} if yuan else _wan(refunds)
            records[y].append(rec)
            counted_tax[(uscc, y)] = paid + (refunds or 0)
    batches = [{"batch_id": f"{spec.park_id}-tax-{y}", "records": recs} for y, recs in records.items() if recs]

    # ---------------------------------------------------------------- 一宗一策 plans
    plans: dict[str, list[dict]] = {}
    by_kind: dict[str, list[str]] = {}
    for code, kind in kind_of.items():
        by_kind.setdefault(kind, []).append(code)
    plan_as_of = dt.date(Y, 12, 1)
    resp = {"lead_unit": "三门峡市自然资源和规划局（示例）", "cooperating_units": ["示例园区管委会"], "person": "示例经办人"}

    def plan(code: str, measure: str, cause: dict, categories: list[str], deadline: dt.date, status: str, **more) -> dict:
        body = {"as_of": plan_as_of.isoformat(), "categories": categories, "cause": cause, "measure": measure,
                "deadline": deadline.isoformat(), "responsible": resp, "progress": {"status": status},
                "documents": [{"kind": "investigation_notice", "number": f"示例闲调〔{Y}〕{code[-5:]}号",
                               "date": dt.date(Y, 11, 20).isoformat()}]}
        body.update(more)
        return body

    enterprise = {"type": "enterprise", "detail": "企业自身原因（示例）"}
    for n, code in enumerate(sorted(by_kind.get("idle", []))[:2]):
        first = plan(code, "idle_fee", enterprise, ["idle"], dt.date(Y + 1, 6, 30), "planned")
        plans[code] = [first]
        if n == 0:
            second = json.loads(json.dumps(first))
            second["progress"] = {"status": "in_progress", "updated_on": dt.date(Y, 12, 15).isoformat(),
                                  "note": "已送达闲置土地认定书（示例）"}
            second["documents"].append({"kind": "determination", "number": f"示例闲认〔{Y}〕{code[-5:]}号",
                                        "date": dt.date(Y, 12, 10).isoformat()})
            plans[code].append(second)
    for code in sorted(by_kind.get("approved_unsupplied", []))[:2]:
        plans[code] = [plan(code, "complete_supply", {"type": "other", "detail": "征地拆迁未完成（示例）"},
                            ["approved_unsupplied"], dt.date(Y + 1, 12, 31), "planned", documents=[])]
    gov_cause = {"type": "government", "government_cause": "late_delivery", "detail": "政府迟延交地（示例）"}
    for n, code in enumerate(sorted(by_kind.get("government", []))[:2]):
        if n == 0:      # the supplementary agreement above: extension to the agreed date (53号令 Art. 12(1))
            plans[code] = [plan(code, "extend_start", gov_cause, ["idle"], agreed_start, "in_progress")]
        else:
            plans[code] = [plan(code, "negotiated_paid_reclaim", gov_cause, ["idle"], dt.date(Y + 1, 12, 31), "planned")]
    for code in sorted(by_kind.get("suspended", []))[:1]:
        plans[code] = [plan(code, "enterprise_upgrade", enterprise, ["low_efficiency"], dt.date(Y + 2, 6, 30), "in_progress",
                            documents=[])]

    # ---------------------------------------------------------------- the scoring population
    scoring_ents = []
    for uscc in sorted(enterprises):
        ent = enterprises[uscc]
        if not all(kind_of[c] in ("completed", "stopped") for c in ent["parcels"]):
            continue
        ct = counted_tax.get((uscc, Y))
        # The service's one 亩均税收 function (its allocation by area over the enterprise's land).
        land = [taxmu.Holding(_contract_no_of(contracts, c), c, Fraction(info[c]["area"]), info[c]["signed"])
                for c in ent["parcels"]]
        exact = taxmu.enterprise_tax_per_mu(Fraction(ct), land, Y) if ct is not None else None
        tpm = _q(Decimal(exact.numerator) / Decimal(exact.denominator), 4) if exact is not None else None
        va = _q((float(tpm) if tpm is not None else rng.uniform(3, 20)) * rng.uniform(6, 10))
        values = {"tax_per_mu": _t(tpm) if tpm is not None else None, "va_per_mu": _t(va),
                  "energy_efficiency": _t(_q(rng.uniform(1.0, 5.0), 3)),
                  "emission_efficiency": None if rng.random() < 0.15 else _t(_q(rng.uniform(2000, 8000))),
                  "labour_productivity": _t(_q(rng.uniform(8, 35))), "rd_share": _t(_q(rng.uniform(0.005, 0.06), 4))}
        scoring_ents.append({"id": uscc, "name": ent["name"], "values": values})
    scoring_body = {"year": Y, "enterprises": scoring_ents} if scoring_ents else {}

    planned = _q(sum((Decimal(p["area"]["value"]) for p in parcels), Decimal(0)) * Decimal("1.15"), 0)
    park = {"id": spec.park_id, "name": DEMO_NAME, "name_valid_from": f"{F - 3}-01-01", "jurisdiction": JURISDICTION,
            "planned_area": _mu(planned), "target_tax_per_mu": {"value": TARGET_TAX_PER_MU, "unit": "万元/亩"},
            "target_source": TARGET_SOURCE, "ruleset": LOW_RS, "tax_ruleset": TAX_RS,
            "note": f"合成示例数据（由演示数据程序生成：随机种子 {spec.seed}，{spec.parcels} 宗，"
                    f"{spec.years} 年至 {Y} 年）："
                    "园区、宗地、企业、合同与税收记录均为虚构，不代表任何真实园区或企业。"}
    return Demo(spec=spec, park=park, parcels=parcels, contracts=contracts, events=events, tax_batches=batches,
                plans=plans, kinds=kind_of, enterprises={u: {k: v for k, v in e.items() if k != "uscc"}
                                                         for u, e in enterprises.items()},
                scoring=scoring_body)
