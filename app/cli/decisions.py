"""``standard-land decisions``: the decision log."""

from __future__ import annotations

import typer

from app.cli.common import open_session, print_json

decisions_cli = typer.Typer(no_args_is_help=True, help="the decision log")


@decisions_cli.command("verify")
def decisions_verify() -> None:
    """Walk the decision hash chain; report the first broken link."""
    from app.store import decisions

    session = open_session()
    report = decisions.verify(session)
    session.close()
    print_json(report)
    raise typer.Exit(0 if report["ok"] else 1)
