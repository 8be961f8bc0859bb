"""issueNotice: a regulator issues the year's compliance notice, with its document as a
GraphQL multipart upload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from models import Enterprise, Message, Notice
from services.access import Actor
from tests.conftest import PDF, PNG, GraphQLClient, World, in_days
from tests.schema.support import (
    TEXT,
    TOO_LARGE_BODY,
    TOO_LARGE_FILE,
    auth,
    post_multipart,
    refused,
    succeeded,
    unauthenticated,
)
from tests.services.cycle import unchanged

ISSUE = """
mutation($input: IssueNoticeInput!) {
  issueNotice(input: $input) {
    errors { code field message }
    notice {
      id year status allowance deadline ackWindowHours offsetCapRatio allowBanking title body version
      enterprise { id }
      document { filename contentType size sha256 url }
      allowedActions
    }
  }
}
"""


def notice_input(enterprise_id: object, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "enterpriseId": str(enterprise_id),
        "year": 2025,
        "deadline": in_days(30).isoformat(),
        "ackWindowHours": 72,
        "title": "2025 年度履约通知书",
        "body": "Surrender allowances.",
        "document": None,
    }
    values.update(overrides)
    return values


@dataclass
class Setting:
    """A Guangdong enterprise with its 2025 allowance set, and the cast around it."""

    enterprise: Enterprise
    regulator: Actor
    member: Actor


@pytest.fixture
async def setting(world: World) -> Setting:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await world.allowance(regulator, enterprise, 80_000)
    return Setting(enterprise, regulator, await world.member(enterprise))


async def issue(
    gql: GraphQLClient,
    actor: Actor | None,
    enterprise_id: object,
    file: tuple[str, bytes, str] | None = None,
    **overrides: Any,
) -> dict:
    variables = {"input": notice_input(enterprise_id, **overrides)}
    if file is None:
        return await gql(ISSUE, variables, actor=actor)
    return await gql.upload(ISSUE, variables, files={"input.document": file}, actor=actor)


def stored_files(settings: Settings) -> list[Path]:
    return [p for p in settings.upload_dir.rglob("*") if p.is_file()] if settings.upload_dir.exists() else []


async def test_a_regulator_issues_a_notice_with_its_pdf(
    gql: GraphQLClient, http: httpx.AsyncClient, setting: Setting
) -> None:
    result = await issue(
        gql, setting.regulator, setting.enterprise.id, ("通知书.pdf", PDF, "application/pdf")
    )
    notice = succeeded(result, "issueNotice")["notice"]
    assert (notice["year"], notice["status"], notice["allowance"], notice["version"]) == (
        2025,
        "ISSUED",
        80_000,
        1,
    )
    assert (notice["ackWindowHours"], notice["offsetCapRatio"], notice["allowBanking"]) == (
        72,
        "0.0500",
        False,
    )
    assert notice["enterprise"] == {"id": str(setting.enterprise.id)}
    assert notice["allowedActions"] == ["EXTEND_DEADLINE"]
    document = notice["document"]
    assert (document["filename"], document["contentType"], document["size"]) == (
        "通知书.pdf",
        "application/pdf",
        len(PDF),
    )
    download = await http.get(document["url"], headers=auth(setting.member))
    assert download.status_code == 200 and download.content == PDF


async def test_the_enterprise_finds_the_allowance_and_the_notice_in_its_inbox(
    gql: GraphQLClient, setting: Setting
) -> None:
    notice = succeeded(
        await issue(gql, setting.regulator, setting.enterprise.id, ("n.pdf", PDF, "application/pdf")),
        "issueNotice",
    )["notice"]
    inbox = await gql("{ messages { edges { node { kind notice { id } } } } }", actor=setting.member)
    assert [e["node"] for e in inbox["data"]["messages"]["edges"]] == [
        {"kind": "NOTICE", "notice": {"id": notice["id"]}},
        {"kind": "ALLOWANCE", "notice": {"id": notice["id"]}},
    ]


async def test_the_deadline_is_an_instant_whatever_offset_it_was_given_in(
    gql: GraphQLClient, setting: Setting
) -> None:
    instant = in_days(100).replace(microsecond=0)
    beijing = instant.astimezone(timezone(timedelta(hours=8)))
    result = await issue(
        gql,
        setting.regulator,
        setting.enterprise.id,
        ("n.pdf", PDF, "application/pdf"),
        deadline=beijing.isoformat(),
    )
    text = succeeded(result, "issueNotice")["notice"]["deadline"]
    # The same instant, and in the configured zone's offset (Asia/Shanghai): as it was sent.
    assert datetime.fromisoformat(text) == instant and text == beijing.isoformat()


async def test_a_deadline_sent_in_utc_comes_back_in_beijing_time(
    gql: GraphQLClient, setting: Setting
) -> None:
    instant = datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC)
    result = await issue(
        gql,
        setting.regulator,
        setting.enterprise.id,
        ("n.pdf", PDF, "application/pdf"),
        deadline=instant.isoformat(),
    )
    notice = succeeded(result, "issueNotice")["notice"]
    assert notice["deadline"] == "2027-12-31T23:59:59+08:00"


async def test_the_offset_cap_and_banking_can_be_chosen(gql: GraphQLClient, setting: Setting) -> None:
    result = await issue(
        gql,
        setting.regulator,
        setting.enterprise.id,
        ("n.pdf", PDF, "application/pdf"),
        offsetCapRatio="0.1",
        allowBanking=True,
    )
    notice = succeeded(result, "issueNotice")["notice"]
    assert (notice["offsetCapRatio"], notice["allowBanking"]) == ("0.1000", True)


async def test_a_png_named_pdf_is_stored_as_the_png_it_is(
    gql: GraphQLClient, http: httpx.AsyncClient, setting: Setting
) -> None:
    # Files are judged by content: the name and the declared type are not believed.
    result = await issue(gql, setting.regulator, setting.enterprise.id, ("scan.pdf", PNG, "application/pdf"))
    document = succeeded(result, "issueNotice")["notice"]["document"]
    assert document["contentType"] == "image/png"
    download = await http.get(document["url"], headers=auth(setting.regulator))
    assert download.headers["content-type"] == "image/png"
    assert 'filename="scan.png"' in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"deadline": in_days(-1).isoformat()}, "DEADLINE_IN_PAST", "deadline"),
        ({"deadline": "2030-06-30T23:59:59"}, "INVALID_DATETIME", "deadline"),
        ({"ackWindowHours": 0}, "INVALID_ACK_WINDOW", "ackWindowHours"),
        ({"ackWindowHours": 24 * 90 + 1}, "INVALID_ACK_WINDOW", "ackWindowHours"),
        ({"offsetCapRatio": "2"}, "INVALID_RATIO", "offsetCapRatio"),
        ({"offsetCapRatio": -0.05}, "INVALID_RATIO", "offsetCapRatio"),
        ({"offsetCapRatio": "0.00001"}, "INVALID_RATIO", "offsetCapRatio"),
        ({"offsetCapRatio": "five percent"}, "INVALID_RATIO", "offsetCapRatio"),
        ({"year": 1999}, "INVALID_YEAR", "year"),
        ({"title": "  "}, "REQUIRED", "title"),
        ({"title": "x" * 201}, "TOO_LONG", "title"),
        ({"body": "x" * 20_001}, "TOO_LONG", "body"),
        ({"enterpriseId": "abc"}, "NOT_FOUND", "enterpriseId"),
        ({"enterpriseId": "99999999999"}, "NOT_FOUND", "enterpriseId"),
        ({"year": 2026}, "ALLOWANCE_NOT_SET", "year"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_an_invalid_notice_is_refused_and_nothing_is_stored(
    gql: GraphQLClient, setting: Setting, settings: Settings, overrides: dict[str, Any], code: str, field: str
) -> None:
    async with unchanged():
        result = await issue(
            gql, setting.regulator, setting.enterprise.id, ("n.pdf", PDF, "application/pdf"), **overrides
        )
    refused(result, "issueNotice", code, field)
    assert stored_files(settings) == []


async def test_a_second_notice_for_the_same_year_is_refused(gql: GraphQLClient, setting: Setting) -> None:
    succeeded(
        await issue(gql, setting.regulator, setting.enterprise.id, ("n.pdf", PDF, "application/pdf")),
        "issueNotice",
    )
    async with unchanged():
        result = await issue(gql, setting.regulator, setting.enterprise.id, ("n.pdf", PDF, "application/pdf"))
    refused(result, "issueNotice", "NOTICE_ALREADY_ISSUED", "year")


async def test_an_enterprise_outside_the_regulators_region_is_not_found(
    gql: GraphQLClient, setting: Setting, world: World
) -> None:
    beijing = await world.regulator("11")
    async with unchanged():
        result = await issue(gql, beijing, setting.enterprise.id, ("n.pdf", PDF, "application/pdf"))
    refused(result, "issueNotice", "NOT_FOUND", "enterpriseId")


async def test_a_notice_needs_its_document_and_the_schema_says_so(
    gql: GraphQLClient, setting: Setting
) -> None:
    async with unchanged():
        result = await issue(gql, setting.regulator, setting.enterprise.id)
    # Refused while the variables are read, before anything runs: `document: Upload!`.
    assert result["data"] is None
    [error] = result["errors"]
    assert "document" in error["message"] and "Upload!" in error["message"], error


@pytest.mark.parametrize(
    "file",
    [
        ("notice.pdf", TEXT, "application/pdf"),
        ("notice.txt", TEXT, "text/plain"),
        ("empty.pdf", b"", "application/pdf"),
    ],
    ids=["text-named-pdf", "text", "empty"],
)
async def test_a_document_that_is_not_a_pdf_png_or_jpeg_is_refused(
    gql: GraphQLClient, setting: Setting, settings: Settings, file: tuple[str, bytes, str]
) -> None:
    async with unchanged():
        result = await issue(gql, setting.regulator, setting.enterprise.id, file)
    refused(result, "issueNotice", "DOCUMENT_TYPE_NOT_ALLOWED", "document")
    assert stored_files(settings) == []


async def test_a_document_over_the_upload_limit_is_refused_as_data(
    gql: GraphQLClient, setting: Setting, settings: Settings
) -> None:
    async with unchanged():
        result = await issue(
            gql, setting.regulator, setting.enterprise.id, ("big.pdf", TOO_LARGE_FILE, "application/pdf")
        )
    error = refused(result, "issueNotice", "DOCUMENT_TOO_LARGE", "document")
    assert "0.0625 MB" in error["message"]
    assert stored_files(settings) == []


async def test_a_request_body_over_the_body_limit_is_cut_off_with_413(
    http: httpx.AsyncClient, setting: Setting, settings: Settings
) -> None:
    async with unchanged():
        response = await post_multipart(
            http,
            ISSUE,
            {"input": notice_input(setting.enterprise.id)},
            {"input.document": ("big.pdf", TOO_LARGE_BODY, "application/pdf")},
            setting.regulator,
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "DOCUMENT_TOO_LARGE"}
    assert stored_files(settings) == []


@pytest.mark.parametrize("role", ["admin", "member"])
async def test_only_a_regulator_may_issue_a_notice(
    gql: GraphQLClient, setting: Setting, world: World, role: str
) -> None:
    actor = await world.admin() if role == "admin" else setting.member
    async with unchanged():
        result = await issue(gql, actor, setting.enterprise.id, ("n.pdf", PDF, "application/pdf"))
    refused(result, "issueNotice", "PERMISSION_DENIED")


async def test_without_a_token_no_notice_is_issued(
    gql: GraphQLClient, setting: Setting, settings: Settings
) -> None:
    async with unchanged():
        unauthenticated(
            await issue(gql, None, setting.enterprise.id, ("n.pdf", PDF, "application/pdf")), "issueNotice"
        )
    assert not await Notice.exists() and not await Message.exists()
    assert stored_files(settings) == []
