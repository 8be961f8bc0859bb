"""Emission factors: the choice for a record, versions set by an administrator or a national
regulator, the shipped table, and corrections that change exactly the records and aggregates
they apply to."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import pytest_asyncio

from models import (
    AuditEvent,
    EmissionFactor,
    EnergyMonthly,
    EnergyRecord,
    EnergyType,
    EnergyYearly,
    ReferenceStatus,
    StaleMonth,
)
from services.access import Actor
from services.energy import aggregates, factors
from services.energy.factors import Factor, FactorInput, FactorTable, apply, scaled, set_factor
from services.energy.ingest import import_rows
from services.energy.seeds import seed_reference_data
from services.energy.units import REFERENCE
from services.errors import ErrorCode
from services.live.catalog import JOBS
from services.live.sweep import sweep
from tests.conftest import World
from tests.services.conftest import Job
from tests.services.cycle import fails_with

# ---------------------------------------------------------------- the choice (no database)


def table(*rows: tuple[int, str, int, str, int]) -> FactorTable:
    """Factors as (id, type, effective year, region prefix, version); the value is the id in tonnes."""
    return FactorTable([Factor(i, t, date(y, 1, 1), p, v, i * factors.SCALE) for i, t, y, p, v in rows])


def picked(factor_table: FactorTable, region: str, year: int, energy_type: str = "ELECTRICITY") -> int | None:
    factor = factor_table.pick(energy_type, region, date(year, 1, 1))
    return None if factor is None else factor.id


def test_a_factor_applies_from_its_day_to_months_starting_then_and_days_from_then() -> None:
    """Purchased heat 0.11 from 2026-07-01: not March 2026, not June 30, but July and its days."""
    heat = FactorTable([Factor(1, "PURCHASED_HEAT", date(2026, 7, 1), "", 1, 11 * factors.SCALE // 100)])
    at = heat.pick
    assert at("PURCHASED_HEAT", "440113", factors.period_start(2026, 3)) is None
    assert at("PURCHASED_HEAT", "440113", factors.period_start(2026, 6, 30)) is None
    assert at("PURCHASED_HEAT", "440113", factors.period_start(2026, 7)) is not None
    assert at("PURCHASED_HEAT", "440113", factors.period_start(2026, 7, 15)) is not None
    mid = FactorTable([Factor(2, "DIESEL", date(2025, 3, 15), "", 1, factors.SCALE)])
    assert mid.pick("DIESEL", "440113", factors.period_start(2025, 3)) is None  # March is not wholly covered
    assert mid.pick("DIESEL", "440113", factors.period_start(2025, 3, 15)) is not None


def test_a_row_without_a_value_stops_an_earlier_value_and_a_later_one_never_reaches_back() -> None:
    rows = FactorTable(
        [
            Factor(1, "ELECTRICITY", date(2019, 1, 1), "", 1, None),  # none confirmed for 2019-2020
            Factor(2, "ELECTRICITY", date(2021, 1, 1), "", 1, 5568 * factors.SCALE // 10_000),
        ]
    )
    gap = rows.pick("ELECTRICITY", "440113", date(2020, 12, 31))
    assert gap is not None and (gap.id, gap.scaled) == (1, None)
    assert rows.pick("ELECTRICITY", "440113", date(2018, 12, 1)) is None  # before every row
    assert rows.pick("ELECTRICITY", "440113", date(2021, 1, 1)).id == 2  # type: ignore[union-attr]


def test_the_most_specific_region_prefix_wins_over_a_later_national_factor() -> None:
    factor_table = table(
        (1, "ELECTRICITY", 2025, "", 1),
        (2, "ELECTRICITY", 2023, "44", 1),
        (3, "ELECTRICITY", 2023, "4403", 1),
        (4, "ELECTRICITY", 2024, "45", 1),
        (5, "ELECTRICITY", 2020, "", 1),
    )
    assert picked(factor_table, "440303", 2025) == 3  # Shenzhen: its city factor
    assert picked(factor_table, "440113", 2025) == 2  # Guangzhou: the province's
    assert picked(factor_table, "110105", 2025) == 1  # Beijing: national
    assert picked(factor_table, "450102", 2023) == 5  # Guangxi's own factor is not yet in force in 2023
    assert picked(factor_table, "450102", 2024) == 4


def test_a_prefix_is_matched_from_the_start_of_the_region_code() -> None:
    factor_table = table((1, "ELECTRICITY", 2023, "", 1), (2, "ELECTRICITY", 2023, "01", 1))
    assert picked(factor_table, "440101", 2023) == 1  # "01" occurs in it, but not as a prefix


def test_the_latest_effective_year_not_after_the_record_wins() -> None:
    factor_table = table(
        (1, "ELECTRICITY", 2020, "", 1), (2, "ELECTRICITY", 2022, "", 1), (3, "ELECTRICITY", 2024, "", 1)
    )
    assert [picked(factor_table, "440113", year) for year in (2019, 2020, 2021, 2022, 2023, 2024, 2030)] == [
        None, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip


def test_the_highest_version_breaks_a_tie_and_only_a_tie() -> None:
    factor_table = table(
        (1, "ELECTRICITY", 2022, "", 1),
        (2, "ELECTRICITY", 2022, "", 3),
        (3, "ELECTRICITY", 2022, "", 2),
        (4, "ELECTRICITY", 2021, "", 9),  # a high version of an older year
        (5, "ELECTRICITY", 2022, "44", 1),
    )
    assert picked(factor_table, "110105", 2023) == 2
    assert picked(factor_table, "440113", 2023) == 5  # a region's version 1 beats national version 3
    assert picked(factor_table, "110105", 2021) == 4


def test_a_factor_of_another_energy_type_is_never_picked() -> None:
    factor_table = table((1, "DIESEL", 2020, "", 1))
    assert picked(factor_table, "440113", 2024, "ELECTRICITY") is None
    assert picked(factor_table, "440113", 2024, "DIESEL") == 1
    assert picked(FactorTable([]), "440113", 2024) is None


def test_emissions_are_millionths_rounded_half_up() -> None:
    assert scaled(Decimal("0.5703")) == 5_703_000_000
    assert scaled(Decimal("3.0959096373")) == 30_959_096_373
    assert apply(1_000_000_000, scaled(Decimal("0.5703"))) == 570_300_000  # 1000 MWh -> 570.3 t
    assert apply(1, 5_000_000_000) == 1  # 0.5 millionth rounds up
    assert apply(1, 4_999_999_999) == 0
    assert apply(3, scaled(Decimal("0.5"))) == 2  # 1.5 -> 2


# ---------------------------------------------------------------- the shipped table


def shipped() -> list[dict[str, str]]:
    with open(REFERENCE / "emission_factors.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def exact(ncv: str, carbon: str, oxidation: str) -> Decimal:
    """NCV x carbon x oxidation x 44/12 as an exact fraction, rounded half up to 10 decimals."""
    product = Fraction(ncv) * Fraction(carbon) * Fraction(oxidation) * Fraction(44, 12)
    tenths = product * 10**10
    whole = tenths.numerator // tenths.denominator
    if tenths - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole).scaleb(-10)


def test_every_shipped_fuel_factor_is_its_parameters_times_44_over_12_to_10_decimals() -> None:
    fuels = [r for r in shipped() if r["net_calorific_value"]]
    assert {r["energy_type"] for r in fuels} == {
        "NATURAL_GAS", "DIESEL", "GASOLINE", "FUEL_OIL", "BITUMINOUS_COAL", "ANTHRACITE", "LPG",
    }  # fmt: skip
    for r in fuels:
        value = exact(r["net_calorific_value"], r["carbon_content"], r["oxidation_rate"])
        assert Decimal(r["value"]) == value, (r["energy_type"], r["effective_from"])
    diesel = next(r for r in fuels if r["energy_type"] == "DIESEL" and r["effective_from"] == "2024-01-01")
    assert diesel["value"] == "3.0959096373"  # 42.652 x 0.02020 x 0.98 x 44/12 = 3.09590963733...


def test_every_shipped_factor_has_a_source_and_a_value_exactly_when_published() -> None:
    for r in shipped():
        assert r["source"].strip(), r
        assert r["status"] in {"PUBLISHED", "NONE_PUBLISHED", "NOT_FOUND"}, r
        assert bool(r["value"]) == (r["status"] == "PUBLISHED"), r
        date.fromisoformat(r["effective_from"])


def test_every_year_from_2019_has_a_row_for_each_emitting_type_that_has_any() -> None:
    """No later value stands in for an earlier year: each type's first row is on or before 2019-01-01."""
    first: dict[str, date] = {}
    for r in shipped():
        since = date.fromisoformat(r["effective_from"])
        if r["region_prefix"] == "":
            first[r["energy_type"]] = min(first.get(r["energy_type"], since), since)
    assert {t: d for t, d in first.items() if d > date(2019, 1, 1)} == {}
    assert set(first) >= {"ELECTRICITY", "NATURAL_GAS", "DIESEL", "RAW_COAL", "PURCHASED_HEAT"}


