"""The sentinel test (issue 10, "Done means"): tax records with distinctive amounts for an
enterprise of another county (411203), linked by a broad key into a 411202 key's contracts and
parks, next to ordinary in-scope data.  Then every route of the app — every operation of the
OpenAPI document and every page, found by walking ``app.routes`` so that routes added later are
covered — is called with a 411202 officer key and a 411202 auditor key: reads with GET, writes
with harmless invalid bodies.  No response (JSON, HTML, SVG, every cell of a workbook) may hold a
sentinel or a figure derived from it (in 万元 and 元, exact and rounded to 2 decimals, with and
without thousands separators; 亩均税收 over the contract and the allocated parcel area; the park
total and average with it).  The same scan with a city key (4112) must find it: the scan can see.
A path or required query parameter the test cannot fill fails the test."""

from __future__ import annotations

import itertools
import uuid
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from fastapi.routing import APIRoute

from tests.tax_scope_support import (
    As,
    body_text,
    contract,
    import_park,
    new_key,
    own_app,
    post_tax,
    record,
    register_built,
    uscc_in,
)

PAID, REFUNDS = Fraction("987654.3217"), Fraction("123456.7891")       # 万元, the sentinel enterprise's 2024 and 2025
ORDINARY = (Fraction("55.5"), Fraction("66.6"))                       # the county's own enterprises
SCORED = Fraction("4987.654321")     # the sentinel enterprise's 亩均税收 in a scoring run (values have a sanity bound)
AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def http(database_url, tmp_path_factory):
    with own_app(tmp_path_factory.mktemp("sentinel"), "tax_sentinel") as client:
        yield client


@pytest.fixture(scope="module")
def world(http) -> dict:
    broad, tax = As(http, new_key("officer")), As(http, new_key("tax_system"))
    keys = {"officer": new_key("officer", "411202"), "auditor": new_key("auditor", "411202"),
            "city": new_key("auditor", "411200")}
    county = As(http, keys["officer"])
    uid = uuid.uuid4().hex[:6]
    sx = uscc_in("411203", uid + "5E")
    own = [uscc_in("411202", uid + "A1"), uscc_in("411202", uid + "A2")]
    cs1 = register_built(broad, contract(uid, 1, sx, "411202"))         # the county's land, the other county's taxpayer
    cs2 = register_built(broad, contract(uid, 2, sx, "411203"))         # the other county's contract
    co = [register_built(county, contract(uid, 3 + i, u, "411202")) for i, u in enumerate(own)]
    batch = f"sentinel-{uid}"
    post_tax(tax, batch, *[record(sx, y, _text(PAID, 4), _text(REFUNDS, 4)) for y in (2024, 2025)],
             *[record(u, y, _text(v, 1)) for u, v in zip(own, ORDINARY, strict=True) for y in (2024, 2025)])
    park = f"sentinel-{uid}"
    codes = import_park(broad, park, "411202", [cs1, cs2, *co])
    city = As(http, keys["city"])
    decision_ids = [city.get(f"/v1/contracts/{cs1}/performance", params={"as_of": AS_OF}).json()["decision_id"],
                    city.get(f"/v1/parks/{park}/evaluation", params={"year": 2024}).json()["decision_id"],
                    county.get(f"/v1/parks/{park}/evaluation", params={"year": 2024}).json()["decision_id"],
                    county.post("/v1/checks/contract", json=contract(uid, 9, sx, "411202")).json()["decision_id"]]
    values = {"tax_per_mu": _text(SCORED, 6), "va_per_mu": "136", "energy_efficiency": "2.7",
              "emission_efficiency": "4900", "labour_productivity": "18", "rd_share": "0.03"}
    run = broad.post("/v1/scoring/runs", json={"year": 2024, "enterprises": [
        {"id": sx, "values": values}, {"id": own[0], "values": {**values, "tax_per_mu": "12"}}]})
    assert run.status_code == 201, run.text
    decision_ids.append(run.json()["decision_id"])
    rulesets = http.get("/v1/rulesets", headers={"Authorization": f"Bearer {keys['officer']}"}).json()
    ruleset = next(r for r in rulesets if r["id"] == "sanmenxia-standard-land")
    version = ruleset["versions"][-1]["version"]
    return {"keys": keys, "uid": uid, "sx": sx, "batch": batch, "park": park, "codes": codes,
            "contracts": [cs1, cs2, *co], "decisions": decision_ids, "run": run.json()["run_id"],
            "ruleset": "sanmenxia-standard-land", "version": version}


# ---------------------------------------------------------------- what must not appear

def _text(x: Fraction, places: int) -> str:
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return format(q.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), "f")


def _spellings(x: Fraction) -> set[str]:
    """A figure as it could be printed: in 万元 and 元, truncated to 2 decimals (a prefix of every
    longer printing) and rounded to 2, with and without thousands separators."""
    out = set()
    for v in (x, x * 10000):
        d = Decimal(v.numerator) / Decimal(v.denominator)
        for t in (d.quantize(Decimal("0.01"), rounding="ROUND_DOWN"), d.quantize(Decimal("0.01"), ROUND_HALF_UP)):
            out |= {format(t, "f"), format(t, ",f")}
    return out


def sentinels() -> set[str]:
    own = sum(ORDINARY, Fraction(0))
    figures = {PAID, REFUNDS, SCORED}
    for counted in (PAID, PAID + REFUNDS):             # the tax basis may add the refunds back
        figures |= {counted, counted / 30, counted / 60, counted / 2,          # per mu (contract, allocated), per parcel
                    counted + own, (counted + own) / 120}                     # the park's total and average
    return set().union(*(_spellings(f) for f in figures))


