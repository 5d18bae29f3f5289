"""Tax records: a batch's summary and an enterprise's history (no amounts in a summary)."""

from __future__ import annotations

from pydantic import Field

from app.schemas.responses.common import Out, Quantity


class UsccListing(Out):
    count: int
    uscc: list[str]
    withheld: int | None = Field(None, description="for a key with a jurisdiction: how many others there are")


class TaxBatchSummary(Out):
    """POST /v1/tax-records (201 stored, 200 the same batch stored before), GET …/batches/{id}."""
    batch_id: str
    digest: str
    received_at: str
    count: int
    new_records: int
    corrections: int
    unchanged: int
    unknown_enterprises: UsccListing
    invalid_check_characters: UsccListing


class TaxRecord(Out):
    """A stored row; a row reported outside the key's jurisdiction says only its year and
    ``withheld`` (不在本辖区权限内)."""
    pk: int | None = None
    batch_id: str | None = None
    uscc: str | None = None
    year: int
    tax_paid: Quantity | None = None
    policy_refunds: Quantity | None = None
    current: bool
    supersedes: int | None = None
    known_enterprise: bool | None = None
    uscc_valid: bool | None = None
    received_at: str | None = None
    tax_region: str | None = None
    status: str | None = None
    withheld: bool | None = None
    message: str | None = None


class TaxHistory(Out):
    """GET /v1/tax-records?uscc=."""
    uscc: str
    year: int | None
    count: int
    withheld: int
    records: list[TaxRecord]