async def test_the_seeded_factors_are_the_shipped_ones(db: str) -> None:
    stored = await EmissionFactor.filter(created_by_id=None).order_by("id")
    assert len(stored) == len(shipped())
    canonical = dict(await EnergyType.all().values_list("code", "canonical_unit"))
    for factor in stored:
        assert (factor.version, factor.unit) == (1, f"tCO2/{canonical[factor.energy_type_id]}")
        ncv, carbon, oxidation = factor.net_calorific_value, factor.carbon_content, factor.oxidation_rate
        if ncv is not None:
            assert carbon is not None and oxidation is not None, factor.energy_type_id
            assert factor.value == exact(str(ncv), str(carbon), str(oxidation)), factor.energy_type_id
    national_2022 = await EmissionFactor.get(
        energy_type_id="ELECTRICITY", effective_from=date(2022, 1, 1), region_prefix=""
    )
    assert national_2022.value == Decimal("0.5703")
    grids = {
        p: v
        for p, v in await EmissionFactor.filter(
            energy_type_id="ELECTRICITY", effective_from=date(2023, 1, 1)
        ).values_list("region_prefix", "value")
    }
    assert (grids[""], grids["44"], grids["11"], grids["1504"], grids["15"]) == (
        Decimal("0.5306"), Decimal("0.4042"), Decimal("0.6361"), Decimal("0.5122"), Decimal("0.6361"),
    )  # fmt: skip


