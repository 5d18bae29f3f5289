"""Checks from the command line: ``check`` (proposals), ``contract check``, ``performance``.
Each stores its decision as the API does, through the same use-case functions (``app.checks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from app.cli.common import err, invalid, open_session, out, print_findings, print_json, read_json
from app.core.errors import InputError, pydantic_problems

contract_cli = typer.Typer(no_args_is_help=True, help="transfer contracts: clause checks")


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
    session = open_session()
    try:
        requests, rows = excel.proposal_requests(file.read_bytes(), with_rows=True, session=session)
        items = proposal.run_batch(session, requests, selected())
    except InputError as e:
        invalid([excel.by_row(p, rows, "items") if "rows" in locals() else p for p in e.problems])
    finally:
        session.close()
    if as_json:
        print_json(items)
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

    raw = read_json(file)
    try:
        req = model.model_validate(raw)
    except ValidationError as e:
        invalid(pydantic_problems(e))
    session = open_session()
    try:
        return req, run(session, req, selected())
    except InputError as e:
        invalid(e.problems)
    finally:
        session.close()


def check(file: Path, as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False) -> None:
    """Check a proposal (JSON file: one proposal; .xlsx: one proposal per row) and store the decisions."""
    from app.checks import proposal
    from app.schemas.proposal import ProposalRequest

    if file.suffix.lower() in (".xlsx", ".xlsm"):
        _check_sheet(file, as_json)
    _, v = _check_file(file, ProposalRequest, proposal.run)
    if as_json:
        print_json(v)
    else:
        print_verdict(v)
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)


@contract_cli.command("check")
def contract_check_cmd(file: Path, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check a contract (JSON file) clause by clause; the decision is stored, the contract is not registered."""
    from app.checks import contract
    from app.schemas.contract import ContractRequest

    req, v = _check_file(file, ContractRequest, contract.run)
    if as_json:
        print_json(v)
    else:
        print_findings(f"合同 {req.contract_no} 条款审查 — 结论 verdict: {v['verdict']}", v["findings"],
                       [("clause", "条款 clause"), ("status", "状态"), ("contract_value", "合同约定"),
                        ("rule_value", "规则要求"), ("message", "说明")])
        out.print(f"decision {v['decision_id']}  hash {v['hash']}")
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)


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
    session = open_session()
    try:
        # The CLI runs with the database's own rights (no key): every tax row is visible.
        v = performance.run(session, contract_no, day, selected(), view=ALL)
    except NotFound as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    except InputError as e:
        invalid(e.problems)
    finally:
        session.close()
    if as_json:
        print_json(v)
    else:
        print_findings(f"合同 {contract_no} 履约情况（截至 {as_of}）— 结论 verdict: {v['verdict']}", v["findings"],
                       [("kind", "事项 kind"), ("year", "年度"), ("status", "状态"), ("amount", "金额（万元）"),
                        ("formula", "公式"), ("message", "说明")])
        out.print(f"合计 {v['amount_total']} 万元（{v['amount_label']}）  decision {v['decision_id']}")
    raise typer.Exit(0 if v["verdict"] == "pass" else 1)
