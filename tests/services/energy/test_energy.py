"""Energy records: rows, CSV files and JSON batches, converted to canonical units, tce and
emissions with the factor the server picks, upserted on (enterprise, period, type, source),
all or nothing by default, within the caller's scope, marking the months they touch stale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from models import AuditEvent, EmissionFactor, EnergyRecord, EnergySource, Enterprise, StaleMonth
from services.access import Actor
from services.energy import ingest
from services.energy.factors import FactorInput, set_factor
from services.energy.ingest import EnergyImporter, csv_rows, import_rows, json_rows, parse_period
from services.errors import ErrorCode
from services.rows import ImportResult
from tests.conftest import World
from tests.services.conftest import Job
from tests.services.cycle import fails_with

HEADER = "credit_code,period,energy_type,quantity,unit,source"


def row(enterprise: Enterprise, period: str = "2024-03", energy_type: str = "ELECTRICITY", quantity: str = "1000", unit: str = "MWh", source: str = "") -> dict[str, str]:  # fmt: skip
    return {
        "credit_code": enterprise.credit_code,
        "period": period,
        "energy_type": energy_type,
        "quantity": quantity,
        "unit": unit,
        "source": source,
    }


async def records() -> list[tuple[Any, ...]]:
    """Every energy record as (enterprise, year, month, day, type, source, amount, tce, emissions, factor)."""
    key = ("enterprise_id", "year", "month", "day", "energy_type_id", "source")
    figures = ("amount", "tce", "emissions", "factor_id")
    return list(await EnergyRecord.all().order_by(*key).values_list(*key, *figures))


async def stale() -> set[tuple[int, int, int]]:
    return set(await StaleMonth.all().values_list("enterprise_id", "year", "month"))


async def factor_id(energy_type: str, year: int, prefix: str = "", version: int = 1, month: int = 1) -> int:
    factor = await EmissionFactor.get(
        energy_type_id=energy_type, effective_from=date(year, month, 1), region_prefix=prefix, version=version
    )
    return factor.id


async def nothing_written() -> None:
    assert await EnergyRecord.all().count() == 0
    assert await StaleMonth.all().count() == 0
    assert not await AuditEvent.filter(action="energy.imported").exists()


def codes(result: ImportResult) -> list[tuple[int, ErrorCode, str | None]]:
    return [(e.line, e.code, e.field) for e in result.errors]


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def import_csv(actor: Actor, lines: list[str], *, partial: bool = False, size: int = 64 * 1024) -> ImportResult:  # fmt: skip
    data = "\n".join([HEADER, *lines]).encode() + b"\n"
    return await EnergyImporter(actor, partial=partial).run(csv_rows(chunks(data, size)))


@pytest_asyncio.fixture
async def admin(world: World) -> AsyncIterator[Actor]:
    """An administrator to set factors with. Factor versions are reference data the suite keeps, and
    point at their user: they are removed here, after the records using them."""
    yield await world.admin()
    await EnergyRecord.all().delete()
    await EmissionFactor.filter(created_by_id__isnull=False).delete()


# ---------------------------------------------------------------- conversion and factors


async def test_1000_mwh_of_electricity_in_2022_is_570_3_tonnes_with_its_factor_stored(world: World) -> None:
    enterprise = await world.enterprise("440113")  # Guangdong has a grid factor from 2023 only
    result = await import_rows(await world.regulator("44"), [row(enterprise, period="2022-06")])
    assert (result.written, result.errors, result.missing_factors, result.warnings) == (1, [], 0, [])
    record = await EnergyRecord.get()
    assert (record.quantity, record.unit, record.source, record.day) == (Decimal(1000), "MWh", EnergySource.MANUAL, 0)  # fmt: skip
    assert record.amount == 1_000_000_000  # 1000 MWh in millionths
    assert record.emissions == 570_300_000  # 570.3 tCO2
    assert record.tce == 122_900_000  # 1000 MWh x 0.1229 tce/MWh
    assert record.factor_id == await factor_id("ELECTRICITY", 2022)


async def test_units_are_converted_to_the_canonical_unit_before_tce_and_emissions(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, "2024-01", "ELECTRICITY", "1500000", "kWh"),
            row(enterprise, "2024-02", "ELECTRICITY", "12", "万kWh"),
            row(enterprise, "2024-03", "ELECTRICITY", "2", "GWh"),
            row(enterprise, "2024-01", "NATURAL_GAS", "250000", "m3"),
            row(enterprise, "2024-02", "NATURAL_GAS", "3", "10^4Nm3"),
            row(enterprise, "2024-01", "DIESEL", "2500", "kg"),
            row(enterprise, "2024-02", "DIESEL", "4", "t"),
            row(enterprise, "2026-07", "PURCHASED_HEAT", "5000", "MJ"),
            row(enterprise, "2026-08", "PURCHASED_HEAT", "3.5", "GJ"),
            row(enterprise, "2024-01", "WATER", "1200", "m3"),
            row(enterprise, "2024-02", "WATER", "7", "吨"),
        ],
    )
    assert (result.written, result.errors, result.missing_factors) == (11, [], 0)
    e = enterprise.id
    south, gas, diesel, heat = (
        await factor_id("ELECTRICITY", 2023, "44"),
        await factor_id("NATURAL_GAS", 2024),
        await factor_id("DIESEL", 2024),
        await factor_id("PURCHASED_HEAT", 2026, month=7),
    )
    # amount, tce and emissions in millionths, worked out by hand from the published figures
    assert await records() == [
        (e, 2024, 1, 0, "DIESEL", "MANUAL", 2_500_000, 3_642_750, 7_739_774, diesel),  # 2.5 t x 1.4571, x 3.0959096373
        (e, 2024, 1, 0, "ELECTRICITY", "MANUAL", 1_500_000_000, 184_350_000, 606_300_000, south),  # 1500 MWh x 0.4042
        (e, 2024, 1, 0, "NATURAL_GAS", "MANUAL", 25_000_000, 303_575_000, 541_253_800, gas),  # 25 x 21.650151996
        (e, 2024, 1, 0, "WATER", "MANUAL", 1_200_000_000, 308_520, 0, None),  # 1200 t x 0.0002571 tce
        (e, 2024, 2, 0, "DIESEL", "MANUAL", 4_000_000, 5_828_400, 12_383_639, diesel),
        (e, 2024, 2, 0, "ELECTRICITY", "MANUAL", 120_000_000, 14_748_000, 48_504_000, south),  # 120 MWh
        (e, 2024, 2, 0, "NATURAL_GAS", "MANUAL", 3_000_000, 36_429_000, 64_950_456, gas),
        (e, 2024, 2, 0, "WATER", "MANUAL", 7_000_000, 1_800, 0, None),  # 7 x 0.0002571 = 0.0017997 t
        (e, 2024, 3, 0, "ELECTRICITY", "MANUAL", 2_000_000_000, 245_800_000, 808_400_000, south),
        (e, 2026, 7, 0, "PURCHASED_HEAT", "MANUAL", 5_000_000, 170_600, 550_000, heat),  # 5 GJ x 0.11
        (e, 2026, 8, 0, "PURCHASED_HEAT", "MANUAL", 3_500_000, 119_420, 385_000, heat),
    ]  # fmt: skip
    quantities = {
        (r.month, r.energy_type_id): (r.quantity, r.unit) for r in await EnergyRecord.filter(year=2024)
    }
    # the quantity is kept as sent beside the canonical amount
    assert quantities[(1, "ELECTRICITY")] == (Decimal(1500000), "kWh")
    assert quantities[(2, "WATER")] == (Decimal(7), "吨")


@pytest.mark.parametrize(
    ("region", "prefix", "emissions"),
    [
        ("440113", "44", 40_420_000),  # Guangdong: South grid 0.4042
        ("110105", "11", 63_610_000),  # Beijing: North grid 0.6361
        ("150402", "1504", 51_220_000),  # Chifeng, eastern Inner Mongolia: Northeast grid 0.5122
        ("150102", "15", 63_610_000),  # Hohhot, western Inner Mongolia: North grid 0.6361
        ("510104", "51", 24_720_000),  # Sichuan: Southwest grid 0.2472
    ],
)
async def test_2023_electricity_uses_the_most_specific_grid_factor_of_the_region(
    world: World, region: str, prefix: str, emissions: int
) -> None:
    enterprise = await world.enterprise(region)
    await import_rows(await world.regulator(""), [row(enterprise, "2023-07", quantity="100")])
    record = await EnergyRecord.get()
    assert (record.emissions, record.factor_id) == (emissions, await factor_id("ELECTRICITY", 2023, prefix))


async def test_a_record_uses_the_latest_factor_not_after_its_year(world: World, admin: Actor) -> None:
    guangdong_2024 = await set_factor(admin, FactorInput("ELECTRICITY", 2024, "0.3900", "44", source="test"))
    national_2026 = await set_factor(admin, FactorInput("ELECTRICITY", 2026, "0.5000", source="test"))
    guangzhou, beijing = await world.enterprise("440113"), await world.enterprise("110105")
    await import_rows(
        await world.regulator(""),
        [
            row(guangzhou, "2022-01", quantity="10"),  # Guangdong factors start in 2023: national 2022
            row(guangzhou, "2023-01", quantity="10"),
            row(guangzhou, "2025-01", quantity="10"),  # 2024 is the latest not after 2025
            row(guangzhou, "2027-01", quantity="10"),  # the region's 2024 beats the national 2026
            row(beijing, "2025-01", quantity="10"),  # Beijing's own 2023 factor
            row(beijing, "2020-12", quantity="10"),  # no electricity factor is confirmed for 2020
        ],
    )
    picked = {(r.enterprise_id, r.year): (r.factor_id, r.emissions) for r in await EnergyRecord.all()}
    assert picked == {
        (guangzhou.id, 2022): (await factor_id("ELECTRICITY", 2022), 5_703_000),
        (guangzhou.id, 2023): (await factor_id("ELECTRICITY", 2023, "44"), 4_042_000),
        (guangzhou.id, 2025): (guangdong_2024.id, 3_900_000),
        (guangzhou.id, 2027): (guangdong_2024.id, 3_900_000),
        (beijing.id, 2025): (await factor_id("ELECTRICITY", 2023, "11"), 6_361_000),
        (beijing.id, 2020): (await factor_id("ELECTRICITY", 2019), None),  # the NOT_FOUND row says why
    }
    assert national_2026.id not in {f for f, _ in picked.values()}


async def test_a_record_without_a_factor_keeps_its_energy_and_is_reported(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, "2024-01", "ELECTRICITY", "100"),
            row(enterprise, "2024-01", "RAW_COAL", "10", "t"),  # no factor for raw coal at all
            row(enterprise, "2020-05", "ELECTRICITY", "100"),  # none confirmed for 2019-2020
            row(
                enterprise, "2026-06", "PURCHASED_HEAT", "10", "GJ"
            ),  # the heat factor applies from 2026-07-01
            row(enterprise, "2024-01", "WATER", "10", "t"),  # water emits nothing: not missing
        ],
    )
    assert (result.written, result.errors, result.missing_factors) == (5, [], 3)
    assert [(w.line, w.code, w.field) for w in result.warnings] == [
        (2, ErrorCode.FACTOR_MISSING, "energy_type"),
        (3, ErrorCode.FACTOR_MISSING, "energy_type"),
        (4, ErrorCode.FACTOR_MISSING, "energy_type"),
    ]
    assert "RAW_COAL in 2024-01" in result.warnings[0].message
    stored = {(r.year, r.energy_type_id): (r.amount, r.tce, r.emissions, r.factor_id) for r in await EnergyRecord.all()}  # fmt: skip
    raw_coal, electricity, heat = (
        await factor_id("RAW_COAL", 2019),
        await factor_id("ELECTRICITY", 2019),
        await factor_id("PURCHASED_HEAT", 2019),
    )  # the rows saying none is published (raw coal) or none could be confirmed: the reason is kept
    assert stored[(2024, "RAW_COAL")] == (10_000_000, 7_143_000, None, raw_coal)  # tce kept: 10 t x 0.7143
    assert stored[(2020, "ELECTRICITY")] == (100_000_000, 12_290_000, None, electricity)
    assert stored[(2026, "PURCHASED_HEAT")] == (10_000_000, 341_200, None, heat)
    assert stored[(2024, "WATER")] == (10_000_000, 2_571, 0, None)
    assert stored[(2024, "ELECTRICITY")][2] == 40_420_000


async def test_purchased_heat_takes_its_factor_from_july_2026_by_the_records_month_or_day(
    world: World,
) -> None:
    """GB/T 32150-2025 (as quoted): 0.11 tCO2/GJ from 2026-07-01, so not for March or 30 June 2026."""
    enterprise = await world.enterprise("440113")
    periods = ["2026-03", "2026-06-30", "2026-07", "2026-07-01", "2026-12-31"]
    await import_rows(
        await world.regulator("44"), [row(enterprise, p, "PURCHASED_HEAT", "100", "GJ") for p in periods]
    )
    emissions = {(r.month, r.day): r.emissions for r in await EnergyRecord.all()}
    assert emissions == {
        (3, 0): None,
        (6, 30): None,
        (7, 0): 11_000_000,
        (7, 1): 11_000_000,
        (12, 31): 11_000_000,
    }


async def test_a_day_and_the_month_it_falls_in_are_separate_records(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [row(enterprise, "2024-02"), row(enterprise, "2024-02-29", quantity="40"), row(enterprise, "2024-02-01", quantity="30")],
    )  # fmt: skip
    assert (result.written, result.errors) == (3, [])
    assert [(r[1], r[2], r[3], r[6]) for r in await records()] == [
        (2024, 2, 0, 1_000_000_000),
        (2024, 2, 1, 30_000_000),
        (2024, 2, 29, 40_000_000),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-03", (2024, 3, 0)), ("2024-12-31", (2024, 12, 31)), ("2024-02-29", (2024, 2, 29)), ("1990-01", (1990, 1, 0))],
)  # fmt: skip
def test_a_period_is_a_month_or_a_day(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2024-13", "2024-00", "2024-02-30", "2023-02-29", "2024-04-31", "24-01", "2024/01", "2024-1", "2024", "",
     "2024-03-", "2024-03-15-01", "1989-12", "2101-01", "2024-+1", "2024- 1", "２０２４-01"],
)  # fmt: skip
def test_a_malformed_period_is_refused(text: str) -> None:
    with fails_with(ErrorCode.INVALID_PERIOD, "period"):
        parse_period(text)


# ---------------------------------------------------------------- upserts and duplicates


async def test_sending_a_record_again_updates_it_and_another_source_is_another_record(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await import_rows(regulator, [row(enterprise, "2022-06", quantity="1000")])
    first = await EnergyRecord.get()
    result = await import_rows(regulator, [row(enterprise, "2022-06", quantity="1200000", unit="kWh")])
    assert result.written == 1
    again = await EnergyRecord.get()  # still one row
    assert again.id == first.id
    assert (again.quantity, again.unit, again.amount, again.tce, again.emissions) == (
        Decimal(1200000),
        "kWh",
        1_200_000_000,
        147_480_000,
        684_360_000,  # 1200 MWh x 0.5703
    )
    await import_rows(regulator, [row(enterprise, "2022-06", quantity="5", source="iot")])
    assert [(r[5], r[6]) for r in await records()] == [("IOT", 5_000_000), ("MANUAL", 1_200_000_000)]


async def test_a_row_repeated_in_one_call_names_the_first_line(world: World) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [
            row(enterprise, "2024-03"),
            row(enterprise, "2024-03", "DIESEL", "1", "t"),
            # the same keys spelled differently: code and type in lower case, the default source named
            {**row(enterprise, "2024-03", quantity="7"), "credit_code": enterprise.credit_code.lower()},
            row(enterprise, "2024-03", "diesel", "1000", "kg", source="Manual"),
            # not repeats: a day of that month, another source
            row(enterprise, "2024-03-01"),
            row(enterprise, "2024-03", source="PLATFORM"),
        ],
    )
    assert codes(result) == [(3, ErrorCode.DUPLICATE_ROW, None), (4, ErrorCode.DUPLICATE_ROW, None)]
    assert [e.message for e in result.errors] == ["repeats line 1", "repeats line 2"]
    await nothing_written()


# ---------------------------------------------------------------- bad rows


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"unit": "barrel"}, ErrorCode.UNKNOWN_UNIT, "unit"),
        ({"unit": ""}, ErrorCode.REQUIRED, "unit"),
        ({"energy_type": "DIESEL", "unit": "kWh"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"energy_type": "DIESEL", "unit": "L"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"energy_type": "NATURAL_GAS", "unit": "t"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"energy_type": "ELECTRICITY", "unit": "m3"}, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        ({"quantity": "-1"}, ErrorCode.NEGATIVE_QUANTITY, "quantity"),
        ({"quantity": "lots"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": ""}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "NaN"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "Infinity"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": "1e13"}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"period": "2024-13"}, ErrorCode.INVALID_PERIOD, "period"),
        ({"period": "2024-02-30"}, ErrorCode.INVALID_PERIOD, "period"),
        ({"period": "24-01"}, ErrorCode.INVALID_PERIOD, "period"),
        ({"period": "2024/01"}, ErrorCode.INVALID_PERIOD, "period"),
        ({"energy_type": "COAL_DUST"}, ErrorCode.UNKNOWN_ENERGY_TYPE, "energy_type"),
        ({"energy_type": ""}, ErrorCode.UNKNOWN_ENERGY_TYPE, "energy_type"),
        ({"source": "FAX"}, ErrorCode.INVALID_SOURCE, "source"),
        ({"credit_code": ""}, ErrorCode.REQUIRED, "credit_code"),
        ({"credit_code": "91440000MA0000000X"}, ErrorCode.NOT_FOUND, "credit_code"),
    ],
)
async def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(
    world: World, changes: dict[str, str], code: ErrorCode, field: str
) -> None:
    enterprise = await world.enterprise("440113")
    result = await import_rows(
        await world.regulator("44"),
        [row(enterprise, "2024-01"), {**row(enterprise, "2024-02"), **changes}, row(enterprise, "2024-04", "RAW_COAL", "1", "t")],
    )  # fmt: skip
    assert (result.written, result.error_count, codes(result)) == (0, 1, [(2, code, field)])
    assert (result.missing_factors, result.warnings) == (0, [])  # the raw coal row was not written
    await nothing_written()


async def test_a_record_whose_tce_or_emissions_exceed_a_billion_tonnes_is_refused(world: World) -> None:
    """Every figure of a record stays under 10^15 millionths, so a year of them sums into a BIGINT."""
    enterprise = await world.enterprise("440113")
    rows = [
        row(enterprise, "2024-01", quantity="1000000000"),  # 10^9 MWh: the largest quantity, 404.2 Mt CO2
        row(enterprise, "2024-02", "NATURAL_GAS", "100000000", "1e4Nm3"),  # 10^8 x 21.65 t: 2.2 Gt CO2
        row(enterprise, "2024-03", quantity="1000000001"),
    ]
    result = await import_rows(await world.regulator("44"), rows)
    assert codes(result) == [(2, ErrorCode.INVALID_QUANTITY, "quantity"), (3, ErrorCode.INVALID_QUANTITY, "quantity")]  # fmt: skip
    await nothing_written()
    result = await import_rows(await world.regulator("44"), rows, partial=True)
    assert result.written == 1
    assert [(r[6], r[8]) for r in await records()] == [(10**15, 404_200_000_000_000)]


async def test_with_partial_the_good_rows_are_written_and_the_bad_ones_reported(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    result = await import_rows(
        regulator,
        [
            row(enterprise, "2024-01"),
            row(enterprise, "2024-02", quantity="-5"),
            row(enterprise, "2024-03", "RAW_COAL", "2", "t"),
            row(enterprise, "2024-04", "DIESEL", "1", "kWh"),
            row(enterprise, "2024-13"),
        ],
        partial=True,
    )
    assert result.written == 2
    assert codes(result) == [
        (2, ErrorCode.NEGATIVE_QUANTITY, "quantity"),
        (4, ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        (5, ErrorCode.INVALID_PERIOD, "period"),
    ]
    assert (result.missing_factors, [w.line for w in result.warnings]) == (1, [3])
    assert [(r[2], r[4]) for r in await records()] == [(1, "ELECTRICITY"), (3, "RAW_COAL")]
    assert await stale() == {(enterprise.id, 2024, 1), (enterprise.id, 2024, 3)}
    event = await AuditEvent.get(action="energy.imported")
    assert event.data == {"written": 2, "errors": 3, "partial": True}


async def test_more_than_a_thousand_rows_a_call_is_refused_and_a_thousand_accepted(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    days = [
        f"{year}-{month:02d}-{day:02d}"
        for year in (2021, 2022, 2023, 2024)
        for month in range(1, 13)
        for day in range(1, 29)
    ]
    rows = [row(enterprise, period, "WATER", "1", "t") for period in days[:1001]]
    with fails_with(ErrorCode.TOO_MANY_ITEMS, "rows"):
        await import_rows(regulator, rows)
    await nothing_written()
    result = await import_rows(regulator, rows[:1000])
    assert (result.written, result.errors) == (1000, [])


async def test_an_admin_does_not_import_energy_records(world: World) -> None:
    enterprise = await world.enterprise("440113")
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await import_rows(await world.admin(), [row(enterprise)])
    with fails_with(ErrorCode.PERMISSION_DENIED):
        EnergyImporter(await world.admin())
    await nothing_written()


# ---------------------------------------------------------------- scope


async def test_an_enterprise_user_sends_its_own_records_only(world: World) -> None:
    own, other = await world.enterprise("440113"), await world.enterprise("440113")
    member = await world.member(own)
    result = await import_rows(member, [row(own, "2024-01"), row(other, "2024-01"), row(own, "2024-02")])
    assert codes(result) == [(2, ErrorCode.NOT_FOUND, "credit_code")]
    await nothing_written()
    result = await import_rows(member, [row(own, "2024-01"), row(other, "2024-01"), row(own, "2024-02")], partial=True)  # fmt: skip
    assert (result.written, codes(result)) == (2, [(2, ErrorCode.NOT_FOUND, "credit_code")])
    assert {r[0] for r in await records()} == {own.id}


async def test_a_regulator_sends_records_of_its_region_only(world: World) -> None:
    guangzhou, shenzhen, beijing = (
        await world.enterprise("440113"),
        await world.enterprise("440303"),
        await world.enterprise("110105"),
    )
    result = await import_rows(
        await world.regulator("4401"), [row(guangzhou), row(shenzhen), row(beijing)], partial=True
    )
    assert codes(result) == [(2, ErrorCode.NOT_FOUND, "credit_code"), (3, ErrorCode.NOT_FOUND, "credit_code")]
    assert "in your scope" in result.errors[0].message
    assert {r[0] for r in await records()} == {guangzhou.id}
    result = await import_rows(await world.regulator(""), [row(shenzhen), row(beijing)])
    assert (result.written, result.errors) == (2, [])


# ---------------------------------------------------------------- marks, audit and jobs


async def test_an_import_marks_exactly_the_months_it_touched_and_is_audited(
    world: World, dispatched: list[Job]
) -> None:
    first, second, untouched = [await world.enterprise("440113") for _ in range(3)]
    regulator = await world.regulator("44")
    result = await import_rows(
        regulator,
        [
            row(first, "2024-03"),
            row(first, "2024-03-05", "DIESEL", "1", "t"),
            row(first, "2024-03-06", "DIESEL", "1", "t"),
            row(first, "2023-12"),
            row(second, "2024-03", "WATER", "5", "t"),
        ],
    )
    assert result.written == 5
    assert await stale() == {(first.id, 2024, 3), (first.id, 2023, 12), (second.id, 2024, 3)}
    assert untouched.id not in {e for e, _, _ in await stale()}
    event = await AuditEvent.get(action="energy.imported")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        regulator.user_id,
        "User",
        regulator.user_id,
    )
    assert event.data == {"written": 5, "errors": 0, "partial": False}
    assert dispatched == [Job("refresh_aggregates", (), 0)]


async def test_a_refused_import_enqueues_nothing(world: World, dispatched: list[Job]) -> None:
    enterprise = await world.enterprise("440113")
    await import_rows(await world.regulator("44"), [row(enterprise), row(enterprise, quantity="x")])
    assert dispatched == []
    await nothing_written()


# ---------------------------------------------------------------- files and batches


async def test_a_file_bad_after_more_than_a_batch_writes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Full batches are written (COPY on PostgreSQL) while the file streams, before the bad row is
    read: the whole import still rolls back, so they were written inside the import's transaction."""
    enterprises = [await world.enterprise("440113") for _ in range(5)]
    types = ["ELECTRICITY", "DIESEL", "GASOLINE", "FUEL_OIL", "LPG", "RAW_COAL", "ANTHRACITE", "BITUMINOUS_COAL", "WATER", "PURCHASED_HEAT", "NATURAL_GAS"]  # fmt: skip
    units = {"ELECTRICITY": "MWh", "NATURAL_GAS": "1e4Nm3", "PURCHASED_HEAT": "GJ"}
    lines = [
        f"{e.credit_code},{2016 + m // 12}-{m % 12 + 1:02d},{t},{m % 7 + 1},{units.get(t, 't')}"
        for e in enterprises
        for m in range(100)
        for t in types
    ]
    # A batch is written while the next is parsed: the first is certainly done once a second is full.
    monkeypatch.setattr(EnergyImporter, "batch", 2000)
    flushed: list[int] = []
    upsert = ingest._upsert

    async def counting_upsert(batch: list[tuple[Any, ...]], *args: Any) -> None:
        flushed.append(len(batch))
        await upsert(batch, *args)

    monkeypatch.setattr(ingest, "_upsert", counting_upsert)
    regulator = await world.regulator("44")
    result = await import_csv(regulator, [*lines, f"{enterprises[0].credit_code},2024-01,DIESEL,x,t"])
    assert (result.written, codes(result)) == (0, [(5502, ErrorCode.INVALID_QUANTITY, "quantity")])
    # The first batch was written (its write is awaited before the second starts), then rolled back;
    # whether the second reached the database before the bad row was read depends on timing.
    assert flushed[:1] == [2000]
    await nothing_written()
    flushed.clear()
    result = await import_csv(regulator, lines, size=4096)
    assert (result.written, result.errors, flushed) == (5500, [], [2000, 2000, 1500])
    assert await EnergyRecord.all().count() == 5500
    assert len(await stale()) == 5 * 100


