"""The demo data set (app/demo/): generated, loaded, and its ledger, evaluation and scoring run
checked against figures recomputed here from the generator's raw data — the request dicts it
posts (parcels, contracts, events, tax records, the scoring body) — with plain arithmetic
(Fraction) and dates, not with the service's functions.

The rules restated here, as the service documents them:

- supplied: a transferred parcel on its contract's signing date, an allocated one on
  ``supplied_on``; the park 亩均税收 of a year = Σ counted tax ÷ Σ area of ALL the industrial
  parcels supplied by 31 December (a parcel without a record counts 0); counted tax = tax paid +
  policy refunds (sanmenxia-standard-land adds refunds back), shared by area over the
  enterprise's parcels supplied by then (docs/domain.md); the secondary figure divides the same
  tax by the parcels with a record only.  A parcel without a record is, on 31 December: idle land
  (53号令), 停建 (suspended before completion), not started, under construction, 停产 (stopped
  after completion), or — completed and producing, or without a contract — missing data; below
  the target with any missing data the verdict is ``incomplete``;
- 批而未供: approved on or before the date, not supplied;
- 闲置 (53号令): not started and more than one full year past the agreed start (a government
  delay with a newly agreed start date keeps it idle land caused by the government until that date
  lapses, then it counts afresh from that date); or started, not accepted on completion, construction
  suspended more than a year, with < 1/3 of the land developed or < 1/4 invested (the latest progress
  report); a completed project is never idle;
- 低效 (henan-park-low-efficiency-example, idle land excluded): 亩均税收 of the tax year below
  0.5 × the park's over its land with data (only more than a year after completion); plot ratio
  below the parcel's own requirement — its contract's committed minimum — (after completion);
  investment intensity below half the contract's (two years after completion);
  production stopped (after completion) for more than 12 months; construction suspended (before
  completion) for more than 12 months; not completed more than two years past the agreed date;
- the scoring rule set huangyan-2022-example: score = Σ value ÷ benchmark × weight; no
  emissions value → the average emissions sub-score of the enterprises with one; any other
  value missing → not scored; ranks by exact score (ties share the better rank); class by
  rank ÷ N × 100: A ≤ 25, B ≤ 70, C ≤ 95, D above.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app import demo
from app.core.errors import InputError
from tests.conftest import ROOT

SPEC = demo.Spec(parcels=40, years=5, seed=11, last_year=2025)
Y = SPEC.last_year
TABLES = ("park", "park_name", "parcel", "contract", "contract_event", "tax_batch", "tax_record", "parcel_plan",
          "decision", "scoring_run")
M2_PER_MU = Fraction(10000, 15)


@pytest.fixture(scope="module")
def data() -> demo.Demo:
    return demo.generate(SPEC)


@pytest.fixture(scope="module")
def session(client):
    from app.store.db import get_engine

    with Session(get_engine()) as s:
        yield s


@pytest.fixture(scope="module")
def loaded(client, session, data) -> dict:
    from app.engine import selected

    return demo.load(session, data, selected())


# ---------------------------------------------------------------- an independent model of the raw data

def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def plus_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + n, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def wan(q: dict) -> Fraction:
    v = Fraction(Decimal(str(q["value"])))
    return {"万元": v, "元": v / 10000}[q["unit"]]


def mu(q: dict) -> Fraction:
    assert q["unit"] == "亩"
    return Fraction(Decimal(str(q["value"])))


class Model:
    def __init__(self, data: demo.Demo):
        self.parcels = {p["code"]: p for p in data.parcels}
        self.contracts = {c["contract_no"]: c for c in data.contracts}
        self.events = data.events
        self.tax = {}                                    # (uscc, year) → counted tax, 万元
        for b in data.tax_batches:
            for r in b["records"]:
                self.tax[(r["uscc"], r["year"])] = wan(r["tax_paid"]) + (wan(r["policy_refunds"]) if "policy_refunds" in r else 0)

    def contract(self, code: str) -> dict | None:
        no = self.parcels[code].get("contract_no")
        return self.contracts[no] if no else None

    def area(self, code: str) -> Fraction:
        return mu(self.parcels[code]["area"])

    def supplied_on(self, code: str) -> dt.date | None:
        p = self.parcels[code]
        if p["supply_status"] == "transferred":
            return d(self.contract(code)["signed_on"])
        return d(p["supplied_on"]) if p.get("supplied_on") else None

    def supplied_by(self, code: str, day: dt.date) -> bool:
        s = self.supplied_on(code)
        return s is not None and s <= day

    def uscc(self, code: str) -> str | None:
        c = self.contract(code)
        return c["transferee"]["uscc"] if c else None

    def event(self, code: str, kind: str, on: dt.date) -> dict | None:
        c = self.contract(code)
        evs = [e for e in self.events.get(c["contract_no"], []) if e["type"] == kind and d(e["on"]) <= on] if c else []
        return max(evs, key=lambda e: e["on"]) if evs else None

    def stopped_since(self, code: str, kind: str, on: dt.date) -> dt.date | None:
        """The first day of a 停建 (construction_suspended) or 停产 (production_stopped) in force."""
        e = self.event(code, kind, on)
        return d(e["on"]) if e is not None else None

    # -- tax
    def parcel_tax(self, code: str, year: int) -> Fraction | None:
        """The parcel's tax per mu in ``year`` (None: no contract or no record)."""
        end = dt.date(year, 12, 31)
        u = self.uscc(code)
        if u is None or (u, year) not in self.tax or not self.supplied_by(code, end):
            return None
        group = sum((self.area(c) for c in self.parcels if self.uscc(c) == u and self.supplied_by(c, end)), Fraction(0))
        return self.tax[(u, year)] / group

    def park_tax(self, year: int) -> dict:
        end = dt.date(year, 12, 31)
        scope = [c for c, p in self.parcels.items() if p.get("use", "industrial") == "industrial" and self.supplied_by(c, end)]
        counted = {c: t for c in scope if (t := self.parcel_tax(c, year)) is not None}
        area = sum((self.area(c) for c in counted), Fraction(0))
        scope_area = sum((self.area(c) for c in scope), Fraction(0))
        total = sum((t * self.area(c) for c, t in counted.items()), Fraction(0))
        zero = {c: self.zero_reason(c, end) for c in scope if c not in counted}
        return {"scope": scope, "counted": counted, "area": area, "scope_area": scope_area, "total": total,
                "value": total / scope_area if scope_area else None, "with_data": total / area if area else None,
                "zero": zero}

    def zero_reason(self, code: str, end: dt.date) -> str:
        """Why a parcel without a tax record counts 0 on 31 December."""
        if self.contract(code) is None:
            return "data_missing"
        if self.idle(code, end):
            return "idle"
        if self.event(code, "completion_accepted", end) is None:
            if self.stopped_since(code, "construction_suspended", end) is not None:
                return "construction_suspended"
            return "not_started" if self.event(code, "started", end) is None else "under_construction"
        return "production_stopped" if self.stopped_since(code, "production_stopped", end) else "data_missing"

    # -- categories on a date
    def piwg(self, code: str, on: dt.date) -> bool:
        p = self.parcels[code]
        return bool(p.get("approval")) and d(p["approval"]["date"]) <= on and not self.supplied_by(code, on)

    def idle(self, code: str, on: dt.date) -> bool:
        c = self.contract(code)
        if c is None or not self.supplied_by(code, on):
            return False
        if self.event(code, "started", on) is None:
            if not on > plus_months(d(c["schedule"]["start_by"]), 12):
                return False
            gov = self.event(code, "government_delay", on)
            if gov is not None and "new_start_by" in gov and on > d(gov["new_start_by"]):
                return on > plus_months(d(gov["new_start_by"]), 12)      # the agreed extension lapsed
            return True
        since = self.stopped_since(code, "construction_suspended", on)
        if since is None or self.event(code, "completion_accepted", on) is not None:
            return False
        prog = self.event(code, "progress", on)
        if prog is None or not on > plus_months(since, 12):
            return False
        return (mu(prog["developed_area"]) < mu(prog["area_to_develop"]) / 3
                or wan(prog["invested"]) < wan(prog["total_investment"]) / 4)

    def low(self, code: str, on: dt.date, tax_year: int, park_value: Fraction | None) -> bool:
        p, c = self.parcels[code], self.contract(code)
        if c is None or p.get("use", "industrial") != "industrial" or not self.supplied_by(code, on) or self.idle(code, on):
            return False
        area = mu(c["land_area"])
        done = self.event(code, "completion_accepted", on)
        holds = []
        if done is not None:
            completed = d(done["on"])
            t = self.parcel_tax(code, tax_year)
            if on > plus_months(completed, 12) and t is not None and park_value is not None:
                holds.append(t < park_value / 2)
            if on > completed:
                required = Fraction(Decimal(str(c["commitments"]["plot_ratio"]["min"])))      # the contract's own
                holds.append(mu_of_m2(done["total_floor_area"]) / area < required)
            if on > plus_months(completed, 24):
                agreed = c["commitments"]["investment_intensity"]
                assert agreed["unit"] == "万元/亩"
                holds.append(wan(done["fixed_asset_investment"]) / area < Fraction(Decimal(agreed["value"])) / 2)
        elif on > plus_months(d(c["schedule"]["complete_by"]), 24):
            holds.append(True)
        stop = self.stopped_since(code, "production_stopped", on)
        if done is not None and stop is not None:
            holds.append(on > plus_months(stop, 12))
        halt = self.stopped_since(code, "construction_suspended", on)
        if done is None and halt is not None:
            holds.append(on > plus_months(halt, 12))
        return any(holds)

    def categories(self, on: dt.date, tax_year: int) -> dict[str, set[str]]:
        value = self.park_tax(tax_year)["with_data"]             # the producing land's figure
        return {"approved_unsupplied": {c for c in self.parcels if self.piwg(c, on)},
                "idle": {c for c in self.parcels if self.idle(c, on)},
                "low_efficiency": {c for c in self.parcels if self.low(c, on, tax_year, value)}}


