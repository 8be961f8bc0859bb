"""Uploaded tables: CSV in UTF-8 or GB18030, detected or declared, with quoted line breaks,
read as it streams; .xlsx workbooks read in read-only mode. Each file is generated here, and
the rows are compared with what the csv module (or the values written) says, read whole."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from openpyxl import Workbook

from services.errors import ErrorCode
from services.tables import UNREADABLE, Limits, Table, open_table
from tests.services.cycle import fails_with

COLUMNS = ("credit_code", "name", "quantity")
LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_unpacked_bytes=100 * 1024 * 1024)
PIECES = [
    "广州",
    "某某",
    "电厂",
    "有限公司",
    ",",
    '"',
    "\n",
    "\r\n",
    " ",
    "abc",
    "12.5",
    "万千瓦时",
    "€",
    "㐀",
]


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read(data: bytes, size: int = 7, content_type: str | None = None, **options: str) -> list[tuple[int, dict[str, str]]]:  # fmt: skip
    table = await open_table(chunks(data, size), COLUMNS, content_type=content_type, limits=LIMITS, **options)
    return [pair async for pair in table.rows]


def cell(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 5)))


def generated(seed: int, rows: int = 60) -> tuple[str, list[list[str]]]:
    """A CSV text written by the csv module (which quotes what needs quoting), and its records."""
    rng = random.Random(seed)
    records = [["Credit_Code", "name", "quantity", "remark"]]
    records += [[f"C{n}", cell(rng), str(rng.randint(0, 10**6)), cell(rng)] for n in range(rows)]
    out = io.StringIO()
    csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"])).writerows(records)
    return out.getvalue(), records


def expected(text: str) -> list[tuple[int, dict[str, str]]]:
    """The independent reading: the whole text through csv.DictReader, rows numbered from 2."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames is not None
    reader.fieldnames = [name.lower() for name in reader.fieldnames]
    return [(n, dict(r)) for n, r in enumerate(reader, start=2)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
@pytest.mark.parametrize("seed", range(4))
async def test_any_file_in_utf8_or_gb18030_reads_as_the_csv_module_reads_it_whole(encoding: str, seed: int) -> None:  # fmt: skip
    text, _ = generated(seed)
    if encoding == "gbk":
        text = text.replace("€", "").replace("㐀", "")  # not in GBK
    data = text.encode(encoding)
    want = expected(text)
    assert any("\n" in r["name"] or "\n" in r["remark"] for _, r in want)  # quoted line breaks are in play
    for size in (1, 2, 3, 5, 64, 4096, len(data)):
        assert await read(data, size) == want, size


async def test_a_gbk_file_whose_chinese_starts_late_is_still_detected() -> None:
    text = "credit_code,name,quantity\n" + "A,abc,1\n" * 3000 + "B,广州某电厂,2\n"
    rows = await read(text.encode("gbk"), 1000)
    assert rows[-1] == (3002, {"credit_code": "B", "name": "广州某电厂", "quantity": "2"})


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [("utf-8", "utf-8"), ("UTF8", "utf-8-sig"), ("gbk", "gbk"), ("GB2312", "gbk"), ('"gb18030"', "gb18030")],
)
async def test_a_declared_charset_is_used(charset: str, encoding: str) -> None:
    text = "credit_code,name,quantity\nA,深圳能源,3\n"
    rows = await read(text.encode(encoding), content_type=f"text/csv; charset={charset}")
    assert rows == [(2, {"credit_code": "A", "name": "深圳能源", "quantity": "3"})]


async def test_a_gbk_file_declared_utf8_is_refused_naming_the_encoding_and_line() -> None:
    data = "credit_code,name,quantity\nA,abc,1\nB,深圳能源,3\n".encode("gbk")
    with fails_with(ErrorCode.UNDECODABLE_FILE, "file") as refused:
        await read(data, content_type="text/csv; charset=utf-8")
    assert "line 3 is not valid UTF-8" in refused.value.message


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"credit_code,name,quantity\nA,\xff\xff,1\n", "line 2 is not valid UTF-8"),
        (
            b"credit_code,name,quantity\nA," + "能源".encode("gbk") + b"\xff,1\n",
            "line 2 is not valid GB18030",
        ),
        (b"credit_code,name,quantity\nA," + "能源".encode() + b",1\nB,\xff,2\n", "line 3 is not valid UTF-8"),
        ("credit_code,name,quantity\n".encode("utf-16"), "UTF-16"),
    ],
    ids=["neither", "gbk-then-junk", "utf8-then-junk", "utf16"],
)
async def test_an_undecodable_file_is_refused_whole(data: bytes, says: str) -> None:
    with fails_with(ErrorCode.UNDECODABLE_FILE, "file") as refused:
        await read(data)
    assert says in refused.value.message


