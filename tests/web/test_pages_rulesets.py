"""规则集 pages in a real browser: list, one version, upload with errors and success, diff."""

from __future__ import annotations

import httpx
import yaml

from tests.factories import child_doc, standalone_doc, tax_rule
from tests.web.conftest import assert_accessible, assert_no_horizontal_scroll, shot


def as_yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def paste_and_publish(page, text: str) -> None:
    page.goto("/rulesets/upload")
    page.get_by_label("或粘贴 YAML 内容").fill(text)
    page.get_by_role("button", name="校验并发布").click()
    page.wait_for_load_state()


def test_list_groups_rule_sets_by_jurisdiction_and_marks_example_data(page, live_server):
    page.goto("/rulesets")
    assert page.title().startswith("规则集")
    api = {r["id"]: r for r in httpx.get(f"{live_server}/v1/rulesets").json()}
    smx = page.locator('table[data-ruleset="sanmenxia-standard-land"]')
    assert "示例数据" in smx.locator("caption").inner_text()
    row = smx.locator('tr[data-version="2021.1"]')
    version = api["sanmenxia-standard-land"]["versions"][0]
    assert version["effective_from"] in row.inner_text() and "示例数据" in row.inner_text()
    national = page.locator('table[data-ruleset="national-2008"]')
    assert "正式发布" in national.inner_text() and "示例数据" not in national.inner_text()
    # grouped by jurisdiction: the Sanmenxia table sits under the 三门峡市 411200 heading
    section = page.locator("section", has=page.locator("#j-411200"))
    assert "三门峡市" in section.locator("h2").inner_text()
    assert section.locator('table[data-ruleset="sanmenxia-standard-land"]').count() == 1
    assert page.locator("#j-100000").inner_text().startswith("全国")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "rulesets-list")


def test_version_page_lists_rules_with_thresholds_units_and_citations(page):
    page.goto("/rulesets")
    page.locator('table[data-ruleset="sanmenxia-standard-land"]').get_by_role("link", name="2021.1").click()
    assert page.url.endswith("/rulesets/sanmenxia-standard-land/versions/2021.1")
    inv = page.locator('tr[data-rule="investment_intensity_min"]').locator("td").all_inner_texts()
    assert inv[0] == "亩均投资强度" and inv[2] == "≥ 200" and "32: 220" in inv[3] and inv[4] == "万元/亩"
    assert "三政办〔2021〕5号" in inv[6]
    tax = page.locator('tr[data-rule="tax_per_mu_min"]')
    assert "≥ 15" in tax.inner_text() and "示例数据" not in tax.locator("th").inner_text()
    assert "示例数据" in page.locator("h1").inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "rulesets-version")


def test_upload_with_errors_shows_each_problem_with_its_path_and_publishes_nothing(page, live_server, uid):
    bad = standalone_doc(f"web-bad-{uid}")
    del bad["title"]
    bad["rules"][1]["role"] = "core3"
    text = as_yaml(bad)
    paste_and_publish(page, text)
    problems = page.locator("#problems")
    assert problems.get_attribute("role") == "alert"
    title = problems.locator('li[data-path="title"]').inner_text()
    assert "必填项" in title
    role = problems.locator('li[data-path="rules.1.role"]').inner_text()
    line = text.splitlines().index("  role: core3") + 1
    assert "取值不在允许范围内" in role and f"第 {line} 行" in role
    assert page.get_by_label("或粘贴 YAML 内容").input_value().strip() == text.strip()   # kept for correction
    assert httpx.get(f"{live_server}/v1/rulesets/web-bad-{uid}").status_code == 404
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "rulesets-upload-errors")


def test_upload_of_a_looser_child_is_refused_in_place(page, live_server, uid):
    paste_and_publish(page, as_yaml(child_doc(f"web-loose-{uid}", [tax_rule(10)])))
    items = page.locator("#problems li.problem")
    assert items.count() >= 1
    text = items.first.inner_text()
    assert "rules.0" in text and "15" in text
    assert httpx.get(f"{live_server}/v1/rulesets/web-loose-{uid}").status_code == 404


def test_unknown_indicator_is_reported_at_its_line(page, uid):
    doc = standalone_doc(f"web-ind-{uid}")
    doc["rules"][1]["indicator"] = "investment_intensityy"
    text = as_yaml(doc)
    paste_and_publish(page, text)
    line = text.splitlines().index("  indicator: investment_intensityy") + 1
    item = page.locator('#problems li[data-path="rules.1.indicator"]').inner_text()
    assert "未知指标" in item and f"第 {line} 行" in item


