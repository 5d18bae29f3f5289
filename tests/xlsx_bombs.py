"""Workbooks written part by part (zipfile, XML text), so that hostile ones of any size are made
in seconds without openpyxl holding them: rows of 合计, zip bombs, shared-string bombs, archives
with too many or too large parts.  Used by tests/api/test_upload_limits.py and bench/uploads.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

TAX_HEADER = ["统一社会信用代码", "年度", "实缴税额（万元）", "政策性退税（万元）"]


def _content_types(shared: bool) -> str:
    sst = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>' if shared else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>{sst}</Types>')


_RELS = (f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
             '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')


def _workbook_rels(shared: bool) -> str:
    sst = f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>' if shared else ""
    return (f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{sst}</Relationships>')


def cell(v: object) -> str:
    """A cell: a number, or an inline string."""
    if isinstance(v, int | float):
        return f"<c><v>{v}</v></c>"
    return f'<c t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'


def row(values: Iterable[object]) -> str:
    return "<row>" + "".join(cell(v) for v in values) + "</row>"


def _chunks(parts: Iterable[str], size: int = 1 << 20) -> Iterator[bytes]:
    buf: list[str] = []
    n = 0
    for p in parts:
        buf.append(p)
        n += len(p)
        if n >= size:
            yield "".join(buf).encode()
            buf, n = [], 0
    if buf:
        yield "".join(buf).encode()


def workbook(rows: Iterable[str], strings: Iterable[str] | None = None, *, level: int = 6,
             sst: Iterable[bytes] | None = None, extra: Iterable[tuple[str, Iterable[bytes]]] = ()) -> bytes:
    """An .xlsx: one sheet of ``rows`` (row XML), a shared-strings part of ``strings`` (the text
    of each <si>) or of the raw chunks ``sst`` if given, and ``extra`` parts (name, chunks)."""
    shared = strings is not None or sst is not None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", _content_types(shared))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(shared))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in _chunks([f'<worksheet xmlns="{MAIN}"><sheetData>', *rows, "</sheetData></worksheet>"]):
                f.write(chunk)
        if shared:
            if sst is None:
                sst = _chunks([f'<sst xmlns="{MAIN}">', *(f"<si><t>{s}</t></si>" for s in strings or ()), "</sst>"])
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                for chunk in sst:
                    f.write(chunk)
        for name, chunks in extra:
            with z.open(name, "w", force_zip64=True) as f:
                for chunk in chunks:
                    f.write(chunk)
    return buf.getvalue()


# ---------------------------------------------------------------- the hostile workbooks

def summary_rows(n: int, header: list[str] = TAX_HEADER, real: list[list[object]] | None = None) -> bytes:
    """The header, the ``real`` rows, then ``n`` rows whose first cell is 合计 (a shared string),
    numbered as spreadsheet programs write them (3,000,000 rows: ~15 MB compressed)."""
    rows = [row(header), *(row(r) for r in real or [])]
    k = len(rows)
    return workbook([*rows, *(f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(k + 1, k + n + 1))],
                    strings=["合计"])


def zip_bomb(n: int) -> bytes:
    """``n`` identical rows compressed as far as deflate goes (8,000,000 rows: ~1.3 MB)."""
    return workbook([row(TAX_HEADER), *("<row><c><v>1</v></c><c><v>2</v></c></row>" for _ in range(n))], level=9)


def shared_strings_bomb(n: int) -> bytes:
    """A shared-strings table of ``n`` one-character strings, all loaded before any row is read
    (107,000,000: ~4.4 MB compressed, 1.8 GB of XML)."""
    block = 1 << 16
    si = b"<si><t>a</t></si>"

    def chunks() -> Iterator[bytes]:
        yield f'<sst xmlns="{MAIN}">'.encode()
        for i in range(0, n, block):
            yield si * min(block, n - i)
        yield b"</sst>"
    return workbook([row(TAX_HEADER)], sst=chunks(), level=9)


def distinct_strings(n: int) -> bytes:
    """A shared-strings table of ``n`` different short strings: compresses only ~4:1, so the
    archive check lets it through and the table's own count has to stop it."""
    return workbook([row(TAX_HEADER)], strings=(format(i, "x") for i in range(n)))


def many_parts(n: int) -> bytes:
    """A valid workbook plus ``n`` tiny extra parts."""
    return workbook([row(TAX_HEADER)], extra=[(f"xl/media/p{i}.bin", [b"x"]) for i in range(n)])


def huge_part(size: int) -> bytes:
    """A valid workbook plus one part of ``size`` bytes that compresses only ~30:1 (so it is its
    size, not its compression ratio, that is refused)."""
    import random

    rng = random.Random(7)
    block = bytes(rng.getrandbits(8) for _ in range(1 << 12)) + b"\0" * (31 << 12)    # 128 KiB, ~30:1

    def chunks() -> Iterator[bytes]:
        for _ in range(size // len(block) + 1):
            yield block
    return workbook([row(TAX_HEADER)], extra=[("xl/media/image1.bin", chunks())], level=1)


def tax_rows(n: int, tag: str = "ZZ", year: int = 2025) -> list[list[object]]:
    """``n`` tax rows of distinct valid USCCs (org code: the two characters ``tag`` — no I, O, S,
    V, Z — and a serial)."""
    from indicators.identifiers import synthetic_uscc

    assert len(tag) == 2, tag
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    out = []
    for i in range(n):
        serial, k = "", i
        for _ in range(6):
            k, r = divmod(k, 31)
            serial = chars[r] + serial
        out.append([synthetic_uscc(org8=tag + serial), year, 100 + i % 900, i % 50])
    return out


def real_rows(n: int, tag: str = "RR") -> bytes:
    """``n`` valid tax rows (inline strings, as many writers produce)."""
    return workbook([row(TAX_HEADER), *(row(r) for r in tax_rows(n, tag))])
