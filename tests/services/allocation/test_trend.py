"""The emission trend: yearly sums in scope, energy in tce with versioned coefficients, year-over-year
change, and a least-squares line with a 95 % prediction interval for the next year."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist

import pytest
import pytest_asyncio

from models import EnergyType, Enterprise, HistoricalEmission, HistoricalEnergy, Sector, TceCoefficient
from services.allocation.student_t import t_quantile
from services.allocation.trend import Trend, emission_trend, fit_line
from services.enterprises import EnterpriseFilter
from services.errors import ErrorCode
from tests.conftest import World
from tests.services.cycle import fails_with


async def record(
    enterprise: Enterprise, year: int, emissions: int | None = None, **energy: str | int
) -> None:
    """One enterprise's year of history; energy quantities are in each type's canonical unit."""
    if emissions is not None:
        await HistoricalEmission.create(enterprise_id=enterprise.id, year=year, verified_emissions=emissions)
    for code, quantity in energy.items():
        await HistoricalEnergy.create(
            enterprise_id=enterprise.id, year=year, energy_type_id=code, quantity=Decimal(str(quantity))
        )


def series(trend: Trend) -> list[tuple[int, int | None, int]]:
    return [(p.year, p.emissions, p.enterprises) for p in trend.points]


async def test_the_patents_worked_example_rises_exactly_100_t_a_year(world: World) -> None:
    """Enterprise 1: energy 1,000 -> 1,900 t and emissions 2,000 -> 2,900 t over ten years."""
    enterprise = await world.enterprise("440113")
    for i, year in enumerate(range(2015, 2025)):
        await record(enterprise, year, 2000 + 100 * i, RAW_COAL=1000 + 100 * i)
    trend = await emission_trend(await world.regulator("44"), 2015, 2024)
    assert [p.emissions for p in trend.points] == list(range(2000, 3000, 100))
    assert [p.energy_by_type for p in trend.points] == [
        {"RAW_COAL": Decimal(q)} for q in range(1000, 2000, 100)
    ]
    assert trend.points[0].energy_tce == Decimal("714.3")  # 1,000 t raw coal x 0.7143 tce/t
    assert all(p.change == 100 for p in trend.points[1:])
    fit = trend.fit
    assert (fit.slope, fit.r_squared) == (100.0, 1.0)
    assert fit.intercept == 2000 - 100 * 2015
    assert (fit.forecast_year, fit.forecast) == (2025, 3000.0)
    assert (fit.lower, fit.upper, fit.note) == (3000.0, 3000.0, None)  # a perfect line: no spread


async def test_yearly_sums_add_up_every_enterprise_in_scope(world: World) -> None:
    a, b, c = [await world.enterprise("440113") for _ in range(3)]
    await record(a, 2021, 1000, ELECTRICITY="100.5", DIESEL=2)
    await record(b, 2021, 3000, ELECTRICITY=200)
    await record(a, 2022, 1200, ELECTRICITY=110)
    await record(b, 2022, 2500, NATURAL_GAS="3.5")
    await record(c, 2022, 800)
    await record(c, 2023, 900)
    await record(a, 2023, None, DIESEL=4)  # energy without verified emissions
    trend = await emission_trend(await world.regulator("44"), 2020, 2024)
    assert series(trend) == [
        (2020, None, 0),
        (2021, 4000, 2),
        (2022, 4500, 3),
        (2023, 900, 1),
        (2024, None, 0),
    ]
    by_year = {p.year: p for p in trend.points}
    assert by_year[2021].energy_by_type == {"ELECTRICITY": Decimal("300.5"), "DIESEL": Decimal(2)}
    assert by_year[2022].energy_by_type == {"ELECTRICITY": Decimal(110), "NATURAL_GAS": Decimal("3.5")}
    assert by_year[2023].energy_by_type == {"DIESEL": Decimal(4)}
    # tce: electricity 0.1229 t/MWh, diesel 1.4571 t/t, natural gas 12.143 t/10^4 Nm3
    assert by_year[2021].energy_tce == Decimal("300.5") * Decimal("0.1229") + 2 * Decimal("1.4571")
    assert by_year[2022].energy_tce == 110 * Decimal("0.1229") + Decimal("3.5") * Decimal("12.143")
    assert by_year[2023].energy_tce == 4 * Decimal("1.4571")
    assert by_year[2020].energy_tce == 0
    assert trend.missing_coefficients == []


async def test_year_over_year_change_compares_with_the_previous_year(world: World) -> None:
    enterprise = await world.enterprise("440113")
    for year, emissions in [(2020, 1000), (2021, 1250), (2022, 1000), (2023, 1000)]:
        await record(enterprise, year, emissions)
    points = (await emission_trend(await world.regulator("44"), 2020, 2023)).points
    assert [(p.change, p.change_ratio) for p in points] == [(None, None), (250, 0.25), (-250, -0.2), (0, 0.0)]


async def test_after_a_year_without_data_there_is_no_year_over_year_change(world: World) -> None:
    enterprise = await world.enterprise("440113")
    await record(enterprise, 2020, 1000)
    await record(enterprise, 2022, 1500)  # 2021 missing: 2022 is not 500 t up on its previous year
    await record(enterprise, 2023, 1200)
    points = (await emission_trend(await world.regulator("44"), 2020, 2023)).points
    assert [(p.year, p.change) for p in points] == [(2020, None), (2021, None), (2022, None), (2023, -300)]


async def test_a_change_from_zero_has_no_ratio(world: World) -> None:
    enterprise = await world.enterprise("440113")
    await record(enterprise, 2020, 0)
    await record(enterprise, 2021, 500)
    points = (await emission_trend(await world.regulator("44"), 2020, 2021)).points
    assert [(p.change, p.change_ratio) for p in points] == [(None, None), (500, None)]


@pytest_asyncio.fixture
async def electricity_2024() -> AsyncIterator[TceCoefficient]:
    """A later version of the electricity coefficient. Reference tables outlive a test: remove it."""
    version = await TceCoefficient.create(
        energy_type_id="ELECTRICITY", effective_year=2024, value=Decimal("0.1000"), source="test"
    )
    try:
        yield version
    finally:
        await version.delete()


async def test_each_year_converts_with_the_coefficient_in_force_that_year(
    world: World, electricity_2024: TceCoefficient
) -> None:
    enterprise = await world.enterprise("440113")
    for year in (2018, 2023, 2024, 2025):
        await record(enterprise, year, 100, ELECTRICITY=1000)
    tce = {
        p.year: p.energy_tce for p in (await emission_trend(await world.regulator("44"), 2018, 2025)).points
    }
    # 2018 predates the first version (2020): the earliest one applies
    assert tce == {
        2018: Decimal("122.9"),
        2019: 0,
        2020: 0,
        2021: 0,
        2022: 0,
        2023: Decimal("122.9"),
        2024: Decimal(100),
        2025: Decimal(100),
    }


@pytest_asyncio.fixture
async def hydrogen() -> AsyncIterator[EnergyType]:
    energy_type = await EnergyType.create(code="HYDROGEN_TEST", name="hydrogen", canonical_unit="t")
    try:
        yield energy_type
    finally:
        await HistoricalEnergy.filter(energy_type_id=energy_type.code).delete()
        await energy_type.delete()


async def test_an_energy_type_without_a_coefficient_is_reported_not_guessed(
    world: World, hydrogen: EnergyType
) -> None:
    enterprise = await world.enterprise("440113")
    await record(enterprise, 2023, 100, DIESEL=10, HYDROGEN_TEST=5)
    trend = await emission_trend(await world.regulator("44"), 2023, 2023)
    assert trend.points[0].energy_tce == 10 * Decimal("1.4571")
    assert trend.points[0].energy_by_type["HYDROGEN_TEST"] == 5
    assert trend.missing_coefficients == ["HYDROGEN_TEST@2023"]


async def test_one_year_of_data_gives_no_forecast_and_says_why(world: World) -> None:
    enterprise = await world.enterprise("440113")
    await record(enterprise, 2023, 1000)
    fit = (await emission_trend(await world.regulator("44"), 2015, 2024)).fit
    assert (fit.slope, fit.r_squared, fit.forecast, fit.lower, fit.upper) == (None, None, None, None, None)
    assert fit.note == "a trend needs emissions in at least two years"


async def test_no_data_at_all_gives_an_empty_series_and_no_forecast(world: World) -> None:
    trend = await emission_trend(await world.regulator("44"), 2020, 2021)
    assert series(trend) == [(2020, None, 0), (2021, None, 0)]
    assert trend.fit.forecast is None and trend.fit.note


async def test_two_years_give_a_line_and_a_forecast_but_no_interval(world: World) -> None:
    enterprise = await world.enterprise("440113")
    await record(enterprise, 2021, 1000)
    await record(enterprise, 2023, 1400)  # a gap year does not count as data
    fit = (await emission_trend(await world.regulator("44"), 2020, 2023)).fit
    assert (fit.slope, fit.r_squared, fit.forecast_year, fit.forecast) == (200.0, 1.0, 2024, 1600.0)
    assert (fit.lower, fit.upper) == (None, None)
    assert fit.note == "a prediction interval needs at least three years"


def prediction_interval(xs: list[int], ys: list[int], t: float) -> tuple[float, float, float, float, float]:
    """The textbook formulas, in exact fractions: slope, R², forecast and its 95 % bounds for x = max + 1.

    b = Sxy / Sxx, a = ȳ - b x̄, s² = SSE / (n - 2),
    ŷ0 ± t(0.975, n-2) · s · √(1 + 1/n + (x0 - x̄)² / Sxx)
    """
    n = len(xs)
    mx, my = Fraction(sum(xs), n), Fraction(sum(ys), n)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx
    a = my - b * mx
    sse = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    sst = sum((y - my) ** 2 for y in ys)
    x0 = max(xs) + 1
    y0 = a + b * x0
    half = t * math.sqrt(sse / (n - 2)) * math.sqrt(1 + Fraction(1, n) + (x0 - mx) ** 2 / sxx)
    return float(b), float(1 - sse / sst), float(y0), float(y0) - half, float(y0) + half


def t_by_integration(df: float, probability: float = 0.975) -> float:
    """An independent quantile: Simpson's rule over Student's density from 0, inverted by the secant
    method. Nothing is shared with the service's incomplete-beta implementation."""
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def density(t: float) -> float:
        return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))

    def mass(t: float, steps: int = 20_000) -> float:  # P(0 < T < t)
        h = t / steps
        inner = sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
        return h / 3 * (density(0) + inner + density(t))

    target = probability - 0.5
    a, b = 1.0, 3.0
    fa, fb = mass(a) - target, mass(b) - target
    for _ in range(60):
        if fb == fa:
            break
        a, b, fa = b, b - fb * (b - a) / (fb - fa), fb
        fb = mass(b) - target
        if abs(b - a) < 1e-14:
            break
    return b


