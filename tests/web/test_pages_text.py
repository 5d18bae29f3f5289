"""What an officer reads on every page and in every workbook (the product rule: officers read
Chinese — no API paths, snake_case values, English status notes, UTC timestamps or six-decimal
numbers on a page or in a workbook).

Every GET page route is enumerated from ``app.routes`` (``test_pages_security.page_routes``) and
rendered with a demo park of this module's own database (SQLite file, or a schema of the
PostgreSQL test database): its contracts, the park's ledger and evaluations, a scoring run, a
proposal verdict and a clause check.  The visible text (not attributes, not ``<code>`` elements,
which hold identifiers: decision ids, field paths, rule ids) must have

- no number with 3 or more decimals — except rule text shown as written: a scoring rule set's
  benchmark, inside an element of class ``rule-value`` and equal to the rule set's own figure;
- no snake_case identifier, no ``/v1/`` path, no English word (a ``max(`` in a formula is math;
  a URL or file name in a note is a reference), no ``status: example`` note, no ISO timestamp or
  UTC time (times are Beijing time, labelled 北京时间).

Every .xlsx export: each number cell shows at most 2 decimals (its number format, or its value
if the format is General); each text cell has no number with 3+ decimals (the same rule-text
exception: “基准 24.097”), no snake_case code (the rule engine's name ``durable_rules`` is a
product name in the version stamp) and no ISO timestamp.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from app import demo
from tests.web.conftest import demo_scene
from tests.web.test_pages_security import page_routes

SPEC = demo.Spec(parcels=40, years=3, seed=5, last_year=2025)

LONG_DECIMAL = re.compile(r"(?<![\d.])\d[\d,]*\.\d{3,}|(?<![\w/.])\d{3,}/\d{3,}(?![\w/])")   # or an exact ratio a/b
SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|\bUTC\b|\+00:00")
ENGLISH_NOTES = re.compile(r"/v1/|status: ?example|(?<![\w./:=-])[a-z]{3,}(?![\w./:=(-])")
# Elements whose text is an identifier, not prose (their content is never translated).
IDENTIFIERS = {"code", "kbd", "samp", "pre", "textarea", "script", "style"}
VOID = {"br", "img", "input", "meta", "link", "hr", "col", "area", "wbr", "source", "base"}
ENGINE_NAME = "durable_rules"       # the rule engine's product name in a version stamp


class Visible(HTMLParser):
    """The page's visible text (outside IDENTIFIERS), and the text of each ``rule-value`` element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.text: list[str] = []
        self.rule_values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            classes = (dict(attrs).get("class") or "").split()
            self.stack.append((tag, "rule-value" in classes))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if any(t in IDENTIFIERS for t, _ in self.stack):
            return
        if self.stack and self.stack[-1][1]:
            self.rule_values.append(data.strip())
            self.text.append(" ")             # rule text as written: checked against the rule set below
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def scene(database_url, tmp_path_factory):
    """A client (open mode) on this module's database with the demo park, a proposal verdict and a
    clause check; the ids that fill the page routes' path parameters and the extra pages to read."""
    with demo_scene(tmp_path_factory.mktemp("pagetext"), "web_text_tests", SPEC) as scene:
        yield {**scene, "contracts": [x["contract_no"] for x in scene["data"].contracts]}


def page_urls(ids: dict, contracts: list[str]) -> list[str]:
    """Every GET page route with its path parameters filled (a new route fails here until the
    scene can fill it), then more states of the same routes: every demo contract, each evaluated
    year, the ledger's second page, a rule-set diff."""
    urls = []
    for method, path in sorted(page_routes()):
        if method != "GET":
            continue
        # a decision under /contracts is a clause check
        names = {**ids, "decision_id": ids["check_id"]} if path.startswith("/contracts") else ids
        urls.append(re.sub(r"\{(\w+)\}", lambda m, names=names: quote(names[m.group(1)], safe=""), path))
    park = ids["park_id"]
    urls += [f"/contracts/{quote(no, safe='')}" for no in contracts]
    urls += [f"/parks/{park}/evaluation?year={y}" for y in range(SPEC.last_year - SPEC.years + 1, SPEC.last_year + 1)]
    urls += [f"/parks/{park}/ledger?page=2", f"/parks/{park}/ledger?as_of={SPEC.last_year}-12-31",
             f"/rulesets/{ids['rid']}/diff?from={ids['from']}&to={ids['version']}"]
    return urls


