"""Excel workbooks (.xlsx) as rows, read with openpyxl in read-only mode.

A .xlsx file is a zip archive whose directory is at its end, so the upload is spooled to a
temporary file (in memory up to SPOOL_IN_MEMORY, then on disk) before it is opened; the sheet
itself is then read streaming, row by row, in a worker thread a batch at a time so the event
loop stays free. Memory stays flat whatever the sheet's length.

The first worksheet is read unless the client names another; its first row is the header, and
rows are numbered as Excel shows them. Cells become the text a CSV of the same sheet would hold:
whole numbers without ".0", dates as YYYY-MM-DD, or YYYY-MM when the cell shows no day (Excel
turns a typed "2024-03" into the first of March shown as a month).
"""

from __future__ import annotations

import asyncio
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from services.errors import ErrorCode, ServiceError
from services.tables.csv_file import header_columns

SPOOL_IN_MEMORY = 4 * 1024 * 1024
BATCH = 500  # rows read per trip to the worker thread


@dataclass(frozen=True)
class Limits:
    """What a workbook may weigh: as uploaded, and unpacked (a small zip can unpack to gigabytes)."""

    max_bytes: int
    max_unpacked_bytes: int


async def spool(chunks: AsyncIterator[bytes], limits: Limits) -> IO[bytes]:
    """The upload in a temporary file, refused beyond `limits.max_bytes`."""
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by the reader)
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limits.max_bytes:
                raise ServiceError(
                    ErrorCode.DOCUMENT_TOO_LARGE,
                    "a workbook may have at most {limit:,} bytes; send a CSV file for more",
                    "file",
                    params={"limit": limits.max_bytes},
                )
            file.write(chunk)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


class Workbook:
    """One sheet of an uploaded workbook, opened; iterate `rows()` once, then it is closed."""

    def __init__(self, file: IO[bytes], limits: Limits, sheet: str | None) -> None:
        self.file = file
        try:
            with zipfile.ZipFile(file) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
            file.seek(0)
            if unpacked > limits.max_unpacked_bytes:
                raise _invalid(
                    f"the workbook unpacks to {unpacked:,} bytes, over {limits.max_unpacked_bytes:,}"
                )
            self.book = load_workbook(file, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
            file.close()
            raise _invalid(f"the file is not a readable .xlsx workbook ({type(error).__name__})") from None
        except ServiceError:
            file.close()
            raise
        names = self.book.sheetnames
        if sheet is not None and sheet not in names:
            self.close()
            raise _invalid(f"the workbook has no sheet {sheet!r}; its sheets are {', '.join(names)}", "sheet")
        if not names:
            self.close()
            raise _invalid("the workbook has no sheet")
        self.sheet = sheet if sheet is not None else names[0]

    def close(self) -> None:
        self.book.close()
        self.file.close()

    def _cells(self) -> Iterator[tuple[Any, ...]]:
        worksheet = self.book[self.sheet]
        worksheet.reset_dimensions()  # trust the cells, not a dimension some writers get wrong
        yield from worksheet.iter_rows()

    def _batch(self, cells: Iterator[tuple[Any, ...]], before: int) -> list[tuple[Any, ...]]:
        """The next rows. The sheet's XML is parsed as it is read, so a workbook that opened can
        still break here (truncated or malformed XML, a bad shared string): that is the file's
        fault, whatever the parser raised, and is said so rather than answered with a 500."""
        batch = []
        try:
            for row in cells:
                batch.append(row)
                if len(batch) == BATCH:
                    break
        except Exception as error:
            raise _invalid(
                f"row {before + len(batch) + 1} of sheet {self.sheet!r} cannot be read ({type(error).__name__})"
            ) from None
        return batch

    async def values(self) -> AsyncIterator[tuple[int, list[str]]]:
        """(row number, cell texts) of every row that is not empty."""
        cells = self._cells()
        number = 0
        try:
            while batch := await asyncio.to_thread(self._batch, cells, number):
                for row in batch:
                    number += 1
                    values = [_text(cell) for cell in row]
                    if any(values):
                        yield number, values
        finally:
            await asyncio.to_thread(self.close)

    async def rows(self, columns: tuple[str, ...]) -> AsyncIterator[tuple[int, dict[str, str]]]:
        """(row number, row) pairs after the header row (the first row that is not empty)."""
        header: list[str] | None = None
        async for number, values in self.values():
            if header is None:
                header = header_columns(values, columns)
            else:
                yield number, dict(zip(header, values, strict=False))


def _text(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime | date):
        shown = (getattr(cell, "number_format", None) or "").lower()
        if "d" not in shown.replace("[red]", ""):
            return f"{value.year:04d}-{value.month:02d}"
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return str(value).strip() if isinstance(value, str) else str(value)


def _invalid(message: str, field: str = "file") -> ServiceError:
    return ServiceError(ErrorCode.INVALID_SPREADSHEET, message, field)
