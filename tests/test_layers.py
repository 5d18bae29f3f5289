"""The layer contract (.importlinter) is enforced and is not empty: every package and top-level
module under app/ sits in exactly one layer, the contract holds on the code, and it would catch an
import against the layers (the same layers read upside down are broken)."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LINT = Path(sys.executable).with_name("lint-imports")


def _layers() -> list[list[str]]:
    cfg = configparser.ConfigParser()
    cfg.read(CONFIG, encoding="utf-8")
    raw = cfg["importlinter:contract:layers"]["layers"]
    return [[name.strip() for name in line.split("|")] for line in raw.strip().splitlines() if line.strip()]


def _app_parts() -> set[str]:
    """Every package directly under app/ and every top-level module but app/__init__.py."""
    app = ROOT / "app"
    packages = {f"app.{d.name}" for d in app.iterdir() if d.is_dir() and (d / "__init__.py").is_file()}
    modules = {f"app.{f.stem}" for f in app.glob("*.py") if f.name != "__init__.py"}
    return packages | modules


def test_every_package_is_in_exactly_one_layer() -> None:
    named = [name for layer in _layers() for name in layer]
    assert len(named) == len(set(named)), "a package is named in two layers"
    parts = _app_parts()
    assert parts - set(named) == set(), "packages under app/ that no layer places: add them to .importlinter"
    assert set(named) - parts - {"indicators"} == set(), "layers that name no package under app/"
    assert "indicators" in named and {"app.api", "app.web", "app.checks", "app.store", "app.core"} <= set(named)


def _lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(config), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_lint_imports_passes() -> None:
    r = _lint(CONFIG)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout and "2 kept" in r.stdout


def test_the_contract_catches_imports_against_the_layers(tmp_path: Path) -> None:
    layers = _layers()
    text = CONFIG.read_text(encoding="utf-8")
    upside_down = "\n".join("    " + " | ".join(layer) for layer in reversed(layers))
    start = text.index("layers =\n") + len("layers =\n")
    end = text.index("\n\n", start)
    flipped = tmp_path / "importlinter.ini"
    flipped.write_text(text[:start] + upside_down + text[end:], encoding="utf-8")
    r = _lint(flipped)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr
