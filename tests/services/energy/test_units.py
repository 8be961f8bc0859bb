"""Units: every unit and alias converts to its energy type's canonical unit; anything else is refused."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from services.energy.units import REFERENCE, normalise, same_unit, to_canonical, units
from services.errors import ErrorCode
from tests.services.cycle import fails_with

CANONICAL = {
    "ELECTRICITY": "MWh",
    "NATURAL_GAS": "1e4Nm3",
    "DIESEL": "t",
    "PURCHASED_HEAT": "GJ",
    "WATER": "t",
}


def convert(energy_type: str, quantity: str, unit: str) -> Decimal:
    return to_canonical(energy_type, CANONICAL[energy_type], Decimal(quantity), unit)


@pytest.mark.parametrize(
    ("energy_type", "quantity", "unit", "expected"),
    [
        # electricity -> MWh
        ("ELECTRICITY", "1000", "kWh", "1"),
        ("ELECTRICITY", "1500", "千瓦时", "1.5"),
        ("ELECTRICITY", "2000", "度", "2"),
        ("ELECTRICITY", "3", "万千瓦时", "30"),
        ("ELECTRICITY", "3", "万kWh", "30"),
        ("ELECTRICITY", "3", "10^4kWh", "30"),
        ("ELECTRICITY", "3", "1e4kWh", "30"),
        ("ELECTRICITY", "7", "MWh", "7"),
        ("ELECTRICITY", "7", "兆瓦时", "7"),
        ("ELECTRICITY", "2", "GWh", "2000"),
        ("ELECTRICITY", "2", "百万千瓦时", "2000"),
        # natural gas -> 10^4 Nm3
        ("NATURAL_GAS", "10000", "m3", "1"),
        ("NATURAL_GAS", "25000", "m³", "2.5"),
        ("NATURAL_GAS", "25000", "Nm3", "2.5"),
        ("NATURAL_GAS", "25000", "Nm³", "2.5"),
        ("NATURAL_GAS", "25000", "立方米", "2.5"),
        ("NATURAL_GAS", "4", "万立方米", "4"),
        ("NATURAL_GAS", "4", "万Nm³", "4"),
        ("NATURAL_GAS", "4", "10^4Nm3", "4"),
        ("NATURAL_GAS", "4", "10^4m3", "4"),
        ("NATURAL_GAS", "1.5", "亿立方米", "15000"),
        # mass -> t
        ("DIESEL", "2500", "kg", "2.5"),
        ("DIESEL", "2500", "公斤", "2.5"),
        ("DIESEL", "12", "吨", "12"),
        ("DIESEL", "12", "tonnes", "12"),
        ("DIESEL", "1.2", "万吨", "12000"),
        ("DIESEL", "1.2", "10^4t", "12000"),
        # heat -> GJ
        ("PURCHASED_HEAT", "5000", "MJ", "5"),
        ("PURCHASED_HEAT", "5000", "兆焦", "5"),
        ("PURCHASED_HEAT", "5", "吉焦", "5"),
        ("PURCHASED_HEAT", "2", "TJ", "2000"),
        # water -> t: a cubic metre of water is a tonne, whatever the gas table says about m3
        ("WATER", "300", "m3", "300"),
        ("WATER", "300", "m³", "300"),
        ("WATER", "300", "立方米", "300"),
        ("WATER", "300", "t", "300"),
        ("WATER", "3000", "kg", "3"),
        ("WATER", "2", "万吨", "20000"),
    ],
)
def test_a_quantity_converts_to_its_canonical_unit(
    energy_type: str, quantity: str, unit: str, expected: str
) -> None:
    assert convert(energy_type, quantity, unit) == Decimal(expected)


@pytest.mark.parametrize(
    ("unit", "expected"), [("kwh", "1"), ("KWH", "1"), (" kWh ", "1"), ("k Wh", "1"), ("M Wh", "1000")]
)
def test_case_and_spaces_do_not_matter(unit: str, expected: str) -> None:
    assert convert("ELECTRICITY", "1000", unit) == Decimal(expected)


@pytest.mark.parametrize("unit", ["barrel", "", "kcal", "tce", "Wh", "m3/h"])
def test_an_unknown_unit_is_refused(unit: str) -> None:
    with fails_with(ErrorCode.UNKNOWN_UNIT, "unit"):
        convert("DIESEL", "1", unit)


@pytest.mark.parametrize(
    ("energy_type", "unit"),
    [
        ("DIESEL", "kWh"),
        ("DIESEL", "L"),
        ("DIESEL", "litres"),
        ("DIESEL", "升"),
        ("DIESEL", "m3"),
        ("ELECTRICITY", "t"),
        ("ELECTRICITY", "GJ"),
        ("NATURAL_GAS", "t"),
        ("PURCHASED_HEAT", "MWh"),
        ("WATER", "L"),
        ("WATER", "kWh"),
    ],
)
def test_a_unit_of_another_dimension_is_refused(energy_type: str, unit: str) -> None:
    with fails_with(ErrorCode.INCOMPATIBLE_UNIT, "unit") as info:
        convert(energy_type, "1", unit)
    assert energy_type in info.value.message


def test_the_error_names_the_field_it_was_given() -> None:
    with fails_with(ErrorCode.UNKNOWN_UNIT, "rows[3].unit"):
        to_canonical("DIESEL", "t", Decimal(1), "barrel", "rows[3].unit")


def _reference(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8") as file:
        return list(csv.DictReader(file))


UNIT_ROWS = _reference("units.csv")
SPELLINGS = [
    (row["unit"], name, row["dimension"], Decimal(row["factor"]))
    for row in UNIT_ROWS
    for name in [row["unit"], *filter(None, row["aliases"].split("|"))]
]


@pytest.mark.parametrize(("unit", "spelling", "dimension", "factor"), SPELLINGS)
def test_every_spelling_in_the_table_means_its_unit(
    unit: str, spelling: str, dimension: str, factor: Decimal
) -> None:
    known = units()[normalise(spelling)]
    assert (known.name, known.dimension, known.factor) == (unit, dimension, factor)


def test_no_two_units_share_a_spelling() -> None:
    seen: dict[str, str] = {}
    for unit, spelling, _, _ in SPELLINGS:
        assert seen.setdefault(normalise(spelling), unit) == unit, (
            f"{spelling!r} means {seen[normalise(spelling)]} and {unit}"
        )


def test_every_energy_type_is_kept_in_a_known_unit_and_converts_one_to_one() -> None:
    for row in _reference("energy_types.csv"):
        assert normalise(row["canonical_unit"]) in units(), row
        assert to_canonical(row["code"], row["canonical_unit"], Decimal(7), row["canonical_unit"]) == 7


@pytest.mark.parametrize(("unit", "expected", "same"), [
    ("MWh", "MWh", True),
    ("兆瓦时", "MWh", True),
    ("mwh", "MWh", True),
    ("kWh", "MWh", False),  # products are kept in one unit: no silent scaling
    ("吉焦", "GJ", True),
    ("t", "GJ", False),
    ("crates", "t", False),
])  # fmt: skip
def test_a_product_accepts_its_own_unit_and_its_aliases_only(unit: str, expected: str, same: bool) -> None:
    assert same_unit(unit, expected) is same
