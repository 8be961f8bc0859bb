"""CSV files as rows, streamed: records found across chunks, quoted line breaks included.

A cell may hold a line break inside quotes (an address, a remark typed with Alt+Enter in
Excel), so a record can span several lines of the file: records are found by following the
quotes, and each complete record is handed to the csv module. Rows are numbered as a
spreadsheet shows them (the header is row 1, a record with a line break in a cell is one row,
a blank line is a row), which is what a user opening the file in Excel sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from services.errors import ErrorCode, ServiceError
from services.tables.encoding import Decoder, charset_of

MAX_LINE = 64 * 1024  # characters: far beyond any real row, and a bound on what one record holds in memory
# The key of a row that could not be read as one (a CSV line the csv module refuses, a JSON
# item that is not an object): its value says why, and the importer reports it with its line.
UNREADABLE = "(unreadable)"

# Where a record's text leaves the parser, as the csv module's default dialect reads it: a
# quote opens a quoted field only at the start of a field, and "" inside one is a quote.
_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def _scan(text: str, state: int) -> int:
    for char in text:
        if state == _QUOTED:
            if char == '"':
                state = _QUOTE_IN_QUOTED
        elif state == _QUOTE_IN_QUOTED:
            state = _QUOTED if char == '"' else _START if char == "," else _FIELD
        elif char == ",":
            state = _START
        elif char == '"' and state == _START:
            state = _QUOTED
        else:
            state = _FIELD
    return state


async def csv_records(texts: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    """(row number, text) of each record, without its final line break."""
    row = 0
    pending = ""  # the start of a record whose quoted field is still open
    buffer = ""
    async for text in texts:
        buffer += text
        *lines, buffer = buffer.split("\n")
        for line in lines:
            if pending:
                pending += "\n" + line
                if '"' not in line or _scan(line, _QUOTED) == _QUOTED:
                    _check_open(pending, row + 1)
                    continue
                line, pending = pending, ""
            elif '"' in line and _scan(line, _START) == _QUOTED:
                pending = line
                _check_open(pending, row + 1)
                continue
            row += 1
            yield row, line.removesuffix("\r")
        if len(buffer) > MAX_LINE:  # not a CSV of rows: refuse it before it fills the memory
            raise ServiceError(
                ErrorCode.INVALID_ROW,
                "line {line} is longer than {MAX_LINE:,} characters",
                "file",
                params={"line": row + 1, "MAX_LINE": MAX_LINE},
            )
    if pending or buffer.strip():
        row += 1
        yield row, (pending + "\n" + buffer if pending else buffer).removesuffix("\r")


def _check_open(pending: str, row: int) -> None:
    if len(pending) > MAX_LINE:
        raise ServiceError(
            ErrorCode.INVALID_ROW,
            "row {row}: a quoted cell is not closed within {MAX_LINE:,} characters",
            "file",
            params={"row": row, "MAX_LINE": MAX_LINE},
        )


async def csv_rows(
    chunks: AsyncIterator[bytes], columns: tuple[str, ...], *, charset: str | None = None
) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """Decode a CSV byte stream incrementally into (row number, row) pairs.

    The encoding is `charset` when the client declared one, else detected (UTF-8 with or
    without a BOM, or GB18030): see services/tables/encoding.py. The header must name every
    one of `columns`, in any order and any case; other columns are ignored.
    """
    header: list[str] | None = None
    async for row, text in csv_records(_decoded(chunks, Decoder(charset))):
        if header is None:
            header = _header(text, columns)
        elif (parsed := _parse(text, header)) is not None:
            yield row, parsed


async def csv_values(
    chunks: AsyncIterator[bytes], *, charset: str | None = None
) -> AsyncIterator[tuple[int, list[str]]]:
    """(row number, values) of every record that is not blank, for tables without a required
    header (a DIRECT table); a record the csv module cannot read has no values."""
    async for row, text in csv_records(_decoded(chunks, Decoder(charset))):
        if not text.strip():
            continue
        try:
            yield row, next(csv.reader(io.StringIO(text), strict=True))
        except csv.Error:
            yield row, []


async def _decoded(chunks: AsyncIterator[bytes], decoder: Decoder) -> AsyncIterator[str]:
    lines = 0
    async for chunk in chunks:
        if text := decoder.decode(chunk, lines):
            lines += text.count("\n")
            yield text
    if text := decoder.decode(b"", lines, final=True):
        yield text


def header_columns(names: list[str], columns: tuple[str, ...]) -> list[str]:
    """The header's names, cleaned, once every one of `columns` is among them."""
    header = [name.strip().lower() for name in names]
    if missing := [c for c in columns if c not in header]:
        raise ServiceError(
            ErrorCode.INVALID_ROW,
            "line 1: missing columns {missing}",
            "file",
            params={"missing": ", ".join(missing)},
        )
    return header


def _header(text: str, columns: tuple[str, ...]) -> list[str]:
    return header_columns(next(csv.reader([text]), []), columns)


def _parse(text: str, header: list[str]) -> dict[str, str] | None:
    if not text.strip():
        return None
    if len(text) > MAX_LINE:
        return {UNREADABLE: f"the line is longer than {MAX_LINE:,} characters"}
    try:
        values = next(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as error:  # a stray quote after a quoted cell, a field over the csv module's limit...
        return {UNREADABLE: f"not a CSV row: {error}"}
    return dict(zip(header, values, strict=False))


__all__ = ["MAX_LINE", "UNREADABLE", "charset_of", "csv_records", "csv_rows", "csv_values", "header_columns"]
