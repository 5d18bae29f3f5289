"""Reference tables shipped with the package (CSV under indicators/data/).

Sources and confidence marks are kept in the CSV rows themselves; every row of
the 2017→2002 crosswalk is unconfirmed (❓), which is why a one-to-many or
unmapped code always goes to manual review rather than being guessed.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

GB4754_2017 = "GB/T 4754-2017"
GB4754_2002 = "GB/T 4754-2002"
CLASSIFICATIONS = (GB4754_2017, GB4754_2002)

_DIVISION_CODE = re.compile(r"^\d{2,4}$")
_DIVISION_CODE_ALPHA = re.compile(r"^[A-Z]?\d{2,4}$")


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def industry_names(classification: str) -> dict[str, str]:
    """Division names: every 大类 of GB/T 4754-2017 (all 门类), the manufacturing ones of 2002."""
    if classification == GB4754_2017:
        return {code: name for code, (_, name) in divisions(GB4754_2017).items()}
    if classification == GB4754_2002:
        return {r["code"]: r["name_zh"] for r in _rows("gb4754_2002_manufacturing.csv")}
    return {}


@cache
def divisions(classification: str) -> dict[str, tuple[str, str]]:
    """Every 大类 (division) of a classification whose full list is shipped: code → (门类 letter,
    name).  Empty when only part of it is (GB/T 4754-2002: manufacturing only)."""
    if classification != GB4754_2017:
        return {}
    return {r["code"]: (r["section"], r["name_zh"]) for r in _rows("gb4754_2017_divisions.csv")}


_SECTION_PREFIX = re.compile(r"^([A-Ta-t])(\d{2,4})$")


def normalise_industry_code(code: str, classification: str) -> str:
    """``C32`` → ``32``: officials often write the 门类 letter before the 大类 code.  Stripped only
    where the letter is that division's 门类 (so a wrong letter stays visible and is refused by
    ``industry_code_problem``); GB/T 4754-2002, whose full list is not shipped, only for
    manufacturing (C).  Codes of other classifications are left as they are."""
    m = _SECTION_PREFIX.match(code)
    if m is None or classification not in CLASSIFICATIONS:
        return code
    letter, digits = m.group(1).upper(), m.group(2)
    full = divisions(classification)
    if full:
        return digits if full.get(digits[:2], ("",))[0] == letter else code
    return digits if letter == "C" and digits[:2] in industry_names(classification) else code


def industry_code_problem(code: str, classification: str) -> str | None:
    """Why ``code`` (after ``normalise_industry_code``) is not a code of ``classification``, or
    None.  Checked where the full division list is shipped (GB/T 4754-2017): a 2-digit 大类, or a
    3–4 digit 中类/小类 under one."""
    full = divisions(classification)
    if not full:
        return None
    m = _SECTION_PREFIX.match(code)
    if m is not None:
        section = full.get(m.group(2)[:2], (None,))[0]
        return (f"门类 {m.group(1).upper()} 与大类 {m.group(2)[:2]} 不符（{m.group(2)[:2]} 属门类 {section}）"
                f" (section letter does not match division {m.group(2)[:2]})" if section else
                f"{classification} 中没有大类 {m.group(2)[:2]} (no such division)")
    if not _DIVISION_CODE.match(code):
        return (f"行业代码应为 {classification} 的 2 位大类代码（可加门类字母，如 C32）或其下的中类、小类代码"
                " (not a division code)")
    if code[:2] not in full:
        return f"{classification} 中没有大类 {code[:2]}（大类为 01–97）(no such division in {classification})"
    return None


@cache
def _crosswalk() -> dict[tuple[str, str], dict[str, list[str]]]:
    fwd: dict[str, list[str]] = defaultdict(list)
    back: dict[str, list[str]] = defaultdict(list)
    for r in _rows("crosswalk_4754_2017_to_2002.csv"):
        if r["code_2002"]:
            fwd[r["code_2017"]].append(r["code_2002"])
            back[r["code_2002"]].append(r["code_2017"])
        else:
            fwd.setdefault(r["code_2017"], [])
    return {(GB4754_2017, GB4754_2002): dict(fwd), (GB4754_2002, GB4754_2017): dict(back)}


def is_known_classification(name: str) -> bool:
    return name in CLASSIFICATIONS


def valid_industry_code(code: str) -> bool:
    """A GB/T 4754 code: a 2-digit division, optionally refined to group/class (3–4 digits)."""
    return bool(_DIVISION_CODE.match(code))


@dataclass(frozen=True)
class Mapping:
    candidates: tuple[str, ...]   # codes in the target classification
    via: str                      # human-readable trace


def crosswalk(code: str, source: str, target: str) -> Mapping | None:
    """Map an industry code between GB/T 4754 versions at division level.

    Returns None when no crosswalk between the two classifications is known.
    An empty ``candidates`` means the code has no counterpart.
    """
    if source == target:
        return Mapping((code,), "same classification")
    table = _crosswalk().get((source, target))
    if table is None:
        return None
    division = code[:2]
    cands = tuple(table.get(division, ()))
    return Mapping(cands, f"{source} {division} → {target} {'/'.join(cands) or '（无对应）'}（对照表，未经核实 ❓）")


@cache
def far_min_2008() -> dict[str, str]:
    """国土资发〔2008〕24号 Table 2: minimum plot ratio per GB/T 4754-2002 division."""
    return {r["code_2002"]: r["min_plot_ratio"] for r in _rows("far_min_2008.csv")}


@cache
def divisions_gb2260() -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in _rows("gb2260_henan_sanmenxia.csv")}


_GB2260 = re.compile(r"^[1-9]\d{5}$")


def valid_jurisdiction(code: str) -> bool:
    """Any well-formed 6-digit GB/T 2260 code (the bundled table names some units, it does not limit)."""
    return bool(_GB2260.match(code))


def jurisdiction_chain(code: str) -> list[str]:
    """The code and the codes of the units above it: county → prefecture → province → national."""
    chain = [code]
    if code[4:] != "00":
        chain.append(code[:4] + "00")
    if code[2:4] != "00":
        chain.append(code[:2] + "0000")
    if code != "100000":
        chain.append("100000")
    return list(dict.fromkeys(chain))
