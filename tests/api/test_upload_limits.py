"""Uploaded workbooks cannot take the service down (issue 10, item 2).

Each hostile workbook is generated here (tests/xlsx_bombs.py) and sent where users send
workbooks — the three upload routes and ``standard-land check FILE.xlsx`` — and each is refused
with 413 (too large to read) or 422 (not a workbook, too many rows) and a Chinese message, with
nothing stored.  One test runs a real server and polls /healthz while a hostile workbook is read.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile

import httpx

from indicators.identifiers import synthetic_uscc
from tests import xlsx_bombs as xb
from tests.cli.test_cli import run as run_cli
from tests.trust_support import Server, scratch_database

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TAX_CAP = 100_000          # rows below the header of a tax sheet (one JSON batch takes 100,000 records)
PROPOSAL_CAP = 10_000


def _code(uid: str, n: int = 0) -> str:
    org = (uid[:5].upper() + str(n)).translate(str.maketrans("IOSVZ", "10572"))
    return synthetic_uscc(org8=("XU" + org)[:8])


def _tax(client, data: bytes, batch_id: str):
    return client.post(f"/v1/tax-records:xlsx?batch_id={batch_id}", files={"file": ("t.xlsx", data, XLSX)})


def _nothing_stored(client, batch_id: str, *codes: str) -> None:
    assert client.get(f"/v1/tax-records/batches/{batch_id}").status_code == 404
    for code in codes:
        assert client.get("/v1/tax-records", params={"uscc": code}).json()["records"] == []


def _refused(r, status: int, *words: str) -> str:
    assert r.status_code == status, r.text[:500]
    (problem,) = r.json()["detail"]
    assert problem["path"] == "file"
    for w in words:
        assert w in problem["msg"], problem["msg"]
    return problem["msg"]


def _rows_below_header(total: int, code: str) -> bytes:
    """A tax sheet with ``total`` rows below its header: two records, 500 blank rows left out of
    the file (as spreadsheet programs do), 500 blank rows written as formatted empty rows, and
    合计 rows for the rest."""
    head = [f'<row r="1">{"".join(xb.cell(v) for v in xb.TAX_HEADER)}</row>',
            f'<row r="2">{"".join(xb.cell(v) for v in [code, 2024, 450, 90])}</row>',
            f'<row r="3">{"".join(xb.cell(v) for v in [code, 2025, 480, 0])}</row>']
    empty = [f'<row r="{i}" ht="20" customHeight="1"/>' for i in range(504, 1004)]
    summary = (f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(1004, total + 2))
    return xb.workbook([*head, *empty, *summary], strings=["合计"])


# ---------------------------------------------------------------- rows

def test_every_row_below_the_header_counts_against_the_cap(client, uid):
    """Blank and 合计 rows count: a sheet of exactly the cap is read, one row more is 422 and
    nothing of it is stored (before: they were skipped first, so millions of them were read)."""
    code = _code(uid)
    over = _tax(client, _rows_below_header(TAX_CAP + 1, code), f"cap-over-{uid}")
    _refused(over, 422, f"超过 {TAX_CAP} 行", "空行和合计行也计入")
    _nothing_stored(client, f"cap-over-{uid}", code)
    at = _tax(client, _rows_below_header(TAX_CAP, code), f"cap-at-{uid}")
    assert at.status_code == 201, at.text[:500]
    assert at.json()["count"] == 2


def test_a_proposal_sheet_is_capped_at_one_batch(client):
    """A proposal sheet takes as many rows as POST /v1/checks/proposal:batch takes items."""
    header = ["编号", "审查日期", "行政区划代码", "行业代码", "用地面积（亩）"]
    data = xb.summary_rows(PROPOSAL_CAP + 1, header=header, real=[["A-1", "2024-03-01", "411200", "32", 90]])
    before = client.get("/v1/decisions/verify").json()["checked"]
    r = client.post("/v1/checks/proposal:xlsx", files={"file": ("p.xlsx", data, XLSX)})
    _refused(r, 422, f"超过 {PROPOSAL_CAP} 行")
    assert client.get("/v1/decisions/verify").json()["checked"] == before


# ---------------------------------------------------------------- the archive

def test_a_zip_bomb_is_413_on_every_upload_route(client, uid):
    """200,000 identical rows compressed ~340:1: refused from the archive's directory, before
    inflating anything — by each route that reads a workbook."""
    bomb = xb.zip_bomb(200_000)
    pid = f"ul-park-{uid}"
    park = {"id": pid, "name": "上传限制园区", "name_valid_from": "2021-01-01", "jurisdiction": "411200",
            "planned_area": {"value": 500, "unit": "亩"}}
    assert client.post("/v1/parks:import", json={"park": park, "parcels": []}).status_code == 201
    before = client.get("/v1/decisions/verify").json()["checked"]
    for url in (f"/v1/tax-records:xlsx?batch_id=bomb-{uid}", "/v1/checks/proposal:xlsx", f"/v1/parks/{pid}/parcels:xlsx"):
        r = client.post(url, files={"file": ("b.xlsx", bomb, XLSX)})
        msg = _refused(r, 413, "压缩比", "疑似压缩炸弹")
        assert r.json()["detail"][0]["type"] == "too_large" and "xl/worksheets/sheet1.xml" in msg
    _nothing_stored(client, f"bomb-{uid}")
    assert client.get("/v1/decisions/verify").json()["checked"] == before
    assert client.get("/v1/parcels/1").status_code == 404          # the bomb's rows: code 1, area 2


def test_a_shared_strings_bomb_is_413(client, uid):
    """2,000,000 one-letter shared strings (34 MB of XML in 80 KB): openpyxl loads the whole
    table before the first row; refused by its compression ratio."""
    r = _tax(client, xb.shared_strings_bomb(2_000_000), f"sst-{uid}")
    _refused(r, 413, "xl/sharedStrings.xml", "压缩比")
    _nothing_stored(client, f"sst-{uid}")


def test_a_shared_strings_table_of_too_many_entries_is_413(client, uid):
    """500,001 different strings compress only ~9:1, so the archive passes; the table is read
    with a count limit."""
    r = _tax(client, xb.distinct_strings(500_001), f"sst-n-{uid}")
    _refused(r, 413, "共享字符串表超过 500000 项")
    _nothing_stored(client, f"sst-n-{uid}")


def test_too_many_parts_is_413(client, uid):
    r = _tax(client, xb.many_parts(1001), f"parts-{uid}")
    _refused(r, 413, "部件超过 1000 个")
    _nothing_stored(client, f"parts-{uid}")


def test_a_huge_single_part_is_413(client, uid):
    """One part that inflates to 257 MiB at only ~27:1 (10 MB uploaded): refused by its size."""
    r = _tax(client, xb.huge_part(257 * 1024 * 1024), f"huge-{uid}")
    _refused(r, 413, "xl/media/image1.bin", "解压后 257 MiB", "超过上限 256 MiB")
    _nothing_stored(client, f"huge-{uid}")


def _no_worksheet() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{xb.MAIN}"><sheets/></workbook>')
    return buf.getvalue()


def test_what_is_not_a_workbook_is_422(client, uid):
    """Not a zip, a truncated workbook, a workbook without a worksheet (before: a 500)."""
    good = xb.workbook([xb.row(xb.TAX_HEADER), xb.row([_code(uid), 2024, 1, 0])])
    cases = [(b"not a spreadsheet", "不是有效的 .xlsx 文件"), (good[: len(good) // 2], "不是有效的 .xlsx 文件"),
             (_no_worksheet(), "工作簿中没有工作表")]
    for i, (data, words) in enumerate(cases):
        r = _tax(client, data, f"junk-{i}-{uid}")
        _refused(r, 422, words)
        _nothing_stored(client, f"junk-{i}-{uid}")


def test_the_command_line_reads_workbooks_the_same_way(tmp_path):
    """``standard-land check FILE.xlsx``: the same reader, exit 2 with the message."""
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(xb.zip_bomb(200_000))
    r = run_cli("check", str(bomb), db=f"sqlite:///{tmp_path / 'cli.db'}")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "疑似压缩炸弹" in r.stdout + r.stderr
    many = tmp_path / "many.xlsx"
    many.write_bytes(xb.summary_rows(PROPOSAL_CAP + 1, header=["编号", "审查日期"]))
    r = run_cli("check", str(many), db=f"sqlite:///{tmp_path / 'cli.db'}")
    assert r.returncode == 2 and f"超过 {PROPOSAL_CAP} 行" in r.stdout + r.stderr, r.stdout + r.stderr


def test_the_reader_is_stopped_at_its_memory_and_time_limits(tmp_path, monkeypatch):
    """The worker's last lines of defence, set lower through their configuration: a table of
    400,000 shared strings (under the count limit) needs more than 16 MiB; reading it takes
    longer than 0.2 s."""
    data = tmp_path / "strings.xlsx"
    data.write_bytes(xb.distinct_strings(400_000))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STANDARD_LAND_XLSX_MEMORY_BYTES", str(16 * 1024 * 1024))
    r = run_cli("check", str(data), db=db)
    assert r.returncode == 2 and "读取工作簿所需内存超过上限 16 MiB" in r.stdout + r.stderr, r.stdout + r.stderr
    monkeypatch.delenv("STANDARD_LAND_XLSX_MEMORY_BYTES")
    monkeypatch.setenv("STANDARD_LAND_XLSX_SECONDS", "0.2")
    r = run_cli("check", str(data), db=db)
    assert r.returncode == 2 and "读取工作簿超过 0.2 秒，已中止" in r.stdout + r.stderr, r.stdout + r.stderr


# ---------------------------------------------------------------- a real server stays responsive

def test_healthz_answers_within_a_second_while_a_hostile_workbook_is_read(tmp_path):
    """1,000,000 rows of 合计 (5 MB): read by a worker process, not on the event loop, so /healthz
    keeps answering (before: the server answered nothing until the whole sheet was read)."""
    data = xb.summary_rows(1_000_000)
    with scratch_database(tmp_path, "uploads") as url:
        server = Server(url, tmp_path / "server.log").start()
        try:
            answer: dict = {}

            def upload() -> None:
                try:
                    with httpx.Client(timeout=120) as c:
                        answer["r"] = c.post(f"{server.base}/v1/tax-records:xlsx?batch_id=hz-1",
                                             files={"file": ("t.xlsx", data, XLSX)})
                except httpx.HTTPError as e:
                    answer["error"] = e

            latencies: list[float] = []
            t = threading.Thread(target=upload)
            with httpx.Client(timeout=5) as probe:
                assert probe.get(f"{server.base}/healthz").status_code == 200
                t.start()
                while t.is_alive() and len(latencies) < 2000:
                    start = time.perf_counter()
                    try:
                        status = probe.get(f"{server.base}/healthz", timeout=1.0).status_code
                    except httpx.TimeoutException:
                        status = None
                    latencies.append(time.perf_counter() - start)
                    assert status == 200 and latencies[-1] < 1.0, \
                        f"/healthz took {latencies[-1]:.2f} s (answer {status}) during the upload"
                    time.sleep(0.05)
            t.join(120)
            assert len(latencies) >= 5, latencies          # the probes did overlap the upload
            r = answer["r"]
            _refused(r, 422, f"超过 {TAX_CAP} 行")
            assert httpx.get(f"{server.base}/v1/tax-records/batches/hz-1").status_code == 404
        finally:
            server.stop()
