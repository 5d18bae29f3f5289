"""Reading a workbook someone gave us (an upload, a file named on the command line) without letting
it take the service down.

An .xlsx is a zip of XML parts, and each step of reading one can be made to cost far more than the
file's size: a part that inflates a thousandfold, a shared-strings table of a hundred million
entries (loaded whole before the first row), millions of blank or 合计 rows, a row far down the
sheet (the rows before it are filled in), a sheet without a ``<dimension>`` (openpyxl's read-only
sheet then parses the whole part once just to size it).  So, for every workbook read:

1. the file's size, then the archive's central directory — number of parts, the uncompressed size
   of each part and of all of them, each part's compression ratio — are checked before anything
   is inflated (``check_archive``; zipfile never inflates a part beyond its declared size);
2. the rest runs in a worker process of its own (``read``): its address space is capped
   (``Limits.memory_bytes`` above what it starts with), it is killed after ``Limits.seconds``,
   and at most ``Limits.parses`` run at once.  The event loop and the GIL of the server stay
   free (``/healthz`` answers meanwhile), and whatever the parse allocated goes back to the
   system when the worker exits — a thread would keep it in the server's heap;
3. the worker streams the first worksheet row by row (``sheet_rows``; openpyxl's parser, without
   its read-only sheet) and hands each row, missing rows included, to the caller's ``parse``
   function, which counts every row it is given against its cap (``app.formats.excel``); the
   shared-strings table is read with a count limit.

Refusals: 413 (``TooLarge``) for what is too big to read — file, parts, ratio, shared strings,
memory, time; 422 (``InputError``) for what is not a workbook, or too many rows or columns.
Nothing is stored before the workbook has been read, so a refusal writes nothing.

Every limit is a field of ``Limits``; the defaults let a 100,000-row tax workbook through with
room to spare and can be set with ``STANDARD_LAND_XLSX_<FIELD>`` (e.g. ``STANDARD_LAND_XLSX_PARSES``).
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from app.core.config import settings
from app.core.errors import InputError, Problem, TooLarge

MiB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * MiB          # the upload itself (app.api.limits.UPLOAD_LIMIT adds the multipart framing)
    parts: int = 1000                   # files in the archive (a workbook from Excel has 10–30)
    part_bytes: int = 256 * MiB         # one part, inflated (a 100,000-row tax sheet: 19 MB)
    total_bytes: int = 512 * MiB        # all parts, inflated
    ratio: int = 100                    # inflated ÷ compressed, per part (Apache POI's default; a sheet is ~9:1) …
    ratio_grace_bytes: int = 1 * MiB    # … for parts larger than this (a small empty part compresses far better)
    shared_strings: int = 500_000       # entries of the shared-strings table (100,000 tax rows use 100,000)
    columns: int = 256                  # cells further right than this in a row are refused
    memory_bytes: int = 256 * MiB       # address space a worker may add to what it starts with
    seconds: float = 60.0               # a worker still reading after this is killed
    parses: int = 2                     # workers at once per server process; further reads wait

    @classmethod
    def from_env(cls) -> Limits:
        s = settings()      # STANDARD_LAND_XLSX_<FIELD> (app.core.config; README "Configuration")
        return cls(**{f.name: getattr(s, f"xlsx_{f.name}") for f in dataclasses.fields(cls)})


LIMITS = Limits.from_env()


def _mib(n: int) -> str:
    return f"{n / MiB:.0f}" if n >= 10 * MiB else f"{n / MiB:.1f}"


def _name(name: str) -> str:
    return name if len(name) <= 64 else name[:64] + "…"


def not_readable(e: BaseException | str) -> InputError:
    why = e if isinstance(e, str) else type(e).__name__
    return InputError([Problem("file", f"不是有效的 .xlsx 文件 (not a readable .xlsx file: {why})")])


def too_large(msg: str) -> TooLarge:
    return TooLarge([Problem("file", msg)])


def _refusal(e: Exception) -> Exception:
    """What to raise for an exception of openpyxl, zipfile or the XML parser: expat reports an
    allocation that failed under the worker's memory cap as a parse error."""
    if "out of memory" in str(e) or "no memory" in str(e):
        return MemoryError()
    return not_readable(e)


# ---------------------------------------------------------------- 1. the archive, before inflating anything

