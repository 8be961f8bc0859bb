"""reviewApplication: the regulator approves or rejects an application under review."""

from __future__ import annotations

from typing import Any

import pytest

from models import Application
from services.access import Actor
from services.compliance.workflow import Action
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, tenant_data, top_level_error, unauthenticated
from tests.services.cycle import Cycle

REVIEW = """
mutation($input: ReviewApplicationInput!) {
  reviewApplication(input: $input) {
    errors { code field message }
    application { id status decidedAt decisionReason notice { status rejectionReason allowedActions } }
  }
}
"""
NOTICE_AS_MEMBER = (
    "query($id: ID!) { notice(id: $id) { status applicationStatus rejectionReason allowedActions } }"
)
INBOX = "{ messages { edges { node { kind body } } } }"


async def review(
    gql: GraphQLClient, actor: Actor | None, application_id: object, decision: str, reason: Any = None
):
    variables = {"input": {"applicationId": str(application_id), "decision": decision, "reason": reason}}
    return await gql(REVIEW, variables, actor=actor)


@pytest.fixture
async def application(cycle: Cycle) -> Application:
    """An application under review with a 5 t surplus."""
    return await cycle.under_review()


@pytest.fixture
async def short(cycle: Cycle) -> Application:
    """An application under review with a 1000 t shortfall."""
    return await cycle.under_review(verified_emissions=2000, offsets=0, purchased_allowances=0)


async def test_approving_fulfils_the_notice_and_tells_the_enterprise(
    gql: GraphQLClient, cycle: Cycle, application: Application
) -> None:
    decided = succeeded(await review(gql, cycle.regulator, application.id, "APPROVE"), "reviewApplication")[
        "application"
    ]
    assert (decided["status"], decided["decisionReason"], decided["notice"]["status"]) == (
        "APPROVED",
        None,
        "FULFILLED",
    )
    assert decided["decidedAt"] is not None and decided["notice"]["allowedActions"] == []
    inbox = await gql(INBOX, actor=cycle.member)
    assert inbox["data"]["messages"]["edges"][0]["node"]["kind"] == "REVIEW_RESULT"


async def test_rejecting_with_a_reason_lets_the_enterprise_resubmit(
    gql: GraphQLClient, cycle: Cycle, application: Application
) -> None:
    result = await review(gql, cycle.regulator, application.id, "REJECT", "  verifier's seal missing  ")
    decided = succeeded(result, "reviewApplication")["application"]
    assert (decided["status"], decided["decisionReason"]) == ("REJECTED", "verifier's seal missing")
    seen = (await gql(NOTICE_AS_MEMBER, {"id": str(cycle.notice.id)}, actor=cycle.member))["data"]["notice"]
    assert seen == {
        "status": "REJECTED",
        "applicationStatus": "REJECTED",
        "rejectionReason": "verifier's seal missing",
        "allowedActions": ["SUBMIT_APPLICATION"],
    }
    inbox = await gql(INBOX, actor=cycle.member)
    assert inbox["data"]["messages"]["edges"][0]["node"] == {
        "kind": "REVIEW_RESULT",
        "body": "verifier's seal missing",
    }


async def test_a_shortfall_is_approved_only_with_an_override_reason(
    gql: GraphQLClient, cycle: Cycle, short: Application
) -> None:
    result = await review(
        gql, cycle.regulator, short.id, "APPROVE", "shortfall surrendered from the 2026 allocation"
    )
    decided = succeeded(result, "reviewApplication")["application"]
    assert (decided["status"], decided["decisionReason"]) == (
        "APPROVED",
        "shortfall surrendered from the 2026 allocation",
    )


@pytest.mark.parametrize(
    ("decision", "reason", "code"),
    [
        ("REJECT", None, "REASON_REQUIRED"),
        ("REJECT", "   ", "REASON_REQUIRED"),
        ("REJECT", "x" * 5001, "TOO_LONG"),
        ("APPROVE", "x" * 5001, "TOO_LONG"),
    ],
    ids=["reject-without-reason", "reject-with-blank-reason", "reject-too-long", "approve-too-long"],
)
async def test_a_decision_without_a_usable_reason_is_refused(
    gql: GraphQLClient, cycle: Cycle, application: Application, decision: str, reason: str | None, code: str
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await review(gql, cycle.regulator, application.id, decision, reason),
        "reviewApplication",
        code,
        "reason",
    )
    assert await tenant_data(cycle.enterprise.id) == before


async def test_approving_a_shortfall_without_an_override_reason_is_refused(
    gql: GraphQLClient, cycle: Cycle, short: Application
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    result = await review(gql, cycle.regulator, short.id, "APPROVE")
    error = refused(result, "reviewApplication", "SHORTFALL_OVERRIDE_REQUIRED", "reason")
    assert "1000" in error["message"]
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("decision", ["APPROVE", "REJECT"])
async def test_a_decided_application_cannot_be_decided_again(
    gql: GraphQLClient, cycle: Cycle, application: Application, decision: str
) -> None:
    await cycle.review(application, Action.APPROVE)
    before = await tenant_data(cycle.enterprise.id)
    result = await review(gql, cycle.regulator, application.id, decision, "second thoughts")
    refused(result, "reviewApplication", "APPLICATION_ALREADY_DECIDED", "applicationId")
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("application_id", ["abc", "0", "999999", "99999999999"])
async def test_an_unknown_or_malformed_application_is_not_found(
    gql: GraphQLClient, cycle: Cycle, application: Application, application_id: str
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await review(gql, cycle.regulator, application_id, "APPROVE"),
        "reviewApplication",
        "NOT_FOUND",
        "applicationId",
    )
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("prefix", ["11", "4403"])
async def test_an_application_outside_the_regulators_region_is_not_found(
    gql: GraphQLClient, cycle: Cycle, application: Application, world: World, prefix: str
) -> None:
    elsewhere = await world.regulator(prefix)
    before = await tenant_data(cycle.enterprise.id)
    refused(
        await review(gql, elsewhere, application.id, "APPROVE"),
        "reviewApplication",
        "NOT_FOUND",
        "applicationId",
    )
    assert await tenant_data(cycle.enterprise.id) == before


async def test_an_unknown_decision_is_refused_by_graphql_itself(
    gql: GraphQLClient, cycle: Cycle, application: Application
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    assert "MAYBE" in top_level_error(await review(gql, cycle.regulator, application.id, "MAYBE"))["message"]
    assert await tenant_data(cycle.enterprise.id) == before


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_a_regulator_may_review(
    gql: GraphQLClient, cycle: Cycle, application: Application, world: World, role: str
) -> None:
    actor = cycle.member if role == "member" else await world.admin()
    before = await tenant_data(cycle.enterprise.id)
    refused(await review(gql, actor, application.id, "APPROVE"), "reviewApplication", "PERMISSION_DENIED")
    assert await tenant_data(cycle.enterprise.id) == before


async def test_without_a_token_nothing_is_decided(
    gql: GraphQLClient, cycle: Cycle, application: Application
) -> None:
    before = await tenant_data(cycle.enterprise.id)
    unauthenticated(await review(gql, None, application.id, "APPROVE"), "reviewApplication")
    assert await tenant_data(cycle.enterprise.id) == before
