"""setInitialAllowance: a regulator enters an enterprise's allowance for a year."""

from __future__ import annotations

from typing import Any

import pytest

from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, unauthenticated
from tests.services.cycle import Cycle, unchanged

SET = """
mutation($enterpriseId: ID!, $year: Int!, $amount: Tonnes!) {
  setInitialAllowance(enterpriseId: $enterpriseId, year: $year, amount: $amount) {
    errors { code field message }
    allowance { year amount enterprise { id } }
  }
}
"""
READ = "query($id: ID!, $year: Int!) { allowance(enterpriseId: $id, year: $year) { amount } }"


async def set_allowance(
    gql: GraphQLClient, actor: Actor, enterprise_id: object, amount: Any, year: int = 2026
):
    variables = {"enterpriseId": str(enterprise_id), "year": year, "amount": amount}
    return await gql(SET, variables, actor=actor)


async def allowance_of(gql: GraphQLClient, cycle: Cycle, year: int = 2026) -> int | None:
    result = await gql(READ, {"id": str(cycle.enterprise.id), "year": year}, actor=cycle.regulator)
    return result["data"]["allowance"] and result["data"]["allowance"]["amount"]


async def test_a_regulator_sets_the_allowance_of_an_enterprise_in_its_region(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    result = await set_allowance(gql, cycle.regulator, cycle.enterprise.id, 120_000)
    allowance = succeeded(result, "setInitialAllowance")["allowance"]
    assert allowance == {"year": 2026, "amount": 120_000, "enterprise": {"id": str(cycle.enterprise.id)}}
    assert await allowance_of(gql, cycle) == 120_000


@pytest.mark.parametrize(("amount", "stored"), [("12", 12), ("1200.0", 1200), (0, 0), (10**12, 10**12)])
async def test_whole_tonnes_arrive_as_numbers_or_numeric_strings(
    gql: GraphQLClient, cycle: Cycle, amount: object, stored: int
) -> None:
    result = await set_allowance(gql, cycle.regulator, cycle.enterprise.id, amount)
    assert succeeded(result, "setInitialAllowance")["allowance"]["amount"] == stored


async def test_a_correction_before_any_notice_replaces_the_amount(gql: GraphQLClient, cycle: Cycle) -> None:
    await set_allowance(gql, cycle.regulator, cycle.enterprise.id, 500)
    succeeded(await set_allowance(gql, cycle.regulator, cycle.enterprise.id, 700), "setInitialAllowance")
    assert await allowance_of(gql, cycle) == 700


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "NEGATIVE_QUANTITY"),
        (-5, "NEGATIVE_QUANTITY"),
        ("abc", "INVALID_QUANTITY"),
        (1.5, "INVALID_QUANTITY"),
        ("1.5", "INVALID_QUANTITY"),
        ("", "INVALID_QUANTITY"),
        (True, "INVALID_QUANTITY"),
        ("NaN", "INVALID_QUANTITY"),
        (10**12 + 1, "INVALID_QUANTITY"),
    ],
)
async def test_an_amount_that_is_not_whole_non_negative_tonnes_is_refused(
    gql: GraphQLClient, cycle: Cycle, amount: object, code: str
) -> None:
    async with unchanged():
        refused(
            await set_allowance(gql, cycle.regulator, cycle.enterprise.id, amount),
            "setInitialAllowance",
            code,
            "amount",
        )
    assert await allowance_of(gql, cycle) is None


async def test_amounts_written_into_the_document_are_judged_the_same_way(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    template = """
      mutation { setInitialAllowance(enterpriseId: "%s", year: 2026, amount: %s) { errors { code field } } }
    """
    for literal, code in [
        ('"-5"', "NEGATIVE_QUANTITY"),
        ("abc", "INVALID_QUANTITY"),
        ("1.5", "INVALID_QUANTITY"),
    ]:
        result = await gql(template % (cycle.enterprise.id, literal), actor=cycle.regulator)
        assert result["data"]["setInitialAllowance"]["errors"] == [{"code": code, "field": "amount"}], literal
    assert await allowance_of(gql, cycle) is None


@pytest.mark.parametrize("year", [1999, 2101])
async def test_a_year_outside_2000_to_2100_is_refused(gql: GraphQLClient, cycle: Cycle, year: int) -> None:
    result = await set_allowance(gql, cycle.regulator, cycle.enterprise.id, 100, year=year)
    refused(result, "setInitialAllowance", "INVALID_YEAR", "year")
    assert await allowance_of(gql, cycle, year) is None


@pytest.mark.parametrize("enterprise_id", ["abc", "0", "-1", "999999", "99999999999999999999"])
async def test_an_unknown_or_malformed_enterprise_is_not_found(
    gql: GraphQLClient, cycle: Cycle, enterprise_id: str
) -> None:
    async with unchanged():
        result = await set_allowance(gql, cycle.regulator, enterprise_id, 100)
    refused(result, "setInitialAllowance", "NOT_FOUND", "enterpriseId")


async def test_an_enterprise_outside_the_regulators_region_is_not_found(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    beijing = await world.regulator("11")
    async with unchanged():
        result = await set_allowance(gql, beijing, cycle.enterprise.id, 100)
    refused(result, "setInitialAllowance", "NOT_FOUND", "enterpriseId")


async def test_once_a_notice_is_issued_the_allowance_is_locked(gql: GraphQLClient, cycle: Cycle) -> None:
    # The cycle's notice for 2025 snapshotted the 1000 t allowance.
    async with unchanged():
        result = await set_allowance(gql, cycle.regulator, cycle.enterprise.id, 2000, year=2025)
    refused(result, "setInitialAllowance", "ALLOWANCE_LOCKED", "amount")
    assert await allowance_of(gql, cycle, 2025) == 1000


@pytest.mark.parametrize("role", ["admin", "member"])
async def test_only_a_regulator_may_set_an_allowance(
    gql: GraphQLClient, cycle: Cycle, world: World, role: str
) -> None:
    actor = await world.admin() if role == "admin" else cycle.member
    async with unchanged():
        result = await set_allowance(gql, actor, cycle.enterprise.id, 100)
    refused(result, "setInitialAllowance", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_set(gql: GraphQLClient, cycle: Cycle) -> None:
    variables = {"enterpriseId": str(cycle.enterprise.id), "year": 2026, "amount": 100}
    async with unchanged():
        unauthenticated(await gql(SET, variables), "setInitialAllowance")
    assert await allowance_of(gql, cycle) is None
