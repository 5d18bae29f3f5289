"""Tables.  Decisions and rule-set versions are append-only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class RuleSetVersion(SQLModel, table=True):
    __tablename__ = "ruleset_version"
    __table_args__ = (UniqueConstraint("ruleset_id", "version"),)

    pk: int | None = Field(default=None, primary_key=True)
    ruleset_id: str = Field(index=True, max_length=64)
    version: str = Field(max_length=32)
    digest: str = Field(unique=True, max_length=64)
    status: str = Field(max_length=16)
    jurisdiction: str = Field(index=True, max_length=6)
    parent: str | None = Field(default=None, max_length=64)
    effective_from: dt.date
    effective_to: dt.date | None = None
    published_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source: str = Field(default="api", max_length=16)        # "bundled" or "api"
    document: str = Field(sa_column=Column(Text, nullable=False))   # canonical JSON


class Decision(SQLModel, table=True):
    __tablename__ = "decision"

    seq: int | None = Field(default=None, primary_key=True)   # chain order
    id: str = Field(unique=True, max_length=36)
    kind: str = Field(index=True, max_length=32)
    verdict: str = Field(max_length=32)
    created_at: str = Field(max_length=40)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(unique=True, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))    # canonical JSON, hashed


class ChainHead(SQLModel, table=True):
    """One row per chain: the last link.  Locked while a link is appended."""

    __tablename__ = "chain_head"

    name: str = Field(primary_key=True, max_length=32)
    seq: int = 0
    hash: str = Field(max_length=64)


class Contract(SQLModel, table=True):
    """A registered transfer contract (with its supervision agreement): immutable."""

    __tablename__ = "contract"

    contract_no: str = Field(primary_key=True, max_length=64)
    jurisdiction: str = Field(index=True, max_length=6)
    transferee_uscc: str = Field(index=True, max_length=18)
    signed_on: dt.date
    registered_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    digest: str = Field(max_length=64)
    check_decision_id: str | None = Field(default=None, max_length=36)
    document: str = Field(sa_column=Column(Text, nullable=False))      # canonical JSON of the request


class ContractEvent(SQLModel, table=True):
    """Append-only lifecycle events; a correction is a new event naming the one it corrects."""

    __tablename__ = "contract_event"

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=36)
    contract_no: str = Field(index=True, max_length=64)
    type: str = Field(max_length=32)
    on: dt.date
    corrects: str | None = Field(default=None, max_length=36)
    recorded_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))          # canonical JSON of the event


class TaxBatch(SQLModel, table=True):
    """One posting by the tax system; idempotent on batch_id."""

    __tablename__ = "tax_batch"

    batch_id: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)
    received_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    count: int
    new_records: int
    corrections: int
    unchanged: int
    unknown_enterprises: int


class TaxRecord(SQLModel, table=True):
    """A year's tax for one enterprise.  A changed figure for the same (uscc, year)
    is a new row that supersedes the old; both stay.  Amounts in 万元, exact decimal text."""

    __tablename__ = "tax_record"

    pk: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(index=True, max_length=64)
    uscc: str = Field(index=True, max_length=18)
    year: int = Field(index=True)
    tax_paid: str = Field(max_length=40)
    policy_refunds: str | None = Field(default=None, max_length=40)
    supersedes: int | None = Field(default=None)
    current: bool = Field(default=True, index=True)
    known_enterprise: bool = True
    uscc_valid: bool = True
    received_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # 主管税务机关所在行政区 (GB/T 2260) as posted, else characters 3–8 of the USCC; None when the
    # USCC carries no division code.  Decides who may see the row (app.checks.visibility).
    region: str | None = Field(default=None, max_length=6)


class Park(SQLModel, table=True):
    """A park (产业集聚区 / 开发区).  Its names change over time: see ParkName."""

    __tablename__ = "park"

    id: str = Field(primary_key=True, max_length=64)
    jurisdiction: str = Field(index=True, max_length=6)
    planned_area_mu: str = Field(max_length=40)            # exact decimal text, 亩
    target_tax_per_mu: str | None = Field(default=None, max_length=40)   # 万元/亩
    target_source: str | None = Field(default=None, max_length=500)
    ruleset: str | None = Field(default=None, max_length=64)             # the park's low-efficiency rule set
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


class ParkName(SQLModel, table=True):
    __tablename__ = "park_name"

    pk: int | None = Field(default=None, primary_key=True)
    park_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    valid_from: dt.date
    valid_to: dt.date | None = None          # exclusive


class Parcel(SQLModel, table=True):
    """A parcel in a park: 宗地代码 (19) or 不动产单元代码 (28)."""

    __tablename__ = "parcel"

    code: str = Field(primary_key=True, max_length=28)
    park_id: str = Field(index=True, max_length=64)
    area_mu: str = Field(max_length=40)
    use: str = Field(max_length=64)
    supply_status: str = Field(max_length=32)              # approved_unsupplied | supplied | ...
    approval_doc: str | None = Field(default=None, max_length=200)
    approval_date: dt.date | None = None
    contract_no: str | None = Field(default=None, index=True, max_length=64)
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


class ParcelPlan(SQLModel, table=True):
    """一宗一策: each PUT is a new version; the history is kept."""

    __tablename__ = "parcel_plan"
    __table_args__ = (UniqueConstraint("parcel_code", "version"),)

    pk: int | None = Field(default=None, primary_key=True)
    parcel_code: str = Field(index=True, max_length=28)
    version: int
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


class ScoringRun(SQLModel, table=True):
    __tablename__ = "scoring_run"

    id: str = Field(primary_key=True, max_length=36)
    ruleset_id: str = Field(max_length=64)
    ruleset_digest: str = Field(max_length=64)
    year: int
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    decision_id: str | None = Field(default=None, max_length=36)
    document: str = Field(sa_column=Column(Text, nullable=False))      # canonical JSON: inputs and results


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is stored (keys are 256-bit random, so no slow hash is needed)."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=16)                 # public prefix shown in `keys list`
    key_hash: str = Field(unique=True, max_length=64)
    role: str = Field(max_length=16)                                  # rule_admin | officer | tax_system | auditor
    jurisdiction: str | None = Field(default=None, max_length=6)      # scope of tax visibility; None = all
    label: str = Field(default="", max_length=200)
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class ProposalBatchRecord(SQLModel, table=True):
    """A proposal:batch sent with a batch_id: a retry with the same id and body returns these
    decisions instead of storing the batch twice."""

    __tablename__ = "proposal_batch"

    batch_id: str = Field(primary_key=True, max_length=64)
    request_digest: str = Field(max_length=64)
    count: int
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    decision_ids: str = Field(sa_column=Column(Text, nullable=False))   # JSON list, in item order


class LawDocument(SQLModel, table=True):
    """A published version of a legal document other than a standard-land rule set (scoring and
    low-efficiency rule sets, contract models, the 53号令 parameters): immutable, content addressed."""

    __tablename__ = "law_document"
    __table_args__ = (UniqueConstraint("kind", "doc_id", "version"), UniqueConstraint("kind", "digest"))

    pk: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=32)
    doc_id: str = Field(max_length=64)
    version: str = Field(max_length=32)
    digest: str = Field(max_length=64)
    status: str = Field(max_length=16)
    title: str = Field(max_length=200)
    jurisdiction: str | None = Field(default=None, max_length=6)
    effective_from: dt.date
    effective_to: dt.date | None = None
    published_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source: str = Field(default="api", max_length=16)        # "bundled" or "api"
    document: str = Field(sa_column=Column(Text, nullable=False))   # canonical JSON, what the digest covers
