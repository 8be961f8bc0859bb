"""issueNoticesForPlan: a committed plan's compliance notices in one call, through the same
workflow as issueNotice, never twice; and the whole way from history to issued notices."""

from __future__ import annotations

from typing import Any

import pytest

from models import AuditEvent, Document, Message, MessageKind, Notice, NoticeStatus
from services.access import Actor
from tests.conftest import PDF, GraphQLClient, World, in_days
from tests.schema.allocation_support import (
    COMMIT,
    CREATE,
    ISSUE,
    PREVIEW,
    Region,
    allocation_input,
    audit_actions,
    emissions,
    unchanged_anywhere,
)
from tests.schema.support import PDF_FILE, TEXT, refused, succeeded, unauthenticated


@pytest.fixture
async def region(world: World) -> Region:
    region = await Region.build(world)
    await emissions(region.a, {2024: 1000})
    await emissions(region.b, {2024: 3000})
    return region


async def plan(gql: GraphQLClient, region: Region, *, committed: bool = True) -> str:
    result = await gql(CREATE, {"input": allocation_input(total=2000)}, actor=region.regulator)
    plan_id = succeeded(result, "createAllocationPlan")["plan"]["id"]
    if committed:
        succeeded(await gql(COMMIT, {"id": plan_id}, actor=region.regulator), "commitAllocationPlan")
    return plan_id


async def issue(
    gql: GraphQLClient,
    actor: Actor | None,
    plan_id: str,
    file: tuple[str, bytes, str] | None = PDF_FILE,
    **variables: Any,
) -> dict[str, Any]:
    values = {"planId": plan_id, "deadline": in_days(60).isoformat(), "document": None, **variables}
    if file is None:
        return await gql(ISSUE, values, actor=actor)
    return await gql.upload(ISSUE, values, files={"document": file}, actor=actor)


async def test_a_committed_plans_notices_are_issued_in_one_call(gql: GraphQLClient, region: Region) -> None:
    plan_id = await plan(gql, region)
    body = succeeded(await issue(gql, region.regulator, plan_id), "issueNoticesForPlan")
    assert body["issued"] == 2
    assert [(n["enterprise"]["id"], n["year"], n["status"], n["allowance"]) for n in body["notices"]] == [
        (str(region.a.id), 2026, "ISSUED", 500),
        (str(region.b.id), 2026, "ISSUED", 1500),
    ]
    assert {n["document"]["filename"] for n in body["notices"]} == {"notice.pdf"}
    # Through the normal workflow: stored as ISSUED, each with its document, each enterprise told.
    assert await Notice.filter(status=NoticeStatus.ISSUED).count() == 2
    assert await Document.all().count() == 2
    inbox = await gql(
        "{ messages { edges { node { kind title notice { id status } } } } }", actor=region.member
    )
    kinds = [edge["node"]["kind"] for edge in inbox["data"]["messages"]["edges"]]
    assert kinds[0] == "NOTICE" and "ALLOWANCE" in kinds
    notice = inbox["data"]["messages"]["edges"][0]["node"]
    assert notice["title"] == "2026 年度履约通知书" and notice["notice"]["status"] == "ISSUED"
    assert await Message.filter(kind=MessageKind.NOTICE).count() == 2
    event = await AuditEvent.get(action="allocation.notices_issued")
    assert (str(event.entity_id), event.data) == (plan_id, {"issued": 2})


async def test_calling_it_again_issues_nothing_more(gql: GraphQLClient, region: Region) -> None:
    plan_id = await plan(gql, region)
    succeeded(await issue(gql, region.regulator, plan_id), "issueNoticesForPlan")
    notices, messages = await Notice.all().count(), await Message.all().count()
    body = succeeded(await issue(gql, region.regulator, plan_id), "issueNoticesForPlan")
    assert (body["issued"], body["notices"]) == (0, [])
    assert (await Notice.all().count(), await Message.all().count()) == (notices, messages)


async def test_the_members_notice_can_be_acknowledged_as_any_other(
    gql: GraphQLClient, region: Region
) -> None:
    plan_id = await plan(gql, region)
    notices = succeeded(await issue(gql, region.regulator, plan_id), "issueNoticesForPlan")["notices"]
    mine = next(n for n in notices if n["enterprise"]["id"] == str(region.a.id))
    result = await gql(
        "mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code } notice { status } } }",
        {"id": mine["id"]},
        actor=region.member,
    )
    assert succeeded(result, "acknowledgeNotice")["notice"]["status"] == "ACKNOWLEDGED"