def mu_of_m2(q: dict) -> Fraction:
    assert q["unit"] == "m2"
    return Fraction(Decimal(str(q["value"]))) / M2_PER_MU


def close(text_value: str | None, exact: Fraction | None, tol: Fraction = Fraction(1, 10**6)) -> bool:
    """The service prints exact decimals up to 12 places, else rounded to 6."""
    if text_value is None or exact is None:
        return text_value is None and exact is None
    return abs(Fraction(Decimal(text_value)) - exact) <= tol


def row_counts(session: Session) -> dict[str, int]:
    session.rollback()
    conn = session.connection()
    out = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}
    session.rollback()
    return out


# ---------------------------------------------------------------- generation

def test_generated_data_is_synthetic_deterministic_and_well_formed(data):
    from indicators.identifiers import check_parcel_code, uscc_is_valid

    again = demo.generate(SPEC)
    assert json.dumps(again.parcels) == json.dumps(data.parcels) and json.dumps(again.tax_batches) == json.dumps(data.tax_batches)
    assert demo.generate(demo.Spec(parcels=40, years=5, seed=12)).parcels != data.parcels
    assert data.park["name"] == "示例园区（合成数据）" and "虚构" in data.park["note"]
    assert data.park["jurisdiction"] == "411202" and data.park["tax_ruleset"] == "sanmenxia-standard-land"
    assert len(data.parcels) == 40 and len({p["code"] for p in data.parcels}) == 40
    for p in data.parcels:
        assert len(p["code"]) == 19 and p["code"].startswith("411202") and p["code"][12:14] == "GB"
        assert not [f for f in check_parcel_code(p["code"]) if f.severity == "invalid"], p["code"]
    usccs = {c["transferee"]["uscc"] for c in data.contracts}
    assert all(uscc_is_valid(u) for u in usccs)
    assert set(data.kinds.values()) == set(demo.KINDS)                         # every kind present
    years = {r["year"] for b in data.tax_batches for r in b["records"]}
    assert years == set(range(Y - 4, Y + 1))
    units = {r["tax_paid"]["unit"] for b in data.tax_batches for r in b["records"]}
    assert units == {"万元", "元"}
    # some enterprise-years are missing: not every operating enterprise has every year
    model = Model(data)
    operating = {model.uscc(c) for c, k in data.kinds.items() if k in demo.OPERATING}
    assert len(model.tax) < len(operating) * 5
    with pytest.raises(InputError):
        demo.generate(demo.Spec(parcels=5))


