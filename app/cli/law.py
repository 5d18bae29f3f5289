"""``standard-land law``: the other law documents (scoring, low_efficiency, contract_model, idle_land)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import err, invalid, open_session, out, print_json, read_document
from app.core.errors import Conflict, InputError

law_cli = typer.Typer(no_args_is_help=True,
                      help="other law documents (scoring, low_efficiency, contract_model, idle_land): publish, list")


@law_cli.command("publish")
def law_publish(kind: str, file: Path) -> None:
    """Publish a version of a law document (YAML or JSON) of KIND into the database."""
    from app.checks import law

    raw = read_document(file)
    session = open_session()
    try:
        summary, created = law.publish(session, kind, raw, source="cli")
    except InputError as e:
        invalid(e.problems)
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
    from app.checks import law

    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        err.print(f"--on: not a date: {on!r}", markup=False)
        raise typer.Exit(2) from None
    session = open_session()
    try:
        rows = law.listing(session, kind, day)
    except InputError as e:
        invalid(e.problems)
    finally:
        session.close()
    print_json(rows)
