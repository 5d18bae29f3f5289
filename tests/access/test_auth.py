"""Roles by API key (issue 6, item 1; docs/security.md), on a database of their own.

The rest of the suite runs open (no key) against the session database; these tests create
keys, so they run against their own SQLite file, or their own schema on PostgreSQL, and put
everything back when done.  Keys are made with the ``standard-land keys`` command.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from indicators.identifiers import synthetic_uscc
from tests.conftest import ROOT, proposal, scratch_app
from tests.conftest import new_key as make_key
from tests.contract_factory import base_contract, m2, mu, post_events, post_tax, register, tax_record, uscc_for, wan

R, OF, T, A = "rule_admin", "officer", "tax_system", "auditor"
ROLES = (R, OF, T, A)
READERS = {OF, A}
RULE_READERS = {R, OF, A}

# Every /v1 operation and the roles that may call it.  A new endpoint fails
# test_every_endpoint_has_roles until it is listed here (and given its roles in its router).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/rulesets"): {R},
    ("GET", "/v1/rulesets"): RULE_READERS,
    ("GET", "/v1/rulesets/resolve"): RULE_READERS,
    ("GET", "/v1/rulesets/{rid}"): RULE_READERS,
    ("GET", "/v1/rulesets/{rid}/versions/{version}"): RULE_READERS,
    ("GET", "/v1/rulesets/{rid}/diff"): RULE_READERS,
    ("POST", "/v1/law/{kind}"): {R},
    ("POST", "/v1/indicators"): {R},
    ("GET", "/v1/indicators"): RULE_READERS,
    ("GET", "/v1/law"): RULE_READERS,
    ("GET", "/v1/law/{kind}/{doc_id}/{version}"): RULE_READERS,
    ("POST", "/v1/checks/proposal"): {OF},
    ("POST", "/v1/checks/proposal:xlsx"): {OF},
    ("POST", "/v1/checks/proposal:batch"): {OF},
    ("GET", "/v1/decisions/verify"): READERS,
    ("GET", "/v1/decisions/{decision_id}"): READERS,
    ("POST", "/v1/decisions/{decision_id}/replay"): READERS,
    ("POST", "/v1/checks/contract"): {OF},
    ("POST", "/v1/contracts"): {OF},
    ("GET", "/v1/contracts/{contract_no}"): READERS,
    ("POST", "/v1/contracts/{contract_no}/events"): {OF},
    ("GET", "/v1/contracts/{contract_no}/events"): READERS,
    ("GET", "/v1/contracts/{contract_no}/performance"): READERS,
    ("POST", "/v1/tax-records"): {T},
    ("GET", "/v1/tax-records"): READERS,
    ("POST", "/v1/tax-records:xlsx"): {T},
    ("GET", "/v1/tax-records/batches/{batch_id}"): READERS,
    ("POST", "/v1/parks"): {OF},
    ("POST", "/v1/parks:import"): {OF},
    ("GET", "/v1/parks/{park_id}"): READERS,
    ("POST", "/v1/parks/{park_id}/names"): {OF},
    ("GET", "/v1/parks/{park_id}/ledger"): READERS,
    ("GET", "/v1/parks/{park_id}/evaluation"): READERS,
    ("POST", "/v1/parcels"): {OF},
    ("GET", "/v1/parcels/{code}"): READERS,
    ("PUT", "/v1/parcels/{code}/plan"): {OF},
    ("GET", "/v1/parcels/{code}/plan"): READERS,
    ("GET", "/v1/parcels/{code}/plan/history"): READERS,
    ("POST", "/v1/parks/{park_id}/parcels:xlsx"): {OF},
    ("GET", "/v1/parks/{park_id}/parcels.xlsx"): READERS,
    ("GET", "/v1/parks/{park_id}/ledger.xlsx"): READERS,
    ("GET", "/v1/parks/{park_id}/evaluation.xlsx"): READERS,
    ("GET", "/v1/scoring/runs/{run_id}.xlsx"): READERS,
    ("GET", "/v1/parks/{park_id}/evaluation.svg"): READERS,
    ("POST", "/v1/scoring/runs"): {OF},
    ("GET", "/v1/scoring/runs/{run_id}"): READERS,
    ("GET", "/v1/scoring/runs/{run_id}/table"): READERS,
    ("GET", "/v1/scoring/rulesets"): RULE_READERS,
    ("GET", "/v1/scoring/rulesets/{ruleset_id}"): RULE_READERS,
    ("POST", "/v1/stock/batches"): {OF},
    ("GET", "/v1/stock/batches"): READERS,
    ("GET", "/v1/stock/batches/{batch_id}"): READERS,
    ("POST", "/v1/stock/batches/{batch_id}/events"): {OF},
    ("GET", "/v1/stock/rectification"): READERS,
    ("GET", "/v1/stock/linkage"): READERS,
    ("GET", "/v1/stock/batches.xlsx"): READERS,
    ("GET", "/v1/stock/rectification.xlsx"): READERS,
}
OPEN_PATHS = ("/healthz", "/openapi.json", "/docs")
cli_runner = CliRunner()


# ---------------------------------------------------------------- a database of our own

@pytest.fixture(scope="module")
def http(database_url, tmp_path_factory):
    """A client on this module's database; afterwards, back to the session database."""
    with scratch_app(tmp_path_factory.mktemp("auth"), "auth_tests") as c:
        yield c