# ---------------------------------------------------------------- loading

def test_load_summary(loaded, data):
    assert loaded["park"] == SPEC.park_id and loaded["synthetic"] is True and loaded["as_of"] == f"{Y}-12-31"
    assert loaded["counts"] == data.counts()
    c = loaded["counts"]
    assert c["parcels"] == 40 and c["contracts"] == 40 - c["by_kind"]["approved_unsupplied"] - c["by_kind"]["allocated"]
    assert c["tax_records"] == len(Model(data).tax)
    assert loaded["scoring"]["status"] == "ok" and loaded["scoring"]["ruleset"]["id"] == "huangyan-2022-example"


def test_loading_twice_changes_nothing(client, session, loaded, data):
    from app.engine import selected

    before = row_counts(session)
    again = demo.load(session, data, selected())
    assert row_counts(session) == before
    made = again["created"]
    assert made["park"] is False and made["scoring_run"] is False
    assert all(v == 0 for k, v in made.items() if k not in ("park", "scoring_run")), made
    assert again["scoring"]["run_id"] == loaded["scoring"]["run_id"]
    # the park's own counts
    park = client.get(f"/v1/parks/{SPEC.park_id}").json()
    assert park["parcels"] == 40


def test_ledger_matches_independent_classification(client, loaded, data):
    model = Model(data)
    on = SPEC.as_of
    want = model.categories(on, Y - 1)                   # the ledger reads the last full year's tax
    led = client.get(f"/v1/parks/{SPEC.park_id}/ledger", params={"as_of": on.isoformat()}).json()
    got: dict[str, set[str]] = {k: set() for k in want}
    for row in led["rows"]:
        for cat in row["categories"]:
            got[cat["category"]].add(row["parcel"]["code"])
    assert got == want
    assert all(want.values())                             # the demo has all three kinds of problem land
    for k, codes in want.items():
        assert led["totals"][k]["count"] == len(codes)
        assert Fraction(Decimal(led["totals"][k]["area"]["value"])) == sum((model.area(c) for c in codes), Fraction(0))
    in_ledger = set().union(*want.values()) | set(data.plans)
    assert {r["parcel"]["code"] for r in led["rows"]} == in_ledger and led["count"] == len(in_ledger)
    assert led["without_plan"] == len(in_ledger - set(data.plans))
    versions = {r["parcel"]["code"]: r["plan_versions"] for r in led["rows"]}
    assert {c: versions[c] for c in data.plans} == {c: len(v) for c, v in data.plans.items()}


