"""Parsing of the loosely typed values clients send: tonnes, ratios, years, text.

GraphQL scalars hand these over raw so that a bad value becomes a coded error
naming the field, not a parser message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from services.errors import ErrorCode, ServiceError

# Plain ASCII decimals only: Decimal() would also take "5_000" or full-width digits.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_TONNES = 10**12  # far above any real allowance, far below a BIGINT
MAX_ID = 2**31 - 1  # primary keys are 32-bit INTEGER columns; a larger id is an error on PostgreSQL

# A number as a client sent it (JSON number, string, or a Decimal from the CLI): parsed here.
Raw = str | int | float | Decimal


def whole_tonnes(value: Raw, field: str) -> int:
    """Whole tonnes of CO2, >= 0. Accepts an int or a numeric string ("1200", "1200.0")."""
    if isinstance(value, bool) or (isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip())):
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY,
            "{field} must be a number of tonnes, not {value!r}",
            field,
            params={"field": field, "value": value},
        )
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY,
            "{field} must be a number of tonnes, not {value!r}",
            field,
            params={"field": field, "value": value},
        ) from None
    if not number.is_finite():
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} must be a finite number", field, params={"field": field}
        )
    if number < 0:
        raise ServiceError(
            ErrorCode.NEGATIVE_QUANTITY, "{field} must not be negative", field, params={"field": field}
        )
    if number != number.to_integral_value():
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY,
            "{field} must be whole tonnes (1 allowance = 1 tCO2)",
            field,
            params={"field": field},
        )
    if number > MAX_TONNES:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} is implausibly large", field, params={"field": field}
        )
    return int(number)


def ratio(value: Raw, field: str) -> Decimal:
    """A fraction between 0 and 1 with at most 4 decimals (e.g. the 0.05 offset cap)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(
            ErrorCode.INVALID_RATIO,
            "{field} must be a number between 0 and 1",
            field,
            params={"field": field},
        ) from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise ServiceError(
            ErrorCode.INVALID_RATIO, "{field} must be between 0 and 1", field, params={"field": field}
        )
    if number != number.quantize(Decimal("0.0001")):
        raise ServiceError(
            ErrorCode.INVALID_RATIO, "{field} allows at most 4 decimals", field, params={"field": field}
        )
    return number


def year(value: int, field: str = "year") -> int:
    if not 2000 <= value <= 2100:
        raise ServiceError(
            ErrorCode.INVALID_YEAR, "{field} must be between 2000 and 2100", field, params={"field": field}
        )
    return value


def aware(value: datetime, field: str) -> datetime:
    """Deadlines are instants: a time without a UTC offset is ambiguous (Beijing or UTC?).

    An instant past year 9999 in UTC (9999-12-31T23:59:59-12:00) exists in no datetime or
    database column: refused here, before any comparison or write overflows."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ServiceError(
            ErrorCode.INVALID_DATETIME,
            "{field} needs a UTC offset, e.g. 2026-12-31T23:59:59+08:00",
            field,
            params={"field": field},
        )
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ServiceError(
            ErrorCode.INVALID_DATETIME, "{field} is out of range", field, params={"field": field}
        ) from None
    return value


def no_nul(value: str, field: str) -> str:
    """PostgreSQL cannot store U+0000 in text (SQLite can): refuse it the same on both."""
    if "\x00" in value:
        raise ServiceError(
            ErrorCode.INVALID_CHARACTER, "{field} contains a NUL character", field, params={"field": field}
        )
    return value


def text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ServiceError(ErrorCode.REQUIRED, "{field} is required", field, params={"field": field})
    if len(cleaned) > max_length:
        raise ServiceError(
            ErrorCode.TOO_LONG,
            "{field} is longer than {max_length} characters",
            field,
            params={"field": field, "max_length": max_length},
        )
    return cleaned
