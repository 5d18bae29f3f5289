"""``standard-land rules validate`` checks indicators against the catalog in force in the configured
database (as ``rules publish`` does), else the shipped files (issue 13): the Taizhou 路桥 example names
va_per_mu and labour_productivity, which only its published catalog addition declares."""

from __future__ import annotations

import os
import subprocess

from tests.cli.test_cli import _command
from tests.conftest import ROOT

TZ = ROOT / "rules" / "examples" / "331004-taizhou-luqiao"


def run(*args: str, db: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STANDARD_LAND_ENGINE")}
    env |= {"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb", **({"DATABASE_URL": db} if db else {})}
    return subprocess.run([*_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=180)


def test_rules_validate_uses_the_catalog_published_in_the_database(tmp_path):
    db = f"sqlite:///{tmp_path / 'validate.db'}"
    ruleset = str(TZ / "taizhou-luqiao-example.yaml")

    p = run("rules", "validate", ruleset, db=db)              # the addition not yet published there
    assert p.returncode == 2 and "va_per_mu" in p.stderr and "the database" in p.stderr, p.stderr

    p = run("law", "publish", "indicator_catalog", str(TZ / "catalog.yaml"), db=db)
    assert p.returncode == 0, p.stderr
    p = run("rules", "validate", ruleset, db=db)
    assert p.returncode == 0, p.stderr
    assert "taizhou-luqiao-xinqiao-example@1" in p.stdout

    # the shipped files do not declare the addition: explicitly, or with no database configured
    for args, db_url in ((("--files-only",), db), ((), None)):
        p = run("rules", "validate", *args, ruleset, db=db_url)
        assert p.returncode == 2 and "the shipped files" in p.stderr, p.stderr
        assert "indicator" in p.stderr and "va_per_mu" in p.stderr, p.stderr
