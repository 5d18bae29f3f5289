"""Identifier checks: 统一社会信用代码 (GB 32100-2015), 宗地代码 / 不动产单元代码
(GB/T 37346-2019), 电子监管号 (format unconfirmed: warn only), GB/T 2260 codes.

Each check returns problems as (severity, message) pairs: ``invalid`` for a malformed
identifier, ``warning`` where the rule is unconfirmed (docs/domain.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indicators import tables

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

PARCEL_19 = re.compile(r"^(\d{6})(\d{3})(\d{3})([GJZ][ABCDEFGHSWXY])(\d{5})$")
UNIT_28 = re.compile(r"^(\d{6})(\d{3})(\d{3})([GJZ][ABCDEFGHSWXY])(\d{5})([FLQW])(\d{8})$")
SUPERVISION_NO = re.compile(r"^(\d{6})((?:19|20)\d{2})([A-Z])(\d{5,6})$")

# Division codes replaced by newer ones; accepted on old documents with a warning.
HISTORIC_DIVISIONS = {"411222": "陕县（已撤销，现为陕州区 411203）❓"}


@dataclass(frozen=True)
class Finding:
    severity: str       # "invalid" or "warning"
    message: str


def uscc_check_char(first17: str) -> str:
    c = 31 - sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True)) % 31
    return USCC_CHARS[0 if c == 31 else c]


def org_check_char(first8: str) -> str:
    c = 11 - sum(ORG_CHARS.index(ch) * w for ch, w in zip(first8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(first17: str) -> str:
    """Complete 17 characters with the check character (for tests and demo data)."""
    return first17 + uscc_check_char(first17)


def check_uscc(code: str) -> list[Finding]:
    code = code.strip().upper()
    if len(code) != 18:
        return [Finding("invalid", f"统一社会信用代码应为 18 位，实际 {len(code)} 位")]
    bad = sorted({ch for ch in code if ch not in USCC_CHARS})
    if bad:
        return [Finding("invalid", f"统一社会信用代码含非法字符 {''.join(bad)}（不使用 I、O、S、V、Z）")]
    out = []
    if uscc_check_char(code[:17]) != code[17]:
        out.append(Finding("invalid", f"统一社会信用代码校验位错误：应为 {uscc_check_char(code[:17])}，实际 {code[17]}"))
    if all(ch in ORG_CHARS for ch in code[8:16]) and org_check_char(code[8:16]) != code[16]:
        out.append(Finding("warning", "组织机构代码（第 9–17 位）校验位不符（部分发证机关未严格执行 ❓）"))
    out += check_division(code[2:8], what="登记管理机关行政区划码")
    return out


def uscc_is_valid(code: str) -> bool:
    return not any(f.severity == "invalid" for f in check_uscc(code))


def check_division(code: str, what: str = "行政区划代码") -> list[Finding]:
    if not re.match(r"^\d{6}$", code):
        return [Finding("invalid", f"{what} {code!r} 不是 6 位数字")]
    if code in HISTORIC_DIVISIONS:
        return [Finding("warning", f"{what} {code} 为历史代码：{HISTORIC_DIVISIONS[code]}")]
    if not tables.valid_jurisdiction(code):
        return [Finding("invalid", f"{what} {code} 格式无效")]
    return []


def division_prefix(code: str) -> str:
    """The GB/T 2260 code prefix that a division covers: a province 410000 → 41, a city 411200 →
    4112, a county 411202 → itself.  A key's jurisdiction and a tax row's region are compared by it."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def check_parcel_code(code: str) -> list[Finding]:
    """宗地代码 (19) or 不动产单元代码 (28); which one was received is reported."""
    m = UNIT_28.match(code) or PARCEL_19.match(code)
    if m is None:
        return [Finding("invalid", "宗地代码（19 位）或不动产单元代码（28 位）格式无效（GB/T 37346-2019）")]
    out = check_division(m.group(1), what="宗地代码中的县级行政区划码")
    if m.group(4) != "GB":
        out.append(Finding("warning", f"宗地特征码为 {m.group(4)}：工业“标准地”通常为 GB（国有建设用地使用权）"))
    return out


def check_supervision_no(code: str, signed_year: int | None = None) -> list[Finding]:
    """电子监管号: the official format is unconfirmed (❓), so problems are warnings only."""
    m = SUPERVISION_NO.match(code)
    if m is None:
        return [Finding("warning",
                        "电子监管号格式不常见（常见为 6 位区划码 + 4 位年份 + 1 位字母 + 5–6 位序号；官方格式未确认）")]
    out = [Finding("warning", f.message) for f in check_division(m.group(1), what="电子监管号中的行政区划码")]
    if signed_year is not None and int(m.group(2)) not in (signed_year, signed_year - 1):
        out.append(Finding("warning", f"电子监管号年份 {m.group(2)} 与签订年份 {signed_year} 不符"))
    return out


def synthetic_uscc(region: str = "411200", org8: str = "MA000000", kind: str = "91") -> str:
    """A well-formed code with both check characters, built by the algorithm (for tests
    and demo data: the project ships no real codes)."""
    first17 = kind + region + org8 + org_check_char(org8)
    return make_uscc(first17)
