"""The dated penalties: F1 late payment, F2 late start, F3 late completion, F8 the transferor's
late delivery — a base × the contract's ‰ rate × the days late."""

from __future__ import annotations

from datetime import date
from typing import Literal

from app.lifecycle.penalties.base import CountFrom, Penalty, _rescission
from app.lifecycle.penalties.numbers import InsufficientDataError, Num, _fmt, _nonneg, _pos, _rate
from app.lifecycle.periods import add_years, days_late, elapsed_at_least

ContractVersion = Literal["GF-2008-2601", "GF-2025-2601"]


# ---------------------------------------------------------------------------------------------- F1–F3, F8


def f1_late_payment(
    overdue: Num,
    r_permille: Num | None,
    due: date,
    paid: date,
    *,
    demand_made: bool = False,
    demand_date: date | None = None,
    still_unpaid: bool = False,
    rescission_after_days: int = 60,
    rescission_count_from: CountFrom = "due",
) -> Penalty:
    """F1 late payment (2008 Art. 30 ◐): ``overdue × r/1000 × days_late(due, paid)``.

    ``paid`` is the payment date, or the as-of date while the sum is still unpaid (then pass ``still_unpaid=True``).
    Flag ``rescission_option`` (transferor may rescind and keep the deposit): more than ``rescission_after_days``
    (60) days late, a demand made (``demand_made`` or a ``demand_date`` on or before ``paid``) and still unpaid.
    Days are counted from ``due`` by default; ``rescission_count_from="demand"`` counts from ``demand_date``.
    """
    amt = _nonneg("overdue", overdue)
    r = _rate("r_permille", r_permille)
    days = days_late(due, paid)
    option, info = _rescission(
        due, paid, demand_made=demand_made, demand_date=demand_date, outstanding=still_unpaid,
        after_days=rescission_after_days, count_from=rescission_count_from,
    )
    inputs = {"overdue": _fmt(amt), "r_permille": _fmt(r), "due": due.isoformat(), "paid": paid.isoformat(),
              "days": str(days), "still_unpaid": str(bool(still_unpaid)).lower(), **info}
    return Penalty(
        amount=amt * r / 1000 * days,
        formula="F1 逾期付款：逾期金额 × r/1000 × 逾期天数 (overdue × r/1000 × days)",
        inputs=inputs,
        flags={"rescission_option": option},
    )


def f2_late_start(
    P: Num,
    r_permille: Num | None,
    start_due: date,
    started: date,
    *,
    original_start_due: date | None = None,
    max_extension_years: int = 1,
    idle_after_years: int = 1,
) -> Penalty:
    """F2 late start (2008 Art. 33 ◐): ``P × r/1000 × days_late(start_due, started)``.

    ``start_due`` is the agreed start date, or the extended one if an extension was approved; ``started`` is
    the start date or the as-of date.  If ``original_start_due`` is given, flag ``extension_over_limit`` when
    ``start_due`` lies beyond ``original_start_due`` + ``max_extension_years`` (≤1 year ✅).  Flag
    ``idle_rules_may_apply`` once ``idle_after_years`` full years have run past ``start_due`` (53号令
    ``idle_fee_after_years``, one; docs/domain.md; no roll-over).  The audit passes both caps from the
    documents (the contract model and 53号令); the defaults are the bundled documents' values.
    """
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    days = days_late(start_due, started)
    inputs = {"P": _fmt(p), "r_permille": _fmt(r), "start_due": start_due.isoformat(), "started": started.isoformat(),
              "days": str(days)}
    flags = {"idle_rules_may_apply": elapsed_at_least(start_due, started, idle_after_years)}
    if original_start_due is not None:
        limit = add_years(original_start_due, max_extension_years)
        inputs["original_start_due"] = original_start_due.isoformat()
        inputs["extension_limit"] = limit.isoformat()
        flags["extension_over_limit"] = start_due > limit
    return Penalty(
        amount=p * r / 1000 * days,
        formula="F2 延期开工：P × r/1000 × 逾期天数 (P × r/1000 × days)",
        inputs=inputs,
        flags=flags,
        notes=("count from the extended start date if an extension (≤1 year) was approved",),
    )


