"""Allocation rules: each rule's basis, whole tonnes summing exactly to the total, enterprises
without data listed for manual input, scope, and a coded error for each bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from models import (
    AllocationRule,
    Benchmark,
    EnergyType,
    Enterprise,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    ReferenceStatus,
    Sector,
    TceCoefficient,
)
from services.access import Actor
from services.allocation import basis, rules
from services.allocation.rules import Allocation, Parameters, Scope, compute
from services.allocation.shares import largest_remainder
from services.energy.seeds import seed_reference_data
from services.errors import ErrorCode
from services.values import Raw
from tests.conftest import World
from tests.services.cycle import fails_with

RULE = AllocationRule
GUANGDONG = Scope(region_prefix="44")


async def history(
    enterprise: Enterprise,
    year: int,
    emissions: int | None = None,
    *,
    energy: dict[str, object] | None = None,
    output: dict[str, object] | None = None,
) -> None:
    """One enterprise's year: verified emissions (t), energy and output in canonical units."""
    if emissions is not None:
        await HistoricalEmission.create(enterprise_id=enterprise.id, year=year, verified_emissions=emissions)
    for code, quantity in (energy or {}).items():
        await HistoricalEnergy.create(
            enterprise_id=enterprise.id, year=year, energy_type_id=code, quantity=Decimal(str(quantity))
        )
    for code, quantity in (output or {}).items():
        await HistoricalOutput.create(
            enterprise_id=enterprise.id, year=year, product_id=code, quantity=Decimal(str(quantity))
        )


async def run(
    actor: Actor,
    rule: AllocationRule,
    total: Raw | None = None,
    *,
    year: int = 2025,
    scope: Scope = GUANGDONG,
    **parameters: Any,
) -> Allocation:
    return await compute(
        actor, year=year, rule=rule, scope=scope, total=total, parameters=Parameters(**parameters)
    )


@pytest_asyncio.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


# ---------------------------------------------------------------- largest remainder


def test_shares_are_whole_tonnes_summing_exactly_to_the_total() -> None:
    assert largest_remainder(100, {1: Decimal(1), 2: Decimal(1), 3: Decimal(1)}) == {1: 34, 2: 33, 3: 33}
    # quotas 3.5, 1.75, 1.75: the two .75 remainders take the two tonnes left over
    assert largest_remainder(7, {5: Decimal("0.5"), 9: Decimal("0.25"), 2: Decimal("0.25")}) == {
        5: 3,
        9: 2,
        2: 2,
    }
    # quotas 1.6667, 3.3333, 5.0: the largest remainder (.6667) takes the tonne left over
    assert largest_remainder(10, {1: Decimal(1), 2: Decimal(2), 3: Decimal(3)}) == {1: 2, 2: 3, 3: 5}


def test_equal_remainders_go_to_the_lower_enterprise_id_whatever_the_order() -> None:
    assert largest_remainder(2, {30: Decimal(1), 10: Decimal(1), 20: Decimal(1)}) == {30: 0, 10: 1, 20: 1}
    assert largest_remainder(2, {20: Decimal(1), 30: Decimal(1), 10: Decimal(1)}) == {30: 0, 10: 1, 20: 1}


def test_a_zero_weight_gets_nothing_and_keeps_its_place() -> None:
    assert largest_remainder(9, {1: Decimal(0), 2: Decimal(3)}) == {1: 0, 2: 9}
    assert largest_remainder(0, {1: Decimal(1), 2: Decimal(3)}) == {1: 0, 2: 0}
    assert largest_remainder(5, {}) == {}


def test_weights_of_very_different_sizes_are_shared_exactly() -> None:
    weights = {1: Decimal("1e-20"), 2: Decimal("123456789012345678.123456789"), 3: Decimal("1e-20")}
    assert largest_remainder(10**12, weights) == {1: 0, 2: 10**12, 3: 0}
    # a difference in the 30th digit still decides who gets the last tonne
    close = {1: Decimal("1.00000000000000000000000000001"), 2: Decimal(1)}
    assert largest_remainder(1, close) == {1: 1, 2: 0}
    assert largest_remainder(1, {2: Decimal("1.00000000000000000000000000001"), 1: Decimal(1)}) == {
        1: 0,
        2: 1,
    }


# ---------------------------------------------------------------- HISTORICAL_EMISSIONS


