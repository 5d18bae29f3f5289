"""Tax records posted by the tax system (docs/domain.md).

A batch is one transaction, all or nothing, idempotent on ``batch_id``:

- the request is validated as a whole: every problem of every record, with its path
  (``records.N.field``), is reported together (HTTP 422) and nothing is stored;
- the batch's **digest** is the SHA-256 of its canonical content (records sorted by
  (uscc, year), amounts converted to 万元 as exact decimal text); posting the same
  batch again returns the stored summary, other content under the same id is refused;
- a record whose (uscc, year) already has a current row with the same figures is
  *unchanged* (no row); different figures are a *correction*: a new row that
  ``supersedes`` the old one, which stops being ``current``; both stay;
- a USCC whose check character fails is kept with ``uscc_valid = false`` (a review
  queue, docs/domain.md); a malformed one (length, character set) is refused;
  a record for an enterprise with no registered contract is kept with
  ``known_enterprise = false``.  The summary lists both kinds (distinct USCCs, the first
  100 in order, and the count) over the rows the batch stored: an unchanged record adds no
  row, so it is not listed again (its row from the earlier batch carries the flags);
- each record carries ``tax_region``: the 6-digit division code of the tax authority that
  reported it (主管税务机关所在行政区).  Absent, it defaults to the registering authority in
  characters 3–8 of the USCC (``default_region``; only a default: city-registered firms carry
  411200, outside investors their home city).  Who may see a row follows its region
  (``app.checks.visibility``).  A batch without any ``tax_region`` keeps the digest it had
  before regions existed, so an old batch retried is still the same batch.

Rows are written at the driver level, no ORM objects (executemany on SQLite, COPY on
PostgreSQL), existing rows and contracts read in chunks, garbage collection paused while a
batch is parsed and written: a 100,000-record batch takes seconds on SQLite and PostgreSQL.
Tax writers are serialized (SQLite's write lock, taken up front by ``begin_write``; a
transaction-scoped advisory lock on PostgreSQL), so two batches never both supersede the
same row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core import clock
from app.core.errors import Conflict, NotFound
from app.schemas.tax import MONEY, default_region, normalise_uscc, uscc_valid, uscc_well_formed
from app.store.db import begin_write
from app.store.models import Contract, TaxBatch, TaxRecord

LIST_CAP = 100                           # USCCs listed in a summary; the count is always complete
READ_CHUNK = 2_000                       # USCCs per IN (...) when reading existing rows and contracts
WRITE_CHUNK = 10_000                     # rows per executemany
ADVISORY_LOCK = 0x7A78_5F72_6563_6F72    # "tax_record"-ish: serializes tax writers on PostgreSQL

_T = TaxRecord.__table__
_B = TaxBatch.__table__
_C = Contract.__table__


# --------------------------------------------------------------------------- canonical form

def canonical_records(batch: dict) -> list[tuple[str, int, str, str | None, str | None]]:
    """(uscc, year, tax_paid, policy_refunds, tax_region as posted) in 万元 text, sorted by (uscc, year)."""
    return sorted((r["uscc"], r["year"], r["tax_paid"], r.get("policy_refunds"), r.get("tax_region"))
                  for r in batch["records"])


def record_region(record: tuple) -> str | None:
    """The region a canonical record is stored with: as posted, else the USCC's default."""
    return record[4] if record[4] is not None else default_region(record[0])


def batch_digest(records: list[tuple]) -> str:
    if all(r[4] is None for r in records):
        # No region posted: the digest of the batch as it was before regions existed.
        doc = {"unit": MONEY, "fields": ["uscc", "year", "tax_paid", "policy_refunds"],
               "records": [r[:4] for r in records]}
    else:
        doc = {"unit": MONEY, "fields": ["uscc", "year", "tax_paid", "policy_refunds", "tax_region"],
               "records": records}
    blob = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- writing

COLUMNS = ("batch_id", "uscc", "year", "tax_paid", "policy_refunds", "supersedes", "current", "known_enterprise",
           "uscc_valid", "received_at", "region")


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _iso(t: dt.datetime) -> str:
    return _aware(t).astimezone(dt.UTC).isoformat(timespec="microseconds")


