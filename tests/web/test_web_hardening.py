"""Web hardening through the API, the upload page and the CLI (issue 10, items 5, 7, 8): document
URLs other than http(s) refused at publish, hostile YAML (aliases, deep nesting) refused with its
line, NUL in every page's path, query and form refused without a 500 — on the session database
(SQLite, or PostgreSQL with TEST_DATABASE_URL, where NUL used to fail in the driver)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute, iter_route_contexts
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.factories import standalone_doc
from tests.web.conftest import csrf

runner = CliRunner()

BAD_URLS = ["javascript:alert(document.domain)", "JavaScript:alert(1)", " javascript:alert(1)",
            "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
            "//evil.example/x", "/relative/path", "http:alert(1)", "file:///etc/passwd"]

# 370 bytes, 7 levels of aliases: 9**7 ≈ 4.8 million strings once expanded (the reported attack).
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdef", "bcdefg", strict=True)]) + "\n"
DEEP_FLOW = "id: x\nrules: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_BLOCK = "id: x\nrules:\n" + "".join("  " * i + "- \n" for i in range(1, 200))


def _doc_with_url(rid: str, url: str) -> dict:
    # Each in a county of its own: no two stand-alone sets at the same level overlap.
    return standalone_doc(rid, jurisdiction="419851", documents={"t-doc": {"title": "测试用规范性文件", "url": url}})


# ---------------------------------------------------------------- item 5: document URLs

@pytest.mark.parametrize("url", BAD_URLS)
def test_a_document_url_that_is_not_http_is_refused_by_the_api(client, uid, url):
    r = client.post("/v1/rulesets", json=_doc_with_url(f"xss-{uid}", url))
    assert r.status_code == 422, r.text
    assert "documents.t-doc.url" in {d["path"] for d in r.json()["detail"]}
    assert client.get(f"/v1/rulesets/xss-{uid}").status_code == 404


def test_a_bad_url_is_listed_with_the_other_problems(client, uid):
    doc = _doc_with_url(f"xss-{uid}", "javascript:alert(1)")
    doc["status"] = "draft"
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 422
    assert {"status", "documents.t-doc.url"} <= {d["path"] for d in r.json()["detail"]}


def test_http_and_https_document_urls_are_accepted(client, uid):
    doc = _doc_with_url(f"url-ok-{uid}", "https://www.gov.cn/zhengce/content/2024/x.htm")
    doc["documents"]["t-doc2"] = {"title": "另一文件", "url": "http://example.gov.cn/a?b=1#c"}
    r = client.post("/v1/rulesets", json=doc)
    assert r.status_code == 201, r.text


def test_the_upload_page_refuses_a_javascript_url_at_its_line(client, uid):
    text = yaml.safe_dump(_doc_with_url(f"xss-{uid}", "javascript:alert(document.domain)"), allow_unicode=True)
    r = client.post("/rulesets/upload", data={"yaml": text, **csrf(client, "/rulesets/upload")})
    assert r.status_code == 422
    line = next(n for n, s in enumerate(text.splitlines(), start=1) if "javascript:" in s)
    assert "documents.t-doc.url" in r.text and f"第 {line} 行" in r.text, r.text[-3000:]
    assert client.get(f"/v1/rulesets/xss-{uid}").status_code == 404


def test_the_cli_refuses_a_javascript_url(client, uid, tmp_path):
    from app.cli import cli

    f = tmp_path / "xss.yaml"
    f.write_text(yaml.safe_dump(_doc_with_url(f"xss-{uid}", "javascript:alert(1)"), allow_unicode=True), encoding="utf-8")
    for command in ("validate", "publish"):
        r = runner.invoke(cli, ["rules", command, str(f)])
        assert r.exit_code == 2, (command, r.output)
        assert "documents.t-doc.url" in r.output, (command, r.output)
    assert client.get(f"/v1/rulesets/xss-{uid}").status_code == 404


# ---------------------------------------------------------------- item 7/8: hostile YAML

def test_every_bundled_yaml_file_loads_without_aliases():
    """The bundled rules use no aliases and nest shallowly: the one safe loader takes them all."""
    from app.core.safe_yaml import load

    files = sorted(Path(ROOT, "rules").rglob("*.yaml")) + sorted(Path(ROOT, "indicators").rglob("*.yaml"))
    assert len(files) > 10
    for f in files:
        assert load(f.read_text(encoding="utf-8")) is not None, f


@pytest.mark.parametrize(("text", "words", "line"), [
    (BILLION_LAUGHS, "别名", 2),
    ("base: &b {x: 1}\nother:\n  <<: *b\n", "别名", 3),
    (DEEP_FLOW, "嵌套超过 32 层", 2),
    (DEEP_BLOCK, "嵌套超过 32 层", 34),
], ids=["billion-laughs", "merge-key", "deep-flow", "deep-block"])
def test_the_upload_page_refuses_hostile_yaml_with_its_line(client, text, words, line):
    before = client.get("/v1/rulesets").json()
    for how in ("pasted", "file"):
        if how == "pasted":
            r = client.post("/rulesets/upload", data={"yaml": text, **csrf(client, "/rulesets/upload")})
        else:
            r = client.post("/rulesets/upload", data=csrf(client, "/rulesets/upload"),
                            files={"file": ("rules.yaml", text.encode(), "application/x-yaml")})
        assert r.status_code == 422, (how, r.status_code, r.text[-1000:])
        assert words in r.text and f"第 {line} 行" in r.text, (how, r.text[-3000:])
    assert client.get("/v1/rulesets").json() == before


@pytest.mark.parametrize(("text", "words"), [(BILLION_LAUGHS, "别名"), (DEEP_FLOW, "嵌套超过"), (DEEP_BLOCK, "嵌套超过")],
                         ids=["billion-laughs", "deep-flow", "deep-block"])
def test_the_cli_refuses_hostile_yaml_with_exit_2(client, tmp_path, text, words):
    from app.cli import cli

    f = tmp_path / "hostile.yaml"
    f.write_text(text, encoding="utf-8")
    for command in ("validate", "publish"):
        r = runner.invoke(cli, ["rules", command, str(f)])
        assert r.exit_code == 2, (command, r.exit_code, r.output[-2000:])
        assert words in r.output and "行" in r.output, (command, r.output[-2000:])


def test_the_contract_check_page_applies_the_api_limits_to_pasted_json(client):
    before = client.get("/v1/decisions/verify").json()
    for document, words in (("[" * 100_000 + "]" * 100_000, "嵌套超过"), ('{"contract_no": "A", "contract_no": "B"}', "键重复"),
                            ('{"contract_no": "A\\u0000B"}', "NUL")):
        r = client.post("/contracts/check", data={"document": document, **csrf(client, "/contracts/check")})
        assert r.status_code == 422 and words in r.text, (document[:40], r.status_code)
    assert client.get("/v1/decisions/verify").json() == before


# ---------------------------------------------------------------- item 8: NUL in page URLs and forms

def _page_routes() -> list[APIRoute]:
    from app.main import app

    return [(ctx.path, ctx.original_route) for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIRoute) and ctx.path and not ctx.path.startswith("/v1")
            and ctx.path not in ("/healthz", "/metrics")]


def _query_names(route: APIRoute) -> set[str]:
    # The declared query parameters, and those a page reads itself (the diff's from/to, the
    # proposal form's fields pre-filled from the query).
    return {p.alias for p in route.dependant.query_params} | {"from", "to", "jurisdiction", "as_of", "q", "no", "next"}


def _page_cases() -> list[tuple[str, str, str]]:
    cases = []
    for path, route in _page_routes():
        for method in sorted(route.methods - {"HEAD"}):
            params = re.findall(r"\{(\w+)\}", path)
            for name in params:
                url = re.sub(r"\{(\w+)\}", lambda m, n=name: "A%00B" if m.group(1) == n else "x", path)
                cases.append((method, url, "path"))
            base = re.sub(r"\{\w+\}", "x", path)
            for name in sorted(_query_names(route)):
                cases.append((method, f"{base}?{name}=A%00B", "query"))
            if method == "POST":
                cases.append((method, base, "form"))
    return cases


def test_page_cases_cover_the_reported_urls():
    urls = {c[1] for c in _page_cases()}
    assert "/contracts?no=A%00B" in urls and "/parks/A%00B" in urls


@pytest.mark.parametrize(("method", "url", "where"), _page_cases(), ids=lambda v: v)
def test_nul_in_any_page_url_or_form_is_refused_without_a_500(client, method, url, where):
    from app.web.pages_contract_check import EXAMPLE

    before = client.get("/v1/decisions/verify").json()
    if where == "form":
        data = {**{k: "A\x00B" for k in EXAMPLE}, "yaml": "id: A\x00B", "enterprises": "id\nA\x00B", "key": "A\x00B",
                "document": "A\x00B", **csrf(client, url)}
        r = client.post(url, data=data, headers={"Origin": "http://testserver"}, follow_redirects=False)
    else:
        r = client.request(method, url, data=csrf(client, url.split("?")[0]) if method == "POST" else None,
                           headers={"Origin": "http://testserver"}, follow_redirects=False)
    expected = {"path": 404, "query": 422, "form": 422}[where]
    assert r.status_code == expected, (r.status_code, r.text[-500:])
    assert "text/html" in r.headers["content-type"] and "NUL" in r.text
    assert "set-cookie" not in r.headers
    assert client.get("/v1/decisions/verify").json() == before


def test_nul_in_a_multipart_upload_is_refused(client):
    r = client.post("/rulesets/upload", data=csrf(client, "/rulesets/upload"),
                    files={"file": ("r.yaml", b"id: a\x00b\n", "application/x-yaml")})
    assert r.status_code == 422 and "NUL" in r.text