async def test_grandfathering_shares_by_average_emissions_over_the_last_three_years_with_data(
    world: World, regulator: Actor
) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    await history(a, 2019, 50_000)  # older than the last three years with data: ignored
    for year, emissions in [(2022, 900), (2023, 1000), (2024, 1100)]:
        await history(a, year, emissions)
    await history(b, 2022, 400)
    await history(b, 2023, 600)  # b reported two of the three years: its average is over those
    await history(c, 2025, 7000)  # the plan's own year is not a base year
    result = await run(regulator, RULE.HISTORICAL_EMISSIONS, 3000)
    assert result.base_years == [2022, 2023, 2024]
    assert result.bases == {a.id: Decimal(1000), b.id: Decimal(500)}
    assert result.amounts == {a.id: 2000, b.id: 1000}
    assert result.manual == {c.id: "no verified emissions in the base years"}
    assert (result.total, result.allocated, result.scale_factor) == (3000, 3000, None)


async def test_the_default_base_years_are_the_last_three_with_data_in_scope(
    world: World, regulator: Actor
) -> None:
    a = await world.enterprise("440113")
    beijing = await world.enterprise("110105")
    for year in (2015, 2017, 2020, 2021):
        await history(a, year, 100)
    await history(beijing, 2023, 100)  # outside the scope: its years do not count
    await history(beijing, 2024, 100)
    assert (await run(regulator, RULE.HISTORICAL_EMISSIONS, 10)).base_years == [2017, 2020, 2021]


async def test_explicit_base_years_replace_the_default(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2019, 300)
    await history(a, 2020, 500)
    await history(b, 2019, 100)
    await history(b, 2020, 100)
    await history(a, 2024, 1)  # the latest year, not chosen
    result = await run(regulator, RULE.HISTORICAL_EMISSIONS, 1000, base_years=(2020, 2019))
    assert result.base_years == [2019, 2020]
    assert result.bases == {a.id: Decimal(400), b.id: Decimal(100)}
    assert result.amounts == {a.id: 800, b.id: 200}


async def test_averages_keep_their_fractions(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    for year, (ea, eb) in zip((2022, 2023, 2024), [(1, 1), (1, 1), (2, 1)], strict=True):
        await history(a, year, ea)
        await history(b, year, eb)
    result = await run(regulator, RULE.HISTORICAL_EMISSIONS, 7)
    assert result.bases[a.id] == pytest.approx(Decimal(4) / 3, rel=Decimal("1e-15"))
    # quotas 7 x (4/3) / (7/3) = 4 and 7 x 1 / (7/3) = 3
    assert result.amounts == {a.id: 4, b.id: 3}


async def test_without_a_total_the_sum_of_averages_is_shared_less_the_reduction_rate(
    world: World, regulator: Actor
) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    for year in (2022, 2023, 2024):
        await history(a, year, 1000)
        await history(b, year, 501)
    plain = await run(regulator, RULE.HISTORICAL_EMISSIONS)
    assert (plain.total, plain.amounts) == (1501, {a.id: 1000, b.id: 501})
    reduced = await run(regulator, RULE.HISTORICAL_EMISSIONS, reduction_rate="0.1")
    # 1501 x 0.9 = 1350.9 -> 1350 whole tonnes (rounded down: a reduction never gives more)
    assert (reduced.total, reduced.allocated) == (1350, 1350)
    assert reduced.amounts == {a.id: 899, b.id: 451}  # quotas 899.40 and 450.60


async def test_a_reduction_rate_with_a_total_is_refused(world: World, regulator: Actor) -> None:
    await history(await world.enterprise("440113"), 2024, 1000)
    with fails_with(ErrorCode.INVALID_RATIO, "reductionRate"):
        await run(regulator, RULE.HISTORICAL_EMISSIONS, 900, reduction_rate="0.1")


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "0.12345", "much"])
async def test_a_bad_reduction_rate_is_refused(world: World, regulator: Actor, rate: str) -> None:
    await history(await world.enterprise("440113"), 2024, 1000)
    with fails_with(ErrorCode.INVALID_RATIO, "reductionRate"):
        await run(regulator, RULE.HISTORICAL_EMISSIONS, reduction_rate=rate)


async def test_base_years_without_data_are_refused(world: World, regulator: Actor) -> None:
    await history(await world.enterprise("440113"), 2024, 1000)
    with fails_with(ErrorCode.NO_BASE_YEAR_DATA, "baseYears"):
        await run(regulator, RULE.HISTORICAL_EMISSIONS, 1000, base_years=(2019, 2020))