def keys_cli(*args: str):
    from app.cli import cli

    return cli_runner.invoke(cli, ["keys", *args])


def new_key(role: str, jurisdiction: str | None = None, label: str = "test") -> str:
    # make_key resets this process's key cache; other workers see the key within CACHE_TTL
    secret = make_key(role, jurisdiction, label)
    assert re.fullmatch(r"sl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", secret), secret
    return secret


def key_id(secret: str) -> str:
    return secret.split("_")[1]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


class As:
    """The test client, sending one key with every request."""

    def __init__(self, client, secret: str):
        self.client, self.headers = client, bearer(secret)

    def request(self, method: str, url: str, **kw):
        return self.client.request(method, url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw):
        return self.request("PUT", url, **kw)


# ---------------------------------------------------------------- open mode (runs first: no key yet)

def test_open_mode_without_keys(http):
    r = http.get("/v1/rulesets")
    assert r.status_code == 200, r.text
    assert http.post("/v1/checks/proposal", json=proposal()).status_code == 200


@pytest.fixture(scope="module")
def keys(http) -> dict[str, str]:
    out = {role: new_key(role, label=f"matrix {role}") for role in ROLES}
    out["revoked"] = new_key(OF, label="revoked at once")
    r = keys_cli("revoke", key_id(out["revoked"]))
    assert r.exit_code == 0, r.output
    from app.access.auth import reset_cache

    reset_cache()
    return out


# ---------------------------------------------------------------- the matrix

def _operations() -> set[tuple[str, str]]:
    from app.main import app

    return {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops
            if p.startswith("/v1") and m.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")}


def test_every_endpoint_has_roles():
    """Every /v1 operation in the OpenAPI document is in the matrix, and nothing else is."""
    ops = _operations()
    assert ops - EXPECTED.keys() == set(), "endpoints without an expected role set"
    assert EXPECTED.keys() - ops == set(), "listed endpoints that no longer exist"


def test_tax_system_may_only_post_tax_data():
    assert {op for op, roles in EXPECTED.items() if T in roles} == {("POST", "/v1/tax-records"),
                                                                    ("POST", "/v1/tax-records:xlsx")}


def _call(client, method: str, path: str, headers: dict | None = None):
    url = re.sub(r"\{[^}]+\}", "none-such", path)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED), ids=lambda v: v)
def test_matrix(http, keys, method, path):
    r = _call(http, method, path)
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers.get("www-authenticate") == "Bearer"
    r = _call(http, method, path, bearer(keys["revoked"]))
    assert r.status_code == 401, (r.status_code, r.text)
    r = _call(http, method, path, bearer("sl_000000000000_not-a-key"))
    assert r.status_code == 401, (r.status_code, r.text)
    allowed = EXPECTED[(method, path)]
    for role in ROLES:
        r = _call(http, method, path, bearer(keys[role]))
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            detail = r.json()["detail"]
            assert role in detail and all(a in detail for a in allowed), detail


def test_open_paths_need_no_key(http, keys):
    for path in OPEN_PATHS:
        assert http.get(path).status_code == 200, path
    assert http.get("/metrics").status_code not in (401, 403)


def test_cookie_works_like_the_header(http, keys):
    from app.access.auth import COOKIE

    http.cookies.clear()
    try:
        http.cookies.set(COOKIE, keys[A])
        assert http.get("/v1/decisions/verify").status_code == 200
        # A state-changing request authenticated by the cookie must come from this site's pages
        # (app/web/security.py): the browser's Origin says so.
        same_site = {"Origin": "http://testserver"}
        assert http.post("/v1/checks/proposal", json=proposal(), headers=same_site).status_code == 403
        http.cookies.set(COOKIE, keys[OF])
        assert http.post("/v1/checks/proposal", json=proposal(), headers=same_site).status_code == 200
        http.cookies.set(COOKIE, keys["revoked"])
        assert http.get("/v1/decisions/verify").status_code == 401
    finally:
        http.cookies.clear()


