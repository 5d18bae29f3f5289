"""The ``standard-land`` command: serve, check, rules, decisions.

Exit codes: 0 pass / ok, 1 not pass (or a failed test / broken chain), 2 invalid input.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app.core.errors import Conflict, InputError, Problem, pydantic_problems

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="standard-land: 工业用地“标准地”规则服务 (rules engine for standard-land indicators)")
rules_cli = typer.Typer(no_args_is_help=True, help="rule sets: validate, test, diff, publish")
contract_cli = typer.Typer(no_args_is_help=True, help="transfer contracts: clause checks")
decisions_cli = typer.Typer(no_args_is_help=True, help="the decision log")
cli.add_typer(rules_cli, name="rules")
cli.add_typer(decisions_cli, name="decisions")
cli.add_typer(contract_cli, name="contract")

out = Console()
err = Console(stderr=True)


def _invalid(problems: list, code: int = 2) -> None:
    err.print("[bold red]输入无效 invalid input[/]")
    for p in problems:
        err.print(f"  {p.path or '(root)'}: {p.msg}")
    raise typer.Exit(code)


def _session():
    from sqlmodel import Session

    from app.checks import law
    from app.store import rulesets
    from app.store.db import get_engine

    session = Session(get_engine())
    rulesets.load_bundled(session)
    law.load_bundled(session)
    return session


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          workers: Annotated[int, typer.Option(help="worker processes (the engine is serialized per process)")] = 1,
          reload: bool = False,
          log_format: Annotated[str | None, typer.Option(
              "--log-format", help="json or text (default: json when STANDARD_LAND_ENV=production, else text)")] = None,
          ) -> None:
    """Run the HTTP service (uvicorn with httptools/uvloop)."""
    import uvicorn

    from app.observability import logging as obs_logging
    from app.observability import metrics

    if log_format is not None and log_format not in ("json", "text"):
        err.print(f"[red]--log-format must be json or text (got {log_format!r})[/]")
        raise typer.Exit(2)
    # glibc heuristics halve the engine's throughput without these (docs/engine.md);
    # they reach worker processes spawned below.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "4194304")
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", "67108864")
    # Workers are separate processes: they learn the log format and the metrics directory
    # from the environment.  Several workers need prometheus-client's multiprocess mode.
    os.environ[obs_logging.FORMAT_ENV] = log_format or obs_logging.log_format()
    if metrics.multiprocess_dir() is not None or workers > 1:
        os.environ[metrics.MULTIPROC_ENV] = metrics.prepare_multiprocess_dir(metrics.multiprocess_dir())
    # log_config=None: the supervisor's own lines use our format too, not uvicorn's.
    obs_logging.configure()
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, reload=reload,
                http="httptools", loop="uvloop", log_level="info", log_config=None, access_log=False)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        err.print(f"[red]找不到文件 file not found: {path}[/]")
        raise typer.Exit(2) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        err.print(f"[red]不是有效的 JSON (not valid JSON): {path}: {e}[/]")
        raise typer.Exit(2) from None


def print_verdict(v: dict) -> None:
    table = Table(title=f"{v['ruleset']['title']} {v['ruleset']['version']}  — 结论 verdict: {v['verdict']}")
    for col in ("规则 rule", "指标", "状态", "实际值", "要求", "差额", "层级 layer", "依据"):
        table.add_column(col)
    colour = {"pass": "green", "fail": "red", "missing": "yellow", "not_covered": "magenta"}
    for f in v["findings"]:
        t = f["threshold"]
        t = "–".join(t) if isinstance(t, list) else str(t)
        st = f"[{colour.get(f['status'], 'white')}]{f['status']}[/]"
        cite = f"{f['cite'].get('number') or f['cite']['title']} {f['cite'].get('article') or ''}".strip()
        table.add_row(f["rule"], f["label"], st, str(f["actual"]), f"{f['op']} {t}{f['unit'] or ''}",
                      str(f["margin"] or ""), f"{f['layer']}@{f['layer_version']}", cite)
    out.print(table)
    for w in v.get("warnings", []):
        out.print(f"[yellow]注意[/] {w}")
    if "decision_id" in v:
        out.print(f"decision {v['decision_id']}  hash {v['hash']}")


def _check_sheet(file: Path, as_json: bool) -> None:
    """A sheet of proposals as one batch: a row per proposal; exit 0 only if all pass."""
    from app.checks import proposal
    from app.engine import selected
    from app.formats import excel

    if not file.exists():
        err.print(f"[red]找不到文件 file not found: {file}[/]")
        raise typer.Exit(2)
    try:
        requests, rows = excel.proposal_requests(file.read_bytes(), with_rows=True)
        session = _session()
        try:
            items = proposal.run_batch(session, requests, selected())
        finally:
            session.close()
    except InputError as e:
        _invalid([excel.by_row(p, rows, "items") if "rows" in locals() else p for p in e.problems])
    if as_json:
        out.print_json(json.dumps(items, ensure_ascii=False))
    else:
        table = Table(title=f"{file.name}：{len(items)} 个方案")
        for col in ("行", "编号", "结论 verdict", "不符合 / 缺少", "decision"):
            table.add_column(col)
        for n, v in zip(rows, items, strict=True):
            bad = [f"{f['rule']}:{f['status']}" for f in v["findings"] if f["status"] in ("fail", "missing", "not_covered")]
            table.add_row(str(n), v.get("reference") or "", v["verdict"], "、".join(bad), v["decision_id"][:8])
        out.print(table)
    raise typer.Exit(0 if all(v["verdict"] == "pass" for v in items) else 1)


def _check_file(file: Path, model, run) -> tuple:
    """Read a JSON request, validate it, run the check and store the decision; exit 2 on bad input."""
    from app.engine import selected

    raw = _read_json(file)
    try:
        req = model.model_validate(raw)
    except ValidationError as e:
        _invalid(pydantic_problems(e))
    session = _session()
    try:
        return req, run(session, req, selected())
    except InputError as e:
        _invalid(e.problems)
    finally:
        session.close()


@cli.command()
def check(file: Path, as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False) -> None:
    """Check a proposal (JSON file: one proposal; .xlsx: one proposal per row) and store the decisions."""
    from app.checks import proposal
    from app.schemas.proposal import ProposalRequest

    if file.suffix.lower() in (".xlsx", ".xlsm"):
        _check_sheet(file, as_json)
    _, v = _check_file(file, ProposalRequest, proposal.run)
    if as_json:
        out.print_json(json.dumps(v, ensure_ascii=False))
    else:
        print_verdict(v)
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)


def print_findings(title: str, findings: list[dict], columns: list[tuple[str, str]]) -> None:
    table = Table(title=title)
    for _, header in columns:
        table.add_column(header)
    colour = {"pass": "green", "fail": "red", "missing": "yellow", "weaker": "red", "invalid": "red",
              "non_model": "red", "warning": "yellow", "insufficient_data": "yellow"}
    for f in findings:
        row = []
        for key, _ in columns:
            v = f.get(key)
            row.append(f"[{colour.get(v, 'white')}]{v}[/]" if key == "status" else "" if v is None else str(v))
        table.add_row(*row)
    out.print(table)


@contract_cli.command("check")
def contract_check_cmd(file: Path, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check a contract (JSON file) clause by clause; the decision is stored, the contract is not registered."""
    from app.checks import contract
    from app.schemas.contract import ContractRequest

    req, v = _check_file(file, ContractRequest, contract.run)
    if as_json:
        out.print_json(json.dumps(v, ensure_ascii=False))
    else:
        print_findings(f"合同 {req.contract_no} 条款审查 — 结论 verdict: {v['verdict']}", v["findings"],
                       [("clause", "条款 clause"), ("status", "状态"), ("contract_value", "合同约定"),
                        ("rule_value", "规则要求"), ("message", "说明")])
        out.print(f"decision {v['decision_id']}  hash {v['hash']}")
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)


