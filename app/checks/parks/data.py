"""Everything the classification, ledger and evaluation of a park read, loaded in a few queries
(``load`` → ``ParkData``), the tax records screened for the caller's ``TaxView``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from app.checks import tax_per_mu as tpm
from app.checks.parks.common import store_contract_document
from app.checks.parks.documents import ParkLaw
from app.checks.visibility import TaxView, screen
from app.core import clock
from app.lifecycle.state import State, fold
from app.rulesets.resolve import Registry
from app.schemas.contract import ContractRequest
from app.store import parks as store
from app.store import rulesets, tax
from app.store.models import Contract, Parcel, Park, ParkName


@dataclass
class ParcelRec:
    row: Parcel
    doc: dict
    area: Fraction                           # 亩, the registered (= contracted) area
    supplied_on: dt.date | None
    contract_row: Contract | None
    contract: ContractRequest | None
    events: list[dict]
    _states: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def industrial(self) -> bool:
        return self.row.use == "industrial"

    def supplied_by(self, on: dt.date) -> bool:
        return self.supplied_on is not None and self.supplied_on <= on

    def state(self, as_of: dt.date) -> State | None:
        if self.contract is None:
            return None
        if as_of not in self._states:
            self._states[as_of] = fold(self.contract, self.events, as_of)
        return self._states[as_of]


@dataclass
class ParkData:
    park: Park
    doc: dict
    names: list[ParkName]
    parcels: list[ParcelRec]
    tax: dict[str, dict[int, Any]]                                   # uscc → year → record or WITHHELD (screened)
    holdings: dict[str, list[tpm.Holding]]                           # uscc → its land (any park): the allocation
    registry: Registry
    known_at: dt.datetime
    view: TaxView
    law: ParkLaw                     # the low-efficiency rule sets and 53号令 read, pinned in decisions
    # The unscreened records: read by ``park_tax`` for the park aggregate only, which is shown
    # or withheld by the disclosure rule.  Nothing per enterprise is ever taken from here.
    aggregate_tax: dict[str, dict[int, dict]] = field(default_factory=dict, repr=False)

    def name_on(self, on: dt.date) -> str | None:
        n = store.name_on(self.names, on)
        return n.name if n else None


def _supplied_on(doc: dict) -> dt.date | None:
    v = doc.get("supplied_on")
    return dt.date.fromisoformat(v) if v else None


def load(session: Session, park_id: str, view: TaxView, *, known_at: dt.datetime | None = None,
         law: ParkLaw | None = None) -> ParkData:
    """Everything the classification, ledger and evaluation of a park read, in a few queries;
    the tax records screened for ``view`` (the caller's).  A replay passes the stored decision's
    ``known_at`` (the standard-land rule sets as known then) and its pinned documents (``law``)."""
    park = store.get_park(session, park_id)
    rows = store.parcels_of_park(session, park_id)
    nos = [r.contract_no for r in rows if r.contract_no]
    crow = store.contracts_by_no(session, nos)
    events = store.events_by_contract(session, nos)
    recs = []
    for r in rows:
        doc = store.parcel_document(r)
        c_row = crow.get(r.contract_no) if r.contract_no else None
        contract = ContractRequest.model_validate(store_contract_document(c_row)) if c_row else None
        recs.append(ParcelRec(r, doc, Fraction(r.area_mu), _supplied_on(doc), c_row, contract,
                              events.get(r.contract_no, []) if r.contract_no else []))
    usccs = sorted({c.transferee_uscc for c in crow.values()})
    tax_by_uscc = tax.current_records_many(session, usccs)
    held = tpm.enterprise_land(session, usccs)
    raw = {u: tax_by_uscc.get(u, {}) for u in usccs}
    return ParkData(park=park, doc=store.park_document(park), names=store.names(session, park_id), parcels=recs,
                    tax=screen(raw, view), holdings=held, registry=rulesets.registry(session),
                    known_at=known_at or clock.utcnow(), view=view, law=law or ParkLaw(session),
                    aggregate_tax=raw)