# ---------------------------------------------------------------- setting a version


@pytest_asyncio.fixture
async def setters(world: World) -> AsyncIterator[tuple[Actor, Actor]]:
    """An administrator and a national regulator. Factor versions are reference data the suite
    keeps, and point at their user: they are removed here, after the records using them."""
    yield await world.admin(), await world.regulator("")
    await EnergyRecord.all().delete()
    await EmissionFactor.filter(created_by_id__isnull=False).delete()


DIESEL = FactorInput("DIESEL", 2025, None, "", None, "42.652", "0.02020", "0.98", "test: CETS table A.1")
ELECTRICITY = FactorInput("ELECTRICITY", 2025, "0.5000", source="test")


async def test_an_admin_and_a_national_regulator_set_factors(
    setters: tuple[Actor, Actor], dispatched: list[Job]
) -> None:
    admin, national = setters
    by_admin = await set_factor(admin, ELECTRICITY)
    by_regulator = await set_factor(national, replace(ELECTRICITY, effective_year=2026, region_prefix="44"))
    assert (by_admin.created_by_id, by_regulator.created_by_id) == (admin.user_id, national.user_id)
    assert (by_regulator.value, by_regulator.unit, by_regulator.applied_at) == (
        Decimal("0.5"),
        "tCO2/MWh",
        None,
    )
    assert dispatched == [Job("recompute_emissions", (by_admin.id,), 0), Job("recompute_emissions", (by_regulator.id,), 0)]  # fmt: skip
    event = await AuditEvent.get(action="emission_factor.set", entity_id=by_regulator.id)
    assert (event.actor_id, event.entity_type) == (national.user_id, "EmissionFactor")
    assert event.data == {
        "energyType": "ELECTRICITY",
        "effectiveFrom": "2026-01-01",
        "regionPrefix": "44",
        "version": 1,
        "status": "PUBLISHED",
        "value": "0.5000",
        "source": "test",
    }


