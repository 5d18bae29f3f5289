"""Where a contract stands on a date, recomputed from its stored events.

Events are append-only; an event with ``correct: ID`` replaces the event it names (the
newest correction wins).  Only events on or before ``as_of`` count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from pydantic import TypeAdapter

from app.core.errors import InputError, Problem
from app.lifecycle import terms as t
from app.lifecycle.law import ContractModel, IdleLandLaw, contract_models, idle_land_law
from app.lifecycle.periods import add_months
from app.lifecycle.terms import ContractTerms, terms_of
from app.schemas.contract import (
    CompletionAccepted,
    ContractRequest,
    Event,
    ExtensionApproved,
    GovernmentDelay,
    Progress,
)
from indicators import units
from indicators.derive import Site, Storey

_EVENT = TypeAdapter(Event)


@dataclass(frozen=True)
class Paid:
    """A payment of the land price, its amount in 万元."""

    on: dt.date
    due_on: dt.date
    amount: Fraction
    demanded: bool


@dataclass
class State:
    terms: ContractTerms
    as_of: dt.date
    delivered_on: dt.date | None = None
    started_on: dt.date | None = None
    completion: CompletionAccepted | None = None
    progress: Progress | None = None
    extensions: list[ExtensionApproved] = field(default_factory=list)
    government_delays: list[GovernmentDelay] = field(default_factory=list)
    payments: list[Paid] = field(default_factory=list)
    events_used: list[str] = field(default_factory=list)
    # 停建 (before completion acceptance) and 停产 (after it): the first day of the stop in force.
    construction_suspended_since: dt.date | None = None
    production_stopped_since: dt.date | None = None
    production_stop_partial: bool = False
    stop_read_from: str | None = None       # "progress.suspended_since" when read from the old field

    @property
    def contract(self) -> ContractRequest:
        """The contract as agreed (request form).  Kept for the parks code, which still reads a few
        fields from it; lifecycle code reads ``terms``."""
        return self.terms.request

    @property
    def start_due(self) -> dt.date | None:
        """The agreed start date, moved by approved extensions and government delays."""
        base = self.terms.schedule.start_by
        moved = [e.new_start_by for e in self.extensions] + [g.new_start_by for g in self.government_delays if g.new_start_by]
        if base is None:
            return None
        return max([base, *moved])

    @property
    def start_due_without_government(self) -> dt.date | None:
        """The agreed start date moved only by approved extensions (the contract's Art. 16): the date
        whose first anniversary makes the land idle (53号令 Art. 2) whatever caused the delay."""
        base = self.terms.schedule.start_by
        return None if base is None else max([base, *(e.new_start_by for e in self.extensions)])

    @property
    def government_disposal(self) -> GovernmentDelay | None:
        """The government-caused delay in force: the latest recorded one.  With ``new_start_by`` it
        records the extension agreed in a supplementary agreement (53号令 Art. 12(1)); without, the
        disposal is still to be negotiated."""
        return max(self.government_delays, key=lambda g: g.on) if self.government_delays else None

    @property
    def complete_due(self) -> dt.date | None:
        """The agreed completion date, shifted by the same period as the start (GF-2008-2601 Art. 16)."""
        s = self.terms.schedule
        if s.complete_by is None:
            return None
        if s.start_by is None or self.start_due is None:
            return s.complete_by
        return s.complete_by + (self.start_due - s.start_by)


def effective_events(stored: list[dict]) -> list[dict]:
    """Apply corrections: each corrected event is replaced by its newest correction."""
    by_id = {e["id"]: e for e in stored}
    replaced: dict[str, dict] = {}
    for e in stored:                       # stored in append order
        target = e.get("correct")
        if target:
            root = target
            while by_id.get(root, {}).get("correct"):
                root = by_id[root]["correct"]
            replaced[root] = e
    out = []
    for e in stored:
        if e.get("correct"):
            continue
        out.append(replaced.get(e["id"], e))
    return sorted(out, key=lambda e: (e["on"], e.get("recorded_at", "")))


def fold(contract: ContractRequest | ContractTerms, stored: list[dict], as_of: dt.date) -> State:
    st = State(terms=terms_of(contract), as_of=as_of)
    for raw in effective_events(stored):
        body = {k: v for k, v in raw.items() if k not in ("id", "recorded_at")}
        ev = _EVENT.validate_python(body)
        if ev.on > as_of:
            continue
        st.events_used.append(raw["id"])
        if ev.type == "delivered":
            st.delivered_on = ev.on
        elif ev.type == "started":
            st.started_on = ev.on
        elif ev.type == "completion_accepted":
            st.completion = ev
        elif ev.type == "progress":
            st.progress = ev
            _legacy_stop(st, ev)
        elif ev.type == "construction_suspended":
            st.construction_suspended_since, st.stop_read_from = ev.on, None
            if ev.has_ratios():
                st.progress = Progress.model_validate({**ev.model_dump(exclude={"type", "correct", "note"}),
                                                       "type": "progress"})
        elif ev.type == "construction_resumed":
            st.construction_suspended_since = None
        elif ev.type == "production_stopped":
            st.production_stopped_since, st.production_stop_partial, st.stop_read_from = ev.on, ev.partial, None
        elif ev.type == "production_resumed":
            st.production_stopped_since = None
        elif ev.type == "extension_approved":
            st.extensions.append(ev)
        elif ev.type == "government_delay":
            st.government_delays.append(ev)
        elif ev.type == "payment":
            st.payments.append(Paid(ev.on, ev.due_on, t.money(ev.amount, "payment.amount"), ev.demanded))
    return st


def _legacy_stop(st: State, ev: Progress) -> None:
    """The old single field ``progress.suspended_since``: a construction suspension, or a production
    stop when completion was accepted on or before that day.  As before, the latest progress report
    states the stop in force (one without the field ends a stop read from an earlier report)."""
    if ev.suspended_since is None:
        if st.stop_read_from is not None:
            st.construction_suspended_since = st.production_stopped_since = None
            st.stop_read_from = None
        return
    if st.completion is not None and st.completion.on <= ev.suspended_since:
        st.production_stopped_since, st.production_stop_partial = ev.suspended_since, False
    else:
        st.construction_suspended_since = ev.suspended_since
    st.stop_read_from = "progress.suspended_since"


def _stop_problems(stored: list[dict], new: list) -> list[Problem]:
    """停建 is before completion acceptance, 停产 after it."""
    done = [dt.date.fromisoformat(e["on"]) for e in effective_events(stored) if e["type"] == "completion_accepted"]
    done += [ev.on for ev in new if ev.type == "completion_accepted"]
    accepted = min(done) if done else None
    out = []
    for i, ev in enumerate(new):
        if ev.type == "construction_suspended" and accepted is not None and ev.on >= accepted:
            out.append(Problem(f"events.{i}.type", f"已于 {accepted} 竣工验收：竣工后停止生产为停产，请用 production_stopped "
                                                   f"(completion was accepted on {accepted}: use production_stopped)"))
        if ev.type == "production_stopped" and (accepted is None or ev.on < accepted):
            when = f"停产日期早于竣工验收 {accepted}" if accepted else "尚未竣工验收"
            out.append(Problem(f"events.{i}.type", f"{when}：建设期停工为停建，请用 construction_suspended "
                                                   f"(before completion acceptance: use construction_suspended)"))
    return out


_BUNDLED = object()


def validate_new_events(contract: ContractRequest | ContractTerms, stored: list[dict], new: list, *,
                        model: ContractModel | None | object = _BUNDLED, law: IdleLandLaw | None = None) -> None:
    """Refuse what the contract model forbids: an extension beyond the model's cap (and the
    contract's, if stricter), a correction of an unknown event or of an event of another type.
    ``model`` and ``law``: the contract model and the 53号令 document to apply (default: the
    bundled ones)."""
    terms = terms_of(contract)
    law = law or idle_land_law()
    if model is _BUNDLED:
        model = contract_models().get(terms.model)
    problems = _stop_problems(stored, new)
    known = {e["id"]: e for e in stored}
    # Without a known model no document sets the cap: one year, as both bundled models do.
    cap = model.limits.get("clauses.extension_max_years", {}).get("value", 1) if model else 1  # type: ignore[union-attr]
    agreed = terms.extension_max_years
    years = Fraction(str(cap)) if agreed is None else min(Fraction(str(cap)), agreed)
    cap_months = round(years * 12)
    # After a government-caused delay the extension agreed under 53号令 Art. 12(1) is capped by that article.
    gov_months = round(Fraction(str(law.disposal("extend_start")["cap_years"])) * 12)
    # The cap runs from the contract's start date (its extension clause), or — after a government-caused
    # delay — from the start date agreed in the supplementary agreement (53号令 Art. 12(1): at most
    # ``cap_years`` from that date), whether that agreement is stored or earlier in this batch.
    start_by = terms.schedule.start_by
    agreed_dates = [dt.date.fromisoformat(e["new_start_by"]) for e in effective_events(stored)
                    if e["type"] == "government_delay" and e.get("new_start_by")]
    for i, ev in enumerate(new):
        if ev.type == "government_delay" and ev.new_start_by is not None and ev.correct is None:
            agreed_dates.append(ev.new_start_by)
        base = max([start_by, *agreed_dates]) if start_by is not None else None
        months = gov_months if agreed_dates and base != start_by else cap_months
        if ev.correct is not None:
            target = known.get(ev.correct)
            if target is None:
                problems.append(Problem(f"events.{i}.correct", f"要更正的事件 {ev.correct} 不存在于该合同"))
            elif target["type"] != ev.type:
                problems.append(Problem(f"events.{i}.correct", f"更正事件类型应为 {target['type']}，实际 {ev.type}"))
        if ev.type == "extension_approved":
            if base is None:
                problems.append(Problem(f"events.{i}.new_start_by", "合同未约定开工日期，无法延期"))
                continue
            limit = add_months(base, months)
            if ev.new_start_by <= base:
                problems.append(Problem(f"events.{i}.new_start_by", f"新开工日期应晚于约定开工日期 {base}"))
            elif ev.new_start_by > limit:
                problems.append(Problem(f"events.{i}.new_start_by",
                                        f"延期超过上限（{months} 个月，即不晚于 {limit}）：拒绝 "
                                        f"(an extension may not exceed {months} months from {base})"))
    if problems:
        raise InputError(problems)


def completion_site(st: State, area: Fraction | None = None) -> Site:
    """The built site as accepted at completion, for deriving its indicators (areas in 亩).
    ``area``: the land area in 亩 (default: the contract's)."""
    comp = st.completion
    measures = {m: v for m in ("total_floor_area", "building_footprint", "structure_footprint", "yard_area",
                               "admin_land_area", "admin_floor_area", "green_area")
                if (v := t.area(getattr(comp, m), f"completion_accepted.{m}")) is not None}
    floors = None
    if comp.floors is not None:
        floors = [Storey(units.to_canonical(f.area.value, f.area.unit, "area"),
                         units.to_canonical(f.height.value, f.height.unit, "length"), f.count) for f in comp.floors]
    return Site(land_area=st.terms.area_mu if area is None else area, measures=measures, floors=floors)