def test_t_quantiles_equal_the_closed_forms_for_1_2_and_4_degrees_of_freedom() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-14)  # Cauchy
    assert t_quantile(0.975, 2) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-14)
    alpha = 4 * 0.975 * 0.025
    q = math.cos(math.acos(math.sqrt(alpha)) / 3) / math.sqrt(alpha)
    assert t_quantile(0.975, 4) == pytest.approx(2 * math.sqrt(q - 1), rel=1e-14)
    assert t_quantile(0.995, 1) == pytest.approx(math.tan(math.pi * 0.495), rel=1e-13)


@pytest.mark.parametrize("df", [3, 5, 10, 28, 30, 31, 40, 98, 250])
def test_t_quantiles_equal_an_independent_integration_for_every_degree_of_freedom(df: int) -> None:
    assert t_quantile(0.975, df) == pytest.approx(t_by_integration(df), rel=1e-11)


def test_t_quantiles_match_the_published_three_decimal_table_and_tend_to_the_normal() -> None:
    table = {3: 3.182, 10: 2.228, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}
    assert {df: round(t_quantile(0.975, df), 3) for df in table} == table
    z = NormalDist().inv_cdf(0.975)
    for n in (1e4, 1e5, 1e6):  # the Cornish-Fisher expansion, exact to ~1e-16 this far out
        expansion = (
            z
            + (z**3 + z) / (4 * n)
            + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3)
        )
        assert t_quantile(0.975, n) == pytest.approx(expansion, rel=1e-11)
    assert t_quantile(0.975, 10**9) == pytest.approx(z, rel=1e-8)
    assert [t_quantile(0.975, df) for df in (31, 32, 33)] == sorted(
        [t_quantile(0.975, df) for df in (31, 32, 33)], reverse=True
    )


