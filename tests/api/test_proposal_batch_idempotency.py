"""POST /v1/checks/proposal:batch with a batch_id: a retry stores nothing and returns the
decisions stored the first time; the same id with another body is refused."""

from __future__ import annotations

import json
import threading
import uuid

from tests.conftest import proposal

URL = "/v1/checks/proposal:batch"


def _stored(client) -> int:
    r = client.get("/v1/decisions/verify")
    assert r.status_code == 200 and r.json()["ok"], r.text
    return r.json()["checked"]


def _items(n: int) -> list[dict]:
    items = []
    for i in range(n):
        b = proposal(reference=f"item-{i}")
        b["measures"]["fixed_asset_investment"] = {"value": 19000 + i * 100, "unit": "万元"}
        items.append(b)
    return items


def _bid() -> str:
    return f"pb-{uuid.uuid4().hex[:12]}"


def test_a_retry_returns_the_stored_decisions_and_stores_nothing(client):
    bid, items = _bid(), _items(5)
    before = _stored(client)
    first = client.post(URL, json={"batch_id": bid, "items": items})
    assert first.status_code == 200, first.text
    assert first.json()["replayed"] is False and first.json()["batch_id"] == bid
    assert _stored(client) == before + 5

    again = client.post(URL, json={"batch_id": bid, "items": items})
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert _stored(client) == before + 5
    # the same response, item for item (ids, hashes, findings, order)
    assert {k: v for k, v in again.json().items() if k != "replayed"} == \
        {k: v for k, v in first.json().items() if k != "replayed"}
    assert [i["reference"] for i in again.json()["items"]] == [f"item-{i}" for i in range(5)]


def test_the_same_body_spelled_differently_is_the_same_batch(client):
    bid, items = _bid(), _items(2)
    first = client.post(URL, json={"batch_id": bid, "items": items})
    assert first.status_code == 200, first.text
    respelled = json.loads(json.dumps(items))
    respelled[0]["land_area"] = {"unit": "亩", "value": "90"}     # key order, a number as a string
    before = _stored(client)
    raw = json.dumps({"items": respelled, "batch_id": bid}, indent=2, ensure_ascii=False)
    again = client.post(URL, content=raw.encode(), headers={"content-type": "application/json"})
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert [i["decision_id"] for i in again.json()["items"]] == [i["decision_id"] for i in first.json()["items"]]
    assert _stored(client) == before


def test_the_same_id_with_another_body_is_409_and_stores_nothing(client):
    bid, items = _bid(), _items(3)
    assert client.post(URL, json={"batch_id": bid, "items": items}).status_code == 200
    before = _stored(client)
    other = _items(3)
    other[2]["measures"]["annual_tax"] = {"value": 1, "unit": "万元"}
    r = client.post(URL, json={"batch_id": bid, "items": other})
    assert r.status_code == 409, r.text
    assert bid in r.json()["detail"]
    assert client.post(URL, json={"batch_id": bid, "items": items[:2]}).status_code == 409
    assert _stored(client) == before


def test_an_invalid_batch_stores_nothing_and_leaves_the_id_free(client):
    bid, items = _bid(), _items(3)
    bad = json.loads(json.dumps(items))
    bad[1]["land_area"] = {"value": -5, "unit": "亩"}
    before = _stored(client)
    r = client.post(URL, json={"batch_id": bid, "items": bad})
    assert r.status_code == 422, r.text
    assert any(d["path"].startswith("items.1.land_area") for d in r.json()["detail"]), r.text
    assert _stored(client) == before
    ok = client.post(URL, json={"batch_id": bid, "items": items})
    assert ok.status_code == 200 and ok.json()["replayed"] is False, ok.text
    assert _stored(client) == before + 3


def test_batch_id_is_checked(client):
    for bad in ["", "x" * 65, "has space", "斜杠/", 17]:
        r = client.post(URL, json={"batch_id": bad, "items": _items(1)})
        assert r.status_code == 422, (bad, r.text)
        assert [d["path"] for d in r.json()["detail"]] == ["batch_id"], r.text
    assert client.post(URL, json={"batch_id": "A.b_c:d-9", "items": _items(1)}).status_code == 200


def test_without_a_batch_id_every_post_is_a_new_batch(client):
    items = _items(2)
    before = _stored(client)
    a = client.post(URL, json={"items": items})
    b = client.post(URL, json={"items": items})
    assert a.status_code == b.status_code == 200
    assert "replayed" not in a.json() and "batch_id" not in a.json()
    assert {i["decision_id"] for i in a.json()["items"]}.isdisjoint(i["decision_id"] for i in b.json()["items"])
    assert _stored(client) == before + 4


def test_concurrent_posts_of_one_batch_store_it_once(client):
    bid, items = _bid(), _items(20)
    before = _stored(client)
    results: list = [None] * 6

    def post(k: int) -> None:
        results[k] = client.post(URL, json={"batch_id": bid, "items": items})

    threads = [threading.Thread(target=post, args=(k,)) for k in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results), [r.text[:200] for r in results]
    ids = {tuple(i["decision_id"] for i in r.json()["items"]) for r in results}
    assert len(ids) == 1 and len(next(iter(ids))) == 20
    assert sorted(r.json()["replayed"] for r in results) == [False] + [True] * 5
    assert _stored(client) == before + 20