async def test_a_provincial_regulator_and_an_enterprise_user_may_not_set_factors(
    world: World, setters: tuple[Actor, Actor], dispatched: list[Job]
) -> None:
    refused = [await world.regulator("44"), await world.member(await world.enterprise("440113"))]
    for actor in refused:
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await set_factor(actor, ELECTRICITY)
    assert not await EmissionFactor.filter(created_by_id__isnull=False).exists()
    assert (await AuditEvent.exclude(action__startswith="user.").count(), dispatched) == (
        0,
        [],
    )  # users made here


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (replace(ELECTRICITY, energy_type="COAL_DUST"), ErrorCode.UNKNOWN_ENERGY_TYPE, "energyType"),
        (replace(ELECTRICITY, effective_year=1989), ErrorCode.INVALID_YEAR, "effectiveYear"),
        (replace(ELECTRICITY, effective_year=2101), ErrorCode.INVALID_YEAR, "effectiveYear"),
        (replace(ELECTRICITY, region_prefix="4"), ErrorCode.INVALID_REGION_CODE, "regionPrefix"),
        (replace(ELECTRICITY, region_prefix="abc"), ErrorCode.INVALID_REGION_CODE, "regionPrefix"),
        (replace(ELECTRICITY, region_prefix="4401011"), ErrorCode.INVALID_REGION_CODE, "regionPrefix"),
        (replace(ELECTRICITY, region_prefix="４４"), ErrorCode.INVALID_REGION_CODE, "regionPrefix"),
        (replace(ELECTRICITY, value="-0.1"), ErrorCode.NEGATIVE_QUANTITY, "value"),
        (replace(ELECTRICITY, value="abc"), ErrorCode.INVALID_QUANTITY, "value"),
        (replace(ELECTRICITY, value="NaN"), ErrorCode.INVALID_QUANTITY, "value"),
        (replace(ELECTRICITY, value="10000000"), ErrorCode.INVALID_QUANTITY, "value"),
        (replace(ELECTRICITY, value="0.12345678901"), ErrorCode.INVALID_QUANTITY, "value"),  # 11 decimals
        (replace(ELECTRICITY, effective_year=None), ErrorCode.REQUIRED, "effectiveFrom"),
        (replace(ELECTRICITY, effective_from=date(1989, 12, 31)), ErrorCode.INVALID_DATE, "effectiveFrom"),
        (replace(ELECTRICITY, effective_from=date(2024, 7, 1)), ErrorCode.INVALID_DATE, "effectiveFrom"),
        (replace(ELECTRICITY, status=ReferenceStatus.NOT_FOUND), ErrorCode.INVALID_QUANTITY, "value"),
        (
            replace(DIESEL, value=None, status=ReferenceStatus.NONE_PUBLISHED),
            ErrorCode.INVALID_QUANTITY,
            "netCalorificValue",
        ),
        (replace(ELECTRICITY, value=""), ErrorCode.REQUIRED, "value"),
        (replace(ELECTRICITY, unit="tCO2/kWh"), ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        (replace(ELECTRICITY, unit="tCO2/t"), ErrorCode.INCOMPATIBLE_UNIT, "unit"),
        (replace(ELECTRICITY, source=""), ErrorCode.REQUIRED, "source"),
        (replace(ELECTRICITY, source="x" * 301), ErrorCode.TOO_LONG, "source"),
        (replace(DIESEL, oxidation_rate=None), ErrorCode.REQUIRED, "oxidationRate"),
        (replace(DIESEL, net_calorific_value=""), ErrorCode.REQUIRED, "netCalorificValue"),
        (replace(DIESEL, oxidation_rate="1.02"), ErrorCode.INVALID_RATIO, "oxidationRate"),
        (replace(DIESEL, carbon_content="-0.02"), ErrorCode.NEGATIVE_QUANTITY, "carbonContent"),
        (replace(DIESEL, net_calorific_value="forty"), ErrorCode.INVALID_QUANTITY, "netCalorificValue"),
        (replace(DIESEL, value="3.2"), ErrorCode.FACTOR_PARAMETERS_MISMATCH, "value"),
        (replace(DIESEL, value="3.09"), ErrorCode.FACTOR_PARAMETERS_MISMATCH, "value"),
    ],
)
async def test_a_bad_factor_is_refused_with_its_code_and_nothing_is_written(
    setters: tuple[Actor, Actor], dispatched: list[Job], data: FactorInput, code: ErrorCode, field: str
) -> None:
    with fails_with(code, field):
        await set_factor(setters[0], data)
    assert not await EmissionFactor.filter(created_by_id__isnull=False).exists()
    assert (await AuditEvent.exclude(action__startswith="user.").count(), dispatched) == (
        0,
        [],
    )  # users made here