async def test_the_forecast_carries_a_95_percent_prediction_interval(world: World) -> None:
    xs, ys = [2019, 2020, 2021, 2022, 2023], [1000, 1120, 1150, 1300, 1310]
    a, b = await world.enterprise("440113"), await world.enterprise("440113")
    for year, total in zip(xs, ys, strict=True):
        await record(a, year, total - 400)
        await record(b, year, 400)
    fit = (await emission_trend(await world.regulator("44"), 2019, 2023)).fit
    # By hand: x̄ = 2021, ȳ = 1176, Sxx = 10, Sxy = 800 -> b = 80, ŷ(2024) = 1176 + 3 x 80 = 1416;
    # residuals -16, 24, -26, 44, -26 -> SSE = 4120, SST = 68120; t(0.975, 3) = 3.18244630528...
    t = t_by_integration(3)
    slope, r2, forecast, lower, upper = prediction_interval(xs, ys, t)
    assert (slope, forecast) == (80.0, 1416.0)
    assert (fit.slope, fit.forecast_year) == (80.0, 2024)
    assert fit.forecast == pytest.approx(1416.0, abs=1e-9)
    assert fit.r_squared == pytest.approx(r2, rel=1e-12)
    assert fit.r_squared == pytest.approx(1 - 4120 / 68_120, rel=1e-12)
    assert (fit.lower, fit.upper) == (pytest.approx(lower, rel=1e-11), pytest.approx(upper, rel=1e-11))
    assert upper - forecast == pytest.approx(
        3.182446305 * math.sqrt(4120 / 3) * math.sqrt(1 + 1 / 5 + 9 / 10)
    )