def rule_text(client) -> set[Decimal]:
    """The figures a page may show as written: each scoring rule set's benchmarks."""
    out = set()
    for rs in client.get("/v1/scoring/rulesets").json()["rulesets"]:
        full = client.get(f"/v1/scoring/rulesets/{rs['id']}", params={"version": rs["version"]}).json()
        out |= {Decimal(str(i["benchmark"])) for i in full["indicators"]}
    return out


def is_rule_figure(text: str, allowed: set[Decimal]) -> bool:
    try:
        return Decimal(text.replace(",", "")) in allowed
    except ArithmeticError:
        return False


def problems_in(text: str, allow_engine: bool = False) -> list[str]:
    found = [f"number {m.group(0)!r}" for m in LONG_DECIMAL.finditer(text)]
    found += [f"identifier {m.group(0)!r}" for m in SNAKE.finditer(text) if not (allow_engine and m.group(0) == ENGINE_NAME)]
    found += [f"time {m.group(0)!r}" for m in ISO_TIME.finditer(text)]
    found += [f"English {m.group(0)!r}" for m in ENGLISH_NOTES.finditer(text)]
    return found


def test_every_page_shows_officers_text(scene):
    c, ids = scene["client"], scene["ids"]
    allowed = rule_text(c)
    assert any(LONG_DECIMAL.fullmatch(f"{a:f}") for a in allowed)      # the exception is needed, not idle
    urls = page_urls(ids, scene["contracts"])
    assert len(urls) > 40
    bad: dict[str, list[str]] = {}
    seen_rule_values = set()
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[-1000:])
        v = Visible()
        v.feed(r.text)
        text = re.sub(r"\s+", " ", " ".join(v.text))       # a separator between elements (table cells)
        found = problems_in(text)
        found += [f"rule value {x!r} is not a rule set's figure" for x in v.rule_values if not is_rule_figure(x, allowed)]
        seen_rule_values |= {Decimal(x.replace(",", "")) for x in v.rule_values if is_rule_figure(x, allowed)}
        if found:
            context = {f: text[max(0, text.find(f.split("'")[1]) - 40):text.find(f.split("'")[1]) + 60] for f in found[:5]}
            bad[url] = [f"{f} in …{context.get(f, '')}…" for f in found[:5]]
    assert not bad, "\n".join(f"{u}:\n  " + "\n  ".join(p) for u, p in bad.items())
    assert seen_rule_values & allowed                               # the run page shows its benchmarks


def _decimals_shown(cell) -> int:
    """How many decimals a number cell displays: its number format's, or with General its value's."""
    fmt = cell.number_format or "General"
    if fmt == "General":
        exp = Decimal(str(cell.value)).normalize().as_tuple().exponent
        return max(0, -exp) if isinstance(exp, int) else 0
    return max((len(m) for m in re.findall(r"\.(0+)", fmt.split(";")[0])), default=0)


def test_every_workbook_shows_at_most_two_decimals(scene):
    c, ids = scene["client"], scene["ids"]
    allowed = rule_text(c)
    park = ids["park_id"]
    urls = [f"/v1/parks/{park}/ledger.xlsx?as_of={SPEC.last_year}-12-31", f"/v1/scoring/runs/{ids['run_id']}.xlsx",
            f"/v1/parks/{park}/parcels.xlsx"]
    urls += [f"/v1/parks/{park}/evaluation.xlsx?year={y}"
             for y in range(SPEC.last_year - SPEC.years + 1, SPEC.last_year + 1)]
    bad = []
    long_numbers = 0
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        ws = load_workbook(io.BytesIO(r.content)).active
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, bool) or v is None:
                    continue
                if isinstance(v, int | float):
                    long_numbers += _decimals_shown(type("C", (), {"value": v, "number_format": "General"})()) > 2
                    if _decimals_shown(cell) > 2:
                        bad.append(f"{url} {cell.coordinate}: {v!r} shown with format {cell.number_format!r}")
                elif isinstance(v, str):
                    # rule text as written: “基准 24.097” with the rule set's own figure
                    text = re.sub(r"基准 ([\d.,]+)", lambda m: "基准 X" if is_rule_figure(m.group(1), allowed) else m.group(0), v)
                    bad += [f"{url} {cell.coordinate}: {p} in {v[:120]!r}" for p in problems_in(text, allow_engine=True)]
    assert long_numbers > 0          # the sheets do hold exact figures with more digits than they show
    assert not bad, "\n".join(bad[:40])