async def test_a_fuel_factor_is_derived_from_its_parameters_when_no_value_is_given(
    setters: tuple[Actor, Actor],
) -> None:
    factor = await set_factor(setters[0], DIESEL)
    # 42.652 GJ/t x 0.02020 tC/GJ x 0.98 x 44/12 = 3.09590963733... tCO2/t: the shipped table's value too
    assert factor.value == exact("42.652", "0.02020", "0.98") == Decimal("3.0959096373")
    stored = await EmissionFactor.get(id=factor.id)
    assert (stored.value, stored.unit) == (Decimal("3.0959096373"), "tCO2/t")
    seeded = await EmissionFactor.get(energy_type_id="DIESEL", effective_from=date(2024, 1, 1), version=1)
    assert seeded.value == stored.value  # one parameter set, one value, however it was entered
    assert (stored.net_calorific_value, stored.carbon_content, stored.oxidation_rate) == (
        Decimal("42.652"), Decimal("0.0202"), Decimal("0.98"),
    )  # fmt: skip


async def test_a_stated_value_may_round_the_derived_one_but_the_derivation_is_stored(
    setters: tuple[Actor, Actor],
) -> None:
    factor = await set_factor(setters[0], replace(DIESEL, value="3.096", unit="tCO2/t"))
    assert (await EmissionFactor.get(id=factor.id)).value == Decimal("3.0959096373")