@pytest.mark.parametrize("year", [Y, Y - 1])
def test_evaluation_matches_independent_sums(client, loaded, data, year):
    model = Model(data)
    pt = model.park_tax(year)
    r = client.get(f"/v1/parks/{SPEC.park_id}/evaluation", params={"year": year})
    assert r.status_code == 200, r.text
    ev = r.json()
    t = ev["tax_per_mu"]
    assert t["tax_basis"]["refunds_added_back"] is True
    assert {p["code"] for p in t["parcels_counted"]} == set(pt["counted"])
    assert {p["code"]: p["reason"] for p in t["parcels_zero"]} == pt["zero"]
    missing = {c for c, why in pt["zero"].items() if why == "data_missing"}
    assert {p["code"] for p in t["parcels_missing_data"]} == missing
    assert Fraction(Decimal(t["area_counted"]["value"])) == Fraction(Decimal(t["area_in_scope"]["value"])) == pt["scope_area"]
    assert Fraction(Decimal(t["area_with_data"]["value"])) == pt["area"]
    assert close(t["total_tax"]["value"], pt["total"])
    assert close(t["value"]["value"], pt["value"])
    assert close(t["over_land_with_data"]["value"]["value"], pt["with_data"])
    for p in t["parcels_counted"]:
        assert close(p["tax_per_mu"]["value"], pt["counted"][p["code"]]), p["code"]
    verdict = "meets_target" if pt["value"] >= 15 else "incomplete" if missing else "below_target"
    assert ev["verdict"] == verdict and ev["example"] is True
    assert close(ev["target"]["distance"]["value"], 15 - pt["value"])
    if verdict == "incomplete":
        assert set(ev["incomplete"]["parcels"]) == missing
        assert close(ev["incomplete"]["gap_tax"]["value"], 15 * pt["scope_area"] - pt["total"])
    # the parcels pulling the park figure down, lowest first (those without a record at 0)
    below = sorted((t_, c) for c, t_ in [*pt["counted"].items(), *((c, 0) for c in pt["zero"])] if t_ < pt["value"])
    assert [p["code"] for p in ev["pulling_down"]] == [c for _, c in below]
    # land by category on 31 December (tax predicate on the evaluated year)
    want = model.categories(dt.date(year, 12, 31), year)
    got = {k: set(v["parcels"]) for k, v in ev["land"]["by_category"].items()}
    assert got == want
    # year over year
    prev = model.park_tax(year - 1)["value"]
    assert close(ev["year_over_year"]["change"]["value"], pt["value"] - prev)


# ---------------------------------------------------------------- the scoring run

