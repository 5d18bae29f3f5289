"""What the command groups share: the consoles, bad-input exits, sessions, JSON files, tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def invalid(problems: list, code: int = 2) -> NoReturn:
    err.print("[bold red]输入无效 invalid input[/]")
    for p in problems:
        err.print(f"  {p.path or '(root)'}: {p.msg}")
    raise typer.Exit(code)


def open_session():
    """A session on DATABASE_URL with the bundled rule sets and law documents published (as the
    service's startup does)."""
    from sqlmodel import Session

    from app.checks import law
    from app.store import rulesets
    from app.store.db import get_engine

    s = Session(get_engine())
    law.load_bundled(s)             # the indicator catalog before the rule sets using it
    rulesets.load_bundled(s)
    return s


def read_document(file: Path) -> object:
    """A YAML or JSON document from a file, through the one loader for user-given YAML; exit 2 with
    the reason for a missing, unreadable or refused file."""
    from app.core.safe_yaml import YamlRefused, load

    if not file.exists():
        err.print(f"[red]file not found: {file}[/]")
        raise typer.Exit(2)
    try:
        return load(file.read_text(encoding="utf-8"))
    except YamlRefused as e:
        err.print(f"invalid YAML: {file}: {e}", markup=False)
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"unreadable: {file}: {e}", markup=False)
        raise typer.Exit(2) from None


def plain_session():
    """A session without loading the bundled rule sets (keys need none)."""
    from sqlmodel import Session

    from app.store.db import get_engine

    return Session(get_engine())


def read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        err.print(f"[red]找不到文件 file not found: {path}[/]")
        raise typer.Exit(2) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        err.print(f"[red]不是有效的 JSON (not valid JSON): {path}: {e}[/]")
        raise typer.Exit(2) from None


def print_json(value: object) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False))


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
