"""The other law documents (scoring and low-efficiency rule sets, contract models, 53号令 parameters):
one lifecycle — published through POST /v1/law/{kind} and the CLI (201 / 200 identical / 409 changed /
422 with paths), dated, content addressed, listed, resolved by date, checked against their digest."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid

import pytest

from app.core import safe_yaml
from rules import RULES_DIR
from tests.cli.test_cli import run, write_yaml

LOW = RULES_DIR / "parks" / "low-efficiency-example-2020.2.yaml"


def low_doc(**over) -> dict:
    raw = safe_yaml.load(LOW.read_text(encoding="utf-8"))
    raw = json.loads(json.dumps(raw, default=str))          # dates as text, like a JSON client sends
    return {**raw, "id": f"law-test-{uuid.uuid4().hex[:8]}", **over}


def test_bundled_documents_are_published_and_listed(client):
    rows = client.get("/v1/law", params={"kind": "low_efficiency"}).json()
    mine = {(r["id"], r["version"]): r for r in rows if r["id"] == "henan-park-low-efficiency-example"}
    assert set(mine) == {("henan-park-low-efficiency-example", "2020.1"), ("henan-park-low-efficiency-example", "2020.2")}
    assert {r["source"] for r in mine.values()} == {"bundled"}
    assert {r["kind_label"] for r in mine.values()} == {"低效工业用地认定条件"}
    one = client.get("/v1/law/low_efficiency/henan-park-low-efficiency-example/2020.2").json()
    text = json.dumps(one["document"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == one["digest"]
    assert one["document"]["effective_from"] == "2020-12-04"


def test_publish_identical_changed_and_invalid(client):
    doc = low_doc()
    r = client.post("/v1/law/low_efficiency", json=doc)
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["id"], first["version"], first["source"], first["kind"]) == (doc["id"], "2020.2", "api", "low_efficiency")
    again = client.post("/v1/law/low_efficiency", json=copy.deepcopy(doc))
    assert (again.status_code, again.json()["digest"]) == (200, first["digest"])
    changed = copy.deepcopy(doc)
    changed["title"] = "改过的标题"
    r = client.post("/v1/law/low_efficiency", json=changed)
    assert r.status_code == 409 and first["digest"] in r.text
    # a new version of the same id is fine
    assert client.post("/v1/law/low_efficiency", json={**changed, "version": "2020.3"}).status_code == 201

    bad = {**low_doc(), "status": "draft", "effective_to": "2019-01-01"}
    del bad["title"]
    r = client.post("/v1/law/low_efficiency", json=bad)
    assert r.status_code == 422, r.text
    paths = {".".join(map(str, e["loc"])) if isinstance(e.get("loc"), list) else e.get("path") for e in r.json()["detail"]}
    assert {"title", "status"} <= {p.split(".")[-1] for p in paths if p}, r.json()
    # the kind's own rules: a predicate without its parameter is refused by the low-efficiency parser
    broken = low_doc()
    broken["predicates"] = [dict(broken["predicates"][0], op="~")]
    r = client.post("/v1/law/low_efficiency", json=broken)
    assert r.status_code == 422 and "predicates" in r.text, r.text
    r = client.post("/v1/law/no_such_kind", json=low_doc())
    assert r.status_code == 422 and "kind" in r.text
    assert client.get("/v1/law/low_efficiency/nope/1").status_code == 404


def test_version_in_force_by_date(client):
    from sqlmodel import Session

    from app.checks import law
    from app.core.errors import NotFound
    from app.store.db import get_engine

    rid = f"law-dates-{uuid.uuid4().hex[:8]}"
    for ver, start, end in (("1", "2020-01-01", None), ("2", "2022-01-01", None), ("2.1", "2022-01-01", "2024-01-01")):
        assert client.post("/v1/law/low_efficiency", json=low_doc(
            id=rid, version=ver, effective_from=start, effective_to=end, title=f"版本 {ver}")).status_code == 201
    with Session(get_engine()) as s:
        assert law.resolve(s, "low_efficiency", rid, dt.date(2021, 6, 1)).version == "1"
        # same effective date: the higher version corrects the lower
        assert law.resolve(s, "low_efficiency", rid, dt.date(2022, 1, 1)).version == "2.1"
        # 2.1 ended: 2 is in force again
        got = law.resolve(s, "low_efficiency", rid, dt.date(2024, 1, 1))
        assert got.version == "2"
        assert law.by_digest(s, "low_efficiency", got.digest) is got       # parsed once per process
        assert law.pin(got) == {"kind": "low_efficiency", "id": rid, "version": "2", "digest": got.digest}
        assert type(got.value).__name__ == "LoadedRuleSet"
        with pytest.raises(NotFound):
            law.resolve(s, "low_efficiency", rid, dt.date(2019, 12, 31))
    listed = {r["version"]: r["in_force"] for r in client.get("/v1/law", params={"on": "2023-01-01"}).json()
              if r["id"] == rid}
    assert listed == {"2.1": True}


def test_a_stored_text_that_no_longer_matches_its_digest_is_refused(client):
    from sqlalchemy import text
    from sqlmodel import Session

    from app.checks import law
    from app.store.db import get_engine

    doc = low_doc()
    digest = client.post("/v1/law/low_efficiency", json=doc).json()["digest"]
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE law_document SET document = replace(document, :a, :b) WHERE digest = :d"),
                     {"a": doc["title"], "b": "篡改", "d": digest})
    with Session(get_engine()) as s, pytest.raises(RuntimeError, match="does not match its digest"):
        law.by_digest(s, "low_efficiency", digest)


def test_cli_publish_and_list(tmp_path):
    db = f"sqlite:///{tmp_path / 'law.db'}"
    f = write_yaml(tmp_path / "low.yaml", low_doc(id="cli-low"))
    p = run("law", "publish", "low_efficiency", str(f), db=db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("published low_efficiency cli-low@2020.2 ")
    assert run("law", "publish", "low_efficiency", str(f), db=db).stdout.startswith("already published")
    bad = write_yaml(tmp_path / "bad.yaml", {**low_doc(id="cli-bad"), "status": "draft"})
    p = run("law", "publish", "low_efficiency", str(bad), db=db)
    assert p.returncode == 2 and "status" in p.stderr
    p = run("law", "publish", "nonsense", str(f), db=db)
    assert p.returncode == 2 and "kind" in p.stderr
    listed = json.loads(run("law", "list", "--kind", "low_efficiency", db=db).stdout)
    assert {"cli-low", "henan-park-low-efficiency-example"} <= {r["id"] for r in listed}


def test_the_rule_set_page_lists_the_law_documents(client):
    rid = f"law-page-{uuid.uuid4().hex[:8]}"
    assert client.post("/v1/law/low_efficiency", json=low_doc(id=rid, title="页面测试认定条件")).status_code == 201
    page = client.get("/rulesets")
    assert page.status_code == 200
    html = page.text
    assert "其他法规文件" in html and f'data-law="low_efficiency/{rid}"' in html
    section = html[html.index(f'data-law="low_efficiency/{rid}"'):]
    section = section[:section.index("</table>")]
    assert "低效工业用地认定条件：页面测试认定条件" in section and "2020-12-04" in section and "现行" in section
    assert "low_efficiency" not in section.split(">", 1)[1]       # no snake_case value shown to the officer


def test_a_rule_set_version_altered_in_the_database_is_never_resolved(client, uid, caplog):
    """Rule-set versions, too, are checked against their digest when loaded (not trusted because stored)."""
    from sqlalchemy import text

    from app.core import clock
    from app.rulesets.document import canonical_json, digest, validate_document
    from app.store.db import get_engine
    from tests.factories import standalone_doc

    honest = validate_document(standalone_doc(f"tampered-{uid}", tax=15))
    altered = validate_document(standalone_doc(f"tampered-{uid}", tax=1))
    with get_engine().begin() as conn:
        conn.execute(text(
            "INSERT INTO ruleset_version (ruleset_id, version, digest, status, jurisdiction, parent, effective_from, "
            "effective_to, published_at, source, document) VALUES (:id, :v, :d, :s, :j, NULL, :f, NULL, :at, 'api', :doc)"),
            {"id": honest.id, "v": honest.version, "d": digest(honest), "s": honest.status, "j": honest.jurisdiction,
             "f": honest.effective_from, "at": clock.utcnow(), "doc": canonical_json(altered)})
    r = client.get("/v1/rulesets/resolve", params={"ruleset": honest.id, "as_of": "2024-01-01"})
    assert r.status_code in (404, 422), r.text
    assert any("does not match its digest" in m for m in caplog.messages)