async def test_a_scope_without_any_history_is_refused(world: World, regulator: Actor) -> None:
    await world.enterprise("440113")
    await history(await world.enterprise("110105"), 2024, 1000)  # someone else's history
    for rule in (RULE.HISTORICAL_EMISSIONS, RULE.ENERGY_PROPORTIONAL, RULE.BENCHMARK):
        with fails_with(ErrorCode.NO_BASE_YEAR_DATA, "baseYears"):
            await run(regulator, rule, 1000)


@pytest.mark.parametrize("years", [(2024, 2025), (2026,)])
async def test_base_years_must_precede_the_plans_year(world: World, regulator: Actor, years: tuple) -> None:
    await history(await world.enterprise("440113"), 2024, 1000)
    with fails_with(ErrorCode.INVALID_YEAR, "baseYears"):
        await run(regulator, RULE.HISTORICAL_EMISSIONS, 1000, base_years=years)


async def test_a_total_cannot_be_shared_by_zero_emissions(world: World, regulator: Actor) -> None:
    """Shares of nothing are undefined: the total would silently vanish."""
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, 0)
    await history(b, 2024, 0)
    with fails_with(ErrorCode.NO_BASE_YEAR_DATA):
        await run(regulator, RULE.HISTORICAL_EMISSIONS, 1000)
    assert (await run(regulator, RULE.HISTORICAL_EMISSIONS)).amounts == {a.id: 0, b.id: 0}


async def test_an_enterprise_with_zero_emissions_gets_zero_and_is_not_manual(
    world: World, regulator: Actor
) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, 0)
    await history(b, 2024, 10)
    result = await run(regulator, RULE.HISTORICAL_EMISSIONS, 1000)
    assert (result.amounts, result.manual) == ({a.id: 0, b.id: 1000}, {})


# ---------------------------------------------------------------- BENCHMARK


async def test_benchmark_allowances_are_output_times_the_seeded_power_benchmarks(
    world: World, regulator: Actor
) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    await history(a, 2024, output={"POWER_COAL_GT300": 1_000_000})
    await history(
        b, 2024, output={"POWER_COAL_LE300": 500_000, "POWER_GAS": 200_000, "HEAT_COAL": 100_000, "HEAT_GAS": 3_000}
    )  # fmt: skip
    await history(c, 2024, output={"POWER_COAL_UNCONVENTIONAL": 10_000})
    result = await run(regulator, RULE.BENCHMARK)
    # 1,000,000 MWh x 0.7910 = 791,000 t
    # 500,000 x 0.8049 + 200,000 x 0.3288 + 100,000 GJ x 0.1033 + 3,000 GJ x 0.0533 = 478,699.9 t
    # 10,000 x 0.8244 = 8,244 t
    assert result.bases == {a.id: Decimal(791_000), b.id: Decimal("478699.9"), c.id: Decimal(8244)}
    assert result.amounts == {a.id: 791_000, b.id: 478_700, c.id: 8244}
    assert (result.total, result.scale_factor, result.base_years, result.manual) == (None, 1, [2024], {})


async def test_a_correction_factor_multiplies_every_benchmark_allowance(
    world: World, regulator: Actor
) -> None:
    a = await world.enterprise("440113")
    await history(a, 2024, output={"POWER_COAL_GT300": 1_000_000})
    result = await run(regulator, RULE.BENCHMARK, correction_factor="0.95")
    assert result.amounts == {a.id: 751_450}  # 791,000 x 0.95


@pytest.mark.parametrize("factor", ["0", "-1", "NaN", "Infinity", "lots", ""])
async def test_a_bad_correction_factor_is_refused(world: World, regulator: Actor, factor: str) -> None:
    await history(await world.enterprise("440113"), 2024, output={"POWER_GAS": 1})
    with fails_with(ErrorCode.INVALID_RATIO, "correctionFactor"):
        await run(regulator, RULE.BENCHMARK, correction_factor=factor)


async def test_output_of_the_latest_base_year_counts(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2023, output={"POWER_GAS": 1000})
    await history(a, 2024, output={"POWER_GAS": 2000})
    await history(b, 2023, output={"POWER_GAS": 5000})  # nothing in 2024: needs manual input
    result = await run(regulator, RULE.BENCHMARK)
    assert (result.base_years, result.amounts) == ([2024], {a.id: 658})  # 2000 x 0.3288 = 657.6
    assert result.manual == {b.id: "no production output in 2024"}
    assert (await run(regulator, RULE.BENCHMARK, base_years=(2023,))).amounts == {a.id: 329, b.id: 1644}