@pytest.mark.parametrize(
    ("variables", "file", "code", "field"),
    [
        ({}, None, "DOCUMENT_REQUIRED", "document"),
        ({}, ("notice.pdf", TEXT, "application/pdf"), "DOCUMENT_TYPE_NOT_ALLOWED", "document"),
        ({"deadline": in_days(-1).isoformat()}, PDF_FILE, "DEADLINE_IN_PAST", "deadline"),
        ({"ackWindowHours": 0}, PDF_FILE, "INVALID_ACK_WINDOW", "ackWindowHours"),
        ({"planId": "nope"}, PDF_FILE, "NOT_FOUND", "planId"),
    ],
    ids=["no-document", "not-a-pdf", "past-deadline", "no-window", "bad-id"],
)
async def test_bad_terms_are_refused_and_nothing_is_issued(
    gql: GraphQLClient,
    region: Region,
    variables: dict[str, Any],
    file: tuple[str, bytes, str] | None,
    code: str,
    field: str,
) -> None:
    plan_id = await plan(gql, region)
    terms = dict(variables)  # the parameters are shared by both backends' runs
    async with unchanged_anywhere():
        result = await issue(gql, region.regulator, terms.pop("planId", plan_id), file, **terms)
    refused(result, "issueNoticesForPlan", code, field)


async def test_a_draft_plans_notices_cannot_be_issued(gql: GraphQLClient, region: Region) -> None:
    plan_id = await plan(gql, region, committed=False)
    async with unchanged_anywhere():
        refused(
            await issue(gql, region.regulator, plan_id), "issueNoticesForPlan", "PLAN_NOT_COMMITTED", "planId"
        )


async def test_another_regions_regulator_cannot_issue_a_plans_notices(
    gql: GraphQLClient, region: Region
) -> None:
    plan_id = await plan(gql, region)
    async with unchanged_anywhere():
        result = await issue(gql, region.beijing_regulator, plan_id)
    refused(result, "issueNoticesForPlan", "NOT_FOUND", "planId")


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_a_regulator_may_issue_a_plans_notices(
    gql: GraphQLClient, region: Region, role: str
) -> None:
    plan_id = await plan(gql, region)
    async with unchanged_anywhere():
        refused(await issue(gql, getattr(region, role), plan_id), "issueNoticesForPlan", "PERMISSION_DENIED")


async def test_without_a_token_no_notice_is_issued(gql: GraphQLClient, region: Region) -> None:
    plan_id = await plan(gql, region)
    async with unchanged_anywhere():
        unauthenticated(await issue(gql, None, plan_id), "issueNoticesForPlan")


async def test_from_history_to_issued_notices_through_graphql(gql: GraphQLClient, world: World) -> None:
    """The regulator's whole way: import history, read the trend, preview, save, commit, issue."""
    a, b = await world.enterprise("440113"), await world.enterprise("440305")
    regulator = await world.regulator("44")
    rows = [
        {
            "creditCode": e.credit_code,
            "year": year,
            "kind": "EMISSIONS",
            "quantity": base + 100 * (year - 2020),
        }
        for e, base in ((a, 1000), (b, 3000))
        for year in range(2020, 2025)
    ]
    imported = await gql(
        "mutation($rows: [HistoricalRowInput!]!) { importHistoricalData(rows: $rows) { errors { code } written } }",
        {"rows": rows},
        actor=regulator,
    )
    assert succeeded(imported, "importHistoricalData")["written"] == 10
    trend = await gql(
        "{ emissionTrend(fromYear: 2020, toYear: 2024) { slope forecastYear forecast } }", actor=regulator
    )
    assert trend["data"]["emissionTrend"] == {"slope": 200.0, "forecastYear": 2025, "forecast": 5000.0}
    # This year's total: the forecast, less 10 %.
    total = round(trend["data"]["emissionTrend"]["forecast"] * 0.9)
    preview = succeeded(
        await gql(PREVIEW, {"input": allocation_input(total=total)}, actor=regulator), "previewAllocation"
    )
    assert preview["allocated"] == total == 4500
    plan_id = succeeded(
        await gql(CREATE, {"input": allocation_input(total=total)}, actor=regulator), "createAllocationPlan"
    )["plan"]["id"]
    succeeded(await gql(COMMIT, {"id": plan_id}, actor=regulator), "commitAllocationPlan")
    notices = succeeded(
        await gql.upload(
            ISSUE,
            {"planId": plan_id, "deadline": in_days(90).isoformat(), "document": None},
            files={"document": ("通知书.pdf", PDF, "application/pdf")},
            actor=regulator,
        ),
        "issueNoticesForPlan",
    )["notices"]
    assert sum(n["allowance"] for n in notices) == 4500
    assert {n["status"] for n in notices} == {"ISSUED"}
    assert await audit_actions() == [
        "history.imported",
        "allocation.previewed",
        "allocation.plan_created",
        "allocation.plan_committed",
        "notice.issued",
        "notice.issued",
        "allocation.notices_issued",
    ]
