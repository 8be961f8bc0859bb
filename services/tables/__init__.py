"""Uploaded tables, as (row number, row) pairs for the importers: CSV or an Excel workbook.

`open_table` looks at the first bytes: a zip archive is a .xlsx workbook (services/tables/
workbook.py), anything else is CSV text in UTF-8 or GB18030 (services/tables/csv_file.py and
encoding.py). Either way rows come with the number a spreadsheet shows, and the header row
must name the importer's columns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from services.errors import ErrorCode, ServiceError
from services.tables.csv_file import MAX_LINE, UNREADABLE, csv_rows, csv_values
from services.tables.encoding import charset_of
from services.tables.workbook import Limits, Workbook, spool

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003
Rows = AsyncIterator[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class Table:
    rows: Rows
    sheet: str | None = None  # the worksheet read, for a workbook


@dataclass(frozen=True)
class Values:
    """A table read without a header: each row's cells in order."""

    rows: AsyncIterator[tuple[int, list[str]]]
    sheet: str | None = None


async def open_table(
    chunks: AsyncIterator[bytes],
    columns: tuple[str, ...],
    *,
    content_type: str | None = None,
    sheet: str | None = None,
    limits: Limits,
) -> Table:
    """The rows of an uploaded body. A workbook is read whole before this returns (its index is
    at its end); CSV is decoded as it streams, and its encoding errors come as rows are read."""
    body, workbook = await _open(chunks, content_type, sheet, limits)
    if workbook is not None:
        return Table(workbook.rows(columns), workbook.sheet)
    return Table(csv_rows(body, columns, charset=charset_of(content_type)))


async def open_values(
    data: bytes, *, content_type: str | None = None, sheet: str | None = None, limits: Limits
) -> Values:
    """A small uploaded table (already in memory) as rows of cells, CSV or workbook alike."""
    body, workbook = await _open(_chained(data, _nothing()), content_type, sheet, limits)
    if workbook is not None:
        return Values(workbook.values(), workbook.sheet)
    return Values(csv_values(body, charset=charset_of(content_type)))


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


async def _open(
    chunks: AsyncIterator[bytes], content_type: str | None, sheet: str | None, limits: Limits
) -> tuple[AsyncIterator[bytes], Workbook | None]:
    """The body, and the workbook if it is one."""
    stream = chunks.__aiter__()
    head = b""
    async for chunk in stream:
        head += chunk
        if len(head) >= len(_ZIP):
            break
    body = _chained(head, stream)
    media = (content_type or "").split(";")[0].strip().lower()
    if head.startswith(_ZIP) or media == XLSX_TYPE:
        return body, Workbook(await spool(body, limits), limits, sheet)
    if head.startswith(_OLE):
        raise ServiceError(
            ErrorCode.INVALID_SPREADSHEET,
            "the old binary .xls format is not read: save the sheet as .xlsx or CSV",
            "file",
        )
    return body, None


async def _chained(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if head:
        yield head
    async for chunk in rest:
        yield chunk


__all__ = [
    "MAX_LINE",
    "UNREADABLE",
    "XLSX_TYPE",
    "Limits",
    "Table",
    "Values",
    "csv_rows",
    "open_table",
    "open_values",
]
