"""``standard-land keys``: API keys (create, revoke, list)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import err, invalid, out, plain_session, print_json
from app.core.errors import InputError

keys_cli = typer.Typer(no_args_is_help=True,
                       help="API keys: create, revoke, list (roles: rule_admin, officer, tax_system, auditor)")


@keys_cli.command("create")
def keys_create(role: Annotated[str, typer.Option(help="rule_admin | officer | tax_system | auditor")],
                jurisdiction: Annotated[str | None, typer.Option(
                    help="6-digit division code limiting the tax data the key sees (411200: 4112xx); default all")] = None,
                label: Annotated[str, typer.Option(help="who or what holds the key")] = "") -> None:
    """Create a key and print it once on stdout (only its SHA-256 is stored: it cannot be shown again)."""
    from app.store import keys

    session = plain_session()
    try:
        info, secret = keys.create(session, role, jurisdiction, label)
    except InputError as e:
        invalid(e.problems)
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

    session = plain_session()
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

    session = plain_session()
    try:
        rows = [k.as_dict() for k in keys.listing(session)]
    finally:
        session.close()
    if as_json:
        print_json(rows)
        return
    # Plain columns, not a rich table: ids must never be wrapped or cut in a narrow terminal.
    line = "{:<14}{:<12}{:<14}{:<21}{:<21}{}"
    print(line.format("id", "role", "jurisdiction", "created", "revoked", "label"))
    for r in rows:
        print(line.format(r["id"], r["role"], r["jurisdiction"] or "all", r["created_at"][:19],
                          (r["revoked_at"] or "-")[:19], r["label"]))
    print(f"{sum(r['revoked_at'] is None for r in rows)} active of {len(rows)}")