async def test_a_file_larger_than_the_batch_is_imported_whole(world: World) -> None:
    enterprise = await world.enterprise("440113")
    days = [f"{year}-{month:02d}-{day:02d}" for year in range(1995, 2100) for month in range(1, 13) for day in range(1, 29)]  # fmt: skip
    lines = [f"{enterprise.credit_code},{day},WATER,1,t" for day in days[: EnergyImporter.batch + 7]]
    result = await import_csv(await world.regulator("44"), lines)
    assert (result.written, result.errors) == (EnergyImporter.batch + 7, [])
    assert await EnergyRecord.filter(amount=1_000_000).count() == EnergyImporter.batch + 7


@pytest.mark.parametrize("size", [1, 2, 5, 7])
async def test_a_streamed_csv_with_a_bom_and_chinese_units_keeps_its_line_numbers(world: World, size: int) -> None:  # fmt: skip
    enterprise = await world.enterprise("440113")
    code = enterprise.credit_code
    text = (
        "Unit,Quantity,Energy_Type,Period,Credit_Code\r\n"  # any order and case, CRLF, no source column
        f"万千瓦时,12,ELECTRICITY,2024-01,{code}\r\n"
        f"立方米,250000,natural_gas,2024-01,{code}\r\n"
        "\r\n"
        f"吨,3,柴油,2024-01,{code}\r\n"  # a type by its Chinese name is not a code
        f"度,5000,ELECTRICITY,2024-02,{code}\r\n"
        f'公斤,"1,5",DIESEL,2024-02,{code}\r\n'
        f"千克,1500,DIESEL,2024-03,{code}"  # no final newline
    )
    data = "\ufeff".encode() + text.encode()
    result = await EnergyImporter(await world.regulator("44"), partial=True).run(csv_rows(chunks(data, size)))
    assert codes(result) == [(5, ErrorCode.UNKNOWN_ENERGY_TYPE, "energy_type"), (7, ErrorCode.INVALID_QUANTITY, "quantity")]  # fmt: skip
    assert [(r[1], r[2], r[4], r[5], r[6]) for r in await records()] == [
        (2024, 1, "ELECTRICITY", "IMPORT", 120_000_000),
        (2024, 1, "NATURAL_GAS", "IMPORT", 25_000_000),
        (2024, 2, "ELECTRICITY", "IMPORT", 5_000_000),
        (2024, 3, "DIESEL", "IMPORT", 1_500_000),
    ]
    units = set(await EnergyRecord.all().values_list("unit", flat=True))
    assert units == {"万千瓦时", "立方米", "度", "千克"}


