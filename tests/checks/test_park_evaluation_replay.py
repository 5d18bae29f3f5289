"""A low-efficiency rule set published through the API is used by a park evaluation, pinned in the
decision with the 53号令 document, and the decision replays identically after a newer version is
published (POST /v1/decisions/{id}/replay), while a new evaluation uses the newer version.

The park: C, D, E, 30 亩 each, completed 2022-06-30; 2024 tax C 60, D 570 + 30 refunds added back,
E 240 → per mu C 2, D 20, E 8; over the land with data (the tax predicate's park figure) 900/90 = 10.
Version 1 of the rule set says "亩均税收 < 0.9 × park figure": threshold 9 → C (2) and E (8) are
low-efficiency land.  Version 2 (same id and effective date, so it corrects version 1) says 0.5:
threshold 5 → C only.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from app.core import safe_yaml
from rules import RULES_DIR
from tests.checks.test_parks import COMPLETED, STARTED, cde_contract, code, park_body, post
from tests.contract_factory import base_contract, mu, post_events, post_tax, register, tax_record, uscc_for

LOW = RULES_DIR / "parks" / "low-efficiency-example-2020.2.yaml"
IDLE_LAND = RULES_DIR / "lifecycle" / "idle-land-53.yaml"


def as_json(path) -> dict:
    return json.loads(json.dumps(safe_yaml.load(path.read_text(encoding="utf-8")), default=str))


def low_rules(rid: str, version: str, k: str) -> dict:
    raw = as_json(LOW)
    tax = next(p for p in raw["predicates"] if p["measure"] == "tax_per_mu_vs_park_average")
    tax["parameter"]["value"] = k
    tax["label"] = f"亩均税收低于园区平均水平的 {k}"
    return {**raw, "id": rid, "version": version, "title": f"测试认定条件 {version}"}


def digest_of(doc: dict) -> str:
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evaluation(client, pid: str) -> dict:
    r = client.get(f"/v1/parks/{pid}/evaluation", params={"year": 2024})
    assert r.status_code == 200, r.text
    return r.json()


def replay(client, decision_id: str) -> dict:
    r = client.post(f"/v1/decisions/{decision_id}/replay")
    assert r.status_code == 200, r.text
    return r.json()


def low_parcels(ev: dict) -> list[str]:
    return ev["land"]["by_category"]["low_efficiency"]["parcels"]


def test_published_rule_set_is_used_pinned_and_replayed(client):
    uid, tag = uuid.uuid4().hex[:8], uuid.uuid4().int % 10**6
    rid = f"replay-low-{uid}"
    v1 = low_rules(rid, "1", "0.9")
    r = client.post("/v1/law/low_efficiency", json=v1)
    assert r.status_code == 201, r.text
    d1 = r.json()["digest"]
    assert d1 == digest_of(v1)

    pid = f"replay-{uid}"
    post(client, "/v1/parks", park_body(pid, ruleset=rid), 201)
    codes, nos = {}, {}
    for n, key in ((2, "C"), (3, "D"), (4, "E")):
        nos[key] = register(client, cde_contract(uid, n))
        post_events(client, nos[key], STARTED, COMPLETED)
        codes[key] = code(tag, n)
        post(client, "/v1/parcels", {"code": codes[key], "park": pid, "area": mu(30), "supply_status": "transferred",
                                     "contract_no": nos[key]}, 201)
    post_tax(client, f"replay-{uid}", tax_record(uscc_for(uid, 2), 2024, 60),
             tax_record(uscc_for(uid, 3), 2024, 570, refunds=30), tax_record(uscc_for(uid, 4), 2024, 240))

    first = evaluation(client, pid)
    assert first["tax_per_mu"]["over_land_with_data"]["value"] == {"value": "10", "unit": "万元/亩"}
    assert low_parcels(first) == [codes["C"], codes["E"]]                  # 2 < 9 and 8 < 9
    assert (first["ruleset"]["id"], first["ruleset"]["version"], first["ruleset"]["digest"]) == (rid, "1", d1)
    idle_pin = {"kind": "idle_land", "id": "idle-land-53", "version": as_json(IDLE_LAND).get("version"),
                "digest": digest_of(as_json(IDLE_LAND))}
    assert first["law"] == [idle_pin, {"kind": "low_efficiency", "id": rid, "version": "1", "digest": d1}]
    assert first["tax_view"] == {"jurisdiction": None}

    # A newer version of the same rule set, in force from the same day: it corrects version 1.
    v2 = low_rules(rid, "2", "0.5")
    r = client.post("/v1/law/low_efficiency", json=v2)
    assert r.status_code == 201, r.text
    d2 = r.json()["digest"]
    second = evaluation(client, pid)
    assert low_parcels(second) == [codes["C"]]                             # 2 < 5; 8 is not
    assert second["law"] == [idle_pin, {"kind": "low_efficiency", "id": rid, "version": "2", "digest": d2}]
    # The ledger and a parcel's view on 2024-12-31 name the documents they read too: version 2 now.
    led = client.get(f"/v1/parks/{pid}/ledger", params={"as_of": "2024-12-31"}).json()
    assert led["law"] == second["law"]
    view = client.get(f"/v1/parcels/{codes['E']}", params={"as_of": "2024-12-31"}).json()
    assert view["law"] == second["law"] and view["assessment"]["low_efficiency"]["ruleset"]["version"] == "2"

    # The first decision replays under version 1, which it pinned: identical, though 2 is now in force.
    again = replay(client, first["decision_id"])
    assert again["identical"] is True and again["differences"] == [], again["differences"]
    assert again["law"] == first["law"] and again["verdict"] == first["verdict"]
    assert low_parcels(again["evaluation"]) == [codes["C"], codes["E"]]
    assert replay(client, second["decision_id"])["identical"] is True

    # Replay recomputes from the data as they are now, under the pinned law: a corrected tax record
    # (E 2024: 300, so 10 per mu against 0.9 × 960/90 = 9.6) makes it differ, and says where.
    post_tax(client, f"replay-{uid}-fix", tax_record(uscc_for(uid, 4), 2024, 300))
    changed = replay(client, first["decision_id"])
    assert changed["identical"] is False
    paths = {d["path"] for d in changed["differences"]}
    assert {"land.by_category.low_efficiency.parcels", "tax_per_mu.total_tax.value"} <= paths, paths
    assert low_parcels(changed["evaluation"]) == [codes["C"]]


def test_idle_land_tests_read_the_53_version_in_force_and_pin_it(database_url, tmp_path):
    """A parcel's idle-land test reads the 53号令 version in force on the date assessed and the
    answer pins it.  Base contract: start agreed 2023-03-01, never started.  On 2025-06-01 (2 years
    3 months late) the bundled version (reclaim after 2 full years) says idle_2y; a version in force
    from 2025-01-01 that reclaims only after 3 full years says idle_1y (fee) on that date, while on
    2024-12-31 the bundled version still applies.  On a database of its own: the new version would
    change every other test's idle land."""
    from tests.conftest import scratch_app

    with scratch_app(tmp_path, "idle_law_versions") as client:
        uid, tag = uuid.uuid4().hex[:8], uuid.uuid4().int % 10**6
        pid = f"idle-{uid}"
        post(client, "/v1/parks", park_body(pid), 201)
        no = register(client, base_contract(uid, 1))
        parcel = code(tag, 1)
        post(client, "/v1/parcels", {"code": parcel, "park": pid, "area": mu(30), "supply_status": "transferred",
                                     "contract_no": no}, 201)

        def idle_state(as_of: str) -> tuple[str, list[dict]]:
            r = client.get(f"/v1/parcels/{parcel}", params={"as_of": as_of})
            assert r.status_code == 200, r.text
            body = r.json()
            return body["assessment"]["idle"]["state"], [p for p in body["law"] if p["kind"] == "idle_land"]

        state, pins = idle_state("2025-06-01")
        assert state == "idle_2y" and [p["version"] for p in pins] == ["2012.1"]
        newer = {**as_json(IDLE_LAND), "version": "2025.1", "effective_from": "2025-01-01", "reclaim_after_years": 3,
                 "title": "闲置土地处置办法（测试：满三年无偿收回）"}
        r = client.post("/v1/law/idle_land", json=newer)
        assert r.status_code == 201, r.text
        state, pins = idle_state("2025-06-01")
        assert state == "idle_1y" and pins == [{"kind": "idle_land", "id": "idle-land-53", "version": "2025.1",
                                                "digest": r.json()["digest"]}]
        state, pins = idle_state("2024-12-31")
        assert state == "idle_1y" and [p["version"] for p in pins] == ["2012.1"]