def test_malformed_authorization_headers(http, keys):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", keys[OF], "Bearer " + "x" * 5000,
                   "Bearer " + keys[OF] + "x", "Bearer " + keys[OF][:-1]):
        r = http.get("/v1/decisions/verify", headers={"Authorization": header})
        assert r.status_code == 401, (header[:40], r.status_code)
    assert http.get("/v1/decisions/verify", headers={"Authorization": "bearer " + keys[A]}).status_code == 200


def test_revocation_takes_effect_within_the_cache_time(http, keys, monkeypatch):
    from app.access import auth

    monkeypatch.setattr(auth, "CACHE_TTL", 0.2)
    secret = new_key(A, label="revoked while in use")
    assert http.get("/v1/decisions/verify", headers=bearer(secret)).status_code == 200
    assert keys_cli("revoke", key_id(secret)).exit_code == 0
    time.sleep(0.3)
    r = http.get("/v1/decisions/verify", headers=bearer(secret))
    assert r.status_code == 401, r.text


# ---------------------------------------------------------------- the CLI

def test_keys_list_shows_no_secret(http, keys):
    r = keys_cli("list", "--json")
    assert r.exit_code == 0, r.output
    rows = {row["id"]: row for row in __import__("json").loads(r.stdout)}
    for role in ROLES:
        row = rows[key_id(keys[role])]
        assert row["role"] == role and row["revoked_at"] is None and row["jurisdiction"] is None
    assert rows[key_id(keys["revoked"])]["revoked_at"] is not None
    for secret in keys.values():
        assert secret.split("_", 2)[2] not in r.stdout
    table = keys_cli("list")
    assert table.exit_code == 0 and key_id(keys[A]) in table.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("create", "--role", "admin"), "unknown role"),
    (("create", "--role", "officer", "--jurisdiction", "4112"), "jurisdiction"),
    (("revoke", "000000000000"), "no API key"),
])
def test_keys_cli_bad_input_exits_2(http, args, message):
    r = keys_cli(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output


def test_revoking_twice_keeps_the_first_time(http):
    secret = new_key(T, label="twice")
    first = keys_cli("revoke", key_id(secret))
    second = keys_cli("revoke", key_id(secret))
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_demo_load_works_with_keys_and_creates_none(http, keys):
    """The demo loads through the use-case functions, not the HTTP API: with keys configured it
    needs no key and creates none (it used to create a temporary one)."""
    import json

    from app.cli import cli

    before = {k["id"] for k in json.loads(keys_cli("list", "--json").stdout) if k["revoked_at"] is None}
    r = cli_runner.invoke(cli, ["demo", "load", "--parcels", "20", "--years", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["created"]["parcels"] == 20
    after = json.loads(keys_cli("list", "--json").stdout)
    assert {k["id"] for k in after if k["revoked_at"] is None} == before
    assert not [k for k in after if k["label"].startswith("standard-land demo load")]


# ---------------------------------------------------------------- tax visibility by jurisdiction

CDE_SCHEDULE = {"delivery_on": "2021-03-10", "start_by": "2021-04-01", "complete_by": "2022-06-30"}
COMPLETED = {"type": "completion_accepted", "on": "2022-06-30", "fixed_asset_investment": wan(9000),
             "total_floor_area": m2(30000), "building_footprint": m2(9000), "admin_land_area": m2(1000),
             "green_area": m2(2000)}


@pytest.fixture(scope="module")
def scene(http, keys) -> dict:
    """A Sanmenxia park (411200) with one parcel on a contract in county 411202, its transferee's
    2024 tax (USCC issued in 411200), a park evaluation and a scoring run over three enterprises
    (411200, Luoyang 410300, and one named without a code)."""
    officer, tax_system = As(http, keys[OF]), As(http, keys[T])
    uid = uuid.uuid4().hex[:8]
    pid = f"auth-{uid}"
    r = officer.post("/v1/parks", json={
        "id": pid, "name": "三门峡测试园区", "name_valid_from": "2009-01-01", "jurisdiction": "411200",
        "planned_area": mu(1000), "target_tax_per_mu": {"value": 15, "unit": "万元/亩"}, "target_source": "测试",
        "ruleset": "henan-park-low-efficiency-example", "tax_ruleset": "sanmenxia-standard-land"})
    assert r.status_code == 201, r.text
    no = register(officer, base_contract(uid, 1, signed_on="2021-03-01", schedule=CDE_SCHEDULE))
    post_events(officer, no, {"type": "started", "on": "2021-04-01"}, COMPLETED)
    parcel = f"411202{uuid.uuid4().int % 10**6:06d}GB00001"
    r = officer.post("/v1/parcels", json={"code": parcel, "park": pid, "area": mu(30), "supply_status": "transferred",
                                          "contract_no": no})
    assert r.status_code == 201, r.text
    uscc = uscc_for(uid, 1)
    post_tax(tax_system, f"auth-{uid}", tax_record(uscc, 2024, 450))
    ev = officer.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024})
    assert ev.status_code == 200 and ev.json()["tax_per_mu"]["total_tax"]["value"] == "450", ev.text
    check = officer.post("/v1/checks/proposal", json=proposal())
    assert check.status_code == 200
    luoyang = synthetic_uscc(region="410300", org8=uid.upper())
    bench = {"tax_per_mu": "24", "va_per_mu": "136", "energy_efficiency": "2.7", "emission_efficiency": "4900",
             "labour_productivity": "18", "rd_share": "0.03"}
    run = officer.post("/v1/scoring/runs", json={"year": 2025, "enterprises": [
        {"id": uscc, "values": bench}, {"id": luoyang, "values": bench}, {"id": "某测试企业", "values": bench}]})
    assert run.status_code == 201, run.text
    return {"park": pid, "contract": no, "parcel": parcel, "uscc": uscc, "luoyang": luoyang,
            "evaluation_decision": ev.json()["decision_id"], "proposal_decision": check.json()["decision_id"],
            "run": run.json()["run_id"]}


@pytest.fixture(scope="module")
def scoped(http, keys) -> dict[str, As]:
    return {"all": As(http, keys[A]),
            "city": As(http, new_key(A, "411200", "Sanmenxia auditor")),
            "county": As(http, new_key(OF, "411202", "Hubin officer")),
            "luoyang": As(http, new_key(A, "410300", "Luoyang auditor")),
            "luoyang_officer": As(http, new_key(OF, "410300", "Luoyang officer"))}


def _park_urls(s: dict) -> list[tuple[str, dict]]:
    p = s["park"]
    return [(f"/v1/parks/{p}/ledger", {"as_of": "2025-06-30"}), (f"/v1/parks/{p}/ledger.xlsx", {"as_of": "2025-06-30"}),
            (f"/v1/parks/{p}/evaluation", {"year": 2024}), (f"/v1/parks/{p}/evaluation.xlsx", {"year": 2024}),
            (f"/v1/parks/{p}/evaluation.svg", {"year": 2024}), (f"/v1/parcels/{s['parcel']}", {"as_of": "2025-06-30"})]


def test_park_tax_figures_only_within_the_jurisdiction(scene, scoped):
    for url, params in _park_urls(scene):
        for who in ("all", "city"):
            r = scoped[who].get(url, params=params)
            assert r.status_code == 200, (who, url, r.text)
        # the county key does not cover a city-level park; Luoyang covers neither
        for who in ("county", "luoyang", "luoyang_officer"):
            r = scoped[who].get(url, params=params)
            assert r.status_code == 403, (who, url, r.status_code)
            assert "jurisdiction" in r.json()["detail"]
    # the park itself (no tax figures) stays readable
    assert scoped["luoyang"].get(f"/v1/parks/{scene['park']}").status_code == 200


def test_contract_performance_within_the_jurisdiction(scene, scoped):
    url = f"/v1/contracts/{scene['contract']}/performance"
    for who in ("all", "city", "county"):
        r = scoped[who].get(url, params={"as_of": "2025-06-30"})
        assert r.status_code == 200, (who, r.text)
        assert any(f["kind"] == "tax_per_mu" for f in r.json()["findings"])
    assert scoped["luoyang"].get(url, params={"as_of": "2025-06-30"}).status_code == 403
    assert scoped["luoyang"].get(f"/v1/contracts/{scene['contract']}").status_code == 200


def test_tax_records_of_an_enterprise_within_the_jurisdiction(scene, scoped):
    for who in ("all", "city"):
        r = scoped[who].get("/v1/tax-records", params={"uscc": scene["uscc"]})
        assert r.status_code == 200 and r.json()["records"][0]["tax_paid"]["value"] == "450", r.text
    for who in ("county", "luoyang"):       # reported by the city's authority (411200, the USCC's default)
        r = scoped[who].get("/v1/tax-records", params={"uscc": scene["uscc"]})
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["withheld"] == 1 and body["count"] == 0, (who, body)
        assert body["records"] == [{"year": 2024, "current": True, "status": "withheld", "withheld": True,
                                    "message": "不在本辖区权限内"}], (who, body)


def test_decisions_holding_tax_follow_the_jurisdiction(scene, scoped):
    ev = scene["evaluation_decision"]
    for who in ("all", "city"):
        assert scoped[who].get(f"/v1/decisions/{ev}").status_code == 200, who
    # (the scope is checked before replay runs)
    assert scoped["luoyang"].get(f"/v1/decisions/{ev}").status_code == 403
    assert scoped["luoyang"].post(f"/v1/decisions/{ev}/replay").status_code == 403
    # A park evaluation replays for the tax view it was computed for (the officer's: every region):
    # a key that sees every region replays it; a narrower one may read it but not recompute it.
    r = scoped["all"].post(f"/v1/decisions/{ev}/replay")
    assert r.status_code == 200 and r.json()["identical"] is True, r.text
    r = scoped["city"].post(f"/v1/decisions/{ev}/replay")
    assert r.status_code == 422 and "decision_id" in r.text, r.text
    # a proposal check holds the applicant's own planned figures, not tax records
    assert scoped["luoyang"].get(f"/v1/decisions/{scene['proposal_decision']}").status_code == 200
    assert scoped["luoyang"].post(f"/v1/decisions/{scene['proposal_decision']}/replay").status_code == 200


def _sheet_text(data: bytes) -> str:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)


