"""acknowledgeNotice: the enterprise confirms receipt of its notice."""

from __future__ import annotations

import pytest

from models import Notice, NoticeStatus
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, tenant_data, unauthenticated
from tests.services.cycle import Cycle

ACKNOWLEDGE = """
mutation($id: ID!) {
  acknowledgeNotice(noticeId: $id) {
    errors { code field message }
    notice { id status acknowledgedAt version allowedActions timeline { action actorName toStatus } }
  }
}
"""


async def acknowledge(gql: GraphQLClient, actor: Actor | None, notice_id: object) -> dict:
    return await gql(ACKNOWLEDGE, {"id": str(notice_id)}, actor=actor)


async def test_the_enterprise_acknowledges_its_notice(gql: GraphQLClient, cycle: Cycle) -> None:
    notice = succeeded(await acknowledge(gql, cycle.member, cycle.notice.id), "acknowledgeNotice")["notice"]
    assert (notice["status"], notice["version"]) == ("ACKNOWLEDGED", 2)
    assert notice["acknowledgedAt"] is not None
    assert notice["allowedActions"] == ["SUBMIT_APPLICATION"]
    assert notice["timeline"][-1] == {
        "action": "notice.acknowledged",
        "actorName": cycle.member.username,
        "toStatus": "ACKNOWLEDGED",
    }


async def test_acknowledging_again_is_harmless_and_changes_nothing(gql: GraphQLClient, cycle: Cycle) -> None:
    first = succeeded(await acknowledge(gql, cycle.member, cycle.notice.id), "acknowledgeNotice")["notice"]
    again = succeeded(await acknowledge(gql, cycle.member, cycle.notice.id), "acknowledgeNotice")["notice"]
    assert again == first


@pytest.mark.parametrize("notice_id", ["abc", "0", "999999", "99999999999999999999"])
async def test_an_unknown_or_malformed_notice_is_not_found(
    gql: GraphQLClient, cycle: Cycle, notice_id: str
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    refused(await acknowledge(gql, cycle.member, notice_id), "acknowledgeNotice", "NOT_FOUND", "noticeId")
    assert await tenant_data(cycle.enterprise.id) == before


async def test_another_enterprises_notice_is_not_found(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    stranger = await world.member(await world.enterprise("440113"))
    before = await tenant_data(cycle.enterprise.id)
    refused(await acknowledge(gql, stranger, cycle.notice.id), "acknowledgeNotice", "NOT_FOUND", "noticeId")
    assert await tenant_data(cycle.enterprise.id) == before


async def test_an_overdue_notice_can_no_longer_be_acknowledged(gql: GraphQLClient, cycle: Cycle) -> None:
    await Notice.filter(id=cycle.notice.id).update(status=NoticeStatus.OVERDUE)
    before = await tenant_data(cycle.enterprise.id)
    refused(await acknowledge(gql, cycle.member, cycle.notice.id), "acknowledgeNotice", "INVALID_TRANSITION")
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("role", ["regulator", "admin"])
async def test_only_the_enterprise_may_acknowledge(
    gql: GraphQLClient, cycle: Cycle, world: World, role: str
) -> None:
    actor = cycle.regulator if role == "regulator" else await world.admin()
    before = await tenant_data(cycle.enterprise.id)
    refused(await acknowledge(gql, actor, cycle.notice.id), "acknowledgeNotice", "PERMISSION_DENIED")
    assert await tenant_data(cycle.enterprise.id) == before


async def test_without_a_token_nothing_is_acknowledged(gql: GraphQLClient, cycle: Cycle) -> None:
    unauthenticated(await acknowledge(gql, None, cycle.notice.id), "acknowledgeNotice")
    assert (await cycle.reload()).status == NoticeStatus.ISSUED