async def test_an_unknown_charset_is_refused() -> None:
    with fails_with(ErrorCode.UNSUPPORTED_CHARSET, "file"):
        await read(b"credit_code,name,quantity\n", content_type="text/csv; charset=x-klingon")


async def test_a_quote_never_closed_makes_its_row_unreadable_not_the_rest() -> None:
    rows = await read(b'credit_code,name,quantity\nA,ok,1\nB,"open,2\nC,x,3')
    assert rows[0] == (2, {"credit_code": "A", "name": "ok", "quantity": "1"})
    assert rows[1][0] == 3 and UNREADABLE in rows[1][1]


def workbook(
    rows: list[list[object]], title: str = "企业名录", formats: dict[str, str] | None = None
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for values in rows:
        sheet.append(values)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    book.create_sheet("说明").append(["这一页不是数据"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_xlsx_workbook_is_read_as_its_cells_show_with_spreadsheet_row_numbers() -> None:
    data = workbook(
        [
            ["Credit_Code", "NAME", "quantity", "period"],
            ["A", "广州某电厂\n二期", 1500, datetime(2024, 3, 1)],
            [],
            ["B", "深圳能源", 12.25, datetime(2024, 3, 15)],
            ["C", None, 2024.0, "2024-05"],
        ],
        formats={"D2": "mmm-yy", "D4": "yyyy-mm-dd"},
    )
    table = await open_table(chunks(data, 1000), COLUMNS, limits=LIMITS)
    assert table.sheet == "企业名录"
    assert [pair async for pair in table.rows] == [
        (2, {"credit_code": "A", "name": "广州某电厂\n二期", "quantity": "1500", "period": "2024-03"}),
        (4, {"credit_code": "B", "name": "深圳能源", "quantity": "12.25", "period": "2024-03-15"}),
        (5, {"credit_code": "C", "name": "", "quantity": "2024", "period": "2024-05"}),
    ]


async def test_another_sheet_may_be_named_and_a_missing_one_is_refused() -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["nothing"])
    book.create_sheet("数据").append(["credit_code", "name", "quantity"])
    book["数据"].append(["A", "x", 1])
    out = io.BytesIO()
    book.save(out)
    assert await read(out.getvalue(), 4096, sheet="数据") == [
        (2, {"credit_code": "A", "name": "x", "quantity": "1"})
    ]
    with fails_with(ErrorCode.INVALID_SPREADSHEET, "sheet"):
        await read(out.getvalue(), 4096, sheet="Sheet9")
    with fails_with(ErrorCode.INVALID_ROW, "file"):  # the first sheet has no header of ours
        await read(out.getvalue(), 4096)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"PK\x03\x04 not really a zip", None),
        (b"credit_code,name,quantity\n", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls", None),
    ],
    ids=["broken-zip", "csv-declared-xlsx", "xls"],
)
async def test_a_file_that_is_no_workbook_is_refused(data: bytes, content_type: str | None) -> None:
    with fails_with(ErrorCode.INVALID_SPREADSHEET, "file"):
        await read(data, content_type=content_type)


async def test_a_workbook_over_the_limits_is_refused() -> None:
    data = workbook([["credit_code", "name", "quantity"], *[["A" * 50, "B" * 50, n] for n in range(2000)]])
    with fails_with(ErrorCode.DOCUMENT_TOO_LARGE, "file"):
        await open_table(chunks(data, 1000), COLUMNS, limits=Limits(len(data) - 1, 10**9))
    with fails_with(ErrorCode.INVALID_SPREADSHEET, "file") as refused:
        await open_table(chunks(data, 1000), COLUMNS, limits=Limits(len(data), len(data) * 2))
    assert "unpacks to" in refused.value.message


async def test_a_workbook_is_read_in_bounded_batches() -> None:
    data = workbook([["credit_code", "name", "quantity"], *[[f"C{n}", f"名{n}", n] for n in range(5000)]])
    table: Table = await open_table(chunks(data, 65536), COLUMNS, limits=LIMITS)
    rows = [pair async for pair in table.rows]
    assert rows == [
        (n + 2, {"credit_code": f"C{n}", "name": f"名{n}", "quantity": str(n)}) for n in range(5000)
    ]


async def test_a_workbook_whose_sheet_breaks_midway_is_refused_naming_the_row() -> None:
    data = workbook([["credit_code", "name", "quantity"], *[["A", "x", n] for n in range(50)]])
    original, broken = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        for info in original.infolist():
            content = original.read(info.filename)
            archive.writestr(
                info, content[: len(content) // 2] if info.filename.endswith("sheet1.xml") else content
            )
    with fails_with(ErrorCode.INVALID_SPREADSHEET, "file") as refused:
        await read(broken.getvalue(), 4096)
    assert "of sheet '企业名录' cannot be read" in refused.value.message
