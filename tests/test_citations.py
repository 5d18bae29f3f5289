"""The product cites only what is in the repository: no page, message, comment or data file under
app/, indicators/, rules/ or the README points to the design notes or domain research that users
do not have (they are summarised in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"DESIGN(\.md)? ?§|DESIGN\.md|lifecycle\.md|indicators\.md|identifiers\.md|engine-notes|\.\./shared|/work/")


def test_no_citation_of_files_outside_the_repository() -> None:
    files = [ROOT / "README.md"] + [p for top in ("app", "indicators", "rules") for p in (ROOT / top).rglob("*")
                                    if p.is_file() and p.suffix in {".py", ".html", ".yaml", ".csv", ".md", ".txt", ".js"}]
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
             for p in files for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if OUTSIDE.search(line)]
    assert found == []


def test_cited_docs_exist() -> None:
    files = [ROOT / "README.md"] + [p for top in ("app", "indicators", "rules") for p in (ROOT / top).rglob("*")
                                    if p.is_file() and p.suffix in {".py", ".html", ".yaml", ".md"}]
    cited = {m for p in files for m in re.findall(r"docs/[\w.-]+\.md", p.read_text(encoding="utf-8"))}
    assert cited and {c for c in cited if not (ROOT / c).is_file()} == set()
