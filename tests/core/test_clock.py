"""The one clock (app.core.clock): "today" is the officers' day in the configured zone
(STANDARD_LAND_TIMEZONE, default Asia/Shanghai), stored times stay UTC, shown times are local.

2026-02-28 23:30 UTC is 2026-03-01 07:30 in Beijing: an officer auditing before 08:00 audits
1 March, not 28 February (the machine's zone, UTC, would say 28 February)."""

from __future__ import annotations

import datetime as dt

from app.core import clock
from tests.factories import standalone_doc

BEFORE_EIGHT = dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)


def test_default_as_of_is_the_day_in_beijing(client, uid) -> None:
    """The park was renamed on 1 March: at 07:30 that morning in Beijing the park page (no as_of)
    shows the new name, as of 1 March."""
    park = {"id": f"clock-{uid}", "jurisdiction": "411202", "planned_area": {"value": 1000, "unit": "亩"},
            "names": [{"name": "旧名产业集聚区", "valid_to": "2026-03-01"},
                      {"name": "新名产业集聚区", "valid_from": "2026-03-01"}]}
    assert client.post("/v1/parks", json=park).status_code == 201
    with clock.fixed(BEFORE_EIGHT):
        r = client.get(f"/v1/parks/{park['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] == "2026-03-01" and r.json()["name"] == "新名产业集聚区"


def test_the_zone_is_configuration(monkeypatch) -> None:
    with clock.fixed(BEFORE_EIGHT):
        assert clock.today() == dt.date(2026, 3, 1)
        assert clock.now().isoformat() == "2026-03-01T07:30:00+08:00"
        assert clock.utcnow() == BEFORE_EIGHT
        monkeypatch.setenv("STANDARD_LAND_TIMEZONE", "UTC")
        assert clock.today() == dt.date(2026, 2, 28)
        monkeypatch.setenv("STANDARD_LAND_TIMEZONE", "Asia/Urumqi")
        assert clock.now().isoformat() == "2026-03-01T05:30:00+06:00"


def test_stored_times_are_utc_and_pages_show_beijing_time(client, uid) -> None:
    rid = f"clock-{uid}"
    with clock.fixed(BEFORE_EIGHT):
        r = client.post("/v1/rulesets", json=standalone_doc(rid))
    assert r.status_code == 201, r.text
    stored = client.get(f"/v1/rulesets/{rid}/versions/1").json()["published_at"]
    assert dt.datetime.fromisoformat(stored) == BEFORE_EIGHT and stored.endswith("+00:00")
    page = client.get(f"/rulesets/{rid}/versions/1")
    assert page.status_code == 200
    assert "2026-03-01 07:30（北京时间）" in page.text and "2026-02-28T23:30" not in page.text
    listing = client.get("/rulesets").text
    assert "2026-03-01 07:30" in listing