@pytest.mark.parametrize("n", [3, 4, 12, 32, 33, 50, 100])
def test_the_interval_uses_the_exact_students_t_for_n_minus_2_degrees_of_freedom(n: int) -> None:
    xs = list(range(2000, 2000 + n))
    ys = [1000 + 10 * i + (5 if i % 2 else -5) for i in range(n)]
    fit = fit_line(xs, [float(y) for y in ys])
    assert fit.lower is not None and fit.upper is not None and fit.forecast is not None
    expected = prediction_interval(xs, ys, t_by_integration(n - 2))
    assert (fit.lower, fit.upper) == (
        pytest.approx(expected[3], rel=1e-11),
        pytest.approx(expected[4], rel=1e-11),
    )


def test_the_fit_keeps_its_precision_for_years_near_2000() -> None:
    # Large x with small variation: an uncentred formula would lose the R² to cancellation.
    xs = list(range(2000, 2030))
    ys = [5_000_000 + 3 * i + (1 if i % 3 == 0 else 0) for i in range(30)]
    fit = fit_line(xs, [float(y) for y in ys])
    slope, r2, forecast, lower, upper = prediction_interval(xs, ys, t_by_integration(28))
    assert fit.forecast == pytest.approx(forecast, rel=1e-12)
    assert fit.slope == pytest.approx(slope, rel=1e-12)
    assert fit.r_squared == pytest.approx(r2, rel=1e-9)
    assert (fit.lower, fit.upper) == (pytest.approx(lower, rel=1e-11), pytest.approx(upper, rel=1e-11))


# ---------------------------------------------------------------- coverage


async def test_each_year_carries_its_reporting_enterprises_and_share_of_the_scope(world: World) -> None:
    companies = [await world.enterprise("440113") for _ in range(10)]
    await world.enterprise("110105")  # outside the regulator's scope: not in the denominator
    for year, reporting in [(2019, 10), (2020, 9), (2021, 1), (2022, 8), (2023, 10)]:
        for company in companies[:reporting]:
            await record(company, year, 100)
    trend = await emission_trend(await world.regulator("44"), 2019, 2024)
    assert trend.scope_enterprises == 10
    assert [(p.year, p.enterprises, p.coverage, p.in_fit) for p in trend.points] == [
        (2019, 10, 1.0, True),
        (2020, 9, 0.9, True),
        (2021, 1, 0.1, False),  # one of ten: a total of something else
        (2022, 8, 0.8, True),  # exactly the threshold is in
        (2023, 10, 1.0, True),
        (2024, 0, 0.0, False),
    ]
    assert trend.excluded_years == [2021]
    assert (
        trend.coverage_note
        == "left out of the fit, below 80% of the scope reporting: 2021 (1 of 10 enterprises)"
    )


