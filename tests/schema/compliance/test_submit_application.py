"""submitApplication: the enterprise applies against its acknowledged notice, with the
verifier's report as a GraphQL multipart upload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models import Application, Notice
from services.access import Actor
from services.compliance import notices
from services.compliance.workflow import Action
from tests.conftest import PDF, PNG, GraphQLClient, World
from tests.schema.support import (
    TEXT,
    TOO_LARGE_BODY,
    TOO_LARGE_FILE,
    post_multipart,
    refused,
    succeeded,
    tenant_data,
    unauthenticated,
)
from tests.services.cycle import Cycle, issue

SUBMIT = """
mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) {
    errors { code field message }
    application {
      id status verifiedEmissions offsets purchasedAllowances allowance usableOffsets
      balance surplus shortfall
      offsetsOverCap note idempotencyKey report { contentType size } notice { id status applicationStatus }
    }
  }
}
"""
REPORT = ("核查报告.pdf", PDF, "application/pdf")


def application_input(notice_id: object, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "noticeId": str(notice_id),
        "verifiedEmissions": 1100,
        "offsets": 100,
        "purchasedAllowances": 50,
        "report": None,
    }
    values.update(overrides)
    return values


async def submit(
    gql: GraphQLClient,
    actor: Actor | None,
    notice_id: object,
    report: tuple[str, bytes, str] | None = REPORT,
    **overrides: Any,
) -> dict:
    variables = {"input": application_input(notice_id, **overrides)}
    if report is None:
        return await gql(SUBMIT, variables, actor=actor)
    return await gql.upload(SUBMIT, variables, files={"input.report": report}, actor=actor)


@pytest.fixture
async def acknowledged(cycle: Cycle) -> Cycle:
    """The cycle with its notice acknowledged: ready for an application."""
    await cycle.acknowledge()
    return cycle


async def test_the_enterprise_submits_and_the_balance_is_computed(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    application = succeeded(
        await submit(gql, acknowledged.member, acknowledged.notice.id), "submitApplication"
    )["application"]
    # 1000 allowance + 50 purchased + min(100 offered, 5 % of 1100 = 55) - 1100 verified = 5
    assert {
        k: application[k] for k in ("status", "allowance", "usableOffsets", "balance", "surplus", "shortfall")
    } == {
        "status": "UNDER_REVIEW",
        "allowance": 1000,
        "usableOffsets": 55,
        "balance": 5,
        "surplus": 5,
        "shortfall": 0,
    }
    assert application["offsetsOverCap"] is True
    assert application["report"] == {"contentType": "application/pdf", "size": len(PDF)}
    assert application["notice"] == {
        "id": str(acknowledged.notice.id),
        "status": "UNDER_REVIEW",
        "applicationStatus": "UNDER_REVIEW",
    }


async def test_quantities_may_be_numeric_strings_and_the_report_a_png(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    result = await submit(
        gql,
        acknowledged.member,
        acknowledged.notice.id,
        ("report.png", PNG, "image/png"),
        verifiedEmissions="2000",
        offsets="0",
        purchasedAllowances="0",
    )
    application = succeeded(result, "submitApplication")["application"]
    assert (application["balance"], application["shortfall"], application["report"]["contentType"]) == (
        -1000,
        1000,
        "image/png",
    )


async def test_a_shortfall_beyond_two_billion_tonnes_is_still_a_number(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    # Balances used to be GraphQL Int (32-bit): a large shortfall failed to serialise.
    result = await submit(
        gql, acknowledged.member, acknowledged.notice.id, verifiedEmissions=3_000_000_000, offsets=0
    )
    application = succeeded(result, "submitApplication")["application"]
    assert (application["balance"], application["shortfall"]) == (-2_999_998_950, 2_999_998_950)


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_application(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    first = succeeded(
        await submit(gql, acknowledged.member, acknowledged.notice.id, idempotencyKey="submit-2025-1"),
        "submitApplication",
    )["application"]
    again = succeeded(
        await submit(gql, acknowledged.member, acknowledged.notice.id, idempotencyKey="submit-2025-1"),
        "submitApplication",
    )["application"]
    assert again == first and await Application.all().count() == 1


async def test_after_a_rejection_the_enterprise_resubmits(gql: GraphQLClient, acknowledged: Cycle) -> None:
    rejected = await acknowledged.submit()
    await acknowledged.review(rejected, Action.REJECT, "verifier's seal missing")
    application = succeeded(
        await submit(gql, acknowledged.member, acknowledged.notice.id), "submitApplication"
    )["application"]
    assert application["status"] == "UNDER_REVIEW" and application["notice"]["status"] == "UNDER_REVIEW"
    assert await Application.filter(notice_id=acknowledged.notice.id).count() == 2


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"verifiedEmissions": "-5"}, "NEGATIVE_QUANTITY", "verifiedEmissions"),
        ({"offsets": -1}, "NEGATIVE_QUANTITY", "offsets"),
        ({"verifiedEmissions": "abc"}, "INVALID_QUANTITY", "verifiedEmissions"),
        ({"offsets": 1.5}, "INVALID_QUANTITY", "offsets"),
        ({"purchasedAllowances": "12.5"}, "INVALID_QUANTITY", "purchasedAllowances"),
        ({"note": "x" * 5001}, "TOO_LONG", "note"),
        ({"idempotencyKey": "k" * 101}, "TOO_LONG", "idempotencyKey"),
        ({"noticeId": "abc"}, "NOT_FOUND", "noticeId"),
        ({"noticeId": "99999999999"}, "NOT_FOUND", "noticeId"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_an_invalid_application_is_refused_and_nothing_changes(
    gql: GraphQLClient, acknowledged: Cycle, overrides: dict[str, Any], code: str, field: str
) -> None:
    before = await tenant_data(acknowledged.enterprise.id)
    refused(
        await submit(gql, acknowledged.member, acknowledged.notice.id, **overrides),
        "submitApplication",
        code,
        field,
    )
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_an_idempotency_key_used_for_another_notice_is_refused(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    await acknowledged.world.allowance(acknowledged.regulator, acknowledged.enterprise, 500, year=2026)
    other = await issue(acknowledged.regulator, acknowledged.files, acknowledged.enterprise, year=2026)
    await notices.acknowledge_notice(acknowledged.member, other.id)
    await acknowledged.submit(notice_id=other.id, idempotency_key="k-1")
    before = await tenant_data(acknowledged.enterprise.id)
    result = await submit(gql, acknowledged.member, acknowledged.notice.id, idempotencyKey="k-1")
    refused(result, "submitApplication", "IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_a_notice_must_be_acknowledged_first(gql: GraphQLClient, cycle: Cycle) -> None:
    before = await tenant_data(cycle.enterprise.id)
    refused(await submit(gql, cycle.member, cycle.notice.id), "submitApplication", "NOTICE_NOT_ACKNOWLEDGED")
    assert await tenant_data(cycle.enterprise.id) == before


async def test_a_second_application_while_one_is_under_review_is_refused(
    gql: GraphQLClient, acknowledged: Cycle
) -> None:
    await acknowledged.submit()
    before = await tenant_data(acknowledged.enterprise.id)
    refused(
        await submit(gql, acknowledged.member, acknowledged.notice.id),
        "submitApplication",
        "INVALID_TRANSITION",
    )
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_after_the_deadline_nothing_is_accepted(gql: GraphQLClient, acknowledged: Cycle) -> None:
    await Notice.filter(id=acknowledged.notice.id).update(deadline=datetime.now(UTC) - timedelta(minutes=1))
    before = await tenant_data(acknowledged.enterprise.id)
    refused(
        await submit(gql, acknowledged.member, acknowledged.notice.id), "submitApplication", "DEADLINE_PASSED"
    )
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_another_enterprises_notice_is_not_found(
    gql: GraphQLClient, acknowledged: Cycle, world: World
) -> None:
    stranger = await world.member(await world.enterprise("440113"))
    before = await tenant_data(acknowledged.enterprise.id)
    refused(await submit(gql, stranger, acknowledged.notice.id), "submitApplication", "NOT_FOUND", "noticeId")
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_the_report_is_required_without_a_conclusion(gql: GraphQLClient, acknowledged: Cycle) -> None:
    # The schema lets it out (a standing conclusion provides the report); without one it is required.
    before = await tenant_data(acknowledged.enterprise.id)
    result = await submit(gql, acknowledged.member, acknowledged.notice.id, None)
    refused(result, "submitApplication", "DOCUMENT_REQUIRED", "report")
    assert await tenant_data(acknowledged.enterprise.id) == before


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (("report.pdf", TEXT, "application/pdf"), "DOCUMENT_TYPE_NOT_ALLOWED"),
        (("report.txt", TEXT, "text/plain"), "DOCUMENT_TYPE_NOT_ALLOWED"),
        (("report.pdf", TOO_LARGE_FILE, "application/pdf"), "DOCUMENT_TOO_LARGE"),
    ],
    ids=["text-named-pdf", "text", "100KiB"],
)
async def test_the_report_must_be_a_pdf_png_or_jpeg_within_the_limit(
    gql: GraphQLClient, acknowledged: Cycle, report: tuple[str, bytes, str], code: str
) -> None:
    before = await tenant_data(acknowledged.enterprise.id)
    refused(
        await submit(gql, acknowledged.member, acknowledged.notice.id, report),
        "submitApplication",
        code,
        "report",
    )
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_a_request_body_over_the_body_limit_is_cut_off_with_413(
    http: httpx.AsyncClient, acknowledged: Cycle
) -> None:
    before = await tenant_data(acknowledged.enterprise.id)
    response = await post_multipart(
        http,
        SUBMIT,
        {"input": application_input(acknowledged.notice.id)},
        {"input.report": ("report.pdf", TOO_LARGE_BODY, "application/pdf")},
        acknowledged.member,
    )
    assert response.status_code == 413
    assert await tenant_data(acknowledged.enterprise.id) == before


@pytest.mark.parametrize("role", ["regulator", "admin"])
async def test_only_the_enterprise_may_apply(
    gql: GraphQLClient, acknowledged: Cycle, world: World, role: str
) -> None:
    actor = acknowledged.regulator if role == "regulator" else await world.admin()
    before = await tenant_data(acknowledged.enterprise.id)
    refused(await submit(gql, actor, acknowledged.notice.id), "submitApplication", "PERMISSION_DENIED")
    assert await tenant_data(acknowledged.enterprise.id) == before


async def test_without_a_token_nothing_is_submitted(gql: GraphQLClient, acknowledged: Cycle) -> None:
    unauthenticated(await submit(gql, None, acknowledged.notice.id), "submitApplication")
    assert not await Application.exists()
