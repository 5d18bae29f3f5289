"""规则集: rule sets by jurisdiction, one version's rules, a diff, and the upload form."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.access import scope_writes
from app.access.auth import PUBLISH, RULE_READ, Caller, require
from app.access.deps import SessionDep
from app.checks import law
from app.checks import rulesets as published
from app.core import clock, safe_yaml
from app.core.errors import Conflict, InputError, NotFound, Problem
from app.store import rulesets as store
from app.web.auth import PageRoute
from app.web.common import plain_key, render, zh_message
from indicators.catalog import load_catalog
from indicators.tables import divisions_gb2260

router = APIRouter(route_class=PageRoute)

MAX_YAML = 1024 * 1024
ROLES = {"core": "核心（3）", "n": "N 项", "plus_one": "+1"}
# Where a version came from (stored ``source``), as the pages show it.
SOURCES = {"bundled": "随程序发布", "web": "网页上传", "api": "接口或命令行发布", "cli": "命令行发布"}
OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "between": "介于", "in": "属于", "is_true": "须为“是”"}


def jurisdiction_name(code: str | None) -> str:
    if code == "100000":
        return "全国"
    row = divisions_gb2260().get(code or "")
    return row["name_zh"] if row else "行政区"


def _not_found(request: Request, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"section": "rulesets", "title": "未找到规则集", "detail": detail},
                  status_code=404)


@router.get("/rulesets", response_class=HTMLResponse)
def ruleset_list(request: Request, session: SessionDep, _caller=Depends(require(*RULE_READ))) -> HTMLResponse:
    groups: dict[str, list[dict]] = {}
    for rs in published.list_rulesets(session, jurisdiction=None):
        groups.setdefault(rs["jurisdiction"], []).append(rs)
    # National first, then by code: the order of the layers.
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] != "100000", kv[0]))
    # The other law documents, by kind and document; the version in force today is marked.
    today = clock.today()
    current = {(r["kind"], r["id"], r["version"]) for r in law.listing(session, on=today)}
    others: dict[tuple[str, str], list[dict]] = {}
    for r in law.listing(session):
        r["current"] = (r["kind"], r["id"], r["version"]) in current
        others.setdefault((r["kind_label"], r["id"]), []).append(r)
    return render(request, "rulesets_list.html", {
        "section": "rulesets", "groups": [(code, jurisdiction_name(code), rows) for code, rows in ordered],
        "sources": SOURCES, "today": today,
        "others": [(label, rid, rows) for (label, rid), rows in sorted(others.items())]})


def _rule_rows(document: dict) -> list[dict]:
    cat = load_catalog()
    docs = document.get("documents") or {}
    rows = []
    for r in document.get("rules", []):
        ind = cat.indicators.get(r.get("indicator"))
        cite = r.get("cite") or {}
        source = docs.get(cite.get("doc"), {})
        rows.append({**r, "label": ind.label if ind else r.get("indicator"),
                     "unit_shown": r.get("unit") or (ind.unit if ind else None) or "",
                     "cite_text": " ".join(x for x in (source.get("number") or source.get("title") or cite.get("doc"),
                                                       cite.get("article")) if x),
                     "cite_url": source.get("url")})
    return rows


@router.get("/rulesets/{rid}/versions/{version}", response_class=HTMLResponse)
def ruleset_version(request: Request, rid: str, version: str, session: SessionDep,
                    _caller=Depends(require(*RULE_READ))) -> HTMLResponse:
    if not (plain_key(rid) and plain_key(version)):
        return _not_found(request, "规则集编号或版本号无效。")
    try:
        v = published.get_version(session, rid, version)
        others = published.get_ruleset(session, rid)["versions"]
    except NotFound:
        return _not_found(request, f"没有规则集 {rid} 的版本 {version}。")
    return render(request, "rulesets_version.html", {
        "section": "rulesets", "v": v, "doc": v["document"], "rules": _rule_rows(v["document"]),
        "others": [o["version"] for o in others if o["version"] != version], "roles": ROLES, "ops": OPS,
        "sources": SOURCES, "jurisdiction_name": jurisdiction_name(v["document"].get("jurisdiction"))})


@router.get("/rulesets/{rid}/diff", response_class=HTMLResponse)
def ruleset_diff(request: Request, rid: str, session: SessionDep, _caller=Depends(require(*RULE_READ))) -> HTMLResponse:
    a, b = request.query_params.get("from", ""), request.query_params.get("to", "")
    if not plain_key(rid):
        return _not_found(request, "规则集编号无效。")
    try:
        versions = [v["version"] for v in published.get_ruleset(session, rid)["versions"]]
    except NotFound:
        return _not_found(request, f"没有规则集 {rid}。")
    ctx: dict[str, Any] = {"section": "rulesets", "rid": rid, "versions": versions, "a": a, "b": b,
                           "d": None, "problem": None, "roles": ROLES}
    if (a and not plain_key(a)) or (b and not plain_key(b)):
        ctx["problem"] = "版本号无效"
    elif a and b:
        try:
            ctx["d"] = published.diff_versions(session, rid, from_=a, to=b)
        except InputError as e:
            ctx["problem"] = "；".join(zh_message(p.msg) for p in e.problems)
        except NotFound:
            ctx["problem"] = f"规则集 {rid} 没有所选版本"
    elif a or b:
        ctx["problem"] = "请同时选择两个版本"
    return render(request, "rulesets_diff.html", ctx, status_code=200 if ctx["problem"] is None else 422)


# ---------------------------------------------------------------- upload

def yaml_line(text: str, path: str) -> int | None:
    """The 1-based line of ``path`` (``rules.0.threshold``) in the YAML text, as far down the
    path as the document goes — so each problem can point at the line it concerns."""
    node = safe_yaml.compose(text)
    if node is None:
        return None
    line = None
    for part in path.split(".") if path else []:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and (part.isascii() and part.isdigit()) and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_yaml(text: str) -> tuple[Any, list[Problem]]:
    try:
        raw = safe_yaml.load(text)
    except safe_yaml.YamlRefused as e:
        # Aliases (billion laughs) and deep nesting are refused before anything expands or recurses.
        return None, [Problem("yaml", str(e))]
    if not isinstance(raw, dict):
        return None, [Problem("yaml", "规则集必须是 YAML 映射（id、version、rules …）")]
    return raw, []


def publish_text(session, text: str, caller: Caller) -> tuple[dict | None, bool, list[Problem]]:
    """Parse and publish with the same functions as ``POST /v1/rulesets`` (its jurisdiction
    check included: 403 for a rule set outside the key's jurisdiction)."""
    raw, problems = parse_yaml(text)
    if problems:
        return None, False, problems
    scope_writes.ruleset(caller, raw)
    # The API receives JSON: dates as strings.  Round-trip so the digest is the same either way.
    raw = json.loads(json.dumps(raw, default=str, ensure_ascii=False))
    try:
        summary, created = store.publish(session, raw, source="web")
    except InputError as e:
        return None, False, e.problems
    except Conflict as e:
        return None, False, [Problem("version", str(e))]
    return summary, created, []


def _upload_page(request: Request, text: str = "", problems: list[Problem] | None = None,
                 summary: dict | None = None, created: bool = False, status_code: int = 200) -> HTMLResponse:
    shown = [{"path": p.path or "（整个文件）", "msg": zh_message(p.msg), "line": yaml_line(text, p.path)}
             for p in problems or []]
    return render(request, "rulesets_upload.html", {"section": "rulesets", "text": text, "problems": shown,
                                                    "summary": summary, "created": created}, status_code=status_code)


@router.get("/rulesets/upload", response_class=HTMLResponse)
def upload_form(request: Request, _caller=Depends(require(*PUBLISH))) -> HTMLResponse:
    return _upload_page(request)


@router.post("/rulesets/upload", response_class=HTMLResponse)
async def upload(request: Request, session: SessionDep, caller: Caller = Depends(require(*PUBLISH))) -> Response:
    form = await request.form()
    text = ""
    file = form.get("file")
    if file is not None and not isinstance(file, str) and file.filename:
        data = await file.read(MAX_YAML + 1)
        if len(data) > MAX_YAML:
            return _upload_page(request, "", [Problem("file", f"文件超过 {MAX_YAML // 1024} KiB")], status_code=422)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _upload_page(request, "", [Problem("file", "文件不是 UTF-8 编码的文本")], status_code=422)
    pasted = form.get("yaml")
    if not text and isinstance(pasted, str):
        text = pasted
    if len(text.encode("utf-8")) > MAX_YAML:
        return _upload_page(request, "", [Problem("yaml", f"内容超过 {MAX_YAML // 1024} KiB")], status_code=422)
    if not text.strip():
        return _upload_page(request, text, [Problem("yaml", "请选择 YAML 文件或粘贴 YAML 内容")], status_code=422)
    summary, created, problems = await run_in_threadpool(publish_text, session, text, caller)
    if problems:
        return _upload_page(request, text, problems, status_code=422)
    return _upload_page(request, "", summary=summary, created=created, status_code=201 if created else 200)
