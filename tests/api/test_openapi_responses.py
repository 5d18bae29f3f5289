"""Typed responses (issue 12 item 5): every /v1 route's 2xx answer has a schema in the OpenAPI
document, and the answers of the main routes — on the demo park (app/demo/) and a proposal —
are exactly what their declared models describe: validated by the model (closed shapes forbid
unknown fields) and written back unchanged (no field dropped or coerced, same key order)."""

from __future__ import annotations

import json
import typing

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from app import demo
from tests.conftest import load_demo, proposal

SPEC = demo.Spec(parcels=40, years=5, seed=11, last_year=2025)
Y = SPEC.last_year
NON_JSON = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/svg+xml", "text/plain"}


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _empty(spec: dict, schema: dict | None) -> bool:
    """No schema, ``{}``, or a bare object / array of anything."""
    if not schema:
        return True
    s = _resolve(spec, schema)
    if s.get("type") == "array":
        return _empty(spec, s.get("items"))
    if "anyOf" in s:
        return any(_empty(spec, x) for x in s["anyOf"] if x.get("type") != "null")
    return s.get("type") in (None, "object") and not s.get("properties") and not s.get("allOf")


def _spec() -> dict:
    from app.main import app

    return app.openapi()


def test_every_v1_answer_has_a_schema(client):
    spec = _spec()
    bad, seen = [], 0
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in ops.items():
            for status, answer in op["responses"].items():
                if not status.startswith("2"):
                    continue
                seen += 1
                content = answer.get("content") or {}
                if not content:
                    bad.append(f"{method.upper()} {path} {status}: no content")
                for media, body in content.items():
                    if media in NON_JSON:
                        continue
                    if media != "application/json" or _empty(spec, body.get("schema")):
                        bad.append(f"{method.upper()} {path} {status} {media}: no schema")
    assert seen > 40
    assert not bad, "\n".join(bad)


