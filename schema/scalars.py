"""Scalars that hand raw input to the services, so a bad value is a coded error naming its field."""

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import NewType
from zoneinfo import ZoneInfo

import strawberry
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

Tonnes = NewType("Tonnes", int)
Ratio = NewType("Ratio", Decimal)
Quantity = NewType("Quantity", Decimal)


def _plain(value: object) -> str:
    """A decimal without exponent or trailing zeros: 1457.1000 -> "1457.1", 1E+3 -> "1000"."""
    number = Decimal(str(value)).normalize()
    return format(number, "f")


SCALARS: dict[object, ScalarDefinition] = {
    Tonnes: strawberry.scalar(
        name="Tonnes",
        description=(
            "Whole tonnes of CO2 (1 allowance = 1 tCO2). Output: a JSON number. Input: a number or a "
            "numeric string; a negative, fractional or non-numeric value gets a NEGATIVE_QUANTITY or "
            "INVALID_QUANTITY error naming the field."
        ),
        serialize=int,
        parse_value=lambda value: value,
    ),
    Ratio: strawberry.scalar(
        name="Ratio",
        description=(
            'A fraction between 0 and 1 with at most 4 decimals, as a string ("0.05") to keep it exact. '
            "Input also accepts a number; a bad value gets INVALID_RATIO."
        ),
        serialize=lambda value: format(Decimal(value), "f"),
        parse_value=lambda value: value,
    ),
    Quantity: strawberry.scalar(
        name="Quantity",
        description=(
            "An exact decimal quantity (energy, output, tonnes of standard coal, a factor). Output: a "
            'string ("1457.1") so no digit is lost. Input: a string or a number; a bad value gets a '
            "coded error (INVALID_QUANTITY, NEGATIVE_QUANTITY...) naming the field."
        ),
        serialize=_plain,
        parse_value=lambda value: value,
    ),
}


def date_time(timezone: str) -> ScalarDefinition:
    """DateTime, every value given in `timezone`'s offset (CCMS_TIMEZONE): a deadline sent as
    +08:00 comes back as +08:00, and a console or a person reads the local time as it is."""
    zone = ZoneInfo(timezone)

    def serialize(value: datetime) -> str:
        return value.astimezone(zone).isoformat()

    return dataclasses.replace(
        DateTimeDefinition,
        description=(
            "An instant, ISO 8601 with its UTC offset. Output is in the server's CCMS_TIMEZONE "
            "(Asia/Shanghai by default: 2027-12-31T23:59:59+08:00). Input must carry an offset; any "
            "offset is accepted and means the same instant."
        ),
        serialize=serialize,
    )
