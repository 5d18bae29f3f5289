"""``standard-land rules``: validate, test, diff, publish rule-set versions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import err, invalid, open_session, out, read_document
from app.core.errors import Conflict, InputError

rules_cli = typer.Typer(no_args_is_help=True, help="rule sets: validate, test, diff, publish")


@rules_cli.command("validate")
def rules_validate(paths: Annotated[list[Path] | None, typer.Argument(help="YAML files (default: all bundled)")] = None,
                   files_only: Annotated[bool, typer.Option(
                       "--files-only", help="against the shipped files even when DATABASE_URL is set")] = False) -> None:
    """Validate rule-set files as publishing would: format, indicators, units, citations, the parent
    known and never loosened.  With DATABASE_URL set, as ``rules publish`` would there: the indicator
    catalog in force in that database on each file's effective_from (published additions included)
    and the published parents; otherwise the shipped catalog and rule-set files."""
    from app.checks.rulesets import validate_files
    from app.core.safe_yaml import YamlRefused
    from app.rulesets.document import digest
    from app.store.rulesets import bundled_files

    # "configured": named in the environment (the settings read nothing else), not the default file
    session = open_session() if "DATABASE_URL" in os.environ and not files_only else None
    err.print(f"indicator catalog and parents: {'the database' if session else 'the shipped files'}", markup=False)
    try:
        results = validate_files(paths or bundled_files(), session)
    finally:
        if session is not None:
            session.close()
    bad = 0
    for p, doc, e in results:
        if doc is not None:
            out.print(f"[green]ok[/] {p}  {doc.id}@{doc.version} {digest(doc)[:12]}")
            continue
        bad += 1
        if isinstance(e, InputError):
            err.print(f"[red]invalid[/] {p}")
            for pr in e.problems:
                err.print(f"  {pr.path}: {pr.msg}")
        elif isinstance(e, YamlRefused):      # an alias or deep nesting: refused before it expands
            err.print(f"[red]invalid[/] {p}")
            err.print(f"  yaml: {e}", markup=False)
        else:                                 # unreadable YAML is reported, not raised
            err.print(f"[red]unreadable[/] {p}: {e}")
    raise typer.Exit(2 if bad else 0)


@rules_cli.command("test")
def rules_test(engine: Annotated[str, typer.Option(help="durable, reference or both")] = "both") -> None:
    """Run every golden case of the bundled rule sets and of the other law documents (scoring,
    low-efficiency, 53号令, contract models: ``<folder>/tests/*.yaml``)."""
    from app.checks import golden, law_golden
    from app.engine import REFERENCE, by_name

    engines = [by_name("durable"), REFERENCE] if engine == "both" else [by_name(engine)]
    results = golden.run_all(engines)
    law_results = law_golden.run_all(engines)
    failed = [r for r in [*results, *law_results] if not r.ok]
    for r in failed:
        err.print(f"[red]FAIL[/] {r.file.relative_to(Path.cwd()) if r.file.is_relative_to(Path.cwd()) else r.file} :: {r.name}")
        for p in r.problems:
            err.print(f"    {p}")
    gaps = golden.coverage_gaps(results, golden.bundled_registry())
    for g in gaps:
        err.print(f"[yellow]not covered[/] {g}")
    out.print(f"{len(results) + len(law_results) - len(failed)} passed, {len(failed)} failed "
              f"({len(results)} rule-set cases, {len(law_results)} law-document cases)")
    raise typer.Exit(1 if failed or gaps else 0)


def _load_doc(ref: str):
    from app.core.safe_yaml import YamlRefused
    from app.rulesets.document import validate_document
    from app.store.rulesets import load_yaml

    p = Path(ref)
    if p.exists():
        try:
            return validate_document(load_yaml(p))
        except YamlRefused as e:
            err.print(f"invalid YAML: {p}: {e}", markup=False)
            raise typer.Exit(2) from None
    if "@" in ref:
        from app.checks.rulesets import version_document
        from app.core.errors import NotFound

        rid, version = ref.split("@", 1)
        with open_session() as session:
            try:
                return version_document(session, rid, version)
            except NotFound:
                pass
    err.print(f"[red]not found: {ref} (a YAML path or id@version)[/]")
    raise typer.Exit(2)


@rules_cli.command("diff")
def rules_diff(a: str, b: str) -> None:
    """Differences between two versions (YAML paths or id@version)."""
    from app.rulesets.diff import diff

    try:
        d = diff(_load_doc(a), _load_doc(b))
    except InputError as e:
        invalid(e.problems)
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
    from app.checks import rulesets

    raw = read_document(file)
    session = open_session()
    try:
        summary, created = rulesets.publish(session, raw)
    except InputError as e:
        invalid(e.problems)
    except Conflict as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    finally:
        session.close()
    out.print(f"{'published' if created else 'already published'} {summary['id']}@{summary['version']} {summary['digest']}")