WEIGHTS = {"tax_per_mu": (30, "24.097"), "va_per_mu": (20, "136.16"), "energy_efficiency": (20, "2.694"),
           "emission_efficiency": (10, "4929.81"), "labour_productivity": (10, "18.14"), "rd_share": (10, "0.0302")}
BANDS = (("A", 25), ("B", 70), ("C", 95), ("D", 100))


def test_scoring_inputs_come_from_the_tax_records(data):
    model = Model(data)
    ents = data.scoring["enterprises"]
    assert data.scoring["year"] == Y and ents
    for e in ents:
        codes = [c for c in model.parcels if model.uscc(c) == e["id"]]
        assert codes and all(data.kinds[c] in ("completed", "stopped") for c in codes)
        tax = model.tax.get((e["id"], Y))
        if tax is None:
            assert e["values"]["tax_per_mu"] is None
            continue
        exact = tax / sum((model.area(c) for c in codes), Fraction(0))
        assert abs(Fraction(Decimal(e["values"]["tax_per_mu"])) - exact) <= Fraction(1, 20000)     # 4 decimals


def test_scoring_run_classes_match_independent_ranking(client, loaded, data):
    run = client.get(f"/v1/scoring/runs/{loaded['scoring']['run_id']}")
    assert run.status_code == 200, run.text
    doc = run.json()
    ents = data.scoring["enterprises"]
    sub = {e["id"]: {k: (Fraction(Decimal(v)) / Fraction(Decimal(WEIGHTS[k][1])) * WEIGHTS[k][0] if v is not None else None)
                     for k, v in e["values"].items()} for e in ents}
    with_emission = [s["emission_efficiency"] for s in sub.values() if s["emission_efficiency"] is not None]
    average = sum(with_emission, Fraction(0)) / len(with_emission)
    scores = {}
    for uid, s in sub.items():
        if any(v is None for k, v in s.items() if k != "emission_efficiency"):
            continue                                                     # incomplete: not scored
        scores[uid] = sum((v if v is not None else average for v in s.values()), Fraction(0))
    n = len(scores)
    ordered = sorted(scores.values(), reverse=True)
    want = {}
    for uid, sc in scores.items():
        rank = ordered.index(sc) + 1                                      # ties share the better rank
        pct = Fraction(rank * 100, n)
        want[uid] = (rank, next(c for c, upper in BANDS if pct <= upper))
    got = {r["id"]: (r["rank"], r["class"]) for r in doc["results"] if r["complete"]}
    assert got == want
    assert {r["id"] for r in doc["results"] if not r["complete"]} == {e["id"] for e in ents} - set(scores)
    assert doc["counts"] == {"enterprises": len(ents), "scored": n, "incomplete": len(ents) - n}
    for r in doc["results"]:
        if r["complete"]:
            assert close(r["score"], scores[r["id"]]), r["id"]
    classes = [c for _, c in want.values()]
    assert doc["class_counts"] == {c: classes.count(c) for c, _ in BANDS}


# ---------------------------------------------------------------- the command

def _command() -> list[str]:
    exe = Path(sys.executable).with_name("standard-land")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]


def test_cli_demo_load_twice(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "COLUMNS": "250", "NO_COLOR": "1"}
    env.pop("STANDARD_LAND_ENGINE", None)

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([*_command(), "demo", "load", "--parcels", "20", "--seed", "3", *extra], cwd=ROOT, env=env,
                              capture_output=True, text=True, encoding="utf-8", timeout=300)

    first = run("--json")
    assert first.returncode == 0, first.stderr
    s = json.loads(first.stdout)
    spec = demo.Spec(parcels=20, seed=3)
    assert s["park"] == spec.park_id and s["counts"] == demo.generate(spec).counts()
    assert s["created"]["parcels"] == 20 and s["created"]["park"] is True
    second = run()                                    # the table output, run again: nothing new
    assert second.returncode == 0, second.stderr
    assert spec.park_id in second.stdout and "示例" in second.stdout
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip() for line in second.stdout.splitlines()
            if line.count("│") >= 4}
    assert rows["parcels"] == "0" and rows["tax_records"] == "0" and rows["contracts"] == "0"
    assert "(existing)" in second.stdout or "scoring: skipped" in second.stdout
    bad = subprocess.run([*_command(), "demo", "load", "--parcels", "3"], cwd=ROOT, env=env, capture_output=True,
                         text=True, encoding="utf-8", timeout=120)
    assert bad.returncode == 2 and "parcels" in bad.stderr
