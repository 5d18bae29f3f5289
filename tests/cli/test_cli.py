"""The ``standard-land`` command, run as a subprocess on its own temporary SQLite file.

Exit codes: 0 pass / ok, 1 not pass (or a failed test / broken chain), 2 invalid input.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, proposal
from tests.factories import child_doc, standalone_doc, tax_rule


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("standard-land")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"


def run(*args: str, db: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("STANDARD_LAND_ENGINE", None)
    return subprocess.run([*_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout)


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def write_yaml(path: Path, obj) -> Path:
    path.write_text(yaml.safe_dump(obj, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def findings(verdict: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in verdict["findings"]}


# ---------------------------------------------------------------- check

def test_check_pass_exits_0(tmp_path, cli_db):
    p = run("check", "--json", str(write_json(tmp_path / "p.json", proposal())), db=cli_db)
    assert p.returncode == 0, p.stderr
    v = json.loads(p.stdout)
    assert v["verdict"] == "pass"
    assert v["ruleset"]["id"] == "sanmenxia-standard-land"
    inv = findings(v)["investment_intensity_min"]
    assert (inv["actual"], inv["threshold"], inv["margin"]) == ("220.00", "220", "0.00")


def test_check_pass_prints_a_table(tmp_path, cli_db):
    p = run("check", str(write_json(tmp_path / "p.json", proposal())), db=cli_db)
    assert p.returncode == 0, p.stderr
    assert "verdict: pass" in p.stdout
    assert "investment_intensity_min" in p.stdout and "220.00" in p.stdout
    assert "示例数据" in p.stdout
    assert "decision " in p.stdout


def test_check_fail_exits_1(tmp_path, cli_db):
    body = proposal()
    body["measures"]["fixed_asset_investment"] = {"value": 19799, "unit": "万元"}
    p = run("check", "--json", str(write_json(tmp_path / "f.json", body)), db=cli_db)
    assert p.returncode == 1, p.stderr
    v = json.loads(p.stdout)
    assert v["verdict"] == "fail"
    inv = findings(v)["investment_intensity_min"]
    assert (inv["status"], inv["actual"], inv["margin"]) == ("fail", "219.99", "-0.01")


def test_check_incomplete_exits_1(tmp_path, cli_db):
    body = proposal()
    del body["measures"]["annual_tax"]
    p = run("check", "--json", str(write_json(tmp_path / "i.json", body)), db=cli_db)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["verdict"] == "incomplete"


@pytest.mark.parametrize("body, path", [
    (proposal(land_area={"value": -90, "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": "NaN", "unit": "亩"}), "land_area.value"),
    (proposal(land_area={"value": 90, "unit": "acre"}), "land_area.unit"),
    (proposal(indicators={"green_ratio": {"value": 12}}), "indicators.green_ratio.unit"),
    (proposal(indicators={"no_such_indicator": {"value": 1}}), "indicators.no_such_indicator"),
    ([1, 2], "(root)"),
])
def test_check_invalid_input_exits_2_with_the_path(tmp_path, cli_db, body, path):
    p = run("check", str(write_json(tmp_path / "bad.json", body)), db=cli_db)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "invalid input" in p.stderr
    assert path in p.stderr
    assert "verdict" not in p.stdout


def test_check_missing_file_exits_2(tmp_path, cli_db):
    missing = tmp_path / "nope.json"
    p = run("check", str(missing), db=cli_db)
    assert p.returncode == 2
    assert "file not found" in p.stderr and "nope.json" in p.stderr


def test_check_malformed_json_exits_2(tmp_path, cli_db):
    f = tmp_path / "broken.json"
    f.write_text('{"as_of": "2024-03-01", ', encoding="utf-8")
    p = run("check", str(f), db=cli_db)
    assert p.returncode == 2
    assert "not valid JSON" in p.stderr and "broken.json" in p.stderr


# ---------------------------------------------------------------- rules

def test_rules_validate_bundled_files(cli_db):
    p = run("rules", "validate", db=cli_db)
    assert p.returncode == 0, p.stderr
    for rid in ("national-2008@2008.1", "henan-standard-land@2021.1", "sanmenxia-standard-land@2021.1",
                "beihai-2023gc07007@2023.1", "longchang-standard-land@2022.1"):
        assert rid in p.stdout
    assert p.stdout.count("ok ") >= 5


def test_rules_validate_a_good_file(tmp_path, cli_db):
    f = write_yaml(tmp_path / "good.yaml", child_doc("cli-child", [tax_rule(20)]))
    p = run("rules", "validate", str(f), db=cli_db)
    assert p.returncode == 0, p.stderr
    assert "cli-child@1" in p.stdout


def test_rules_validate_broken_yaml_exits_2(tmp_path, cli_db):
    f = tmp_path / "broken.yaml"
    f.write_text("id: broken\nrules: [\n  - {id: x, op: >=\n", encoding="utf-8")
    p = run("rules", "validate", str(f), db=cli_db)
    assert p.returncode == 2
    assert "broken.yaml" in p.stderr


def test_rules_validate_invalid_document_exits_2_with_paths(tmp_path, cli_db):
    doc = standalone_doc("cli-bad")
    doc["rules"][0]["unit"] = "%"
    doc["rules"][1]["cite"] = {"doc": "undeclared"}
    f = write_yaml(tmp_path / "bad.yaml", doc)
    p = run("rules", "validate", str(f), db=cli_db)
    assert p.returncode == 2
    assert "rules.0.unit" in p.stderr and "rules.1.cite.doc" in p.stderr


def test_rules_validate_loosening_child_exits_2(tmp_path, cli_db):
    f = write_yaml(tmp_path / "loose.yaml", child_doc("cli-loose", [tax_rule(10)]))
    p = run("rules", "validate", str(f), db=cli_db)
    assert p.returncode == 2
    assert "rules.0.threshold" in p.stderr and "tax_per_mu_min" in p.stderr


def test_rules_validate_reports_each_file(tmp_path, cli_db):
    good = write_yaml(tmp_path / "good.yaml", child_doc("cli-child", [tax_rule(20)]))
    bad = tmp_path / "bad.yaml"
    bad.write_text(": : :\n", encoding="utf-8")
    p = run("rules", "validate", str(good), str(bad), db=cli_db)
    assert p.returncode == 2
    assert "cli-child@1" in p.stdout and "bad.yaml" in p.stderr


def test_rules_test_exits_0(cli_db):
    p = run("rules", "test", db=cli_db, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0 failed" in p.stdout
    # the golden cases of the other law documents (rules/scoring/tests/ …) run too
    assert re.search(r"\([1-9]\d* rule-set cases, [1-9]\d* law-document cases\)", p.stdout), p.stdout


def test_rules_diff_prints_the_changed_rule(tmp_path, cli_db):
    a = write_yaml(tmp_path / "a.yaml", standalone_doc("cli-diff", version="1", tax=15))
    b_doc = standalone_doc("cli-diff", version="2", tax=20, title="测试规则集（修订）")
    b_doc["rules"] = b_doc["rules"][:1]                   # investment_intensity_min removed
    b = write_yaml(tmp_path / "b.yaml", b_doc)
    p = run("rules", "diff", str(a), str(b), db=cli_db)
    assert p.returncode == 0, p.stderr
    assert "~ tax_per_mu_min.threshold: '15' → '20'" in p.stdout
    assert "- investment_intensity_min" in p.stdout
    assert "~ title" in p.stdout and "测试规则集（修订）" in p.stdout
    same = run("rules", "diff", str(a), str(a), db=cli_db)
    assert same.returncode == 0
    assert "no differences" in same.stdout


def test_rules_diff_missing_file_exits_2(tmp_path, cli_db):
    a = write_yaml(tmp_path / "a.yaml", standalone_doc("cli-diff"))
    p = run("rules", "diff", str(a), str(tmp_path / "missing.yaml"), db=cli_db)
    assert p.returncode == 2
    assert "missing.yaml" in p.stderr


def test_rules_publish(tmp_path):
    db = f"sqlite:///{tmp_path / 'publish.db'}"
    f = write_yaml(tmp_path / "v1.yaml", standalone_doc("cli-pub", tax=15))
    p = run("rules", "publish", str(f), db=db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("published cli-pub@1 ")
    digest = p.stdout.split()[-1]
    assert len(digest) == 64
    again = run("rules", "publish", str(f), db=db)
    assert again.returncode == 0
    assert again.stdout.split() == ["already", "published", "cli-pub@1", digest]
    changed = write_yaml(tmp_path / "v1b.yaml", standalone_doc("cli-pub", tax=16))
    conflict = run("rules", "publish", str(changed), db=db)
    assert conflict.returncode == 2
    assert digest in conflict.stderr
    # the published version is what `check` resolves
    body = proposal(ruleset="cli-pub")
    v = json.loads(run("check", "--json", str(write_json(tmp_path / "p.json", body)), db=db).stdout)
    assert (v["ruleset"]["id"], v["verdict"]) == ("cli-pub", "pass")
    loose = write_yaml(tmp_path / "loose.yaml", child_doc("cli-loose", [tax_rule(10)]))
    refused = run("rules", "publish", str(loose), db=db)
    assert refused.returncode == 2
    assert "rules.0.threshold" in refused.stderr


# ---------------------------------------------------------------- decisions

def test_decisions_verify_exits_0(tmp_path):
    db = f"sqlite:///{tmp_path / 'verify.db'}"
    empty = run("decisions", "verify", db=db)
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == {"ok": True, "checked": 0, "head": "0" * 64}

    ok = run("check", "--json", str(write_json(tmp_path / "p.json", proposal())), db=db)
    body = proposal()
    body["measures"]["annual_tax"] = {"value": 1349, "unit": "万元"}
    failing = run("check", "--json", str(write_json(tmp_path / "f.json", body)), db=db)
    assert (ok.returncode, failing.returncode) == (0, 1)
    last = json.loads(failing.stdout)

    p = run("decisions", "verify", db=db)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report == {"ok": True, "checked": 2, "head": last["hash"]}
