"""emissionTrend: per-year totals summed in the database, a least-squares line and next year's
forecast with its 95 % prediction interval."""

from __future__ import annotations

from typing import Any

import pytest

from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.allocation_support import emissions, energy
from tests.schema.support import succeeded, top_level_error, unauthenticated

TREND = """
query($from: Int!, $to: Int!, $filter: TrendFilter) {
  emissionTrend(fromYear: $from, toYear: $to, filter: $filter) {
    points { year emissions enterprises energyTce energyByType { energyType quantity } change changeRatio }
    slope intercept rSquared forecastYear forecast forecastLower forecastUpper note missingCoefficients
  }
}
"""
IMPORT = """
mutation($rows: [HistoricalRowInput!]!) {
  importHistoricalData(rows: $rows) { errors { code message } written }
}
"""


async def trend(gql: GraphQLClient, actor: Actor, first: int, last: int, **filter: Any) -> dict[str, Any]:
    result = await gql(TREND, {"from": first, "to": last, "filter": filter or None}, actor=actor)
    assert "errors" not in result, result
    return result["data"]["emissionTrend"]


async def test_the_patents_worked_example_rises_by_exactly_100_t_a_year(
    gql: GraphQLClient, world: World
) -> None:
    """Enterprise 1: energy 1,000 -> 1,900 t and emissions 2,000 -> 2,900 t over ten years."""
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    years = range(2015, 2025)
    rows = [
        {
            "creditCode": enterprise.credit_code,
            "year": y,
            "kind": "ENERGY",
            "item": "DIESEL",
            "quantity": 1000 + 100 * i,
            "unit": "t",
        }
        for i, y in enumerate(years)
    ] + [
        {
            "creditCode": enterprise.credit_code,
            "year": y,
            "kind": "EMISSIONS",
            "quantity": 2000 + 100 * i,
            "unit": "t",
        }
        for i, y in enumerate(years)
    ]
    assert (
        succeeded(await gql(IMPORT, {"rows": rows}, actor=regulator), "importHistoricalData")["written"] == 20
    )

    result = await trend(gql, regulator, 2015, 2024)
    assert (result["slope"], result["rSquared"]) == (100.0, 1.0)
    assert result["intercept"] == pytest.approx(2000 - 100 * 2015)
    # A perfect line: the forecast is exact and its interval has no width.
    assert (result["forecastYear"], result["forecast"]) == (2025, 3000.0)
    assert result["forecastLower"] == result["forecastUpper"] == pytest.approx(3000.0)
    assert result["note"] is None and result["missingCoefficients"] == []
    first, second, last = result["points"][0], result["points"][1], result["points"][-1]
    assert first == {
        "year": 2015,
        "emissions": 2000,
        "enterprises": 1,
        "energyTce": "1457.1",  # 1,000 t diesel x 1.4571 tce/t (GB/T 2589)
        "energyByType": [{"energyType": "DIESEL", "quantity": "1000"}],
        "change": None,
        "changeRatio": None,
    }
    assert (second["change"], second["changeRatio"]) == (100, 0.05)
    assert (last["year"], last["emissions"], last["energyTce"]) == (2024, 2900, "2768.49")


async def test_with_one_year_of_data_there_is_no_forecast_and_a_reason(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator("44")
    await emissions(await world.enterprise("440113"), {2024: 5000})
    result = await trend(gql, regulator, 2020, 2024)
    assert [p["emissions"] for p in result["points"]] == [None, None, None, None, 5000]
    assert [p["enterprises"] for p in result["points"]] == [0, 0, 0, 0, 1]
    assert result["slope"] is result["rSquared"] is result["forecast"] is result["forecastYear"] is None
    assert result["note"] == "a trend needs emissions in at least two years"


async def test_two_years_give_a_forecast_without_an_interval(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("44")
    await emissions(await world.enterprise("440113"), {2023: 1000, 2024: 1200})
    result = await trend(gql, regulator, 2023, 2024)
    assert (result["slope"], result["forecastYear"], result["forecast"]) == (200.0, 2025, 1400.0)
    assert result["forecastLower"] is result["forecastUpper"] is None
    assert "three years" in result["note"]


async def test_a_scattered_series_has_a_prediction_interval_around_its_forecast(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator("44")
    await emissions(
        await world.enterprise("440113"), {2020: 1000, 2021: 1300, 2022: 1100, 2023: 1500, 2024: 1400}
    )
    result = await trend(gql, regulator, 2020, 2024)
    assert 0 < result["rSquared"] < 1
    assert result["forecastLower"] < result["forecast"] < result["forecastUpper"]
    assert result["slope"] == pytest.approx(100.0)  # sxy / sxx = 1000 / 10


async def test_totals_add_up_the_enterprises_of_each_year(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("44")
    a, b = await world.enterprise("440113"), await world.enterprise("440305")
    await emissions(a, {2023: 1000, 2024: 1100})
    await emissions(b, {2024: 400})
    await energy(a, "ELECTRICITY", {2024: 1000})
    await energy(b, "ELECTRICITY", {2024: 500})
    await energy(b, "NATURAL_GAS", {2024: 2})
    result = await trend(gql, regulator, 2023, 2024)
    last = result["points"][1]
    assert (last["emissions"], last["enterprises"], last["change"]) == (1500, 2, 500)
    assert last["energyByType"] == [
        {"energyType": "ELECTRICITY", "quantity": "1500"},
        {"energyType": "NATURAL_GAS", "quantity": "2"},
    ]
    assert last["energyTce"] == "208.636"  # 1,500 MWh x 0.1229 + 2 x 10^4 Nm3 x 12.143


async def test_the_trend_counts_only_the_enterprises_in_scope_and_filter(
    gql: GraphQLClient, world: World
) -> None:
    guangzhou, shenzhen, beijing = (
        await world.enterprise("440113"),
        await world.enterprise("440305"),
        await world.enterprise("110101"),
    )
    for enterprise, amount in ((guangzhou, 100), (shenzhen, 20), (beijing, 3)):
        await emissions(enterprise, {2024: amount})

    async def total(actor: Actor, **filter: Any) -> int | None:
        return (await trend(gql, actor, 2024, 2024, **filter))["points"][0]["emissions"]

    guangdong = await world.regulator("44")
    assert await total(guangdong) == 120
    assert await total(guangdong, regionPrefix="4403") == 20
    assert await total(guangdong, regionPrefix="11") is None  # a filter never widens the scope
    assert await total(guangdong, sector="POWER", industryCode="44") == 120
    assert await total(guangdong, sector="STEEL") is None
    assert await total(await world.regulator("11")) == 3
    assert await total(await world.admin()) == 123
    assert await total(await world.member(shenzhen)) == 20


@pytest.mark.parametrize(("first", "last"), [(2025, 2024), (1900, 2024)], ids=["reversed", "too-long"])
async def test_a_bad_year_range_is_a_coded_error(
    gql: GraphQLClient, world: World, first: int, last: int
) -> None:
    result = await gql(TREND, {"from": first, "to": last}, actor=await world.regulator("44"))
    error = top_level_error(result)
    assert error["extensions"] == {"code": "INVALID_YEAR"} and error["path"] == ["emissionTrend"]


async def test_without_a_token_there_is_no_trend(gql: GraphQLClient, world: World) -> None:
    unauthenticated(await gql(TREND, {"from": 2020, "to": 2024}), "emissionTrend")
