"""Tax records from the tax system: POST /v1/tax-records, the history and batch summaries.

Every test makes its own USCCs (synthetic_uscc with a random tag) and batch ids, so the
tests share the session's database without seeing each other's rows."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.core.numbers import dec_str
from app.schemas import tax as tax_in
from app.store import tax
from app.store.db import get_engine
from app.store.models import Contract
from indicators.identifiers import USCC_CHARS, synthetic_uscc, uscc_check_char, uscc_is_valid
from indicators.units import to_canonical

URL = "/v1/tax-records"
ORG_CHARS = USCC_CHARS          # 0-9 and A-Z without I, O, S, V, Z


def _base31(i: int, width: int) -> str:
    out = ""
    for _ in range(width):
        i, r = divmod(i, 31)
        out = ORG_CHARS[r] + out
    return out


def make_codes(n: int) -> list[str]:
    """``n`` valid USCCs no other test uses (a random 4-character tag, then a counter)."""
    tag = "".join(random.choices(ORG_CHARS, k=4))
    return [synthetic_uscc(org8=tag + _base31(i, 4)) for i in range(n)]


def bad_check(code: str) -> str:
    """The same code with a wrong check character."""
    wrong = next(ch for ch in "0123456789" if ch != code[17])
    return code[:17] + wrong


def rec(uscc: str, year: int = 2025, paid=450, unit: str = "万元", refunds=None, refunds_unit: str = "万元") -> dict:
    r = {"uscc": uscc, "year": year, "tax_paid": {"value": paid, "unit": unit}}
    if refunds is not None:
        r["policy_refunds"] = {"value": refunds, "unit": refunds_unit}
    return r


def batch_id() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


def post(client, bid: str, records: list[dict]):
    return client.post(URL, json={"batch_id": bid, "records": records})


def history(client, uscc: str, year: int | None = None) -> list[dict]:
    params = {"uscc": uscc} if year is None else {"uscc": uscc, "year": year}
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return r.json()["records"]


def figures(row: dict) -> tuple:
    refunds = row["policy_refunds"]["value"] if row["policy_refunds"] else None
    return row["tax_paid"]["value"], refunds


# --------------------------------------------------------------------------- new batches

def test_new_batch_is_stored_in_wan_yuan(client):
    u = make_codes(3)
    bid = batch_id()
    r = post(client, bid, [rec(u[0], paid=450, refunds=90),
                           rec(u[1], paid="4500000.50", unit="元", refunds=12345, refunds_unit="yuan"),
                           rec(u[2], paid="0.015", unit="亿元")])
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["batch_id"] == bid and len(s["digest"]) == 64
    assert (s["count"], s["new_records"], s["corrections"], s["unchanged"]) == (3, 3, 0, 0)
    assert s["unknown_enterprises"] == {"count": 3, "uscc": sorted(u)}
    assert s["invalid_check_characters"] == {"count": 0, "uscc": []}
    assert dt.datetime.fromisoformat(s["received_at"]).tzinfo is not None

    rows = [history(client, code) for code in u]
    assert [len(x) for x in rows] == [1, 1, 1]
    assert figures(rows[0][0]) == ("450", "90")
    assert figures(rows[1][0]) == ("450.00005", "1.2345")
    assert figures(rows[2][0]) == ("150", None)
    for x in rows:
        row = x[0]
        assert row["tax_paid"]["unit"] == "万元"
        assert (row["batch_id"], row["year"], row["current"], row["supersedes"]) == (bid, 2025, True, None)
        assert row["known_enterprise"] is False and row["uscc_valid"] is True
        assert row["received_at"] == s["received_at"]
    assert client.get(f"{URL}/batches/{bid}").json() == s


def test_same_batch_twice_changes_nothing(client):
    u = make_codes(3)
    bid = batch_id()
    records = [rec(u[0], paid=450, refunds=90), rec(u[1], paid=12.5), rec(bad_check(u[2]), paid=1)]
    first = post(client, bid, records)
    assert first.status_code == 201, first.text
    again = post(client, bid, records)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    # The same content, canonically: other order, other units, lower case, decimal strings.
    same = [rec(u[1], paid="125000", unit="元"), rec(bad_check(u[2]).lower(), paid="1.000"),
            rec(u[0], paid="0.045", unit="亿元", refunds=900000, refunds_unit="元")]
    third = post(client, bid, same)
    assert third.status_code == 200, third.text
    assert third.json() == first.json()
    assert [len(history(client, c)) for c in (u[0], u[1], bad_check(u[2]))] == [1, 1, 1]
    assert client.get(f"{URL}/batches/{bid}").json() == first.json()


def test_same_batch_id_other_content_is_a_conflict(client):
    u = make_codes(2)
    bid = batch_id()
    assert post(client, bid, [rec(u[0], paid=100)]).status_code == 201
    for other in ([rec(u[0], paid=101)], [rec(u[0], paid=100), rec(u[1], paid=5)], [rec(u[0], paid=100, refunds=0)]):
        r = post(client, bid, other)
        assert r.status_code == 409, r.text
        assert bid in r.json()["detail"]
    assert [figures(x) for x in history(client, u[0])] == [("100", None)]
    assert history(client, u[1]) == []


# --------------------------------------------------------------------------- corrections

def test_correction_supersedes_and_both_stay_visible(client):
    u = make_codes(2)
    a, b, c = batch_id(), batch_id(), batch_id()
    first = [rec(u[0], 2024, paid=100, refunds=10), rec(u[0], 2025, paid=200), rec(u[1], 2024, paid=7)]
    assert post(client, a, first).status_code == 201
    r = post(client, b, [rec(u[0], 2024, paid=120, refunds=10)])
    assert r.status_code == 201, r.text
    assert (r.json()["new_records"], r.json()["corrections"], r.json()["unchanged"]) == (0, 1, 0)
    r = post(client, c, [rec(u[0], 2024, paid=120)])          # refunds no longer reported: a correction too
    assert (r.json()["new_records"], r.json()["corrections"], r.json()["unchanged"]) == (0, 1, 0)

    rows = history(client, u[0])
    assert [(x["year"], x["batch_id"], x["current"]) for x in rows] == [
        (2024, a, False), (2024, b, False), (2024, c, True), (2025, a, True)]
    assert [figures(x) for x in rows] == [("100", "10"), ("120", "10"), ("120", None), ("200", None)]
    assert rows[0]["supersedes"] is None
    assert rows[1]["supersedes"] == rows[0]["pk"]
    assert rows[2]["supersedes"] == rows[1]["pk"]
    assert rows[3]["supersedes"] is None
    assert history(client, u[0], 2024) == rows[:3]
    assert history(client, u[0], 2025) == rows[3:]
    assert [x["current"] for x in history(client, u[1])] == [True]      # untouched

    with Session(get_engine()) as session:
        cur = tax.current_records(session, u[0].lower())
    assert set(cur) == {2024, 2025}
    assert cur[2024]["tax_paid"] == Decimal("120") and cur[2024]["policy_refunds"] is None
    assert (cur[2024]["batch_id"], cur[2024]["pk"]) == (c, rows[2]["pk"])
    assert cur[2025]["tax_paid"] == Decimal(200) and cur[2025]["pk"] == rows[3]["pk"]


def test_unchanged_records_add_no_row(client):
    u = make_codes(3)
    a, b = batch_id(), batch_id()
    assert post(client, a, [rec(u[0], paid=100, refunds=5), rec(u[1], paid=50)]).status_code == 201
    # u0: the same figures in other units; u1: changed; u2: new.
    r = post(client, b, [rec(u[0], paid=1_000_000, unit="元", refunds="5.0"), rec(u[1], paid=51), rec(u[2], paid=1)])
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["count"], s["new_records"], s["corrections"], s["unchanged"]) == (3, 1, 1, 1)
    # The lists cover the rows this batch stored; the unchanged u0 added none.
    assert s["unknown_enterprises"] == {"count": 2, "uscc": sorted([u[1], u[2]])}
    assert [(x["batch_id"], x["current"]) for x in history(client, u[0])] == [(a, True)]
    assert [(x["batch_id"], x["current"]) for x in history(client, u[1])] == [(a, False), (b, True)]
    assert [(x["batch_id"], x["current"]) for x in history(client, u[2])] == [(b, True)]
    r = post(client, batch_id(), [rec(u[0], paid=100, refunds=5)])
    assert (r.json()["new_records"], r.json()["corrections"], r.json()["unchanged"]) == (0, 0, 1)
    assert r.json()["unknown_enterprises"] == {"count": 0, "uscc": []}


# --------------------------------------------------------------------------- enterprises and codes

def _register_contract(uscc: str) -> None:
    with Session(get_engine()) as session:
        session.add(Contract(contract_no=f"T-{uuid.uuid4().hex[:12]}", jurisdiction="411200", transferee_uscc=uscc,
                             signed_on=dt.date(2023, 5, 1), registered_at=dt.datetime.now(dt.UTC), digest="0" * 64,
                             document="{}"))
        session.commit()


def test_unknown_enterprises_are_kept_and_reported(client):
    u = make_codes(4)
    _register_contract(u[0])
    _register_contract(u[2])
    bid = batch_id()
    r = post(client, bid, [rec(c) for c in u])
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["unknown_enterprises"] == {"count": 2, "uscc": sorted([u[1], u[3]])}
    assert s["new_records"] == 4
    assert [history(client, c)[0]["known_enterprise"] for c in u] == [True, False, True, False]
    assert client.get(f"{URL}/batches/{bid}").json() == s


def test_unknown_enterprise_list_is_capped(client):
    u = make_codes(tax.LIST_CAP + 5)
    r = post(client, batch_id(), [rec(c) for c in u])
    assert r.status_code == 201, r.text
    assert r.json()["unknown_enterprises"]["count"] == tax.LIST_CAP + 5
    assert r.json()["unknown_enterprises"]["uscc"] == sorted(u)[:tax.LIST_CAP]


def test_wrong_check_character_is_kept_for_review(client):
    u = make_codes(2)
    wrong = bad_check(u[1])
    assert not uscc_is_valid(wrong)
    bid = batch_id()
    r = post(client, bid, [rec(u[0]), rec("  " + wrong.lower() + " ", paid=3)])
    assert r.status_code == 201, r.text
    assert r.json()["invalid_check_characters"] == {"count": 1, "uscc": [wrong]}
    assert r.json()["new_records"] == 2
    rows = history(client, wrong.lower())
    assert [(x["uscc"], x["uscc_valid"], x["current"]) for x in rows] == [(wrong, False, True)]
    assert history(client, u[0])[0]["uscc_valid"] is True
    assert client.get(f"{URL}/batches/{bid}").json() == r.json()


# --------------------------------------------------------------------------- invalid input

def test_invalid_batch_lists_every_problem_and_stores_nothing(client):
    u = make_codes(6)
    bid = batch_id()
    records = [
        rec(u[0]),                                                     # fine
        rec(u[1], unit="m2"),                                          # 1: an area unit
        rec(u[2], paid=-1),                                            # 2: negative
        rec(u[3], paid="NaN"),                                         # 3: not a number
        rec("91411200MA0I0000O1"),                                     # 4: I and O are not used
        rec(u[4], refunds=5, refunds_unit="美元"),                      # 5: unknown unit
        rec(u[0]),                                                     # 6: (u0, 2025) again
        rec(u[5], year=1900),                                          # 7: year out of range
        {**rec(u[5], year=2024), "tax_item": "增值税"},                 # 8: unknown field
        {"uscc": u[5], "year": 2023},                                  # 9: no tax_paid
        rec(u[5], year=2022, paid="0.000000001", unit="元"),            # 10: finer than 12 places in 万元
        rec(u[4][:17], year=2021),                                     # 11: 17 characters
        rec(u[5], year="2020"),                                        # 12: year as text
        rec(u[5], year=2019, paid=1, unit=None),                       # 13: no unit
        rec(u[5], year=2018, paid="1e9"),                              # 14: above the sanity bound
    ]
    r = post(client, bid, records)
    assert r.status_code == 422, r.text
    paths = [d["path"] for d in r.json()["detail"]]
    assert set(paths) == {
        "records.1.tax_paid.unit", "records.2.tax_paid.value", "records.3.tax_paid.value", "records.4.uscc",
        "records.5.policy_refunds.unit", "records.6.uscc", "records.7.year", "records.8.tax_item",
        "records.9.tax_paid", "records.10.tax_paid", "records.11.uscc", "records.12.year", "records.13.tax_paid.unit",
        "records.14.tax_paid"}, paths
    msgs = {d["path"]: d["msg"] for d in r.json()["detail"]}
    assert "records.0" in msgs["records.6.uscc"]
    assert "I" in msgs["records.4.uscc"] and "18" in msgs["records.11.uscc"]
    assert client.get(f"{URL}/batches/{bid}").status_code == 404
    for c in u:
        assert history(client, c) == []


def test_duplicates_are_reported_with_field_problems(client):
    u = make_codes(2)
    records = [rec(u[0]), rec(u[1]), rec(u[0].lower(), paid=5), rec(u[1], unit="bogus")]
    r = post(client, batch_id(), records)
    assert r.status_code == 422
    assert [d["path"] for d in r.json()["detail"]] == ["records.2.uscc", "records.3.tax_paid.unit", "records.3.uscc"]
    # NaN and Infinity as JSON literals, too.
    body = json.dumps({"batch_id": batch_id(), "records": [rec(u[0], paid=float("nan")), rec(u[1], paid=float("inf"))]})
    r = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert [d["path"] for d in r.json()["detail"]] == ["records.0.tax_paid.value", "records.1.tax_paid.value"]


@pytest.mark.parametrize("body", [
    b"not json",
    b"[]",
    json.dumps({"batch_id": "x", "records": []}).encode(),
    json.dumps({"batch_id": "has space", "records": [rec(synthetic_uscc())]}).encode(),
    json.dumps({"records": [rec(synthetic_uscc())]}).encode(),
    json.dumps({"batch_id": "x", "records": [rec(synthetic_uscc())], "extra": 1}).encode(),
])
def test_malformed_requests(client, body):
    r = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


def test_reads_validate_and_404(client):
    assert client.get(URL, params={"uscc": "not-a-code"}).status_code == 422
    assert client.get(URL, params={"uscc": synthetic_uscc(), "year": 1800}).status_code == 422
    assert client.get(URL).status_code == 422
    assert client.get(f"{URL}/batches/{batch_id()}").status_code == 404
    r = client.get(URL, params={"uscc": make_codes(1)[0]})
    assert r.status_code == 200 and r.json()["count"] == 0 and r.json()["records"] == []


# --------------------------------------------------------------------------- all or nothing

def test_batch_failing_midway_stores_nothing(client, monkeypatch):
    u = make_codes(8)
    first = batch_id()
    assert post(client, first, [rec(u[0], paid=100)]).status_code == 201

    real, calls = tax._insert_chunk, []

    def failing(conn, rows):
        calls.append(len(rows))
        if len(calls) > 1:
            raise RuntimeError("simulated database failure after the first chunk")
        real(conn, rows)

    monkeypatch.setattr(tax, "WRITE_CHUNK", 3)
    monkeypatch.setattr(tax, "_insert_chunk", failing)
    bid = batch_id()
    records = [rec(u[0], paid=111)] + [rec(c, paid=i) for i, c in enumerate(u[1:])]   # a correction and 7 new
    with pytest.raises(RuntimeError, match="simulated"):
        post(client, bid, records)
    assert calls == [3, 3]

    assert client.get(f"{URL}/batches/{bid}").status_code == 404
    assert [(x["batch_id"], x["current"], figures(x)) for x in history(client, u[0])] == [(first, True, ("100", None))]
    for c in u[1:]:
        assert history(client, c) == []

    monkeypatch.setattr(tax, "_insert_chunk", real)
    r = post(client, bid, records)                    # the same batch, once the fault is gone
    assert r.status_code == 201, r.text
    assert (r.json()["new_records"], r.json()["corrections"]) == (7, 1)
    assert [x["current"] for x in history(client, u[0])] == [False, True]


def test_concurrent_batches_keep_one_current_row(client):
    """Writers are serialized: concurrent corrections of one (uscc, year) form one chain,
    and concurrent posts of one new batch store it once."""
    u = make_codes(2)
    assert post(client, batch_id(), [rec(u[0], paid=1)]).status_code == 201
    n = 8
    barrier = threading.Barrier(n)
    same = batch_id()
    results: list = [None] * (2 * n)

    def correct(i: int) -> None:
        barrier.wait()
        results[i] = post(client, batch_id(), [rec(u[0], paid=100 + i)])

    def same_batch(i: int) -> None:
        barrier.wait()
        results[n + i] = post(client, same, [rec(u[1], paid=7)])

    threads = [threading.Thread(target=correct, args=(i,)) for i in range(n)]
    threads += [threading.Thread(target=same_batch, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results[:n]] == [201] * n
    assert sorted(r.status_code for r in results[n:]) == [200] * (n - 1) + [201]
    assert len({json.dumps(r.json(), sort_keys=True) for r in results[n:]}) == 1

    rows = history(client, u[0])
    assert len(rows) == n + 1
    assert [x["current"] for x in rows] == [False] * n + [True]
    assert [x["supersedes"] for x in rows] == [None] + [x["pk"] for x in rows[:-1]]
    assert len(history(client, u[1])) == 1


# --------------------------------------------------------------------------- scale

def test_100k_records_in_one_batch(client):
    n = 100_000
    codes = make_codes(n)
    records = [{"uscc": c, "year": 2025, "tax_paid": {"value": 400 + i % 97, "unit": "万元"},
                "policy_refunds": {"value": f"{i % 13}.5", "unit": "万元"}} for i, c in enumerate(codes)]
    body = json.dumps({"batch_id": batch_id(), "records": records}, ensure_ascii=False).encode()
    t0 = time.perf_counter()
    r = client.post(URL, content=body, headers={"content-type": "application/json"})
    elapsed = time.perf_counter() - t0
    assert r.status_code == 201, r.text[:2000]
    s = r.json()
    assert (s["count"], s["new_records"], s["corrections"], s["unchanged"]) == (n, n, 0, 0)
    assert s["unknown_enterprises"]["count"] == n and len(s["unknown_enterprises"]["uscc"]) == tax.LIST_CAP
    print(f"\n100,000 tax records in one batch: {elapsed:.2f} s, {n / elapsed:,.0f} records/s "
          f"({get_engine().dialect.name})")
    assert elapsed < 60
    assert figures(history(client, codes[12345])[0]) == (str(400 + 12345 % 97), f"{12345 % 13}.5")

    # A correction of 1,000 of them and 99,000 unchanged, in one batch.
    for i in range(0, n, 100):
        records[i]["tax_paid"]["value"] += 1
    t0 = time.perf_counter()
    r = client.post(URL, json={"batch_id": batch_id(), "records": records})
    elapsed2 = time.perf_counter() - t0
    assert r.status_code == 201, r.text[:2000]
    assert (r.json()["new_records"], r.json()["corrections"], r.json()["unchanged"]) == (0, n // 100, n - n // 100)
    print(f"the same 100,000 with 1,000 corrections: {elapsed2:.2f} s")
    rows = history(client, codes[200])
    assert [x["current"] for x in rows] == [False, True] and rows[1]["supersedes"] == rows[0]["pk"]


# --------------------------------------------------------------------------- helpers agree with the references

def test_fast_uscc_check_agrees_with_identifiers():
    rng = random.Random(20251127)
    codes = []
    for _ in range(3000):
        code = synthetic_uscc(region="".join(rng.choices("0123456789", k=6)),
                              org8="".join(rng.choices(ORG_CHARS, k=8)), kind=rng.choice(["91", "92", "51", "Y1"]))
        codes += [code, bad_check(code), code[:2] + "A" + code[3:],
                  code[:2] + "0" + code[3:17] + uscc_check_char(code[:2] + "0" + code[3:17])]
        codes.append("".join(rng.choices(USCC_CHARS, k=18)))
    for code in codes:
        assert tax_in.uscc_well_formed(code)
        assert tax_in.uscc_valid(code) == uscc_is_valid(code), code
    assert sum(map(tax_in.uscc_valid, codes)) > 2000          # both answers occur, often


# What the request model lets through: 0 ≤ value ≤ 1e12, at most 12 decimal places.
money = (st.tuples(st.integers(0, 10**24), st.integers(0, 12)).map(lambda t: Decimal(t[0]).scaleb(-t[1]))
         .filter(lambda d: d <= Decimal("1e12")))


@settings(max_examples=300, deadline=None)
@given(value=money, unit=st.sampled_from(["万元", "wan_yuan", "元", "yuan", "亿元", "yi_yuan"]))
def test_canonical_money_is_dec_str_of_the_exact_value(value, unit):
    exact = to_canonical(value, unit, "money")
    if (exact * 10**12).denominator != 1:
        with pytest.raises(ValueError):
            tax_in.canonical_money(value, unit)
    else:
        assert tax_in.canonical_money(value, unit) == dec_str(exact)
