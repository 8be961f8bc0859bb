"""extendDeadline: the regulator moves a notice's deadline later, with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Notice
from services.access import Actor
from services.compliance.workflow import Action
from tests.conftest import GraphQLClient, World, in_days
from tests.schema.support import refused, succeeded, tenant_data, top_level_error, unauthenticated
from tests.services.cycle import Cycle

EXTEND = """
mutation($id: ID!, $deadline: DateTime!, $reason: String!) {
  extendDeadline(noticeId: $id, deadline: $deadline, reason: $reason) {
    errors { code field message }
    notice { deadline status version timeline { action reason } }
  }
}
"""


async def extend(
    gql: GraphQLClient, actor: Actor | None, notice_id: object, deadline: str, reason: str = "flood"
):
    return await gql(EXTEND, {"id": str(notice_id), "deadline": deadline, "reason": reason}, actor=actor)


async def test_the_regulator_extends_the_deadline_and_the_enterprise_is_told(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    later = in_days(60).replace(microsecond=0)
    notice = succeeded(
        await extend(gql, cycle.regulator, cycle.notice.id, later.isoformat(), "typhoon"), "extendDeadline"
    )["notice"]
    assert datetime.fromisoformat(notice["deadline"]) == later
    assert (notice["status"], notice["version"]) == ("ISSUED", 2)
    assert notice["timeline"][-1] == {"action": "notice.deadline_extended", "reason": "typhoon"}
    inbox = await gql("{ messages { edges { node { kind body } } } }", actor=cycle.member)
    latest = inbox["data"]["messages"]["edges"][0]["node"]
    assert latest["kind"] == "DEADLINE_EXTENDED" and "typhoon" in latest["body"]


async def test_an_extension_reopens_submission_after_a_passed_deadline(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    await cycle.acknowledge()
    await Notice.filter(id=cycle.notice.id).update(deadline=datetime.now(UTC) - timedelta(hours=1))
    query = "query($id: ID!) { notice(id: $id) { allowedActions } }"
    assert (await gql(query, {"id": str(cycle.notice.id)}, actor=cycle.member))["data"]["notice"][
        "allowedActions"
    ] == []
    succeeded(await extend(gql, cycle.regulator, cycle.notice.id, in_days(7).isoformat()), "extendDeadline")
    allowed = (await gql(query, {"id": str(cycle.notice.id)}, actor=cycle.member))["data"]["notice"][
        "allowedActions"
    ]
    assert allowed == ["SUBMIT_APPLICATION"]


@pytest.mark.parametrize(
    ("deadline", "reason", "code", "field"),
    [
        ("earlier", "flood", "DEADLINE_NOT_LATER", "deadline"),
        ("same", "flood", "DEADLINE_NOT_LATER", "deadline"),
        ("2099-01-01T00:00:00", "flood", "INVALID_DATETIME", "deadline"),
        ("later", "   ", "REQUIRED", "reason"),
        ("later", "x" * 2001, "TOO_LONG", "reason"),
    ],
    ids=["earlier", "same", "no-offset", "blank-reason", "long-reason"],
)
async def test_an_invalid_extension_changes_nothing(
    gql: GraphQLClient, cycle: Cycle, deadline: str, reason: str, code: str, field: str
) -> None:
    current = cycle.notice.deadline
    value = {
        "earlier": (current - timedelta(days=1)).isoformat(),
        "same": current.isoformat(),
        "later": (current + timedelta(days=1)).isoformat(),
    }.get(deadline, deadline)
    before = await tenant_data(cycle.enterprise.id)
    refused(await extend(gql, cycle.regulator, cycle.notice.id, value, reason), "extendDeadline", code, field)
    assert await tenant_data(cycle.enterprise.id) == before


async def test_a_fulfilled_notice_has_no_deadline_to_extend(gql: GraphQLClient, cycle: Cycle) -> None:
    await cycle.review(await cycle.under_review(), Action.APPROVE)
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await extend(gql, cycle.regulator, cycle.notice.id, in_days(90).isoformat()),
        "extendDeadline",
        "INVALID_TRANSITION",
    )
    assert await tenant_data(cycle.enterprise.id) == before


async def test_a_date_that_is_not_a_date_is_refused_by_graphql_itself(
    gql: GraphQLClient, cycle: Cycle
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    top_level_error(await extend(gql, cycle.regulator, cycle.notice.id, "next Tuesday"))
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("notice_id", ["abc", "0", "999999", "99999999999"])
async def test_an_unknown_or_malformed_notice_is_not_found(
    gql: GraphQLClient, cycle: Cycle, notice_id: str
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await extend(gql, cycle.regulator, notice_id, in_days(60).isoformat()),
        "extendDeadline",
        "NOT_FOUND",
        "noticeId",
    )
    assert await tenant_data(cycle.enterprise.id) == before


async def test_a_notice_outside_the_regulators_region_is_not_found(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    beijing = await world.regulator("11")
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await extend(gql, beijing, cycle.notice.id, in_days(60).isoformat()),
        "extendDeadline",
        "NOT_FOUND",
        "noticeId",
    )
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_a_regulator_may_extend(gql: GraphQLClient, cycle: Cycle, world: World, role: str) -> None:
    actor = cycle.member if role == "member" else await world.admin()
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await extend(gql, actor, cycle.notice.id, in_days(60).isoformat()),
        "extendDeadline",
        "PERMISSION_DENIED",
    )
    assert await tenant_data(cycle.enterprise.id) == before


async def test_without_a_token_nothing_is_extended(gql: GraphQLClient, cycle: Cycle) -> None:
    before = await tenant_data(cycle.enterprise.id)
    unauthenticated(await extend(gql, None, cycle.notice.id, in_days(60).isoformat()), "extendDeadline")
    assert await tenant_data(cycle.enterprise.id) == before
