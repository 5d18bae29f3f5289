"""The ``standard-land`` command: serve, check, rules, law, decisions, keys, demo.

One module per command group (``app.cli.rules``, ``app.cli.keys`` …), registered here; the
root commands (serve, check, performance) live in ``app.cli.serve`` and ``app.cli.checks``.
A new group: a module with its ``typer.Typer`` and an ``add_typer`` line below.
The commands reach data only through the use-case functions (``app.checks``) and the store,
as the API does.

Exit codes: 0 pass / ok, 1 not pass (or a failed test / broken chain), 2 invalid input.
"""

from __future__ import annotations

import sys

import typer

from app.cli import checks, serve
from app.cli.decisions import decisions_cli
from app.cli.demo import demo_cli
from app.cli.keys import keys_cli
from app.cli.law import law_cli
from app.cli.rules import rules_cli

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="standard-land: 工业用地“标准地”规则服务 (rules engine for standard-land indicators)")
cli.command()(serve.serve)
cli.command()(checks.check)
cli.command("performance")(checks.performance_cmd)
cli.add_typer(rules_cli, name="rules")
cli.add_typer(decisions_cli, name="decisions")
cli.add_typer(checks.contract_cli, name="contract")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(demo_cli, name="demo")
cli.add_typer(law_cli, name="law")


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