def f3_late_completion(
    P: Num,
    r_permille: Num | None,
    complete_due: date,
    completed: date,
    *,
    version: ContractVersion,
    uncompleted_counted_floor: Num | None = None,
    total_counted_floor: Num | None = None,
) -> Penalty:
    """F3 late completion: base × r/1000 × days_late(complete_due, completed).

    ``version="GF-2008-2601"`` (◐): base = P.
    ``version="GF-2025-2601"`` (◐, apparent 2025 text Art. 32): base = P × uncompleted_counted_floor / total_counted_floor
    (计容建筑面积); both areas are then required, with 0 ≤ uncompleted ≤ total and total > 0.
    The version has no default: which contract version applies is ❓ and changes the amount.
    """
    p = _nonneg("P", P)
    r = _rate("r_permille", r_permille)
    days = days_late(complete_due, completed)
    inputs = {"version": str(version), "P": _fmt(p), "r_permille": _fmt(r), "complete_due": complete_due.isoformat(),
              "completed": completed.isoformat(), "days": str(days)}
    if version == "GF-2008-2601":
        base = p
        formula = "F3 延期竣工 (GF-2008-2601)：P × r/1000 × 逾期天数 (P × r/1000 × days)"
    elif version == "GF-2025-2601":
        if uncompleted_counted_floor is None or total_counted_floor is None:
            raise InsufficientDataError("GF-2025-2601 needs uncompleted_counted_floor and total_counted_floor (计容建筑面积)")
        unc = _nonneg("uncompleted_counted_floor", uncompleted_counted_floor)
        tot = _pos("total_counted_floor", total_counted_floor)
        if unc > tot:
            raise ValueError("uncompleted_counted_floor exceeds total_counted_floor")
        base = p * unc / tot
        inputs |= {"uncompleted_counted_floor": _fmt(unc), "total_counted_floor": _fmt(tot), "base": _fmt(base)}
        formula = ("F3 延期竣工 (GF-2025-2601)：P × 未竣工计容建筑面积/总计容建筑面积 × r/1000 × 逾期天数 "
                   "(P × uncompleted/total × r/1000 × days)")
    else:
        raise ValueError(f"version must be 'GF-2008-2601' or 'GF-2025-2601', got {version!r}")
    return Penalty(amount=base * r / 1000 * days, formula=formula, inputs=inputs, flags={})


def f8_late_delivery(
    paid_amount: Num,
    r_permille: Num | None,
    due: date,
    delivered: date,
    *,
    demand_made: bool = False,
    demand_date: date | None = None,
    still_undelivered: bool = False,
    rescission_after_days: int = 60,
    rescission_count_from: CountFrom = "demand",
) -> Penalty:
    """F8 transferor's late delivery (2008 Art. 37 ◐): ``paid_amount × r/1000 × days_late(due, delivered)``.

    ``delivered`` is the delivery date, or the as-of date while undelivered (then ``still_undelivered=True``).
    Flag ``rescission_option_transferee`` (transferee may rescind, deposit returned double): a demand made, land
    still undelivered, and more than ``rescission_after_days`` (60) days counted from ``demand_date`` (default, as
    one source in docs/domain.md words it) or from ``due`` (``rescission_count_from="due"``, as another words it).
    The land-use term runs from actual delivery; the delay also supports a government-caused-delay defence (53号令 Art. 8).
    """
    amt = _nonneg("paid_amount", paid_amount)
    r = _rate("r_permille", r_permille)
    days = days_late(due, delivered)
    option, info = _rescission(
        due, delivered, demand_made=demand_made, demand_date=demand_date, outstanding=still_undelivered,
        after_days=rescission_after_days, count_from=rescission_count_from,
    )
    inputs = {"paid_amount": _fmt(amt), "r_permille": _fmt(r), "due": due.isoformat(), "delivered": delivered.isoformat(),
              "days": str(days), "still_undelivered": str(bool(still_undelivered)).lower(), **info}
    return Penalty(
        amount=amt * r / 1000 * days,
        formula="F8 出让人延期交地：已付价款 × r/1000 × 逾期天数 (paid × r/1000 × days)",
        inputs=inputs,
        flags={"rescission_option_transferee": option, "supports_government_delay_defence": days > 0},
        notes=("the land-use term runs from actual delivery",),
    )