def check_archive(data: bytes, limits: Limits = LIMITS) -> None:
    """Refuse ``data`` unless it is a zip whose parts, inflated, stay within ``limits``."""
    if len(data) > limits.file_bytes:
        raise too_large(f"文件超过 {_mib(limits.file_bytes)} MiB (file too large)")
    fp = io.BytesIO(data)
    # The end record first: zipfile reads the whole central directory (a ZipInfo per entry) when
    # it opens the archive, and a 50 MiB directory of minimal entries is a million of them.
    try:
        end = zipfile._EndRecData(fp)    # what ZipFile itself reads (private, stable since Python 2)
    except OSError:
        end = None
    if not end:
        raise not_readable("not a zip archive")
    entries, directory = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > limits.parts or directory > limits.parts * 1024:
        raise too_large(f"工作簿包含的部件超过 {limits.parts} 个 (the archive has more than {limits.parts} parts)")
    try:
        infos = zipfile.ZipFile(fp).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise not_readable(e) from None
    if len(infos) > limits.parts:
        raise too_large(f"工作簿包含 {len(infos)} 个部件，超过上限 {limits.parts} 个 "
                        f"(the archive has {len(infos)} parts, more than {limits.parts})")
    total = 0
    for info in infos:
        name = _name(info.filename)
        if info.flag_bits & 0x1:
            raise not_readable("encrypted")
        if info.file_size > limits.part_bytes:
            raise too_large(f"工作簿部件 {name} 解压后 {_mib(info.file_size)} MiB，超过上限 {_mib(limits.part_bytes)} MiB "
                            f"(part {name} inflates to {info.file_size} bytes, more than {limits.part_bytes})")
        if info.file_size > limits.ratio_grace_bytes and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise too_large(f"工作簿部件 {name} 的压缩比为 {ratio}:1，超过上限 {limits.ratio}:1，疑似压缩炸弹 "
                            f"(part {name} is compressed {ratio}:1, more than {limits.ratio}:1: a zip bomb)")
        total += info.file_size
    if total > limits.total_bytes:
        raise too_large(f"工作簿解压后共 {_mib(total)} MiB，超过上限 {_mib(limits.total_bytes)} MiB "
                        f"(the parts inflate to {total} bytes, more than {limits.total_bytes})")


# ---------------------------------------------------------------- 3. rows, in the worker

def _shared_strings(src: BinaryIO, limit: int) -> list[str]:
    """The shared-strings table, as openpyxl's ``read_string_table`` reads it (each entry's plain
    text and its rich-text runs, joined; phonetic runs left out), with a count limit, and each
    entry's element dropped once read (iterparse keeps every finished element under the root)."""
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    si, t, r = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))
    strings: list[str] = []
    root = None
    for event, node in iterparse(src, events=("start", "end")):
        if root is None:
            root = node
        if event == "end" and node.tag == si:
            parts = []
            for child in node:
                if child.tag == t:
                    parts.append(child.text or "")
                elif child.tag == r:
                    parts.append(child.findtext(t) or "")
            strings.append("".join(parts).replace("x005F_", ""))
            root.clear()
            if len(strings) > limit:
                raise too_large(f"共享字符串表超过 {limit} 项 (more than {limit} shared strings)")
    return strings