def test_downloads_declare_their_media_type(client):
    spec = _spec()["paths"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for path in ("/v1/parks/{park_id}/ledger.xlsx", "/v1/parks/{park_id}/evaluation.xlsx",
                 "/v1/scoring/runs/{run_id}.xlsx", "/v1/parks/{park_id}/parcels.xlsx"):
        assert list(spec[path]["get"]["responses"]["200"]["content"]) == [xlsx], path
    assert list(spec["/v1/parks/{park_id}/evaluation.svg"]["get"]["responses"]["200"]["content"]) == ["image/svg+xml"]


def _model(client, method: str, path: str):
    from app.main import app

    def routes(within: list) -> list:
        out = []
        for r in within:       # FastAPI keeps each included router as one entry
            out += [r] if isinstance(r, APIRoute) else routes(getattr(getattr(r, "original_router", None), "routes", []))
        return out

    for route in routes(app.routes):
        if route.path == path and method in route.methods:
            model = route.response_model    # FastAPI takes ``-> dict`` for a model: a declared one is a pydantic model
            inner = typing.get_args(model)[0] if typing.get_origin(model) is list else model
            assert isinstance(inner, type) and issubclass(inner, BaseModel), f"{method} {path}: {model!r}"
            return model
    raise AssertionError(f"no route {method} {path}")


def _same(client, method: str, path: str, response) -> None:
    """The answer validates against the route's model and is written back byte for byte."""
    assert response.status_code < 300, response.text
    body = response.json()
    ta = TypeAdapter(_model(client, method, path))
    again = ta.dump_python(ta.validate_python(body), mode="json", by_alias=True, exclude_unset=True)
    assert again == body
    assert json.dumps(again, ensure_ascii=False) == json.dumps(body, ensure_ascii=False), "key order"


@pytest.fixture(scope="module")
def loaded(client) -> dict:
    return load_demo(client, SPEC)[1]


def test_proposal_answers(client):
    r = client.post("/v1/checks/proposal", json=proposal())
    _same(client, "POST", "/v1/checks/proposal", r)
    did = r.json()["decision_id"]
    _same(client, "POST", "/v1/checks/proposal:batch",
          client.post("/v1/checks/proposal:batch", json={"items": [proposal(), proposal(jurisdiction="411202")]}))
    _same(client, "GET", "/v1/decisions/{decision_id}", client.get(f"/v1/decisions/{did}"))
    _same(client, "POST", "/v1/decisions/{decision_id}/replay", client.post(f"/v1/decisions/{did}/replay"))
    _same(client, "GET", "/v1/decisions/verify", client.get("/v1/decisions/verify"))


def test_rule_set_answers(client):
    _same(client, "GET", "/v1/rulesets", client.get("/v1/rulesets"))
    _same(client, "GET", "/v1/rulesets/{rid}", client.get("/v1/rulesets/sanmenxia-standard-land"))
    _same(client, "GET", "/v1/rulesets/{rid}/versions/{version}",
          client.get("/v1/rulesets/sanmenxia-standard-land/versions/2021.2"))
    _same(client, "GET", "/v1/rulesets/{rid}/diff", client.get("/v1/rulesets/sanmenxia-standard-land/diff?from=2021.1&to=2021.2"))
    _same(client, "GET", "/v1/rulesets/resolve",
          client.get("/v1/rulesets/resolve", params={"as_of": "2024-03-01", "jurisdiction": "411200", "industry": "32"}))
    _same(client, "GET", "/v1/scoring/rulesets", client.get("/v1/scoring/rulesets"))
    listed = client.get("/v1/law")
    _same(client, "GET", "/v1/law", listed)
    first = listed.json()[0]
    _same(client, "GET", "/v1/law/{kind}/{doc_id}/{version}",
          client.get(f"/v1/law/{first['kind']}/{first['id']}/{first['version']}"))
    rid = client.get("/v1/scoring/rulesets").json()["rulesets"][0]["id"]
    _same(client, "GET", "/v1/scoring/rulesets/{ruleset_id}", client.get(f"/v1/scoring/rulesets/{rid}"))


def test_park_answers(client, loaded):
    pid = loaded["park"]
    _same(client, "GET", "/v1/parks/{park_id}", client.get(f"/v1/parks/{pid}"))
    _same(client, "GET", "/v1/parks/{park_id}/ledger", client.get(f"/v1/parks/{pid}/ledger", params={"as_of": f"{Y}-12-31"}))
    ev = client.get(f"/v1/parks/{pid}/evaluation", params={"year": Y})
    _same(client, "GET", "/v1/parks/{park_id}/evaluation", ev)
    _same(client, "GET", "/v1/decisions/{decision_id}", client.get(f"/v1/decisions/{ev.json()['decision_id']}"))
    rows = client.get(f"/v1/parks/{pid}/ledger", params={"as_of": f"{Y}-12-31"}).json()["rows"]
    assert rows
    for row in rows:
        code = row["parcel"]["code"]
        _same(client, "GET", "/v1/parcels/{code}", client.get(f"/v1/parcels/{code}", params={"as_of": f"{Y}-12-31"}))
        if row["plan"]:
            _same(client, "GET", "/v1/parcels/{code}/plan", client.get(f"/v1/parcels/{code}/plan"))
            _same(client, "GET", "/v1/parcels/{code}/plan/history", client.get(f"/v1/parcels/{code}/plan/history"))


def test_contract_answers(client, loaded):
    pid = loaded["park"]
    rows = client.get(f"/v1/parks/{pid}/ledger", params={"as_of": f"{Y}-12-31"}).json()["rows"]
    numbers = sorted({r["parcel"]["contract"]["contract_no"] for r in rows if r["parcel"]["contract"]})
    assert numbers
    for no in numbers:
        got = client.get(f"/v1/contracts/{no}")
        _same(client, "GET", "/v1/contracts/{contract_no}", got)
        _same(client, "GET", "/v1/contracts/{contract_no}/events", client.get(f"/v1/contracts/{no}/events"))
        perf = client.get(f"/v1/contracts/{no}/performance", params={"as_of": f"{Y}-12-31"})
        _same(client, "GET", "/v1/contracts/{contract_no}/performance", perf)
        _same(client, "GET", "/v1/decisions/{decision_id}", client.get(f"/v1/decisions/{perf.json()['decision_id']}"))
    document = client.get(f"/v1/contracts/{numbers[0]}").json()["contract"]
    _same(client, "POST", "/v1/checks/contract", client.post("/v1/checks/contract", json=document))
    _same(client, "POST", "/v1/contracts", client.post("/v1/contracts", json=document))
    uscc = document["transferee"]["uscc"]
    _same(client, "GET", "/v1/tax-records", client.get("/v1/tax-records", params={"uscc": uscc}))


def test_scoring_and_tax_answers(client, loaded):
    run_id = loaded["scoring"]["run_id"]
    _same(client, "GET", "/v1/scoring/runs/{run_id}", client.get(f"/v1/scoring/runs/{run_id}"))
    _same(client, "GET", "/v1/scoring/runs/{run_id}/table", client.get(f"/v1/scoring/runs/{run_id}/table"))
    batch = demo.generate(SPEC).tax_batches[0]
    again = client.post("/v1/tax-records", json=batch)
    assert again.status_code == 200
    _same(client, "POST", "/v1/tax-records", again)
    _same(client, "GET", "/v1/tax-records/batches/{batch_id}", client.get(f"/v1/tax-records/batches/{batch['batch_id']}"))