SENTINELS = sentinels()


def leaks(text: str) -> list[str]:
    return sorted(s for s in SENTINELS if s in text)


def test_the_sentinels_are_distinctive():
    assert "987654.32" in SENTINELS and "9,876,543,217.00" in SENTINELS and "32921.81" in SENTINELS
    assert not leaks("2024 2025 30 60 120 411202 1200 9000 20000 55.5 66.6 3.5")


# ---------------------------------------------------------------- every route

def _walk(routes, prefix: str = ""):
    for r in routes:
        if type(r).__name__ == "_IncludedRouter":     # FastAPI's lazily included routers
            yield from _walk(r.original_router.routes, prefix + r.include_context.prefix)
        elif hasattr(r, "routes") and not hasattr(r, "app"):
            yield from _walk(r.routes, prefix + getattr(r, "path", ""))
        else:
            yield prefix, r


def routes() -> list[tuple[str, str, list[tuple[str, bool]], bool]]:
    """(method, path, query parameters with required-ness, has a body) of every route of the app."""
    from app.main import app

    out = []
    for prefix, r in _walk(app.routes):
        path = prefix + getattr(r, "path", "")
        if isinstance(r, APIRoute):
            query = [(q.alias or q.name, q.field_info.is_required()) for q in r.dependant.query_params]
            for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
                out.append((m, path, query, m in ("POST", "PUT", "PATCH")))
        elif path.startswith("/static"):
            continue                                  # files of the app itself
        else:
            for m in sorted((getattr(r, "methods", None) or {"GET"}) - {"HEAD", "OPTIONS"}):
                out.append((m, path, [], False))
    return out


def _path_values(w: dict) -> dict[str, list[str]]:
    return {"contract_no": w["contracts"], "park_id": [w["park"]], "code": w["codes"], "decision_id": w["decisions"],
            "run_id": [w["run"]], "batch_id": [w["batch"]], "rid": [w["ruleset"]], "version": [w["version"]],
            "ruleset_id": ["huangyan-2022-example"], "kind": ["low_efficiency", "scoring"],
            "doc_id": ["henan-park-low-efficiency-example"]}


def _query_values(w: dict) -> dict[str, list]:
    return {"year": [2024, 2025], "as_of": [AS_OF, None], "uscc": [w["sx"]], "chart": ["tax_per_mu", "categories"],
            "batch_id": [f"probe-{w['uid']}"], "jurisdiction": ["411202"], "from": [w["version"]], "to": [w["version"]],
            "version": [None], "q": [w["sx"], None]}


def calls(w: dict) -> list[tuple[str, str, dict, bool, str]]:
    """Every route with its path filled from the objects created, each known query parameter
    filled (each value in turn); an unknown path or required query parameter fails the test."""
    import re

    paths, queries = _path_values(w), _query_values(w)
    out = []
    for method, path, query, has_body in routes():
        names = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        unknown = [n for n in names if n not in paths] + [q for q, req in query if req and q not in queries]
        if unknown:
            pytest.fail(f"{method} {path}: the sentinel test does not know how to fill {unknown}; add them")
        known = [q for q, _ in query if q in queries]
        for filled in itertools.product(*(paths[n] for n in names)):
            url = path
            for n, v in zip(names, filled, strict=True):
                url = re.sub(r"\{" + n + r"(?::\w+)?\}", v, url, count=1)
            for combo in itertools.product(*(queries[q] for q in known)) if known else [()]:
                params = {q: v for q, v in zip(known, combo, strict=True) if v is not None}
                out.append((method, url, params, has_body, path))
    return out


def _call(client, secret: str, method: str, url: str, params: dict, has_body: bool):
    from app.access.auth import COOKIE

    headers = {"Authorization": f"Bearer {secret}", "Cookie": f"{COOKIE}={secret}"}
    kw: dict = {"params": params, "headers": headers, "follow_redirects": False}
    if has_body:
        if url.endswith(":xlsx"):
            kw["files"] = {"file": ("probe.xlsx", b"not a workbook", "application/octet-stream")}
        elif url.startswith("/v1"):
            kw["json"] = {}
        else:
            kw["data"] = {}
    return client.request(method, url, **kw)


def _scan(http, secret: str, w: dict, writes: bool) -> tuple[dict[str, list[str]], int, set]:
    found, n, seen = {}, 0, set()
    for method, url, params, has_body, path in calls(w):
        if method != "GET" and not writes:
            continue
        r = _call(http, secret, method, url, params, has_body)
        n += 1
        seen.add((method, path))
        assert r.status_code < 500, (method, url, params, r.status_code, r.text[:500])
        hit = leaks(body_text(r))
        if hit:
            found[f"{method} {url} {params}"] = hit
    return found, n, seen


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_no_route_shows_a_411202_key_the_sentinel(http, world, role):
    found, n, called = _scan(http, world["keys"][role], world, writes=True)
    assert found == {}, found
    # every route of the app was called (reads and writes), the pages among them
    assert called == {(m, p) for m, p, _, _ in routes()}
    assert {("GET", "/parks/{park_id}/evaluation"), ("PUT", "/v1/parcels/{code}/plan"), ("POST", "/login")} <= called


def test_the_scan_finds_the_sentinel_for_a_city_key(http, world):
    """The positive control: the city key (4112) sees the other county's figures, and the scan says so."""
    found, _, _ = _scan(http, world["keys"]["city"], world, writes=False)
    where = " ".join(found)
    assert f"/v1/contracts/{world['contracts'][0]}/performance" in where, found
    assert f"/v1/parks/{world['park']}/evaluation.xlsx" in where and f"/parks/{world['park']}/evaluation" in where
    assert "/v1/tax-records" in where

