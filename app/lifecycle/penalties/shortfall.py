"""The penalties for what was built and paid against what was agreed: F4 investment shortfall,
F5/F6 below a minimum / above a maximum, F7 over a limit, and the 亩均税收 shortfall options."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from app.lifecycle.penalties.base import Agg, Penalty, aggregate, e, s
from app.lifecycle.penalties.numbers import InsufficientDataError, Num, _fmt, _nonneg, _num, _pos, _rate

TaxOption = Literal["pay_difference", "make_up", "proportional", "none"]


# ---------------------------------------------------------------------------------------------- F4–F7


def f4_investment_shortfall(
    P: Num,
    total_agreed: Num,
    total_actual: Num,
    intensity_agreed: Num,
    intensity_actual: Num,
    *,
    agg: Agg = "max",
) -> Penalty:
    """F4 investment shortfall (2008 Art. 34 ◐).

    ``P × agg([s(total_agreed, total_actual), s(intensity_agreed, intensity_actual)])``.

    Totals in one money unit, intensities in one intensity unit (normalise first: ``intensity_to_yuan_per_m2``).
    Investment includes the land price (Art. 12).  ``agg`` ❓: "max" suggested; "sum" only on a legal ruling.
    """
    p = _nonneg("P", P)
    ta, tx = _pos("total_agreed", total_agreed), _nonneg("total_actual", total_actual)
    ia, ix = _pos("intensity_agreed", intensity_agreed), _nonneg("intensity_actual", intensity_actual)
    s_total, s_int = s(ta, tx), s(ia, ix)
    ratio = aggregate([s_total, s_int], agg)
    return Penalty(
        amount=p * ratio,
        formula=f"F4 投资不足：P × {agg}(s(总投资), s(投资强度)), s = max(0, (约定 − 实际)/约定)",
        inputs={"P": _fmt(p), "total_agreed": _fmt(ta), "total_actual": _fmt(tx), "intensity_agreed": _fmt(ia),
                "intensity_actual": _fmt(ix), "s_total": _fmt(s_total), "s_intensity": _fmt(s_int), "agg": agg,
                "ratio": _fmt(ratio)},
        flags={},
        notes=("investment includes the land price (contract Art. 12)", "performance may still be demanded"),
    )


_INTENSITY_TO_YUAN_PER_M2 = {
    "元/m2": Fraction(1),
    "万元/公顷": Fraction(1),  # 10000 元 / 10000 m²
    "万元/亩": Fraction(15),  # 10000 元 / (10000/15 m²)
}


def intensity_to_yuan_per_m2(value: Num, unit: str) -> Fraction:
    """Normalise an investment intensity to 元/m² (1 万元/亩 = 15 元/m²; 1 万元/公顷 = 1 元/m²).

    Units: "元/m2" (also 元/㎡, 元/m²), "万元/公顷", "万元/亩".
    """
    key = unit.replace("㎡", "m2").replace("m²", "m2").strip()
    if key not in _INTENSITY_TO_YUAN_PER_M2:
        raise ValueError(f"unknown intensity unit {unit!r}; use one of {sorted(_INTENSITY_TO_YUAN_PER_M2)}")
    return _num("intensity", value) * _INTENSITY_TO_YUAN_PER_M2[key]


@dataclass(frozen=True)
class InvestmentConsistency:
    consistent: bool
    total_agreed_wan: Fraction
    implied_total_wan: Fraction  # agreed intensity × area, in 万元
    difference_wan: Fraction  # total_agreed − implied
    relative_difference: Fraction  # |difference| / implied (0 when both are 0)


def investment_terms_consistency(
    total_agreed_wan: Num,
    intensity_agreed: Num,
    area_m2: Num,
    *,
    intensity_unit: str = "元/m2",
    tolerance: Num = 0,
) -> InvestmentConsistency:
    """Compare the agreed total (万元) with agreed intensity × area (⚙ docs/domain.md note on F4).

    With an unchanged area the two F4 ratios are equal; when the two agreed terms disagree they are not, and the
    choice of ``agg`` matters.  ``consistent`` iff relative difference ≤ ``tolerance`` (default 0: exact).
    """
    total = _nonneg("total_agreed_wan", total_agreed_wan)
    area = _pos("area_m2", area_m2)
    tol = _nonneg("tolerance", tolerance)
    implied = intensity_to_yuan_per_m2(intensity_agreed, intensity_unit) * area / 10000
    diff = total - implied
    rel = abs(diff) / implied if implied else (Fraction(0) if diff == 0 else Fraction(1))
    return InvestmentConsistency(rel <= tol, total, implied, diff, rel)


def _items(name: str, items: Mapping[str, tuple[Num, Num]]) -> list[tuple[str, Fraction, Fraction]]:
    if not items:
        raise ValueError(f"{name}: at least one indicator is needed")
    out = []
    for key, pair in items.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(f"{name}[{key!r}] must be a (limit, actual) pair")
        out.append((str(key), _pos(f"{key}.limit", pair[0]), _nonneg(f"{key}.actual", pair[1])))
    return out


def f5_below_minimum(P: Num, items: Mapping[str, tuple[Num, Num]], *, agg: Agg = "max") -> Penalty:
    """F5 容积率 / 建筑密度 below the agreed minimum (2008 Art. 35 ◐): ``P × agg([s(min_i, actual_i)])``.

    ``items`` maps an indicator name to ``(minimum, actual)``, e.g. ``{"plot_ratio": ("1.2", "1.0")}``.
    """
    p = _nonneg("P", P)
    rows = _items("items", items)
    inputs = {"P": _fmt(p), "agg": agg}
    ratios = []
    for key, lo, actual in rows:
        r = s(lo, actual)
        ratios.append(r)
        inputs |= {f"{key}.min": _fmt(lo), f"{key}.actual": _fmt(actual), f"{key}.s": _fmt(r)}
    ratio = aggregate(ratios, agg)
    inputs["ratio"] = _fmt(ratio)
    return Penalty(
        amount=p * ratio,
        formula=f"F5 低于下限：P × {agg}(s(下限_i, 实际_i)), s = max(0, (下限 − 实际)/下限)",
        inputs=inputs,
        flags={},
    )


def f6_above_maximum(
    P: Num,
    items: Mapping[str, tuple[Num, Num]],
    *,
    agg: Agg = "max",
    counted_floor_area: Num | None = None,
    site_area: Num | None = None,
    far_key: str = "plot_ratio",
) -> Penalty:
    """F6 容积率 / 建筑密度 above the agreed maximum (clause wording ❓): ``P × agg([e(max_i, actual_i)])``.

    ``items`` maps an indicator name to ``(maximum, actual)``.  Flag ``reclaim_excess_area`` when any excess.
    If ``counted_floor_area`` and ``site_area`` (same area unit) are given, ``items[far_key]`` supplies the max
    FAR and ``inputs["excess_counted_floor_area"]`` = max(0, counted floor area − max FAR × site area).
    """
    p = _nonneg("P", P)
    rows = _items("items", items)
    inputs = {"P": _fmt(p), "agg": agg}
    ratios = []
    for key, hi, actual in rows:
        r = e(hi, actual)
        ratios.append(r)
        inputs |= {f"{key}.max": _fmt(hi), f"{key}.actual": _fmt(actual), f"{key}.e": _fmt(r)}
    ratio = aggregate(ratios, agg)
    inputs["ratio"] = _fmt(ratio)
    notes: list[str] = ["clause wording for the above-maximum penalty is ❓ (recollection)"]
    if (counted_floor_area is None) != (site_area is None):
        raise ValueError("give both counted_floor_area and site_area, or neither")
    if counted_floor_area is not None:
        floor = _nonneg("counted_floor_area", counted_floor_area)
        site = _pos("site_area", site_area)
        far = {key: hi for key, hi, _ in rows}.get(far_key)
        if far is None:
            raise ValueError(f"excess floor area needs the maximum plot ratio: items has no {far_key!r}")
        excess = max(Fraction(0), floor - far * site)
        inputs |= {"counted_floor_area": _fmt(floor), "site_area": _fmt(site),
                   "excess_counted_floor_area": _fmt(excess)}
        notes.append("excess counted floor area = counted floor area − max FAR × site area")
    return Penalty(
        amount=p * ratio,
        formula=f"F6 超过上限：P × {agg}(e(上限_i, 实际_i)), e = max(0, (实际 − 上限)/上限)；超出部分可收回",
        inputs=inputs,
        flags={"reclaim_excess_area": ratio > 0},
        notes=tuple(notes),
    )


def over_limit_items(limits: Mapping[str, Num], actuals: Mapping[str, Num]) -> list[str]:
    """Names whose actual value is strictly above its limit ("≤ limit" passes at equality); in ``limits`` order.

    A name in ``limits`` without an actual raises ``InsufficientDataError`` (missing is not compliant).
    """
    out = []
    for key, limit in limits.items():
        if key not in actuals or actuals[key] is None:
            raise InsufficientDataError(f"no actual value for {key!r}")
        if _num(f"{key}.actual", actuals[key]) > _num(f"{key}.limit", limit):
            out.append(str(key))
    return out


def f7_over_limit(
    P: Num,
    r_permille: Num | None,
    breached_items: Iterable[str],
    *,
    mode: Literal["once", "per_item"] = "once",
) -> Penalty:
    """F7 green ratio / admin land / admin floor area over the limit (2008 Art. 36 ◐): one-off ``P × r/1000``.

    ``mode="once"``: charged once whatever the number of breached items; ``mode="per_item"`` (❓): × the number
    of distinct breached items.  Zero when nothing is breached.  Flag ``demolish_excess`` when anything is.
    """
    if mode not in ("once", "per_item"):
        raise ValueError(f"mode must be 'once' or 'per_item', got {mode!r}")
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    if isinstance(breached_items, str):
        raise TypeError("breached_items must be a collection of names, not a string")
    names = list(dict.fromkeys(str(x) for x in breached_items))
    n = len(names)
    multiplier = 0 if n == 0 else (1 if mode == "once" else n)
    return Penalty(
        amount=p * r / 1000 * multiplier,
        formula="F7 超标（绿地率/行政办公及生活服务设施）：P × r/1000，一次性" + ("" if mode == "once" else " × 超标项数"),
        inputs={"P": _fmt(p), "r_permille": _fmt(r), "mode": mode, "breached_items": ",".join(names),
                "breached_count": str(n), "multiplier": str(multiplier)},
        flags={"demolish_excess": n > 0},
    )


# ---------------------------------------------------------------------------------------------- 亩均税收


def m2_to_mu(area_m2: Num) -> Fraction:
    """Square metres to 亩 (1 亩 = 10000/15 m²)."""
    return _nonneg("area_m2", area_m2) * 15 / 10000


def tax_per_mu_shortfall(
    option: TaxOption,
    *,
    committed_tpm: Num,
    actual_tpm: Num | None,
    area_mu: Num | None = None,
    P: Num | None = None,
) -> Penalty:
    """亩均税收 shortfall (docs/domain.md, no verified Henan formula ❓, so ``option`` has no default).

    ``committed_tpm`` / ``actual_tpm`` in 万元/亩; ``area_mu`` in 亩; ``P`` in 万元.
    - "pay_difference" (alias "make_up", 补缴差额): ``max(0, committed − actual) × area_mu``  (needs ``area_mu``)
    - "proportional": ``P × max(0, committed − actual) / committed``  (needs ``P``; mirrors Art. 34)
    - "none": 0; credit and evaluation sanctions only.
    ``actual_tpm=None`` (no tax record) raises ``InsufficientDataError``: a missing record is never zero tax.
    Flag ``shortfall`` whenever actual < committed, whatever the option.
    """
    if option not in ("pay_difference", "make_up", "proportional", "none"):
        raise ValueError(f"option must be 'pay_difference' (or 'make_up'), 'proportional' or 'none', got {option!r}")
    if actual_tpm is None:
        raise InsufficientDataError("actual 亩均税收 is missing: request the tax data; a missing record is not zero tax")
    c = _pos("committed_tpm", committed_tpm)
    a = _nonneg("actual_tpm", actual_tpm)
    gap = max(Fraction(0), c - a)
    inputs = {"option": option, "committed_tpm": _fmt(c), "actual_tpm": _fmt(a), "gap_tpm": _fmt(gap)}
    if option in ("pay_difference", "make_up"):
        if area_mu is None:
            raise InsufficientDataError("option 'pay_difference' needs area_mu")
        mu = _nonneg("area_mu", area_mu)
        inputs["area_mu"] = _fmt(mu)
        amount = gap * mu
        formula = "亩均税收不足（补缴差额）：max(0, 承诺亩均税收 − 实际亩均税收) × 亩数"
    elif option == "proportional":
        if P is None:
            raise InsufficientDataError("option 'proportional' needs P (land price)")
        p = _nonneg("P", P)
        inputs["P"] = _fmt(p)
        amount = p * gap / c
        formula = "亩均税收不足（按比例）：P × max(0, 承诺 − 实际)/承诺"
    else:
        amount = Fraction(0)
        formula = "亩均税收不足（不计违约金）：0，仅信用评价/联合奖惩"
    return Penalty(amount=amount, formula=formula, inputs=inputs, flags={"shortfall": gap > 0})


