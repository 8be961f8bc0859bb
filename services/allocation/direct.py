"""DIRECT tables uploaded as CSV or .xlsx: one `credit_code,amount` a row, read into the entries
of a DIRECT allocation (Parameters.direct), every bad row reported with its number. The file is
read as every import reads one (services/tables): UTF-8 or GB18030, quoted line breaks, or the
first sheet of a workbook."""

from __future__ import annotations

import asyncio

from models import Enterprise, Role
from services.access import Actor, enterprise_scope, require_role
from services.allocation.basis import per_chunk
from services.allocation.rules import MAX_DIRECT
from services.errors import ErrorCode, ServiceError
from services.i18n.render import Phrase
from services.rows import YIELD_EVERY, RowError
from services.tables import Limits, open_values
from services.values import whole_tonnes

MAX_TABLE_ERRORS = 100
HEADER_NAMES = {"credit_code", "统一社会信用代码"}  # a first row naming the code column is a header


class DirectTableError(ServiceError):
    """Bad lines of an uploaded DIRECT table, each with its line number (at most 100)."""

    def __init__(self, lines: list[RowError]) -> None:
        super().__init__(lines[0].code, f"{len(lines)} bad line(s) in the DIRECT table", "directCsv")
        self.lines = lines

    def parts(self) -> list[ServiceError]:
        return [
            ServiceError(
                line.code,
                "line {line}: {message}",
                self.field,
                params={
                    "line": line.line,
                    "message": Phrase(line.code, line.source or line.message, line.params),
                },
            )
            for line in self.lines
        ]


async def direct_table(
    actor: Actor, data: bytes, *, limits: Limits, content_type: str | None = None
) -> tuple[tuple[int, int], ...]:
    """A DIRECT table as CSV or .xlsx, one `credit_code,amount` a row (a header row naming
    credit_code or 统一社会信用代码 is optional),
    as (enterprise id, whole tonnes) entries for Parameters.direct.

    Credit codes are looked up within the actor's scope. Every bad line (malformed, bad
    amount, repeated or unknown enterprise) is reported with its number, and then no entry
    is returned: DirectTableError.
    """
    require_role(actor, Role.REGULATOR)
    table = await open_values(data, content_type=content_type, limits=limits)
    errors: list[RowError] = []
    entries: list[tuple[int, str, int]] = []  # (line, credit code, amount)
    first_line: dict[str, int] = {}
    started = False
    async for number, cells in table.rows:
        if number % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a table of 100,000 lines is seconds of parsing
        values = [value.strip() for value in cells]
        while values and not values[-1]:  # a workbook's row is as wide as its widest row
            values.pop()
        if not started:
            started = True
            if values and values[0].lower() in HEADER_NAMES:
                continue
        if len(values) != 2 or not values[0]:
            errors.append(RowError(number, ErrorCode.INVALID_ROW, None, "expected credit_code,amount"))
            continue
        code = values[0].upper()
        try:
            amount = whole_tonnes(values[1], "amount")
        except ServiceError as error:
            errors.append(RowError.of(number, error, "amount"))
            continue
        if (first := first_line.get(code)) is not None:
            errors.append(
                RowError.filled(
                    number,
                    ErrorCode.DUPLICATE_ENTERPRISE,
                    "credit_code",
                    "{code} repeats line {first}",
                    {"code": code, "first": first},
                )
            )
            continue
        first_line[code] = number
        entries.append((number, code, amount))
        if len(entries) > MAX_DIRECT:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS,
                "at most {MAX_DIRECT} lines",
                "directCsv",
                params={"MAX_DIRECT": MAX_DIRECT},
            )
    ids: dict[str, int] = dict(
        await per_chunk(
            list(first_line),
            lambda codes: Enterprise.filter(enterprise_scope(actor), credit_code__in=codes).values_list(
                "credit_code", "id"
            ),
        )
    )
    errors += [
        RowError.filled(
            number, ErrorCode.NOT_FOUND, "credit_code", "no enterprise {code} in your scope", {"code": code}
        )
        for number, code, _ in entries
        if code not in ids
    ]
    if errors:
        raise DirectTableError(sorted(errors, key=lambda e: e.line)[:MAX_TABLE_ERRORS])
    return tuple((ids[code], amount) for _, code, amount in entries)