@cli.command("performance")
def performance_cmd(contract_no: str,
                    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD")],
                    as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Where a registered contract stands on a date: commitments, penalties, idle land."""
    import datetime as dt

    from app.checks import performance
    from app.checks.visibility import ALL
    from app.core.errors import NotFound
    from app.engine import selected

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        err.print(f"[red]--as-of 应为 YYYY-MM-DD (got {as_of!r})[/]")
        raise typer.Exit(2) from None
    session = _session()
    try:
        # The CLI runs with the database's own rights (no key): every tax row is visible.
        v = performance.run(session, contract_no, day, selected(), view=ALL)
    except NotFound as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    except InputError as e:
        _invalid(e.problems)
    finally:
        session.close()
    if as_json:
        out.print_json(json.dumps(v, ensure_ascii=False))
    else:
        print_findings(f"合同 {contract_no} 履约情况（截至 {as_of}）— 结论 verdict: {v['verdict']}", v["findings"],
                       [("kind", "事项 kind"), ("year", "年度"), ("status", "状态"), ("amount", "金额（万元）"),
                        ("formula", "公式"), ("message", "说明")])
        out.print(f"合计 {v['amount_total']} 万元（{v['amount_label']}）  decision {v['decision_id']}")
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)


@rules_cli.command("validate")
def rules_validate(paths: Annotated[list[Path] | None, typer.Argument(help="YAML files (default: all bundled)")] = None) -> None:
    """Validate rule-set files: format, indicators, units, citations, and no loosening of parents."""
    from app.core.safe_yaml import YamlRefused
    from app.rulesets.document import digest, validate_document
    from app.rulesets.layering import ancestry_problems
    from app.store.rulesets import bundled_files, load_yaml

    files = paths or bundled_files()
    known = {}
    for p in bundled_files():
        try:
            d = validate_document(load_yaml(p))
            known.setdefault(d.id, []).append(d)
        except InputError:
            pass
    bad = 0
    for p in files:
        try:
            doc = validate_document(load_yaml(p))
            if doc.parent and doc.parent not in known:
                raise InputError([Problem("parent", f"上级规则集未知 (unknown parent {doc.parent})")])
            problems = ancestry_problems(doc, known)
            if problems:
                raise InputError(problems)
            out.print(f"[green]ok[/] {p}  {doc.id}@{doc.version} {digest(doc)[:12]}")
        except InputError as e:
            bad += 1
            err.print(f"[red]invalid[/] {p}")
            for pr in e.problems:
                err.print(f"  {pr.path}: {pr.msg}")
        except YamlRefused as e:      # an alias or deep nesting: refused before it expands
            bad += 1
            err.print(f"[red]invalid[/] {p}")
            err.print(f"  yaml: {e}", markup=False)
        except Exception as e:  # noqa: BLE001 — unreadable YAML is reported, not raised
            bad += 1
            err.print(f"[red]unreadable[/] {p}: {e}")
    raise typer.Exit(2 if bad else 0)


@rules_cli.command("test")
def rules_test(engine: Annotated[str, typer.Option(help="durable, reference or both")] = "both") -> None:
    """Run every golden case of the bundled rule sets."""
    from app.checks import golden
    from app.engine import REFERENCE, by_name

    engines = [by_name("durable"), REFERENCE] if engine == "both" else [by_name(engine)]
    results = golden.run_all(engines)
    failed = [r for r in results if not r.ok]
    for r in failed:
        err.print(f"[red]FAIL[/] {r.file.relative_to(Path.cwd()) if r.file.is_relative_to(Path.cwd()) else r.file} :: {r.name}")
        for p in r.problems:
            err.print(f"    {p}")
    gaps = golden.coverage_gaps(results, golden.bundled_registry())
    for g in gaps:
        err.print(f"[yellow]not covered[/] {g}")
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    raise typer.Exit(1 if failed or gaps else 0)


def _load_doc(ref: str):
    from app.core.safe_yaml import YamlRefused
    from app.rulesets.document import RuleSetDoc, validate_document
    from app.store.rulesets import load_yaml

    p = Path(ref)
    if p.exists():
        try:
            return validate_document(load_yaml(p))
        except YamlRefused as e:
            err.print(f"invalid YAML: {p}: {e}", markup=False)
            raise typer.Exit(2) from None
    if "@" in ref:
        from sqlmodel import select

        from app.store.models import RuleSetVersion
        rid, version = ref.split("@", 1)
        session = _session()
        row = session.exec(select(RuleSetVersion).where(RuleSetVersion.ruleset_id == rid,
                                                        RuleSetVersion.version == version)).first()
        session.close()
        if row is not None:
            return RuleSetDoc.model_validate(json.loads(row.document))
    err.print(f"[red]not found: {ref} (a YAML path or id@version)[/]")
    raise typer.Exit(2)


@rules_cli.command("diff")
def rules_diff(a: str, b: str) -> None:
    """Differences between two versions (YAML paths or id@version)."""
    from app.rulesets.diff import diff

    try:
        d = diff(_load_doc(a), _load_doc(b))
    except InputError as e:
        _invalid(e.problems)
    for k, v in d["fields"].items():
        out.print(f"[cyan]~ {k}[/]: {v['from']!r} → {v['to']!r}")
    for r in d["added"]:
        out.print(f"[green]+ {r['id']}[/] {r['indicator']} {r['op']} {r.get('threshold')} {r.get('by_industry') or ''}")
    for r in d["removed"]:
        out.print(f"[red]- {r['id']}[/] {r['indicator']} {r['op']} {r.get('threshold')}")
    for c in d["changed"]:
        for k, v in c["changes"].items():
            out.print(f"[yellow]~ {c['rule']}.{k}[/]: {v['from']!r} → {v['to']!r}")
    if not (d["fields"] or d["added"] or d["removed"] or d["changed"]):
        out.print("no differences")


@rules_cli.command("publish")
def rules_publish(file: Path) -> None:
    """Publish a rule-set version (YAML or JSON) into the database."""
    from app.core.safe_yaml import YamlRefused
    from app.store import rulesets
    from app.store.rulesets import load_yaml

    if not file.exists():
        err.print(f"[red]file not found: {file}[/]")
        raise typer.Exit(2)
    try:
        raw = load_yaml(file)
    except YamlRefused as e:
        err.print(f"invalid YAML: {file}: {e}", markup=False)
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"unreadable: {file}: {e}", markup=False)
        raise typer.Exit(2) from None
    session = _session()
    try:
        summary, created = rulesets.publish(session, raw)
    except InputError as e:
        _invalid(e.problems)
    except Conflict as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    finally:
        session.close()
    out.print(f"{'published' if created else 'already published'} {summary['id']}@{summary['version']} {summary['digest']}")


@decisions_cli.command("verify")
def decisions_verify() -> None:
    """Walk the decision hash chain; report the first broken link."""
    from app.store import decisions

    session = _session()
    report = decisions.verify(session)
    session.close()
    out.print_json(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(0 if report["ok"] else 1)


keys_cli = typer.Typer(no_args_is_help=True,
                       help="API keys: create, revoke, list (roles: rule_admin, officer, tax_system, auditor)")
cli.add_typer(keys_cli, name="keys")


def _keys_session():
    from sqlmodel import Session

    from app.store.db import get_engine

    return Session(get_engine())


@keys_cli.command("create")
def keys_create(role: Annotated[str, typer.Option(help="rule_admin | officer | tax_system | auditor")],
                jurisdiction: Annotated[str | None, typer.Option(
                    help="6-digit division code limiting the tax data the key sees (411200: 4112xx); default all")] = None,
                label: Annotated[str, typer.Option(help="who or what holds the key")] = "") -> None:
    """Create a key and print it once on stdout (only its SHA-256 is stored: it cannot be shown again)."""
    from app.store import keys

    session = _keys_session()
    try:
        info, secret = keys.create(session, role, jurisdiction, label)
    except InputError as e:
        _invalid(e.problems)
    finally:
        session.close()
    err.print(f"created key {info.id}: role {info.role}, jurisdiction {info.jurisdiction or 'all'}"
              f"{', label ' + info.label if info.label else ''}.  Shown once — store it now.", highlight=False)
    print(secret)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key's id (keys list)")]) -> None:
    """Revoke a key; running workers refuse it within their key cache time (a few seconds)."""
    from app.core.errors import NotFound
    from app.store import keys

    session = _keys_session()
    try:
        info = keys.revoke(session, key_id)
    except NotFound as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    finally:
        session.close()
    out.print(f"revoked key {info.id} ({info.role}) at {info.revoked_at.isoformat() if info.revoked_at else '?'}",
              highlight=False)


@keys_cli.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False) -> None:
    """Every key: id, role, jurisdiction, label, created, revoked (never the key itself)."""
    from app.store import keys

    session = _keys_session()
    try:
        rows = [k.as_dict() for k in keys.listing(session)]
    finally:
        session.close()
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    # Plain columns, not a rich table: ids must never be wrapped or cut in a narrow terminal.
    line = "{:<14}{:<12}{:<14}{:<21}{:<21}{}"
    print(line.format("id", "role", "jurisdiction", "created", "revoked", "label"))
    for r in rows:
        print(line.format(r["id"], r["role"], r["jurisdiction"] or "all", r["created_at"][:19],
                          (r["revoked_at"] or "-")[:19], r["label"]))
    print(f"{sum(r['revoked_at'] is None for r in rows)} active of {len(rows)}")


@contextmanager
def _temporary_officer_key() -> Iterator[str | None]:
    """A key for in-process HTTP calls when keys are configured, revoked when done (None in open
    mode: creating one would close the service to every other client)."""
    from app.access.auth import keys_configured, reset_cache
    from app.store import keys

    reset_cache()
    if not keys_configured():
        yield None
        return
    with _keys_session() as session:
        info, secret = keys.create(session, "officer", None, "standard-land demo load (temporary, revoked when done)")
    reset_cache()
    try:
        yield secret
    finally:
        with _keys_session() as session:
            keys.revoke(session, info.id)
        reset_cache()


demo_cli = typer.Typer(no_args_is_help=True, help="demo data: one synthetic park (示例园区（合成数据）)")
cli.add_typer(demo_cli, name="demo")


def demo_load_summary(parcels: int = 300, years: int = 5, seed: int = 1, last_year: int = 2025, say=None) -> dict:
    """Generate the demo park (``app.demo``) and load it into DATABASE_URL; the summary.  The
    scoring run goes through the service's own HTTP API, served in-process."""
    import warnings

    from app import demo
    from app.engine import selected

    spec = demo.Spec(parcels=parcels, years=years, seed=seed, last_year=last_year)
    if spec.problems():
        raise InputError(spec.problems())
    data = demo.generate(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import app

    with TestClient(app) as http, _temporary_officer_key() as key:   # its startup loads the bundled rule sets
        if key is not None:
            http.headers["Authorization"] = f"Bearer {key}"
        session = _session()
        session.rollback()                  # no transaction left open: the API writes too (SQLite)
        try:
            return demo.load(session, data, selected(), http, say=say)
        finally:
            session.close()


@demo_cli.command("load")
def demo_load(parcels: Annotated[int, typer.Option(help="number of parcels")] = 300,
              years: Annotated[int, typer.Option(help="years of tax records, ending --last-year")] = 5,
              seed: Annotated[int, typer.Option(help="random seed: same seed, same data")] = 1,
              last_year: Annotated[int, typer.Option("--last-year", help="the last tax year")] = 2025,
              as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False) -> None:
    """Load the synthetic demo park (parcels, contracts, events, tax records, plans and, if the scoring
    feature exists, a scoring run) into DATABASE_URL.  Loading the same demo again changes nothing."""
    try:
        s = demo_load_summary(parcels, years, seed, last_year, say=lambda m: err.print(m, highlight=False))
    except InputError as e:
        _invalid(e.problems)
    except Conflict as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps(s, ensure_ascii=False))
        return
    c, made = s["counts"], s["created"]
    out.print(f"park {s['park']}  {s['name']}  (合成示例数据, as of {s['as_of']}, 税收年度 {s['years'][0]}–{s['years'][-1]})")
    table = Table(title="示例数据 demo data")
    for col in ("项目 item", "数据集 in the data set", "本次新增 created now"):
        table.add_column(col)
    for key, new in (("parcels", made["parcels"]), ("contracts", made["contracts"]), ("events", made["events"]),
                     ("tax_batches", made["tax_batches"]), ("tax_records", made["tax_records"]),
                     ("plan_versions", made["plan_versions"])):
        table.add_row(key, str(c[key]), str(new))
    out.print(table)
    out.print("宗地类型 kinds: " + "，".join(f"{k} {v}" for k, v in c["by_kind"].items()))
    sc = s["scoring"]
    if sc["status"] == "ok":
        out.print(f"scoring run {sc['run_id']} ({'new' if sc['created'] else 'existing'}): {sc['counts']}  {sc['class_counts']}")
    else:
        out.print(f"scoring: {sc['status']} ({sc['reason']})")


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()


law_cli = typer.Typer(no_args_is_help=True,
                      help="other law documents (scoring, low_efficiency, contract_model, idle_land): publish, list")
cli.add_typer(law_cli, name="law")


@law_cli.command("publish")
def law_publish(kind: str, file: Path) -> None:
    """Publish a version of a law document (YAML or JSON) of KIND into the database."""
    from app.checks import law
    from app.core.safe_yaml import YamlRefused, load

    if not file.exists():
        err.print(f"[red]file not found: {file}[/]")
        raise typer.Exit(2)
    try:
        raw = load(file.read_text(encoding="utf-8"))
    except YamlRefused as e:
        err.print(f"invalid YAML: {file}: {e}", markup=False)
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"unreadable: {file}: {e}", markup=False)
        raise typer.Exit(2) from None
    session = _session()
    try:
        summary, created = law.publish(session, kind, raw, source="cli")
    except InputError as e:
        _invalid(e.problems)
    except Conflict as e:
        err.print(f"[red]{e}[/]", markup=False)
        raise typer.Exit(2) from None
    finally:
        session.close()
    out.print(f"{'published' if created else 'already published'} {kind} {summary['id']}@{summary['version']} "
              f"{summary['digest']}", markup=False)


@law_cli.command("list")
def law_list(kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
             on: Annotated[str | None, typer.Option(help="only versions in force on this date (YYYY-MM-DD)")] = None
             ) -> None:
    """Every published version of the law documents, as JSON."""
    import datetime as dt

    from app.checks import law

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        err.print(f"--on: not a date: {on!r}", markup=False)
        raise typer.Exit(2) from None
    session = _session()
    try:
        rows = law.listing(session, kind, day)
    except InputError as e:
        _invalid(e.problems)
    finally:
        session.close()
    out.print_json(json.dumps(rows, ensure_ascii=False))