async def test_a_thinly_reported_year_is_left_out_of_the_fit_unless_the_threshold_allows_it(
    world: World,
) -> None:
    """The issue's case: one numeric row turned a year into a fraction of its true total."""
    companies = [await world.enterprise("440113") for _ in range(4)]
    totals = {2019: 4000, 2020: 3900, 2022: 3700, 2023: 3600}
    for year, total in totals.items():
        for company in companies:
            await record(company, year, total // 4)
    await record(companies[0], 2021, 50)  # one of four reported in 2021
    regulator = await world.regulator("44")
    guarded = await emission_trend(regulator, 2019, 2023)
    xs = sorted(totals)
    slope, r2, forecast, _, _ = prediction_interval(xs, [totals[x] for x in xs], t_by_integration(2))
    assert guarded.fit.slope == pytest.approx(slope, rel=1e-12)  # -100 t a year, the four full years
    assert guarded.fit.forecast == pytest.approx(forecast, rel=1e-12)
    assert (guarded.fit.slope, guarded.excluded_years) == (pytest.approx(-100.0), [2021])
    assert guarded.fit.r_squared == pytest.approx(r2, rel=1e-12)
    everything = await emission_trend(regulator, 2019, 2023, min_coverage=0)
    ys = [4000, 3900, 50, 3700, 3600]
    assert everything.fit.slope == pytest.approx(
        prediction_interval(list(range(2019, 2024)), ys, 1.0)[0], rel=1e-12
    )
    assert (everything.excluded_years, everything.coverage_note) == ([], None)
    stricter = await emission_trend(regulator, 2019, 2023, min_coverage=1)
    assert stricter.excluded_years == [2021]


@pytest.mark.parametrize("threshold", [-0.1, 1.01, float("nan")])
async def test_a_threshold_outside_0_to_1_is_refused(world: World, threshold: float) -> None:
    with fails_with(ErrorCode.INVALID_THRESHOLD, "minCoverage"):
        await emission_trend(await world.regulator("44"), 2019, 2023, min_coverage=threshold)


async def test_a_regulator_sees_only_its_region(world: World) -> None:
    guangzhou, shenzhen, beijing = (
        await world.enterprise("440113"),
        await world.enterprise("440305"),
        await world.enterprise("110105"),
    )
    for enterprise, emissions in [(guangzhou, 100), (shenzhen, 20), (beijing, 3)]:
        await record(enterprise, 2023, emissions, DIESEL=emissions)
    assert series(await emission_trend(await world.regulator("44"), 2023, 2023)) == [(2023, 120, 2)]
    assert series(await emission_trend(await world.regulator("4401"), 2023, 2023)) == [(2023, 100, 1)]
    assert series(await emission_trend(await world.regulator("11"), 2023, 2023)) == [(2023, 3, 1)]
    assert series(await emission_trend(await world.regulator(""), 2023, 2023)) == [(2023, 123, 3)]
    assert series(await emission_trend(await world.admin(), 2023, 2023)) == [(2023, 123, 3)]
    energy = (await emission_trend(await world.regulator("44"), 2023, 2023)).points[0].energy_by_type
    assert energy == {"DIESEL": Decimal(120)}


async def test_an_enterprise_user_sees_its_own_trend_only(world: World) -> None:
    own, other = await world.enterprise("440113"), await world.enterprise("440113")
    await record(own, 2023, 100)
    await record(other, 2023, 20)
    trend = await emission_trend(await world.member(own), 2023, 2023, EnterpriseFilter(region_prefix="44"))
    assert series(trend) == [(2023, 100, 1)]


async def test_filters_narrow_by_region_industry_and_sector_within_the_scope(world: World) -> None:
    power = await world.enterprise("440113", Sector.POWER)
    cement = await world.enterprise("440305", Sector.CEMENT)
    steel = await world.enterprise("440305", Sector.STEEL)
    beijing = await world.enterprise("110105", Sector.CEMENT)
    await Enterprise.filter(id=cement.id).update(industry_code="3011")
    await Enterprise.filter(id=steel.id).update(industry_code="3120")
    for enterprise, emissions in [(power, 1000), (cement, 200), (steel, 30), (beijing, 4)]:
        await record(enterprise, 2023, emissions, ELECTRICITY=emissions)
    regulator = await world.regulator("44")

    async def total(**where: object) -> int | None:
        trend = await emission_trend(regulator, 2023, 2023, EnterpriseFilter(**where))  # type: ignore[arg-type]
        point = trend.points[0]
        assert point.energy_by_type.get("ELECTRICITY", 0) == (point.emissions or 0)  # energy filtered alike
        return point.emissions

    assert await total() == 1230
    assert await total(region_prefix="4403") == 230
    assert await total(region_prefix="11") is None  # a filter cannot widen the scope
    assert await total(industry_code="30") == 200
    assert await total(industry_code="4411") == 1000
    assert await total(sector=Sector.CEMENT) == 200
    assert await total(sector=Sector.STEEL, region_prefix="4403") == 30
    assert await total(sector=Sector.POWER, region_prefix="4403") is None


@pytest.mark.parametrize(("first", "last"), [(2024, 2023), (1950, 2050)])
async def test_a_bad_year_range_is_refused(world: World, first: int, last: int) -> None:
    with fails_with(ErrorCode.INVALID_YEAR, "fromYear"):
        await emission_trend(await world.regulator("44"), first, last)