def sheet_rows(fh: BinaryIO, limits: Limits = LIMITS) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of the first worksheet, every row from row 1 on: a row missing
    from the file is given as ``(n, [])`` (so that whoever counts rows counts it), a row given
    twice or out of order as it comes.  Values as openpyxl reads them with ``data_only`` (dates
    as datetimes); a row's list ends at its last cell.  Anything unreadable is ``not_readable``."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHARED_STRINGS

    try:
        # What load_workbook(read_only=True) does, less the parts not needed for values (properties,
        # theme, names) and less its worksheet objects, which parse a sheet without a <dimension>
        # whole just to size it.  The styles are read for the date formats.
        reader = ExcelReader(fh, read_only=True, data_only=True)
        reader.read_manifest()
        sst = reader.package.find(SHARED_STRINGS)
        if sst is not None:
            with reader.archive.open(sst.PartName[1:]) as src:
                reader.shared_strings = _shared_strings(src, limits.shared_strings)
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        wb = reader.wb
        target = next((rel.target for _sheet, rel in reader.parser.find_sheets()
                       if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
    except (InputError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 — whatever openpyxl or zipfile raise on a malformed part
        raise _refusal(e) from None
    if target is None:
        raise InputError([Problem("file", "工作簿中没有工作表 (the workbook has no worksheet)")])
    with reader.archive.open(target) as src:
        parser = WorkSheetParser(src, reader.shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        rows = parser.parse()
        expected = 1
        while True:
            try:
                item = next(rows, None)
            except (InputError, MemoryError):
                raise
            except Exception as e:  # noqa: BLE001 — a malformed row or cell
                raise _refusal(e) from None
            if item is None:
                return
            n, cells = item
            while expected < n:             # rows the file leaves out, one by one: the reader stops at its cap
                yield expected, []
                expected += 1
            expected = max(expected, n + 1)
            yield n, _values(n, cells, limits.columns)


def _values(n: int, cells: list[dict], columns: int) -> list[Any]:
    width = 0
    for c in cells:
        if c["value"] is not None:
            if c["column"] > columns:
                raise InputError([Problem("file", f"第 {n} 行超过 {columns} 列 (row {n} has more than {columns} columns)")])
            width = max(width, c["column"])
    out: list[Any] = [None] * width
    for c in cells:
        if c["value"] is not None:
            out[c["column"] - 1] = c["value"]
    return out


# ---------------------------------------------------------------- 2. the worker process

# Imported once by the fork server, not by each worker: what the parse functions of app.formats.excel use.
PRELOAD = ["app.formats.excel", "app.schemas.tax"]
WORKER_NICE = 10
_CONTEXT: Any = None
_SLOTS: threading.BoundedSemaphore | None = None
_LOCK = threading.Lock()


def _context() -> Any:
    """A fork server: each worker is forked from a small process that has imported ``PRELOAD``
    once — not from the server (its threads, its heap, its database connections)."""
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _CONTEXT = ctx
        return _CONTEXT


def _slots(limits: Limits) -> threading.BoundedSemaphore:
    global _SLOTS
    with _LOCK:
        if _SLOTS is None:
            _SLOTS = threading.BoundedSemaphore(limits.parses)
        return _SLOTS


def _cap_memory(extra: int) -> None:
    """Address space: what the worker has now plus ``extra``; an allocation beyond fails (MemoryError)."""
    import resource

    try:
        with open("/proc/self/statm") as f:
            now = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    resource.setrlimit(resource.RLIMIT_AS, (now + extra, now + extra))


def _memory_problem(limits: Limits) -> TooLarge:
    return too_large(f"读取工作簿所需内存超过上限 {_mib(limits.memory_bytes)} MiB "
                     f"(reading the workbook needs more than {limits.memory_bytes} bytes of memory)")


def _work(path: str, parse: Callable[..., Any], args: tuple, limits: Limits, conn: Any) -> None:
    """In the worker: ``parse(sheet_rows(file), *args)``; its result, or the refusal, goes back on ``conn``."""
    try:
        # Reading a workbook is background work: where CPUs are short, the server's own
        # threads (its event loop, /healthz) go first.
        os.nice(WORKER_NICE)
        _cap_memory(limits.memory_bytes)
        with open(path, "rb") as fh:
            answer: tuple = ("ok", parse(sheet_rows(fh, limits), *args))
    except TooLarge as e:
        answer = (413, e.problems)
    except InputError as e:
        answer = (422, e.problems)
    except MemoryError:
        answer = (413, None)
    except Exception as e:  # noqa: BLE001 — a bug in ``parse``: the server answers 500 with it
        answer = ("error", f"{type(e).__name__}: {e}")
    try:
        conn.send(answer)
    except MemoryError:
        conn.send((413, None))
    finally:
        conn.close()


def read(data: bytes, parse: Callable[..., T], *args: Any, limits: Limits = LIMITS) -> T:
    """``parse(rows, *args)`` of the first worksheet of ``data``, run in a worker process after
    ``check_archive``; ``rows`` is ``sheet_rows``.  ``parse`` must be a module-level function and
    its result picklable.  Blocks (call it from a thread, not the event loop)."""
    check_archive(data, limits)
    ctx = _context()
    with _slots(limits), tempfile.NamedTemporaryFile(prefix="standard-land-", suffix=".xlsx") as tmp:
        tmp.write(data)
        tmp.flush()
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_work, args=(tmp.name, parse, args, limits, send), daemon=True,
                           name="standard-land-xlsx")
        proc.start()
        send.close()
        try:
            if not receive.poll(limits.seconds):
                raise too_large(f"读取工作簿超过 {limits.seconds:g} 秒，已中止 "
                                f"(reading the workbook took longer than {limits.seconds:g} s)")
            try:
                status, payload = receive.recv()
            except EOFError:        # died without a word: an allocation failed where Python could not raise
                raise _memory_problem(limits) from None
        finally:
            receive.close()
            if proc.is_alive():
                proc.join(1)
            if proc.is_alive():
                proc.kill()
            proc.join()
    if status == "ok":
        return payload
    if status == 413:
        raise TooLarge(payload) if payload else _memory_problem(limits)
    if status == 422:
        raise InputError(payload)
    raise RuntimeError(f"reading the workbook failed: {payload}")
