"""One configuration object (app.core.config.Settings): every environment variable the service
reads is a field of it, the README's "Configuration" table is the one generated from it, and a
change of the environment at run time is seen at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core import config

ROOT = Path(__file__).resolve().parents[2]
START = "<!-- configuration: generated from app.core.config.Settings -->"
END = "<!-- /configuration -->"
# os.environ.get("X"), os.getenv("X"), os.environ["X"] (a read), and NAME_ENV = "X" constants
READS = re.compile(r'environ\.get\(\s*"([A-Z][A-Z0-9_]+)"|getenv\(\s*"([A-Z][A-Z0-9_]+)"'
                   r'|environ\[\s*"([A-Z][A-Z0-9_]+)"\s*\](?!\s*=)|^[A-Z_]+_ENV\s*=\s*"([A-Z][A-Z0-9_]+)"', re.M)


def test_readme_table_is_the_settings_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    table = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == config.markdown_table(), "regenerate the README table: see README 'Configuration'"
    for alias in config.variables():
        assert f"| `{alias}` |" in table


def test_every_variable_the_service_reads_is_a_setting() -> None:
    read = set()
    for path in (ROOT / "app").rglob("*.py"):
        for m in READS.finditer(path.read_text(encoding="utf-8")):
            read.add(next(g for g in m.groups() if g))
    known = set(config.variables())
    assert read - known == set()
    assert {"DATABASE_URL", "STANDARD_LAND_TIMEZONE", "STANDARD_LAND_ENGINE", "STANDARD_LAND_TAX_MIN_CONTRIBUTORS"} <= known


def test_settings_follow_the_environment(monkeypatch) -> None:
    assert config.settings().tax_min_contributors == 3 and config.settings().timezone == "Asia/Shanghai"
    monkeypatch.setenv("STANDARD_LAND_TAX_MIN_CONTRIBUTORS", "5")
    assert config.settings().tax_min_contributors == 5
    monkeypatch.setenv("STANDARD_LAND_TAX_MIN_CONTRIBUTORS", "0")
    with pytest.raises(RuntimeError, match="STANDARD_LAND_TAX_MIN_CONTRIBUTORS='0'"):
        config.settings()
    monkeypatch.setenv("STANDARD_LAND_TAX_MIN_CONTRIBUTORS", "4")
    monkeypatch.setenv("STANDARD_LAND_TIMEZONE", "Asia/Beijing")        # not an IANA zone
    with pytest.raises(RuntimeError, match="STANDARD_LAND_TIMEZONE='Asia/Beijing'"):
        config.settings()
    monkeypatch.delenv("STANDARD_LAND_TIMEZONE")
    assert config.settings().tax_min_contributors == 4


def test_workbook_limits_come_from_the_settings(monkeypatch) -> None:
    from app.formats.workbook import Limits

    assert Limits.from_env() == Limits()        # the settings' defaults are the limits' defaults
    monkeypatch.setenv("STANDARD_LAND_XLSX_PARSES", "3")
    monkeypatch.setenv("STANDARD_LAND_XLSX_SECONDS", "1.5")
    assert Limits.from_env().parses == 3 and Limits.from_env().seconds == 1.5
    # no module builds a variable's name at run time (so the table above lists them all)
    dynamic = [p.name for p in (ROOT / "app").rglob("*.py") if re.search(r'(environ\.get|getenv)\(\s*f"', p.read_text("utf-8"))]
    assert dynamic == []