async def test_a_version_saying_none_was_published_stops_the_earlier_value(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    gap = await set_factor(
        setters[0],
        FactorInput(
            "DIESEL",
            source="test: withdrawn",
            effective_from=date(2024, 1, 1),
            status=ReferenceStatus.NOT_FOUND,
        ),
    )
    assert (gap.value, gap.status, gap.version) == (None, ReferenceStatus.NOT_FOUND, 2)
    assert await correct(gap) == 3
    diesel = await EnergyRecord.filter(energy_type_id="DIESEL").values_list("emissions", "factor_id")
    assert sorted(diesel) == [(None, gap.id)] * 3
    monthly = await EnergyMonthly.get(
        enterprise_id=landscape.beijing, year=2024, month=1, energy_type_id="DIESEL"
    )
    assert (monthly.emissions, monthly.missing_factors) == (0, 1)


async def test_versions_count_up_per_type_year_and_region(setters: tuple[Actor, Actor]) -> None:
    admin, national = setters
    versions = [
        (await set_factor(actor, FactorInput("ELECTRICITY", year, "0.6", prefix, source="test"))).version
        for actor, year, prefix in [
            (admin, 2022, ""),  # the shipped 2022 national factor is version 1
            (national, 2022, ""),
            (admin, 2022, "44"),
            (admin, 2023, "44"),  # shipped too
            (admin, 2022, "4401"),
            (national, 2022, "44"),
        ]
    ]
    assert versions == [2, 3, 1, 2, 1, 2]


# ---------------------------------------------------------------- corrections


@dataclass
class Landscape:
    """Records across types, years and regions, with their aggregates built."""

    guangzhou: int
    shenzhen: int
    beijing: int

    def region(self, enterprise_id: int) -> str:
        return {self.guangzhou: "440113", self.shenzhen: "440303", self.beijing: "110105"}[enterprise_id]


@pytest_asyncio.fixture
async def landscape(world: World, setters: tuple[Actor, Actor]) -> Landscape:
    enterprises = [await world.enterprise(region) for region in ("440113", "440303", "110105")]
    rows = []
    for n, enterprise in enumerate(enterprises, start=1):
        for period, energy_type, quantity, unit, source in [
            ("2021-06", "ELECTRICITY", 100, "MWh", ""),  # before every electricity factor
            ("2022-01", "ELECTRICITY", 100, "MWh", ""),
            ("2022-01-15", "ELECTRICITY", 10, "MWh", "IOT"),
            ("2022-02", "ELECTRICITY", 200, "MWh", ""),
            ("2023-01", "ELECTRICITY", 300, "MWh", ""),
            ("2024-01", "ELECTRICITY", 400, "MWh", ""),
            ("2024-01", "DIESEL", 5, "t", ""),
            ("2022-01", "RAW_COAL", 10, "t", ""),  # raw coal has no factor
            ("2024-01", "RAW_COAL", 20, "t", ""),
            ("2024-01", "WATER", 50, "t", ""),
        ]:
            rows.append({
                "credit_code": enterprise.credit_code,
                "period": period,
                "energy_type": energy_type,
                "quantity": str(quantity * n),
                "unit": unit,
                "source": source,
            })  # fmt: skip
    result = await import_rows(await world.regulator(""), rows)
    assert (result.written, result.errors) == (30, [])
    await aggregates.refresh()
    return Landscape(*(e.id for e in enterprises))


async def snapshot() -> dict[str, dict[Any, dict[str, Any]]]:
    """Every record by id, every aggregate by its key, with all their columns (aggregate ids aside)."""
    return {
        "records": {r["id"]: r for r in await EnergyRecord.all().values()},
        "monthly": {
            (r["enterprise_id"], r["year"], r["month"], r["energy_type_id"]): {k: v for k, v in r.items() if k != "id"}
            for r in await EnergyMonthly.all().values()
        },
        "yearly": {
            (r["enterprise_id"], r["year"], r["energy_type_id"]): {k: v for k, v in r.items() if k != "id"}
            for r in await EnergyYearly.all().values()
        },
    }  # fmt: skip


def changed(before: dict[Any, dict[str, Any]], after: dict[Any, dict[str, Any]]) -> dict[Any, set[str]]:
    assert before.keys() == after.keys()
    return {key: {c for c in before[key] if before[key][c] != after[key][c]} for key in before if before[key] != after[key]}  # fmt: skip


async def correct(factor: EmissionFactor) -> int:
    """The job, then the aggregates refresh it asks for."""
    count = await factors.recompute(factor.id)
    await aggregates.refresh()
    return count


async def test_a_national_correction_changes_exactly_the_records_it_now_applies_to(
    landscape: Landscape, setters: tuple[Actor, Actor], dispatched: list[Job]
) -> None:
    before = await snapshot()
    dispatched.clear()
    factor = await set_factor(
        setters[0], FactorInput("ELECTRICITY", 2022, "0.6000", source="test: corrected")
    )
    assert factor.id in await factors.unapplied()
    count = await factors.recompute(factor.id)
    # Only 2022 electricity: from 2023 every region here has its own grid factor, 2021 has none.
    affected = {
        rid
        for rid, r in before["records"].items()
        if r["energy_type_id"] == "ELECTRICITY" and r["year"] == 2022
    }
    assert count == len(affected) == 9
    assert set(await StaleMonth.all().values_list("enterprise_id", "year", "month")) == {
        (e, 2022, month)
        for e in (landscape.guangzhou, landscape.shenzhen, landscape.beijing)
        for month in (1, 2)
    }
    await aggregates.refresh()
    after = await snapshot()
    assert changed(before["records"], after["records"]) == {
        rid: {"factor_id", "emissions"} for rid in affected
    }
    for rid in affected:
        assert after["records"][rid]["factor_id"] == factor.id
        assert after["records"][rid]["emissions"] * 10 == after["records"][rid]["amount"] * 6  # x 0.6000
    guangzhou_january = [r for r in after["records"].values() if (r["enterprise_id"], r["year"], r["month"], r["day"], r["energy_type_id"]) == (landscape.guangzhou, 2022, 1, 0, "ELECTRICITY")]  # fmt: skip
    assert guangzhou_january[0]["emissions"] == 60_000_000  # 100 MWh x 0.6 (it was 57.03 t)
    assert changed(before["monthly"], after["monthly"]) == {
        (e, 2022, month, "ELECTRICITY"): {"emissions"}
        for e in (landscape.guangzhou, landscape.shenzhen, landscape.beijing)
        for month in (1, 2)
    }
    # Guangzhou, January 2022: the 100 MWh reported, at 0.6 (the meter's 10 MWh day ranks below)
    assert after["monthly"][(landscape.guangzhou, 2022, 1, "ELECTRICITY")]["emissions"] == 60_000_000
    assert changed(before["yearly"], after["yearly"]) == {
        (e, 2022, "ELECTRICITY"): {"emissions"}
        for e in (landscape.guangzhou, landscape.shenzhen, landscape.beijing)
    }
    # Beijing (n = 3): 2022 is 300 + 30 + 600 MWh = 930 MWh, x 0.6
    assert after["yearly"][(landscape.beijing, 2022, "ELECTRICITY")]["emissions"] == 540_000_000
    stored = await EmissionFactor.get(id=factor.id)
    assert stored.applied_at is not None
    assert factor.id not in await factors.unapplied()
    event = await AuditEvent.get(action="emissions.recomputed")
    assert (event.actor_id, event.entity_type, event.entity_id) == (None, "EmissionFactor", factor.id)
    assert event.data == {"factorId": factor.id, "recordsChanged": 9}
    assert dispatched == [Job("recompute_emissions", (factor.id,), 0), Job("refresh_aggregates", (), 0)]


async def test_a_provincial_correction_leaves_other_provinces_and_years_alone(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    before = await snapshot()
    factor = await set_factor(setters[1], FactorInput("ELECTRICITY", 2023, "0.4100", "44", source="test: corrected"))  # fmt: skip
    assert factor.version == 2
    assert await correct(factor) == 4  # Guangzhou and Shenzhen, 2023 and 2024
    after = await snapshot()
    affected = {
        rid
        for rid, r in before["records"].items()
        if r["energy_type_id"] == "ELECTRICITY"
        and r["year"] >= 2023
        and r["enterprise_id"] in (landscape.guangzhou, landscape.shenzhen)
    }
    assert changed(before["records"], after["records"]) == {
        rid: {"factor_id", "emissions"} for rid in affected
    }
    shenzhen_2024 = after["monthly"][(landscape.shenzhen, 2024, 1, "ELECTRICITY")]
    assert shenzhen_2024["emissions"] == 328_000_000  # 800 MWh x 0.41 (was 0.4042)
    assert set(changed(before["monthly"], after["monthly"])) == {
        (e, y, 1, "ELECTRICITY") for e in (landscape.guangzhou, landscape.shenzhen) for y in (2023, 2024)
    }
    assert set(changed(before["yearly"], after["yearly"])) == {
        (e, y, "ELECTRICITY") for e in (landscape.guangzhou, landscape.shenzhen) for y in (2023, 2024)
    }


async def test_a_city_factor_applies_to_that_city_only(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    before = await snapshot()
    factor = await set_factor(setters[0], FactorInput("ELECTRICITY", 2024, "0.3000", "4403", source="test"))
    assert await correct(factor) == 1
    after = await snapshot()
    (rid,) = changed(before["records"], after["records"])
    assert (after["records"][rid]["enterprise_id"], after["records"][rid]["year"]) == (
        landscape.shenzhen,
        2024,
    )
    assert after["records"][rid]["emissions"] == 240_000_000  # 800 MWh x 0.3
    assert set(changed(before["yearly"], after["yearly"])) == {(landscape.shenzhen, 2024, "ELECTRICITY")}


async def test_recomputing_again_changes_nothing(landscape: Landscape, setters: tuple[Actor, Actor]) -> None:
    factor = await set_factor(setters[0], FactorInput("ELECTRICITY", 2022, "0.6000", source="test"))
    assert await correct(factor) == 9
    before = await snapshot()
    assert await factors.recompute(factor.id) == 0
    assert not await StaleMonth.exists()
    assert await aggregates.refresh() == 0
    assert await snapshot() == before


async def test_a_later_version_supersedes_and_recomputing_the_earlier_one_changes_nothing(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    first = await set_factor(setters[0], FactorInput("ELECTRICITY", 2022, "0.6000", source="test"))
    second = await set_factor(setters[0], FactorInput("ELECTRICITY", 2022, "0.6500", source="test"))
    assert await correct(second) == 9
    before = await snapshot()
    assert await correct(first) == 0  # a lost job run late does not bring the old version back
    assert await snapshot() == before
    assert {r["factor_id"] for r in before["records"].values() if r["year"] == 2022 and r["energy_type_id"] == "ELECTRICITY"} == {second.id}  # fmt: skip


async def test_a_factor_for_a_type_that_had_none_fills_the_missing_emissions(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    before = await snapshot()
    coal_months = [m for k, m in before["monthly"].items() if k[3] == "RAW_COAL"]
    assert [m["missing_factors"] for m in coal_months] == [1] * 6
    factor = await set_factor(setters[0], FactorInput("RAW_COAL", 2023, "1.9", source="test"))
    assert await correct(factor) == 3  # the 2024 ones; 2022 is before the factor
    after = await snapshot()
    coal = {
        (r["enterprise_id"], r["year"]): (r["emissions"], r["factor_id"])
        for r in after["records"].values()
        if r["energy_type_id"] == "RAW_COAL"
    }
    none_published = await EmissionFactor.get(energy_type_id="RAW_COAL", effective_from=date(2019, 1, 1))
    assert none_published.status == ReferenceStatus.NONE_PUBLISHED
    assert coal == {
        (landscape.guangzhou, 2022): (None, none_published.id),  # says why there are no emissions
        (landscape.shenzhen, 2022): (None, none_published.id),
        (landscape.beijing, 2022): (None, none_published.id),
        (landscape.guangzhou, 2024): (38_000_000, factor.id),  # 20 t x 1.9
        (landscape.shenzhen, 2024): (76_000_000, factor.id),
        (landscape.beijing, 2024): (114_000_000, factor.id),
    }
    monthly = after["monthly"][(landscape.beijing, 2024, 1, "RAW_COAL")]
    assert (monthly["emissions"], monthly["missing_factors"]) == (114_000_000, 0)
    assert after["monthly"][(landscape.beijing, 2022, 1, "RAW_COAL")]["missing_factors"] == 1
    assert set(changed(before["monthly"], after["monthly"])) == {(e, 2024, 1, "RAW_COAL") for e in (landscape.guangzhou, landscape.shenzhen, landscape.beijing)}  # fmt: skip


async def test_a_factor_no_record_reaches_is_applied_and_changes_nothing(
    landscape: Landscape, setters: tuple[Actor, Actor]
) -> None:
    before = await snapshot()
    factor = await set_factor(setters[0], FactorInput("ELECTRICITY", 2030, "0.1", source="test"))
    assert await correct(factor) == 0
    assert await snapshot() == before
    assert factor.id not in await factors.unapplied()
    event = await AuditEvent.get(action="emissions.recomputed")
    assert event.data == {"factorId": factor.id, "recordsChanged": 0}


async def test_the_jobs_a_correction_enqueues_bring_records_and_aggregates_up_to_date(
    landscape: Landscape, setters: tuple[Actor, Actor], dispatched: list[Job]
) -> None:
    """set_factor asks for the recompute, the recompute for the refresh: running what was asked is enough."""
    dispatched.clear()
    factor = await set_factor(setters[0], FactorInput("ELECTRICITY", 2022, "0.6000", source="test"))
    done = 0
    while done < len(dispatched):
        job = dispatched[done]
        await JOBS[job.name](*job.args)
        done += 1
    assert [job.name for job in dispatched] == ["recompute_emissions", "refresh_aggregates"]
    yearly = await EnergyYearly.get(
        enterprise_id=landscape.guangzhou, year=2022, energy_type_id="ELECTRICITY"
    )
    assert yearly.emissions == 180_000_000  # 300 MWh reported x 0.6 (the meter's day ranks below)
    assert not await StaleMonth.exists()
    assert factor.id not in await factors.unapplied()


async def test_a_shipped_factor_recomputed_on_an_empty_database_is_not_audited(db: str) -> None:
    shipped_id = (
        await EmissionFactor.get(
            energy_type_id="ELECTRICITY", effective_from=date(2022, 1, 1), region_prefix=""
        )
    ).id
    assert shipped_id not in await factors.unapplied()  # seeded into a database without records
    await EmissionFactor.filter(id=shipped_id).update(applied_at=None)  # as if shipped later
    assert shipped_id in await factors.unapplied()
    assert await factors.recompute(shipped_id) == 0
    assert shipped_id not in await factors.unapplied()
    assert not await AuditEvent.exists()
    assert await factors.recompute(999_999) == 0  # a factor that does not exist


async def test_a_factor_shipped_to_a_database_with_records_waits_for_the_sweep_to_apply_it(
    world: World,
) -> None:
    """Seeding marks a new shipped factor applied only where no record could need it."""
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    rows = [{"credit_code": enterprise.credit_code, "period": "2026-08", "energy_type": "PURCHASED_HEAT", "quantity": "100", "unit": "GJ"}]  # fmt: skip
    heat = await EmissionFactor.get(energy_type_id="PURCHASED_HEAT", effective_from=date(2026, 7, 1))
    await EmissionFactor.filter(id=heat.id).delete()  # as if this release had not shipped it yet
    result = await import_rows(regulator, rows)
    assert (result.written, result.missing_factors) == (1, 1)
    await seed_reference_data()  # the next release's `ccms migrate`
    shipped = await EmissionFactor.get(energy_type_id="PURCHASED_HEAT", effective_from=date(2026, 7, 1))
    assert shipped.applied_at is None and shipped.id in await factors.unapplied()
    await sweep()
    record = await EnergyRecord.get(enterprise_id=enterprise.id)
    assert (record.factor_id, record.emissions) == (shipped.id, 11_000_000)  # 100 GJ x 0.11
    assert shipped.id not in await factors.unapplied()
