"""Lookups by id: an id that is malformed, out of range or unknown is simply not there."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient, World
from tests.services.cycle import Cycle

EVERY_LOOKUP = """
query($id: ID!) {
  enterprise(id: $id) { id }
  notice(id: $id) { id }
  application(id: $id) { id }
  allowance(enterpriseId: $id, year: 2025) { amount }
  applications(noticeId: $id) { id }
  notices(filter: {enterpriseId: $id}) { totalCount }
}
"""
NOTHING: dict[str, Any] = {
    "enterprise": None,
    "notice": None,
    "application": None,
    "allowance": None,
    "applications": [],
    "notices": {"totalCount": 0},
}


@pytest.mark.parametrize(
    "bad_id",
    ["abc", "", "0", "-1", "1.5", "999999", "2147483648", "99999999999999999999"],
)
async def test_an_id_that_names_no_row_finds_nothing_without_an_error(
    gql: GraphQLClient, cycle: Cycle, world: World, bad_id: str
) -> None:
    result = await gql(EVERY_LOOKUP, {"id": bad_id}, actor=await world.regulator(""))
    assert result == {"data": NOTHING}


async def test_the_same_lookups_find_the_rows_by_their_real_ids(gql: GraphQLClient, cycle: Cycle) -> None:
    application = await cycle.under_review()
    result = await gql(
        """query($e: ID!, $n: ID!, $a: ID!) {
          enterprise(id: $e) { id } notice(id: $n) { id } application(id: $a) { id }
          allowance(enterpriseId: $e, year: 2025) { amount } applications(noticeId: $n) { id }
          notices(filter: {enterpriseId: $e}) { totalCount }
        }""",
        {"e": str(cycle.enterprise.id), "n": str(cycle.notice.id), "a": str(application.id)},
        actor=cycle.regulator,
    )
    assert result == {
        "data": {
            "enterprise": {"id": str(cycle.enterprise.id)},
            "notice": {"id": str(cycle.notice.id)},
            "application": {"id": str(application.id)},
            "allowance": {"amount": 1000},
            "applications": [{"id": str(application.id)}],
            "notices": {"totalCount": 1},
        }
    }