def item(code: str, period: str, quantity: Any) -> dict[str, Any]:
    return {
        "creditCode": code,
        "period": period,
        "energyType": "ELECTRICITY",
        "quantity": quantity,
        "unit": "kWh",
    }


async def test_json_items_are_numbered_from_one_and_a_non_object_is_an_invalid_row(world: World) -> None:
    enterprise = await world.enterprise("440113")
    code = enterprise.credit_code
    items: list[Any] = [
        item(code, "2024-05-01", 1250.5),
        ["not", "an", "object"],
        item(code, "2024-05-02", None),
        item(code, "2024-05-03", True),
        {**item(code, "2024-05-04", 10), "unit": "MWh", "source": "PLATFORM"},
        "2024-05-05",
    ]
    result = await EnergyImporter(await world.member(enterprise), partial=True, source=EnergySource.IOT).run(
        json_rows(items)
    )
    assert codes(result) == [
        (2, ErrorCode.INVALID_ROW, None),
        (3, ErrorCode.INVALID_QUANTITY, "quantity"),
        (4, ErrorCode.INVALID_QUANTITY, "quantity"),
        (6, ErrorCode.INVALID_ROW, None),
    ]
    assert [(r[3], r[5], r[6]) for r in await records()] == [
        (1, "IOT", 1_250_500),
        (4, "PLATFORM", 10_000_000),
    ]
