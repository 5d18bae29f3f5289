"""The one "disposed" rule of the service (issue 14; docs/stock-land.md §3).

Land counts as **disposed** (处置/盘活 for the national assessment) only when development actually
started (动工开发, the 53号令 definition), the land was reclaimed by a formal decision or agreement
(收回), or swapped (置换) — and, for 批而未供 land, when it was supplied (供地).  An extension of the
start date (延期) or a temporary use (临时使用) alone is **not** disposal, nor is the clearing of an
unused approval (批文清理: the approval is withdrawn, the land was never used — it leaves the
批而未供 stock without being disposed of).

Every figure that counts disposal (the batch figures, 增存挂钩) calls ``disposal``; nothing else
decides it.  Events are plain dicts ``{"type", "on", "area"?}``, the area as a Fraction in 亩.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

DISPOSING = {"supplied": "已供地", "started": "已动工开发", "reclaimed": "已收回（决定书或协议）", "swapped": "已置换"}
NOT_DISPOSING = {"extension": "仅延期开工，不算处置", "temporary_use": "仅临时使用，不算处置",
                 "cleared": "批文清理：退出批而未供，但不算处置"}


@dataclass(frozen=True)
class Disposal:
    disposed: bool                 # the whole parcel is disposed on the date
    area: Fraction                 # area disposed by then (亩): supply may be partial
    on: dt.date | None             # the date it became wholly disposed
    by: list[dict]                 # the disposing events it rests on
    ignored: list[dict]            # events that are not disposal, with the reason
    reason: str                    # Chinese summary


def disposal(events: Iterable[dict], area: Fraction, on: dt.date, *, approved_unsupplied: bool = False) -> Disposal:
    """Whether a parcel of ``area`` 亩 is disposed on ``on``, from its events up to that date.

    ``approved_unsupplied``: the parcel is 批而未供 land (an approval-batch parcel); only supply
    disposes of it — building on it before supply (已批未供即用) leaves it 未供, and a reclaim or
    swap of land never supplied is no disposal either.

    ``supplied`` events carry the area supplied (partial supply): the parcel is disposed once the
    supplied area reaches its area.  ``started``, ``reclaimed`` and ``swapped`` dispose of the
    whole parcel.  ``extension``, ``temporary_use`` and ``cleared`` are listed in ``ignored``.
    """
    done = Fraction(0)
    when: dt.date | None = None
    by: list[dict] = []
    ignored: list[dict] = []
    for e in sorted((e for e in events if e["on"] <= on), key=lambda e: e["on"]):
        t = e["type"]
        if t in NOT_DISPOSING:
            ignored.append({**e, "reason": NOT_DISPOSING[t]})
            continue
        if t not in DISPOSING or when is not None:
            continue
        if approved_unsupplied and t != "supplied":
            ignored.append({**e, "reason": f"批而未供土地以供地为处置；{DISPOSING[t]}不算供地"})
            continue
        by.append(e)
        if t == "supplied":
            done = min(area, done + e["area"])
        else:
            done = area
        if done >= area:
            when = e["on"]
    if when is not None:
        reason = f"已处置：{'、'.join(DISPOSING[e['type']] for e in by)}（{when.isoformat()}）"
    elif done > 0:
        reason = "部分供地，尚未全部处置"
    elif ignored:
        reason = "未处置：" + "；".join(e["reason"] for e in ignored)
    else:
        reason = "未处置"
    return Disposal(when is not None, done, when, by, ignored, reason)
