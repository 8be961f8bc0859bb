"""Chinese first: errors and inbox messages in the reader's language (Accept-Language, else
CCMS_LANGUAGE), times in Beijing time, and every DateTime in the +08:00 offset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models import Enterprise
from services.access import Actor
from tests.beijing import BEIJING, beijing
from tests.conftest import PDF, GraphQLClient, World
from tests.schema.compliance.test_issue_notice import issue
from tests.schema.support import auth, refused, succeeded

ACKNOWLEDGE = """
mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code field message } } }
"""
EXTEND = """
mutation($id: ID!, $deadline: DateTime!) {
  extendDeadline(noticeId: $id, deadline: $deadline, reason: "台风") { errors { code field message } }
}
"""
INBOX = "{ messages { edges { node { kind title body createdAt notice { deadline issuedAt } } } } }"


@dataclass
class Issued:
    enterprise: Enterprise
    regulator: Actor
    member: Actor
    notice_id: str
    deadline: datetime


@pytest.fixture
async def issued(gql: GraphQLClient, world: World) -> Issued:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await world.allowance(regulator, enterprise, 80_000)
    deadline = datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC)  # 2027-12-31 23:59:59 in Beijing
    result = await issue(
        gql,
        regulator,
        enterprise.id,
        ("n.pdf", PDF, "application/pdf"),
        year=2025,
        deadline=deadline.isoformat(),
    )
    notice = succeeded(result, "issueNotice")["notice"]
    return Issued(enterprise, regulator, await world.member(enterprise), notice["id"], deadline)


async def test_an_error_without_accept_language_is_in_chinese(gql: GraphQLClient, issued: Issued) -> None:
    # A regulator may not acknowledge: the enterprise does.
    error = refused(
        await gql(ACKNOWLEDGE, {"id": issued.notice_id}, actor=issued.regulator),
        "acknowledgeNotice",
        "PERMISSION_DENIED",
    )
    assert error["message"] == "只有企业用户可以执行此操作"


async def test_an_error_with_accept_language_en_is_in_english(gql: GraphQLClient, issued: Issued) -> None:
    result = await gql(
        ACKNOWLEDGE, {"id": issued.notice_id}, actor=issued.regulator, language="en-GB,en;q=0.9"
    )
    error = refused(result, "acknowledgeNotice", "PERMISSION_DENIED")
    assert error["message"] == "Only a enterprise may do this"


async def test_the_code_and_field_are_the_same_in_every_language(gql: GraphQLClient, issued: Issued) -> None:
    earlier = (issued.deadline - timedelta(days=1)).isoformat()
    answers = [
        refused(
            await gql(
                EXTEND,
                {"id": issued.notice_id, "deadline": earlier},
                actor=issued.regulator,
                language=language,
            ),
            "extendDeadline",
            "DEADLINE_NOT_LATER",
            "deadline",
        )
        for language in (None, "en")
    ]
    assert answers[0]["message"] == f"新的截止时间须晚于当前截止时间（{beijing(issued.deadline)}）和现在"
    assert answers[1]["message"] == (
        "the new deadline must be later than the current one (31 Dec 2027 23:59 (Beijing time)) and than now"
    )


async def test_inbox_messages_are_in_the_readers_language_with_times_in_beijing_time(
    gql: GraphQLClient, issued: Issued
) -> None:
    later = issued.deadline + timedelta(days=7)
    succeeded(
        await gql(EXTEND, {"id": issued.notice_id, "deadline": later.isoformat()}, actor=issued.regulator),
        "extendDeadline",
    )
    chinese = await gql(INBOX, actor=issued.member)
    english = await gql(INBOX, actor=issued.member, language="en")
    texts = {
        language: {
            e["node"]["kind"]: (e["node"]["title"], e["node"]["body"])
            for e in body["data"]["messages"]["edges"]
        }
        for language, body in (("zh-CN", chinese), ("en", english))
    }
    assert texts["zh-CN"]["DEADLINE_EXTENDED"] == (
        "2025 年度履约截止时间延长",
        f"新的截止时间：{beijing(later)}。原因：台风",
    )
    assert texts["en"]["DEADLINE_EXTENDED"] == (
        "2025: deadline extended",
        "New deadline: 7 Jan 2028 23:59 (Beijing time). Reason: 台风",
    )
    assert texts["zh-CN"]["ALLOWANCE"] == (
        "2025 年度配额通告",
        "贵单位 2025 年度的初始配额为 80000 吨二氧化碳。",
    )
    assert texts["en"]["ALLOWANCE"] == ("2025 allowance", "Your initial allowance for 2025 is 80000 tCO2.")
    # The regulator's own notice text is shown as written, whatever the reader's language.
    assert (
        texts["zh-CN"]["NOTICE"] == texts["en"]["NOTICE"] == ("2025 年度履约通知书", "Surrender allowances.")
    )


async def test_every_datetime_comes_back_in_the_beijing_offset(gql: GraphQLClient, issued: Issued) -> None:
    body = await gql(INBOX, actor=issued.member)
    for edge in body["data"]["messages"]["edges"]:
        node = edge["node"]
        for text in (node["createdAt"], node["notice"]["deadline"], node["notice"]["issuedAt"]):
            moment = datetime.fromisoformat(text)
            assert text.endswith("+08:00") and moment.utcoffset() == timedelta(hours=8)
        assert datetime.fromisoformat(node["notice"]["deadline"]) == issued.deadline
        assert node["notice"]["deadline"] == issued.deadline.astimezone(BEIJING).isoformat()


async def test_an_http_route_answers_in_the_requests_language(
    http: httpx.AsyncClient, issued: Issued
) -> None:

    chinese = await http.get("/export/statistics.json?groupBy=NOPE", headers=auth(issued.regulator))
    english = await http.get(
        "/export/statistics.json?groupBy=NOPE", headers={**auth(issued.regulator), "accept-language": "en"}
    )
    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["code"] == english.json()["code"] == "INVALID_GROUP_BY"
    assert chinese.json()["message"].startswith("groupBy 可取 ")
    assert english.json()["message"].startswith("groupBy takes ")


async def test_a_top_level_error_is_in_the_readers_language_too(gql: GraphQLClient) -> None:
    chinese = (await gql("{ notices { totalCount } }"))["errors"][0]
    english = (await gql("{ notices { totalCount } }", language="en"))["errors"][0]
    assert chinese["extensions"] == english["extensions"] == {"code": "UNAUTHENTICATED"}
    assert chinese["message"] == "需要登录：请发送 'Authorization: Bearer <token>'（见 login）"
    assert english["message"].startswith("Authentication required")
    two_logins = 'mutation { a: login(username: "x", password: "y") { token } b: login(username: "x", password: "y") { token } }'
    assert (await gql(two_logins))["errors"][0]["message"] == "每个请求只能登录一次：本请求有 2 次"
    assert (await gql(two_logins, language="en"))["errors"][0][
        "message"
    ] == "Only one login per request: this one has 2"


async def test_an_http_401_is_in_the_readers_language(http: httpx.AsyncClient) -> None:
    chinese = await http.get("/documents/1")
    english = await http.get("/documents/1", headers={"accept-language": "en"})
    assert chinese.status_code == english.status_code == 401
    assert chinese.json() == {
        "code": "UNAUTHENTICATED",
        "message": "需要登录：请发送 'Authorization: Bearer <token>'（见 login）",
    }
    assert english.json() == {"code": "UNAUTHENTICATED", "message": "Authentication required"}
