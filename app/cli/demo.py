"""``standard-land demo``: the synthetic demo park (``app.demo``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from app.cli.common import err, invalid, open_session, out, print_json
from app.core.errors import Conflict, InputError

demo_cli = typer.Typer(no_args_is_help=True, help="demo data: one synthetic park (示例园区（合成数据）)")


def demo_load_summary(parcels: int = 300, years: int = 5, seed: int = 1, last_year: int = 2025, say=None) -> dict:
    """Generate the demo park (``app.demo``) and load it into DATABASE_URL through the use-case
    functions the API uses; the summary."""
    from app import demo
    from app.engine import selected

    spec = demo.Spec(parcels=parcels, years=years, seed=seed, last_year=last_year)
    if spec.problems():
        raise InputError(spec.problems())
    data = demo.generate(spec)
    session = open_session()            # the bundled rule sets published, as the service's startup does
    try:
        return demo.load(session, data, selected(), say=say)
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
        invalid(e.problems)
    except Conflict as e:
        err.print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    if as_json:
        print_json(s)
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
