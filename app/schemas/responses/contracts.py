"""Contracts: the clause check, registration, lifecycle events and performance (履约) with its
findings; the 53号令 idle-land finding is shared with the parks ledger."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from app.schemas.responses.common import Cite, DecisionFields, InOrder, LawPin, Open, Out, RuleSetRef

# ------------------------------------------------------------------ the clause check (before signing)


class ClauseFinding(Out):
    """One clause of the contract against the model contract and the rule set."""
    clause: str = Field(description="the clause's path in the contract (schedule.start_by …)")
    status: str = Field(description="pass, missing, weaker, non_model, invalid or warning")
    contract_value: Any = Field(description="the contract's value for the clause, as submitted")
    rule_value: str | None
    cite: Cite | None
    message: str
    rule: str | None = None
    unit: str | None = None
    example: bool | None = None


class ClauseCounts(Out):
    pass_: int = Field(alias="pass")
    missing: int
    weaker: int
    non_model: int
    invalid: int
    warning: int


class ContractCheckBody(Out):
    kind: Literal["contract"]
    verdict: str
    contract_no: str
    ruleset: RuleSetRef
    as_of: str
    known_at: str
    findings: list[ClauseFinding]
    counts: ClauseCounts
    engine: str
    engine_version: str
    pinned: list[str]
    law: list[LawPin] = Field(description="the contract model used (the version in force on the signing date)")
    request: dict[str, Any] = Field(description="the contract as checked (the ContractRequest schema)")


class ContractCheck(DecisionFields, ContractCheckBody):
    """POST /v1/checks/contract: the stored decision."""


# ------------------------------------------------------------------ registration, events


class ContractSummary(Out):
    contract_no: str
    digest: str
    registered_at: str
    transferee_uscc: str
    check_decision_id: str | None


class ContractRegistration(ContractSummary):
    """POST /v1/contracts: the registered contract; ``check`` is the clause check made now
    (null when the identical contract was already registered)."""
    created: bool
    check: ContractCheck | None


class Event(Open):
    """A stored lifecycle event.  Open: besides the fields below, each event type has its own
    fields as submitted (the schema of its ``type`` in the EventBatch request)."""
    id: str
    on: str
    recorded_at: str
    type: str


class ContractView(ContractSummary):
    """GET /v1/contracts/{no}."""
    contract: dict[str, Any] = Field(description="the registered contract as stored (the ContractRequest schema)")
    events: list[Event]


class ContractEvents(Out):
    """GET /v1/contracts/{no}/events."""
    contract_no: str
    events: list[Event]


class EventsAppended(Out):
    """POST /v1/contracts/{no}/events."""
    contract_no: str
    count: int
    events: list[Event]


# ------------------------------------------------------------------ performance (履约)


class IdleCause(Out):
    type: str
    causes: list[str]
    labels: list[str]


class DisposalOption(Out):
    measure: str
    label: str
    article: str


class Disposal(Out):
    measure: str
    label: str
    article: str
    agreed_on: str | None = None
    document: str | None = None
    new_start_by: str | None = None
    deadline: str | None = None
    cite: Cite | None = None


class IdleLandFinding(InOrder, Out):
    """闲置土地 under 53号令: the state, the cause, the fee and the disposal options."""
    kind: Literal["idle_land"]
    amount: str | None
    formula: str | None
    proposals: list[str]
    status: str
    state: str | None
    inputs: dict[str, Any] = Field(description="open: the dates and figures this state was derived from")
    missing: list[str] | None = None
    cause: IdleCause | None = None
    fee: str | None = None
    cite: Cite | None = None
    disposal_options: list[DisposalOption] | None = None
    disposal: Disposal | None = None
    deadline: str | None = None
    idle_years: int | None = Field(None, description="the full years of the 53号令 version applied (满N年)")
    message: str


class ContractFinding(InOrder, Out):
    """A penalty or commitment clause (late start, investment, 亩均税收 …) on the date assessed."""
    kind: str
    status: str
    amount: str | None = Field(description="万元, a decimal string; null when nothing is due")
    formula: str | None
    inputs: dict[str, Any] = Field(description="open: per kind, the figures the amount was computed from")
    flags: dict[str, bool] | None = None
    notes: list[str] | None = None
    message: str
    label: str | None = None
    party: str | None = None
    missing: list[str] | None = None
    year: int | None = None
    withheld: bool | None = Field(None, description="the year's tax rows were reported outside the key's jurisdiction")
    government_delay_recorded: list[str] | None = None
    counted_in: str | None = Field(None, description="the finding whose penalty includes this one's (merged items)")
    note: str | None = None


class StatuteCite(Out):
    """A statute named by its title and article (the 民法典 on excessive penalties)."""
    title: str
    article: str
    number: str | None
    url: str | None


class PenaltyNote(Out):
    code: str
    penalty_total: str
    land_price: str
    cite: StatuteCite
    message: str


class ContractState(Out):
    start_due: str | None
    complete_due: str | None
    delivered_on: str | None
    started_on: str | None
    completed_on: str | None


class PerformanceBody(Out):
    penalty_total: str
    penalty_note: PenaltyNote | None
    kind: Literal["performance"]
    verdict: str
    contract_no: str
    as_of: str
    known_at: str
    findings: list[Annotated[IdleLandFinding | ContractFinding, Field(union_mode="left_to_right")]]
    amount_total: str
    amount_label: str
    amount_total_complete: bool | None = Field(None, description="false: years withheld from the key are not in the total")
    withheld_years: list[int] | None = None
    amount_total_note: str | None = None
    tax_regions: list[str]
    state: ContractState
    events_used: list[str]
    engine: str
    engine_version: str
    law: list[LawPin] = Field(description="the contract model and the 53号令 version the audit applied")
    inputs: dict[str, Any] = Field(description="open: what the audit saw besides the events (the reviewed years' "
                                              "tax figures, the land, the park), for replay")


class Performance(DecisionFields, PerformanceBody):
    """GET /v1/contracts/{no}/performance: the stored decision."""