async def test_a_total_smaller_than_the_sum_scales_everyone_by_one_recorded_factor(
    world: World, regulator: Actor
) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    await history(a, 2024, output={"POWER_COAL_GT300": 1_000_000})  # 791,000
    await history(b, 2024, output={"POWER_GAS": 1_000_000})  # 328,800
    await history(c, 2024, output={"HEAT_GAS": 1_000_001})  # 53,300.0533
    total = 1_000_000  # of 1,173,100.0533
    result = await run(regulator, RULE.BENCHMARK, total)
    assert result.allocated == total
    scale = result.scale_factor
    assert scale is not None and scale == pytest.approx(
        Decimal(total) / Decimal("1173100.0533"), abs=Decimal("1e-12")
    )
    assert scale * Decimal("1173100.0533") <= total
    for enterprise in (a, b, c):
        assert abs(result.amounts[enterprise.id] - result.bases[enterprise.id] * scale) < 1
    assert result.amounts == {a.id: 674_282, b.id: 280_283, c.id: 45_435}


async def test_a_total_above_the_sum_is_not_spread(world: World, regulator: Actor) -> None:
    """The benchmark gives each its allowance; a larger total is a cap, not a target."""
    a = await world.enterprise("440113")
    await history(a, 2024, output={"POWER_GAS": 1000})
    result = await run(regulator, RULE.BENCHMARK, 5000)
    assert (result.amounts, result.total, result.scale_factor) == ({a.id: 329}, 5000, 1)


async def test_the_floor_gives_at_least_80_percent_of_verified_emissions(
    world: World, regulator: Actor
) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, 1_200_000, output={"POWER_COAL_GT300": 1_000_000})  # 791,000 < 960,000
    await history(b, 2024, 300_000, output={"POWER_GAS": 1_000_000})  # 328,800 >= 240,000
    result = await run(regulator, RULE.BENCHMARK, floor_ratio="0.8")
    assert result.amounts == {a.id: 960_000, b.id: 328_800}
    assert result.bases == {a.id: Decimal(791_000), b.id: Decimal(328_800)}


async def test_the_floor_rounds_up_to_whole_tonnes(world: World, regulator: Actor) -> None:
    a = await world.enterprise("440113")
    await history(a, 2024, 1001, output={"POWER_GAS": 1})
    assert (await run(regulator, RULE.BENCHMARK, floor_ratio="0.8")).amounts == {a.id: 801}  # 800.8 -> 801


async def test_the_floor_holds_after_scaling_to_a_total(world: World, regulator: Actor) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    await history(a, 2024, 1_200_000, output={"POWER_COAL_GT300": 1_000_000})  # floor 960,000
    await history(b, 2024, 100_000, output={"POWER_GAS": 1_000_000})  # floor 80,000, benchmark 328,800
    await history(c, 2024, None, output={"POWER_GAS": 500_000})  # no verified emissions: no floor
    total = 1_200_000
    result = await run(regulator, RULE.BENCHMARK, total, floor_ratio="0.8")
    assert result.allocated == total
    assert result.amounts[a.id] >= 960_000 and result.amounts[b.id] >= 80_000
    # a sits on its floor; b and c share the rest by one factor s: 328,800 s + 164,400 s = 240,000
    scale = result.scale_factor
    assert scale is not None and scale == pytest.approx(
        Decimal(240_000) / Decimal(493_200), abs=Decimal("1e-11")
    )
    assert result.amounts == {a.id: 960_000, b.id: 160_000, c.id: 80_000}


async def test_a_total_below_the_floors_is_refused(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, 1_000_000, output={"POWER_GAS": 1})
    await history(b, 2024, 250_000, output={"POWER_GAS": 1})
    with fails_with(ErrorCode.TOTAL_BELOW_FLOOR, "total"):
        await run(regulator, RULE.BENCHMARK, 999_999, floor_ratio="0.8")  # floors need 1,000,000
    assert (await run(regulator, RULE.BENCHMARK, 1_000_000, floor_ratio="0.8")).amounts == {
        a.id: 800_000,
        b.id: 200_000,
    }


