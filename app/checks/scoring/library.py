"""The bundled scoring rule sets (``rules/scoring/*.yaml``): read and validated once per process."""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

import yaml

from app.core.errors import InputError, Problem
from rules import RULES_DIR

from .format import validate
from .ruleset import ScoringRuleSet

log = logging.getLogger("standard_land.scoring")

SCORING_DIR = RULES_DIR / "scoring"
DEFAULT_RULESET = "huangyan-2022-example"


class ScoringRuleSetInvalid(RuntimeError):
    """A bundled scoring rule-set file is invalid: a fault of the deployment, not of a request."""


def load_file(path: Path) -> ScoringRuleSet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InputError([Problem("", f"YAML 无法解析 (not valid YAML): {e}")]) from None
    return validate(raw, source=path.name)


@cache
def bundled(root: Path = SCORING_DIR) -> tuple[dict[str, dict[str, ScoringRuleSet]], dict[str, str]]:
    """(id → version → rule set, file → problems) of the bundled files, validated once per process."""
    by_id: dict[str, dict[str, ScoringRuleSet]] = {}
    errors: dict[str, str] = {}
    for path in sorted(root.glob("*.yaml")):
        try:
            rs = load_file(path)
        except InputError as e:
            errors[path.name] = str(e)
            log.error("scoring rule set %s is invalid: %s", path.name, e)
            continue
        other = by_id.setdefault(rs.id, {}).get(rs.version)
        if other is not None and other.digest != rs.digest:
            errors[path.name] = f"{rs.id} {rs.version} is also in {other.source} with other content"
            continue
        by_id[rs.id][rs.version] = rs
    return by_id, errors


def version_key(v: str) -> tuple:
    return tuple((0, int(x), "") if (x.isascii() and x.isdigit()) else (1, 0, x) for x in re.split(r"[.\-]", v))


def get_ruleset(rid: str, version: str | None = None) -> ScoringRuleSet:
    by_id, errors = bundled()
    if rid not in by_id:
        bad = [f"{f}: {e}" for f, e in errors.items() if Path(f).stem == rid]
        if bad:
            raise ScoringRuleSetInvalid(f"scoring rule set {rid!r} is invalid: {'; '.join(bad)}")
        known = ", ".join(sorted(by_id)) or "none"
        raise InputError([Problem("ruleset", f"未知的评价规则集 (unknown scoring rule set {rid!r}; known: {known})")])
    versions = by_id[rid]
    if version is None:
        return versions[max(versions, key=version_key)]
    if version not in versions:
        known = ", ".join(sorted(versions, key=version_key))
        raise InputError([Problem("ruleset_version", f"规则集 {rid} 没有版本 {version!r} (known: {known})")])
    return versions[version]