def test_yaml_syntax_error_is_reported_with_its_line(page):
    paste_and_publish(page, "id: x\nversion: [1\n")
    # the unclosed list on line 2 is noticed where the text ends, line 3
    assert "YAML 格式错误第 3 行" in page.locator("#problems").inner_text()


def test_upload_file_then_paste_a_new_version_list_it_and_diff(page, live_server, uid):
    rid = f"web-ok-{uid}"
    v1 = standalone_doc(rid, "1", status="example")
    page.goto("/rulesets/upload")
    page.get_by_label("YAML 文件").set_input_files(
        {"name": "v1.yaml", "mimeType": "text/yaml", "buffer": as_yaml(v1).encode("utf-8")})
    page.get_by_role("button", name="校验并发布").click()
    link = page.locator("#new-version")
    assert link.inner_text() == f"{rid} 版本 1"
    published = httpx.get(f"{live_server}/v1/rulesets/{rid}/versions/1").json()
    assert published["source"] == "web" and published["digest"] in page.locator(".ok-box").inner_text()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "rulesets-upload-ok")

    v2 = standalone_doc(rid, "2", status="example", effective_from="2024-01-01", tax=20)
    paste_and_publish(page, as_yaml(v2))
    page.locator("#new-version").click()
    assert page.url.endswith(f"/rulesets/{rid}/versions/2")
    assert "≥ 20" in page.locator('tr[data-rule="tax_per_mu_min"]').inner_text()

    page.goto("/rulesets")
    table = page.locator(f'table[data-ruleset="{rid}"]')
    assert table.locator("tbody tr").count() == 2 and "示例数据" in table.inner_text()
    page.get_by_role("link", name="比较最近两个版本").and_(page.locator(f'a[href^="/rulesets/{rid}/diff"]')).click()
    assert page.url.endswith(f"/rulesets/{rid}/diff?from=1&to=2")
    api = httpx.get(f"{live_server}/v1/rulesets/{rid}/diff", params={"from": "1", "to": "2"}).json()
    assert [c["rule"] for c in api["changed"]] == ["tax_per_mu_min"]
    row = page.locator('tr[data-rule="tax_per_mu_min"][data-field="threshold"]').locator("td").all_inner_texts()
    assert row[1:] == ["15", "20"]
    assert "2020-01-01" in page.locator("table.diff-fields").inner_text()      # effective_from changed too
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    shot(page, "rulesets-diff")


def test_diff_of_a_version_with_itself_is_explained(page):
    page.goto("/rulesets/sanmenxia-standard-land/diff?from=2021.1&to=2021.1")
    assert "from 与 to 相同" in page.get_by_role("alert").inner_text()


def test_upload_and_diff_work_without_javascript(page_nojs, live_server, uid):
    page = page_nojs
    rid = f"web-nojs-{uid}"
    paste_and_publish(page, as_yaml(standalone_doc(rid, "a")))
    paste_and_publish(page, as_yaml(standalone_doc(rid, "b", effective_from="2023-01-01", investment=250)))
    assert page.locator("#new-version").inner_text() == f"{rid} 版本 b"
    page.goto(f"/rulesets/{rid}/versions/b")
    page.get_by_label("与其他版本比较：").select_option("a")
    page.get_by_role("button", name="比较").click()
    assert "/diff?" in page.url
    row = page.locator('tr[data-rule="investment_intensity_min"][data-field="threshold"]').locator("td").all_inner_texts()
    assert row[1:] == ["200", "250"]
    assert httpx.get(f"{live_server}/v1/rulesets/{rid}").json()["versions"][-1]["version"] == "b"


def test_hostile_ids_are_pages_not_server_errors(live_server):
    for path, status in [("/rulesets/x%00y/versions/1", 404), ("/rulesets/sanmenxia-standard-land/versions/%00", 404),
                         ("/rulesets/sanmenxia-standard-land/diff?from=%00&to=2021.1", 422),
                         ("/rulesets/" + "x" * 500 + "/diff?from=1&to=2", 404),
                         ("/proposal/result/nope%00x", 404), ("/proposal/result/" + "a" * 5000, 404),
                         # NUL in any page query: refused like the API's (app/api/limits.py), as a page
                         ("/proposal?as_of=2024-02-30&jurisdiction=41120%00", 422)]:
        r = httpx.get(live_server + path)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html"), path