async def test_a_product_without_a_benchmark_is_refused(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2024, output={"POWER_GAS": 1000})
    await history(b, 2024, output={"CLINKER": 1000, "CRUDE_STEEL": 5})
    with fails_with(ErrorCode.NO_BENCHMARK, "rule") as info:
        await run(regulator, RULE.BENCHMARK)
    assert "CLINKER, CRUDE_STEEL" in info.value.message


@pytest_asyncio.fixture
async def gas_benchmark_2025() -> AsyncIterator[Benchmark]:
    """A later version of the gas benchmark. Reference tables outlive a test: remove it."""
    version = await Benchmark.create(
        product_id="POWER_GAS", compliance_year=2025, value=Decimal("0.3"), source="test"
    )
    try:
        yield version
    finally:
        await version.delete()


async def test_the_benchmark_in_force_in_the_plans_year_applies(
    world: World, regulator: Actor, gas_benchmark_2025: Benchmark
) -> None:
    a = await world.enterprise("440113")
    await history(a, 2021, output={"POWER_GAS": 1000})
    await history(a, 2023, output={"POWER_GAS": 1000})
    assert (await run(regulator, RULE.BENCHMARK, year=2025)).amounts == {a.id: 300}
    assert (await run(regulator, RULE.BENCHMARK, year=2024)).amounts == {a.id: 329}
    with fails_with(ErrorCode.NO_BENCHMARK):  # none before 2024 (2023's could not be confirmed)
        await run(regulator, RULE.BENCHMARK, year=2022, base_years=(2021,))


# ---------------------------------------------------------------- ENERGY_PROPORTIONAL


async def test_energy_shares_sum_each_energy_in_tce(world: World, regulator: Actor) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    for year in (2022, 2023, 2024):
        # 1,000 MWh x 0.1229 + 100 t diesel x 1.4571 = 268.61 tce
        await history(a, year, energy={"ELECTRICITY": 1000, "DIESEL": 100})
        # 10 x 10^4 Nm3 x 12.143 = 121.43 tce
        await history(b, year, energy={"NATURAL_GAS": 10})
    await history(c, 2021, energy={"DIESEL": 5})  # before the base years
    result = await run(regulator, RULE.ENERGY_PROPORTIONAL, 1000)
    assert result.base_years == [2022, 2023, 2024]
    assert float(result.bases[a.id]) == pytest.approx(268.61)
    assert float(result.bases[b.id]) == pytest.approx(121.43)
    # quotas 1000 x 268.61 / 390.04 = 688.67 and 311.33
    assert result.amounts == {a.id: 689, b.id: 311}
    assert result.manual == {c.id: "no energy data in the base years"}