def test_scoring_runs_are_filtered_to_the_jurisdiction(scene, scoped):
    run = scene["run"]
    everyone = {scene["uscc"], scene["luoyang"], "某测试企业"}
    full = scoped["all"].get(f"/v1/scoring/runs/{run}").json()
    assert {r["id"] for r in full["results"]} == everyone and "scope" not in full
    for who, seen in (("city", {scene["uscc"]}), ("luoyang", {scene["luoyang"]}), ("county", set())):
        doc = scoped[who].get(f"/v1/scoring/runs/{run}").json()
        assert {r["id"] for r in doc["results"]} == seen, who
        assert doc["scope"]["hidden"] == 3 - len(seen)
        assert doc["counts"] == full["counts"]
        table = scoped[who].get(f"/v1/scoring/runs/{run}/table").json()
        assert {row[table["columns"].index("id")] for row in table["rows"]} == seen, who
        sheet = scoped[who].get(f"/v1/scoring/runs/{run}.xlsx")
        assert sheet.status_code == 200
        text = _sheet_text(sheet.content)
        assert all(x in text for x in seen) and not any(x in text for x in everyone - seen), who
    assert scene["luoyang"] in _sheet_text(scoped["all"].get(f"/v1/scoring/runs/{run}.xlsx").content)


# ---------------------------------------------------------------- start-up

