"""Units and conversions to each energy type's canonical unit.

The tables live in services/reference/units.csv and energy_types.csv: a unit
belongs to a dimension (electricity, gas volume, mass, heat) with a factor to
that dimension's base. A quantity converts only within its type's dimension,
so kWh of diesel is refused as clearly as an unknown unit is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from services.errors import ErrorCode, ServiceError

REFERENCE = Path(__file__).parent / "reference"


@dataclass(frozen=True)
class Unit:
    name: str
    dimension: str
    factor: Decimal  # to the dimension's base unit


def normalise(unit: str) -> str:
    return "".join(unit.split()).replace("³", "3").lower()


@cache
def units() -> dict[str, Unit]:
    table: dict[str, Unit] = {}
    with open(REFERENCE / "units.csv", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            unit = Unit(row["unit"], row["dimension"], Decimal(row["factor"]))
            for name in [row["unit"], *filter(None, row["aliases"].split("|"))]:
                table[normalise(name)] = unit
    return table


@cache
def extra_units() -> dict[str, dict[str, Decimal]]:
    """Per energy type, units outside its dimension with a fixed factor (1 m3 of water = 1 t)."""
    table: dict[str, dict[str, Decimal]] = {}
    with open(REFERENCE / "energy_types.csv", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            pairs = (item.split(":") for item in filter(None, row["extra_units"].split("|")))
            table[row["code"]] = {normalise(name): Decimal(factor) for name, factor in pairs}
    return table


def to_canonical(
    energy_type: str, canonical_unit: str, quantity: Decimal, unit: str, field: str = "unit"
) -> Decimal:
    """`quantity` in `unit`, expressed in the energy type's canonical unit."""
    key = normalise(unit)
    if factor := extra_units().get(energy_type, {}).get(key):
        return quantity * factor
    known = units().get(key)
    if known is None:
        raise ServiceError(ErrorCode.UNKNOWN_UNIT, "unknown unit {unit!r}", field, params={"unit": unit})
    target = units()[normalise(canonical_unit)]
    if known.dimension != target.dimension:
        raise ServiceError(
            ErrorCode.INCOMPATIBLE_UNIT,
            "{energy_type} is measured in {canonical_unit}; {unit!r} ({dimension}) cannot be converted",
            field,
            params={
                "energy_type": energy_type,
                "canonical_unit": canonical_unit,
                "unit": unit,
                "dimension": known.dimension,
            },
        )
    return quantity * known.factor / target.factor


def same_unit(unit: str, expected: str) -> bool:
    """For products, which are kept in one unit: accept its aliases, nothing else."""
    known, target = units().get(normalise(unit)), units().get(normalise(expected))
    return normalise(unit) == normalise(expected) or (known is not None and known == target)