async def test_energy_is_averaged_over_the_years_reported(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    await history(a, 2022, energy={"DIESEL": 100})
    await history(a, 2023, energy={"DIESEL": 300})
    await history(b, 2023, energy={"DIESEL": 200})  # one year: its average is that year
    result = await run(regulator, RULE.ENERGY_PROPORTIONAL, 100)
    assert result.amounts == {a.id: 50, b.id: 50}


async def test_equal_energy_use_is_an_exact_tie_that_goes_to_the_lower_id(
    world: World, regulator: Actor
) -> None:
    """Both used 100 MWh over the base years. Summed as doubles, 1 x 0.1229 + 99 x 0.1229 = 12.29
    but 7 x 0.1229 + 93 x 0.1229 = 12.290000000000001, and the tonne went to rounding noise."""
    first, second = await world.enterprise("440113"), await world.enterprise("440113")
    for enterprise, quantities in ((first, (1, 99)), (second, (7, 93))):
        for year, quantity in zip((2023, 2024), quantities, strict=True):
            await history(enterprise, year, energy={"ELECTRICITY": quantity})
    result = await run(regulator, RULE.ENERGY_PROPORTIONAL, 1)
    assert result.bases == {first.id: Decimal("6.145"), second.id: Decimal("6.145")}
    assert result.amounts == {first.id: 1, second.id: 0}


@pytest_asyncio.fixture
async def electricity_2024() -> AsyncIterator[TceCoefficient]:
    version = await TceCoefficient.create(
        energy_type_id="ELECTRICITY", effective_year=2024, value=Decimal("0.3"), source="test"
    )
    try:
        yield version
    finally:
        await version.delete()


async def test_each_base_year_uses_the_coefficient_in_force_that_year(
    world: World, regulator: Actor, electricity_2024: TceCoefficient
) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    for year in (2023, 2024):
        await history(a, year, energy={"ELECTRICITY": 1000})  # 122.9 tce in 2023, 300 in 2024
        await history(b, year, energy={"DIESEL": "145.71"})  # 212.31... tce each year
    result = await run(regulator, RULE.ENERGY_PROPORTIONAL, 1000)
    assert float(result.bases[a.id]) == pytest.approx((122.9 + 300) / 2)
    assert float(result.bases[b.id]) == pytest.approx(145.71 * 1.4571)
    only_2023 = await run(regulator, RULE.ENERGY_PROPORTIONAL, 1000, base_years=(2023,))
    assert float(only_2023.bases[a.id]) == pytest.approx(122.9)


@pytest_asyncio.fixture
async def hydrogen() -> AsyncIterator[str]:
    """An energy type without any tce coefficient. Reference tables outlive a test: remove it."""
    await EnergyType.create(code="HYDROGEN_TEST", name="hydrogen", canonical_unit="t")
    try:
        yield "HYDROGEN_TEST"
    finally:
        await HistoricalEnergy.filter(energy_type_id="HYDROGEN_TEST").delete()
        await EnergyType.filter(code="HYDROGEN_TEST").delete()


async def test_energy_without_a_tce_coefficient_is_refused_not_guessed(
    world: World, regulator: Actor, hydrogen: str
) -> None:
    a = await world.enterprise("440113")
    await history(a, 2024, energy={"DIESEL": 10, hydrogen: 5})
    with fails_with(ErrorCode.NO_BASE_YEAR_DATA, "rule") as info:
        await run(regulator, RULE.ENERGY_PROPORTIONAL, 100)
    assert "HYDROGEN_TEST@2024" in info.value.message


async def test_a_missing_coefficient_outside_the_scope_does_not_matter(
    world: World, regulator: Actor, hydrogen: str
) -> None:
    a, beijing = await world.enterprise("440113"), await world.enterprise("110105")
    await history(a, 2024, energy={"DIESEL": 10})
    await history(beijing, 2024, energy={hydrogen: 5})
    assert (await run(regulator, RULE.ENERGY_PROPORTIONAL, 100)).amounts == {a.id: 100}


async def test_energy_shares_need_a_total(world: World, regulator: Actor) -> None:
    await history(await world.enterprise("440113"), 2024, energy={"DIESEL": 1})
    with fails_with(ErrorCode.TOTAL_REQUIRED, "total"):
        await run(regulator, RULE.ENERGY_PROPORTIONAL)


# ---------------------------------------------------------------- EQUAL and DIRECT


async def test_equal_shares_differ_by_at_most_one_tonne_lowest_ids_first(
    world: World, regulator: Actor
) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    result = await run(regulator, RULE.EQUAL, 3001)
    assert result.amounts == {a.id: 1001, b.id: 1000, c.id: 1000}
    assert (result.manual, result.allocated) == ({}, 3001)
    with fails_with(ErrorCode.TOTAL_REQUIRED, "total"):
        await run(regulator, RULE.EQUAL)


async def test_direct_amounts_are_taken_as_entered(world: World, regulator: Actor) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    result = await run(regulator, RULE.DIRECT, 1500, direct=((b.id, "1000"), (a.id, 500)))
    assert (result.amounts, result.total, result.allocated) == ({b.id: 1000, a.id: 500}, 1500, 1500)
    assert result.manual == {c.id: "no amount entered"}
    without_total = await run(regulator, RULE.DIRECT, direct=((a.id, 7),))
    assert (without_total.total, without_total.amounts) == (7, {a.id: 7})


async def test_direct_amounts_must_add_up_to_a_given_total(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    with fails_with(ErrorCode.TOTAL_MISMATCH, "total") as info:
        await run(regulator, RULE.DIRECT, 1000, direct=((a.id, 600), (b.id, 300)))
    assert info.value.message == "the amounts sum to 900, not 1000"


async def test_an_enterprise_entered_twice_is_refused(world: World, regulator: Actor) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    with fails_with(ErrorCode.DUPLICATE_ENTERPRISE, "direct") as info:
        await run(regulator, RULE.DIRECT, direct=((a.id, 1), (b.id, 2), (a.id, 1)))
    assert info.value.message == f"entry 3: enterprise {a.id} appears twice"


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (-5, ErrorCode.NEGATIVE_QUANTITY),
        ("2.5", ErrorCode.INVALID_QUANTITY),
        ("x", ErrorCode.INVALID_QUANTITY),
    ],
)
async def test_a_bad_direct_amount_names_its_entry(
    world: World, regulator: Actor, amount: object, code: ErrorCode
) -> None:
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    with fails_with(code, "direct[2].amount"):
        await run(regulator, RULE.DIRECT, direct=((a.id, 1), (b.id, amount)))