def _chunks(seq: list, n: int) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _lock(session: Session) -> None:
    """Serialize tax writers for the rest of the transaction: SQLite's write lock, taken by
    the first statement; on PostgreSQL a transaction-scoped advisory lock."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})


def _bind(dialect, column: str, value: Any) -> Any:
    """``value`` as the driver receives it for ``column`` (e.g. SQLite's datetime text)."""
    proc = _T.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return proc(value) if proc else value


def _insert_chunk(conn, rows: list[tuple]) -> None:
    """Insert rows (tuples in COLUMNS order, values already as the driver takes them) at the
    driver level: COPY on PostgreSQL (psycopg), executemany elsewhere.  SQLAlchemy's own
    executemany processes every parameter of every row in Python, three times slower."""
    dialect = conn.dialect
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in COLUMNS)
    table = dialect.identifier_preparer.format_table(_T)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with conn.connection.driver_connection.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None:                                           # another driver: the portable way
        conn.execute(insert(_T), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
        return
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(COLUMNS))})", rows)


def _member(conn, column, values: list):
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``: one parameter instead of
    thousands (each rendered, parsed and planned)."""
    if conn.dialect.name != "postgresql":
        return column.in_(values)
    if all(isinstance(v, str) and "," not in v for v in values):
        # one text parameter split by the server: psycopg adapts a text array element by element
        return column == any_(func.string_to_array(bindparam(None, ",".join(values), type_=String), ","))
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def _read_chunk(conn) -> int:
    return READ_CHUNK * 10 if conn.dialect.name == "postgresql" else READ_CHUNK


def _existing_current(conn, usccs: list[str], years: list[int]) -> dict[tuple[str, int], tuple]:
    """(uscc, year) → (pk, tax_paid, policy_refunds, region) of the current rows, read in chunks."""
    out: dict[tuple[str, int], tuple] = {}
    for chunk in _chunks(usccs, _read_chunk(conn)):
        q = (select(_T.c.pk, _T.c.uscc, _T.c.year, _T.c.tax_paid, _T.c.policy_refunds, _T.c.current, _T.c.region)
             .where(_member(conn, _T.c.uscc, chunk), _by_uscc(_T.c.year).in_(years)))
        for pk, uscc, year, paid, refunds, current, region in conn.execute(q):
            if current:
                prev = out.get((uscc, year))
                if prev is None or pk > prev[0]:
                    out[(uscc, year)] = (pk, paid, refunds, region)
    return out


def _by_uscc(year_column):
    """``year * 1``: the same values, but no index on year can serve the condition.  SQLite
    (no statistics) would otherwise walk the year or current index, i.e. every row of the
    year, for each chunk of USCCs; this leaves it the uscc index.  ``current`` is tested in
    Python for the same reason."""
    return year_column * 1


def _known(conn, usccs: list[str]) -> set[str]:
    known: set[str] = set()
    for chunk in _chunks(usccs, _read_chunk(conn)):
        q = select(_C.c.transferee_uscc).where(_member(conn, _C.c.transferee_uscc, chunk)).distinct()
        known.update(conn.execute(q).scalars())
    return known


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or Decimal(a) == Decimal(b)


def _listing(usccs: Iterable[str]) -> dict:
    distinct = sorted(set(usccs))
    return {"count": len(distinct), "uscc": distinct[:LIST_CAP]}


def _summary(batch_id: str, digest: str, received_at: dt.datetime, count: int, new: int, corrections: int,
             unchanged: int, unknown: dict, invalid: dict) -> dict:
    return {"batch_id": batch_id, "digest": digest, "received_at": _iso(received_at), "count": count,
            "new_records": new, "corrections": corrections, "unchanged": unchanged,
            "unknown_enterprises": unknown, "invalid_check_characters": invalid}


def ingest(session: Session, batch: dict) -> tuple[dict, bool]:
    """Store a validated batch.  Returns (summary, created); created is False when the same
    batch was stored before (its stored summary is returned).  Conflict if the batch id was
    used for other content."""
    records = canonical_records(batch)
    digest = batch_digest(records)
    for attempt in (1, 2):
        try:
            return _ingest(session, batch["batch_id"], digest, records)
        except IntegrityError:
            # Only a writer outside the tax lock can get here (the batch id was taken meanwhile).
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(session: Session, batch_id: str, digest: str, records: list[tuple]) -> tuple[dict, bool]:
    try:
        _lock(session)
        conn = session.connection()
        stored = conn.execute(select(_B.c.digest).where(_B.c.batch_id == batch_id)).first()
        if stored is not None:
            session.rollback()
            if stored.digest != digest:
                raise Conflict(f"batch {batch_id!r} was already stored with other content (digest {stored.digest}); "
                               f"a correction is a new batch with its own id")
            return batch_summary(session, batch_id), False

        usccs = sorted({r[0] for r in records})
        years = sorted({r[1] for r in records})
        existing = _existing_current(conn, usccs, years)
        known = _known(conn, usccs)
        valid = {u: uscc_valid(u) for u in usccs}
        received_at = clock.utcnow()

        d = conn.dialect
        b_id, b_current, b_at = _bind(d, "batch_id", batch_id), _bind(d, "current", True), _bind(d, "received_at", received_at)
        b_bool = {v: _bind(d, "known_enterprise", v) for v in (True, False)}
        rows: list[tuple] = []
        superseded: list[int] = []
        unknown_usccs: list[str] = []
        invalid_usccs: list[str] = []
        unchanged = 0
        for rec in records:
            uscc, year, paid, refunds = rec[:4]
            region = record_region(rec)
            old = existing.get((uscc, year))
            if old is not None:
                # Another reporting authority with the same figures is a correction too: who may
                # see the row changes with it.
                if _same(old[1], paid) and _same(old[2], refunds) and old[3] == region:
                    unchanged += 1
                    continue
                superseded.append(old[0])
            is_known, is_valid = uscc in known, valid[uscc]
            if not is_known:
                unknown_usccs.append(uscc)
            if not is_valid:
                invalid_usccs.append(uscc)
            rows.append((b_id, uscc, year, paid, refunds, old[0] if old is not None else None, b_current,
                         b_bool[is_known], b_bool[is_valid], b_at, region))

        # Old rows first: at no point are two rows current for one (uscc, year).
        for chunk in _chunks(superseded, _read_chunk(conn)):
            res = conn.execute(update(_T).where(_member(conn, _T.c.pk, chunk), _T.c.current.is_(True)).values(current=False))
            if res.rowcount != len(chunk):
                raise Conflict("tax records changed while this batch was written; nothing was stored, post it again")
        for chunk in _chunks(rows, WRITE_CHUNK):
            _insert_chunk(conn, chunk)

        unknown, invalid = _listing(unknown_usccs), _listing(invalid_usccs)
        conn.execute(insert(_B).values(batch_id=batch_id, digest=digest, received_at=received_at, count=len(records),
                                       new_records=len(rows) - len(superseded), corrections=len(superseded),
                                       unchanged=unchanged, unknown_enterprises=unknown["count"]))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return _summary(batch_id, digest, received_at, len(records), len(rows) - len(superseded), len(superseded),
                    unchanged, unknown, invalid), True


# --------------------------------------------------------------------------- reading

def batch_summary(session: Session, batch_id: str, sees: Callable[[str | None], bool] | None = None) -> dict:
    """The stored summary of a batch.  The two USCC lists are over the rows the batch
    stored (new records and corrections); unchanged records add no row and are not listed.
    With ``sees`` (a key's view of regions), a list names only the USCCs with a row in this
    batch reported by a region it sees; ``withheld`` counts the others."""
    conn = session.connection()
    b = conn.execute(select(_B).where(_B.c.batch_id == batch_id)).first()
    if b is None:
        raise NotFound(f"tax batch {batch_id!r} not found")
    mine = _T.c.batch_id == batch_id
    unknown = conn.execute(select(_T.c.uscc, _T.c.region).where(mine, _T.c.known_enterprise.is_(False))).all()
    invalid = conn.execute(select(_T.c.uscc, _T.c.region).where(mine, _T.c.uscc_valid.is_(False))).all()
    return _summary(b.batch_id, b.digest, b.received_at, b.count, b.new_records, b.corrections, b.unchanged,
                    _scoped_listing(unknown, sees), _scoped_listing(invalid, sees))


def _scoped_listing(rows: list, sees: Callable[[str | None], bool] | None) -> dict:
    if sees is None:
        return _listing(u for u, _ in rows)
    everyone = {u for u, _ in rows}
    shown = {u for u, region in rows if sees(region)}
    return {**_listing(shown), "withheld": len(everyone - shown)}


def _quantity(text_: str | None) -> dict | None:
    return None if text_ is None else {"value": text_, "unit": MONEY}


def history(session: Session, uscc: str, year: int | None = None) -> list[dict]:
    """Every row for an enterprise (optionally one year), by year then in the order stored."""
    q = select(_T).where(_T.c.uscc == normalise_uscc(uscc))
    if year is not None:
        q = q.where(_by_uscc(_T.c.year) == year)
    return [{"pk": r.pk, "batch_id": r.batch_id, "uscc": r.uscc, "year": r.year,
             "tax_paid": _quantity(r.tax_paid), "policy_refunds": _quantity(r.policy_refunds),
             "current": bool(r.current), "supersedes": r.supersedes, "known_enterprise": bool(r.known_enterprise),
             "uscc_valid": bool(r.uscc_valid), "received_at": _iso(r.received_at), "tax_region": r.region}
            for r in session.connection().execute(q.order_by(_T.c.year, _T.c.pk))]


def current_records(session: Session, uscc: str) -> dict[int, dict]:
    """The current figures of an enterprise, year → {"tax_paid": Decimal (万元),
    "policy_refunds": Decimal | None, "batch_id", "pk", "received_at", "known_enterprise",
    "uscc_valid", "region"}.  A year with no record is absent: that is missing data, never zero tax
    (docs/domain.md)."""
    return current_records_many(session, [uscc]).get(normalise_uscc(uscc), {})


def current_records_many(session: Session, usccs: Iterable[str]) -> dict[str, dict[int, dict]]:
    """``current_records`` for many enterprises in a few queries (a park has thousands)."""
    codes = sorted({normalise_uscc(u) for u in usccs})
    conn = session.connection()
    out: dict[str, dict[int, dict]] = {}
    for chunk in _chunks(codes, _read_chunk(conn)):
        q = (select(_T.c.pk, _T.c.uscc, _T.c.year, _T.c.tax_paid, _T.c.policy_refunds, _T.c.batch_id,
                    _T.c.received_at, _T.c.known_enterprise, _T.c.uscc_valid, _T.c.current, _T.c.region)
             .where(_member(conn, _T.c.uscc, chunk)).order_by(_T.c.pk))
        for r in conn.execute(q):
            if r.current:                # tested here, not in SQL: see _by_uscc
                out.setdefault(r.uscc, {})[r.year] = {
                    "tax_paid": Decimal(r.tax_paid),
                    "policy_refunds": Decimal(r.policy_refunds) if r.policy_refunds is not None else None,
                    "batch_id": r.batch_id, "pk": r.pk, "received_at": _aware(r.received_at),
                    "known_enterprise": bool(r.known_enterprise), "uscc_valid": bool(r.uscc_valid),
                    "region": r.region}
    return out


def enterprise_regions(session: Session, ids: Iterable[str], year: int | None = None) -> dict[str, str | None]:
    """The region that decides who may see an enterprise's tax-derived figures (a scoring run's
    values), by the rule of the tax rows themselves: the region of its current row for ``year``,
    else of its latest current row, else the USCC's default (``default_region``).  An id that is
    no well-formed USCC (a name) has no region (None: only keys without a jurisdiction see it)."""
    codes = {i: normalise_uscc(i) for i in ids if isinstance(i, str)}
    wellformed = sorted({c for c in codes.values() if uscc_well_formed(c)})
    rows = current_records_many(session, wellformed) if wellformed else {}
    out: dict[str, str | None] = {}
    for i, code in codes.items():
        if not uscc_well_formed(code):
            out[i] = None
            continue
        years = rows.get(code) or {}
        rec = years.get(year) if year is not None else None
        if rec is None and years:
            rec = years[max(years)]
        out[i] = rec["region"] if rec is not None else default_region(code)
    return out


def count_rows(session: Session) -> int:
    return session.connection().execute(select(func.count()).select_from(_T)).scalar_one()