def _serve(db_url: str, env_extra: dict, port: int) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("standard-land")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]
    env = {**os.environ, "DATABASE_URL": db_url, **env_extra}
    return subprocess.Popen([*cmd, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, encoding="utf-8")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _output_until(proc: subprocess.Popen, marker: str, timeout: float = 90) -> str:
    """The server's output up to the line containing ``marker`` (or until it exits); stops it."""
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if marker in line:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return "".join(out)


def test_production_without_keys_refuses_to_start(tmp_path):
    proc = _serve(f"sqlite:///{tmp_path / 'empty.db'}", {"STANDARD_LAND_ENV": "production"}, _free_port())
    out = _output_until(proc, "never printed")
    assert proc.returncode not in (0, None), out
    assert "refusing to run OPEN" in out


def test_open_mode_is_announced_at_start_up(tmp_path):
    proc = _serve(f"sqlite:///{tmp_path / 'open.db'}", {"STANDARD_LAND_ENV": "development"}, _free_port())
    out = _output_until(proc, "Application startup complete")
    assert "running OPEN: no API keys configured" in out
    assert "Application startup complete" in out


def test_production_with_a_key_starts(tmp_path):
    db = f"sqlite:///{tmp_path / 'keyed.db'}"
    exe = Path(sys.executable).with_name("standard-land")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]
    made = subprocess.run([*cmd, "keys", "create", "--role", "auditor"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": db}, timeout=120)
    assert made.returncode == 0, made.stderr
    proc = _serve(db, {"STANDARD_LAND_ENV": "production"}, _free_port())
    out = _output_until(proc, "Application startup complete")
    assert "Application startup complete" in out and "running OPEN" not in out