async def test_a_direct_entry_outside_the_scope_is_refused(world: World, regulator: Actor) -> None:
    a = await world.enterprise("440113")
    beijing = await world.enterprise("110105")
    with fails_with(ErrorCode.NOT_FOUND, "direct"):
        await run(regulator, RULE.DIRECT, direct=((a.id, 1), (beijing.id, 2)))
    with fails_with(ErrorCode.NOT_FOUND, "direct"):
        await run(regulator, RULE.DIRECT, direct=((a.id, 1), (2**40, 2)))


async def test_too_many_direct_entries_are_refused(
    world: World, regulator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rules, "MAX_DIRECT", 2)
    a = await world.enterprise("440113")
    with fails_with(ErrorCode.TOO_MANY_ITEMS, "direct"):
        await run(regulator, RULE.DIRECT, direct=((a.id, 1), (a.id + 1, 1), (a.id + 2, 1)))


async def test_large_scopes_are_read_in_chunks_with_the_same_result(
    world: World, regulator: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More than 32,767 enterprises would not fit one IN (...) on either driver: queries go by
    chunks. A chunk of 2 ids exercises every boundary on a handful of enterprises."""
    enterprises = [await world.enterprise("440113") for _ in range(5)]
    for n, e in enumerate(enterprises):
        for year in (2021, 2022, 2023, 2024)[n % 2 :]:
            await history(
                e, year, 100 * (n + 1), energy={"DIESEL": n + 1}, output={"POWER_GAS": 1000 * (n + 1)}
            )
        await history(e, 2020 - n, 5)  # older years, spread over the chunks
    ids = tuple(e.id for e in enterprises)
    cases: list[tuple[AllocationRule, int | None, dict[str, Any]]] = [
        (RULE.HISTORICAL_EMISSIONS, 10_000, {}),
        (RULE.HISTORICAL_EMISSIONS, 10_000, {"base_years": (2016, 2021)}),
        (RULE.ENERGY_PROPORTIONAL, 10_000, {}),
        (RULE.BENCHMARK, 3000, {"floor_ratio": "0.8"}),
        (RULE.EQUAL, 10, {}),
    ]
    whole = [
        await run(regulator, rule, total, scope=Scope(enterprise_ids=ids), **p) for rule, total, p in cases
    ]
    monkeypatch.setattr(basis, "LOOKUP_CHUNK", 2)
    chunked = [
        await run(regulator, rule, total, scope=Scope(enterprise_ids=ids), **p) for rule, total, p in cases
    ]
    assert chunked == whole
    assert whole[0].base_years == [2022, 2023, 2024]


# ---------------------------------------------------------------- scope and callers


async def test_the_scope_selects_by_region_industry_sector_or_ids(world: World) -> None:
    power = await world.enterprise("440113", Sector.POWER)
    cement = await world.enterprise("440305", Sector.CEMENT)
    steel = await world.enterprise("440305", Sector.STEEL)
    beijing = await world.enterprise("110105", Sector.POWER)
    await Enterprise.filter(id=cement.id).update(industry_code="3011")
    await Enterprise.filter(id=steel.id).update(industry_code="3120")
    regulator, national = await world.regulator("44"), await world.regulator("")

    async def chosen(actor: Actor, **scope: Any) -> list[int]:
        return sorted((await run(actor, RULE.EQUAL, 100, scope=Scope(**scope))).amounts)

    assert await chosen(regulator) == sorted([power.id, cement.id, steel.id])
    assert await chosen(national) == sorted([power.id, cement.id, steel.id, beijing.id])
    assert await chosen(regulator, region_prefix="4403") == sorted([cement.id, steel.id])
    assert await chosen(regulator, industry_code="30") == [cement.id]
    assert await chosen(regulator, sector=Sector.POWER) == [power.id]
    assert await chosen(national, sector=Sector.POWER) == sorted([power.id, beijing.id])
    assert await chosen(regulator, region_prefix="4403", sector=Sector.STEEL) == [steel.id]
    assert await chosen(regulator, enterprise_ids=(steel.id, power.id)) == sorted([power.id, steel.id])


async def test_an_empty_scope_is_refused(world: World, regulator: Actor) -> None:
    await world.enterprise("110105")
    for scope in (Scope(), Scope(region_prefix="4403"), Scope(enterprise_ids=())):
        with fails_with(ErrorCode.EMPTY_SCOPE, "scope"):
            await run(regulator, RULE.EQUAL, 100, scope=scope)


@pytest.mark.parametrize("outside", ["beijing", "unknown", "huge"])
async def test_enterprise_ids_outside_the_regulators_region_are_not_found(
    world: World, regulator: Actor, outside: str
) -> None:
    a = await world.enterprise("440113")
    beijing = await world.enterprise("110105")
    other = {"beijing": beijing.id, "unknown": beijing.id + 1000, "huge": 2**40}[outside]
    with fails_with(ErrorCode.NOT_FOUND, "enterpriseIds"):
        await run(regulator, RULE.EQUAL, 100, scope=Scope(enterprise_ids=(a.id, other)))


async def test_only_a_regulator_allocates(world: World) -> None:
    enterprise = await world.enterprise("440113")
    for actor in (await world.admin(), await world.member(enterprise)):
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await run(actor, RULE.EQUAL, 100)


@pytest.mark.parametrize(
    ("total", "code"),
    [
        (-1, ErrorCode.NEGATIVE_QUANTITY),
        ("12.5", ErrorCode.INVALID_QUANTITY),
        ("many", ErrorCode.INVALID_QUANTITY),
    ],
)
async def test_a_bad_total_is_refused(world: World, regulator: Actor, total: Raw, code: ErrorCode) -> None:
    await world.enterprise("440113")
    with fails_with(code, "total"):
        await run(regulator, RULE.EQUAL, total)


async def test_a_year_out_of_range_is_refused(world: World, regulator: Actor) -> None:
    await world.enterprise("440113")
    with fails_with(ErrorCode.INVALID_YEAR, "year"):
        await run(regulator, RULE.EQUAL, 100, year=1999)


# ---------------------------------------------------------------- reference data


async def test_the_seeded_power_benchmarks_are_the_2023_24_plans_2024_figures(db: str) -> None:
    seeded = {
        (b.product_id, b.compliance_year): (b.status, b.value)
        for b in await Benchmark.filter(source__not="test")
    }
    figures = {
        "POWER_COAL_GT300": Decimal("0.791"),
        "POWER_COAL_LE300": Decimal("0.8049"),
        "POWER_COAL_UNCONVENTIONAL": Decimal("0.8244"),
        "POWER_GAS": Decimal("0.3288"),
        "HEAT_COAL": Decimal("0.1033"),
        "HEAT_GAS": Decimal("0.0533"),
    }
    assert seeded == {(p, 2024): (ReferenceStatus.PUBLISHED, v) for p, v in figures.items()} | {
        (p, 2023): (ReferenceStatus.NOT_FOUND, None) for p in figures
    }


async def test_a_2023_plan_gets_no_2024_benchmark_and_the_error_says_why(
    world: World, regulator: Actor
) -> None:
    a = await world.enterprise("440113")
    await history(a, 2022, output={"POWER_GAS": 1000})
    with fails_with(ErrorCode.NO_BENCHMARK, "rule") as info:
        await run(regulator, RULE.BENCHMARK, year=2023, base_years=(2022,))
    assert "POWER_GAS in 2023" in info.value.message and "could not be confirmed" in info.value.message
    assert (await run(regulator, RULE.BENCHMARK, year=2024, base_years=(2022,))).amounts == {a.id: 329}


async def test_seeding_again_adds_nothing_and_keeps_a_regulators_correction(db: str) -> None:
    counts = [await m.all().count() for m in (EnergyType, TceCoefficient, Benchmark)]
    version = await Benchmark.get(product_id="POWER_GAS", compliance_year=2024)
    await Benchmark.filter(id=version.id).update(value=Decimal("0.33"))
    try:
        await seed_reference_data()
        assert [await m.all().count() for m in (EnergyType, TceCoefficient, Benchmark)] == counts
        assert (await Benchmark.get(id=version.id)).value == Decimal("0.33")
    finally:
        await Benchmark.filter(id=version.id).update(value=version.value)
