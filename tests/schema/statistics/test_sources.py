"""sourcePrecedence, setSourcePrecedence and sourceDiscrepancies over GraphQL: success, each
error code, the no-permission case, scope."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from models import SourcePrecedence
from tests.conftest import GraphQLClient, World
from tests.schema.support import top_level_error, unauthenticated
from tests.services.effective import DEFAULT_ORDER
from tests.services.statistics.test_statistics import ingest

SET = """
mutation($order: [EnergySource!]!) {
  setSourcePrecedence(order: $order) { order errors { code field } }
}
"""
DISCREPANCIES = """
query($filter: StatisticsFilterInput, $share: Quantity, $first: Int, $after: String) {
  sourceDiscrepancies(filter: $filter, share: $share, first: $first, after: $after) {
    edges { cursor node {
      year month energyType unit effectiveSource effectiveQuantity deviation
      enterprise { name }
      figures { source quantity records effective }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
async def restored_order() -> AsyncIterator[None]:
    yield
    for position, source in enumerate(DEFAULT_ORDER, start=1):
        await SourcePrecedence.filter(source=source).update(
            position=position, updated_by_id=None, updated_at=None
        )


def electricity(credit_code: str, period: str, quantity: str, source: str) -> dict[str, str]:
    return {
        "credit_code": credit_code,
        "period": period,
        "energy_type": "ELECTRICITY",
        "quantity": quantity,
        "unit": "MWh",
        "source": source,
    }


async def test_everyone_reads_the_order_and_the_default_puts_reported_figures_first(
    gql: GraphQLClient, world: World
) -> None:
    member = await world.member(await world.enterprise("440113"))
    result = await gql("{ sourcePrecedence }", actor=member)
    assert result == {"data": {"sourcePrecedence": ["MANUAL", "IMPORT", "PLATFORM", "IOT"]}}
    unauthenticated(await gql("{ sourcePrecedence }"), "sourcePrecedence")


async def test_a_national_regulator_sets_the_order(
    gql: GraphQLClient, world: World, restored_order: None
) -> None:
    order = ["IOT", "IMPORT", "MANUAL", "PLATFORM"]
    result = await gql(SET, {"order": order}, actor=await world.regulator(""))
    assert result == {"data": {"setSourcePrecedence": {"order": order, "errors": []}}}
    assert (await gql("{ sourcePrecedence }", actor=await world.admin()))["data"]["sourcePrecedence"] == order


async def test_an_order_naming_a_source_twice_or_missing_one_is_a_payload_error(
    gql: GraphQLClient, world: World, restored_order: None
) -> None:
    admin = await world.admin()
    for order in (["IOT", "IOT", "IMPORT", "MANUAL"], ["IOT", "IMPORT"]):
        result = await gql(SET, {"order": order}, actor=admin)
        assert result["data"]["setSourcePrecedence"] == {
            "order": None,
            "errors": [{"code": "INVALID_SOURCE_ORDER", "field": "order"}],
        }
    assert (await gql("{ sourcePrecedence }", actor=admin))["data"]["sourcePrecedence"] == list(DEFAULT_ORDER)


async def test_a_provincial_regulator_may_not_set_the_order(
    gql: GraphQLClient, world: World, restored_order: None
) -> None:
    result = await gql(
        SET, {"order": ["IOT", "IMPORT", "MANUAL", "PLATFORM"]}, actor=await world.regulator("44")
    )
    assert result["data"]["setSourcePrecedence"]["errors"][0]["code"] == "PERMISSION_DENIED"
    unauthenticated(await gql(SET, {"order": ["IOT"]}), "setSourcePrecedence")


async def test_discrepancies_list_every_sources_figure_scoped_to_the_caller(
    gql: GraphQLClient, world: World
) -> None:
    guangzhou, beijing = await world.enterprise("440113", name="广州发电"), await world.enterprise("110105")
    national = await world.regulator("")
    await ingest(
        national,
        [
            electricity(guangzhou.credit_code, "2024-03", "1000", "IMPORT"),
            *(electricity(guangzhou.credit_code, f"2024-03-{d:02d}", "25", "IOT") for d in range(1, 32)),
            electricity(beijing.credit_code, "2024-03", "100", "MANUAL"),
            electricity(beijing.credit_code, "2024-03", "50", "PLATFORM"),
        ],
    )
    result = await gql(DISCREPANCIES, {}, actor=await world.regulator("44"))
    [edge] = result["data"]["sourceDiscrepancies"]["edges"]
    assert edge["node"] == {
        "year": 2024,
        "month": 3,
        "energyType": "ELECTRICITY",
        "unit": "MWh",
        "effectiveSource": "IMPORT",
        "effectiveQuantity": "1000",
        "deviation": "0.225",  # the meter's 775 MWh is 22.5 % short
        "enterprise": {"name": "广州发电"},
        "figures": [
            {"source": "IMPORT", "quantity": "1000", "records": 1, "effective": True},
            {"source": "IOT", "quantity": "775", "records": 31, "effective": False},
        ],
    }
    everything = await gql(DISCREPANCIES, {"first": 1}, actor=national)
    page = everything["data"]["sourceDiscrepancies"]
    assert len(page["edges"]) == 1 and page["pageInfo"]["hasNextPage"]
    rest = await gql(DISCREPANCIES, {"first": 1, "after": page["pageInfo"]["endCursor"]}, actor=national)
    [other] = rest["data"]["sourceDiscrepancies"]["edges"]
    assert (
        other["node"]["deviation"] == "0.5"
        and not rest["data"]["sourceDiscrepancies"]["pageInfo"]["hasNextPage"]
    )
    # Above a quarter, only Beijing's half.
    above = await gql(DISCREPANCIES, {"share": "0.25"}, actor=national)
    assert [e["node"]["effectiveSource"] for e in above["data"]["sourceDiscrepancies"]["edges"]] == ["MANUAL"]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"share": "11"}, "INVALID_DISCREPANCY_SHARE"),
        ({"share": "abc"}, "INVALID_DISCREPANCY_SHARE"),
        ({"first": 101}, "INVALID_PAGINATION"),
        ({"after": "nonsense"}, "INVALID_CURSOR"),
        ({"filter": {"energyTypes": ["PLUTONIUM"]}}, "UNKNOWN_ENERGY_TYPE"),
    ],
)
async def test_bad_input_is_a_coded_top_level_error(
    gql: GraphQLClient, world: World, variables: dict[str, object], code: str
) -> None:
    error = top_level_error(await gql(DISCREPANCIES, variables, actor=await world.regulator("")))
    assert error["extensions"]["code"] == code, error
    unauthenticated(await gql(DISCREPANCIES, {}), "sourceDiscrepancies")
