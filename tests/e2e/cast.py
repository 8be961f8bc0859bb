"""Building data through the public API only (async): the admin creates enterprises and
users, regulators set allowances and issue notices with a PDF, members acknowledge and apply.

Used by tests/e2e/test_live.py and bench/subscriptions.py.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.codes import make_credit_code

PASSWORD = "password-123"
NOTICE_PDF = b"%PDF-1.7\n% compliance notice\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REPORT_PDF = b"%PDF-1.7\n% verification report\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
CREATE_ENTERPRISE = """
mutation($input: CreateEnterpriseInput!) {
  createEnterprise(input: $input) { enterprise { id } errors { code message } }
}"""
CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code message } } }"""
SET_ALLOWANCE = """
mutation($id: ID!, $year: Int!) {
  setInitialAllowance(enterpriseId: $id, year: $year, amount: 1000) { errors { code message } }
}"""
ISSUE_NOTICE = """
mutation($input: IssueNoticeInput!) {
  issueNotice(input: $input) { notice { id status } errors { code message } }
}"""
ACKNOWLEDGE = """
mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { notice { status } errors { code message } } }"""
SUBMIT = """
mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) { application { id status } errors { code message } }
}"""
REVIEW = """
mutation($input: ReviewApplicationInput!) {
  reviewApplication(input: $input) { application { status } errors { code message } }
}"""
ALARMS = """
query($kind: AlarmKind) {
  alarms(kind: $kind, first: 100) { edges { node { id kind status notice { id } } } }
}"""
NOTICE = "query($id: ID!) { notice(id: $id) { id status applicationStatus } }"
MESSAGES = "{ messages(first: 100) { edges { node { kind notice { id } } } } }"

NOTICE_EVENTS = """
subscription($id: ID) {
  noticeStatusChanged(noticeId: $id) {
    __typename
    ... on NoticeStatusChange {
      noticeId enterpriseId event oldStatus newStatus applicationId applicationStatus at
    }
    ... on Resync { at reason }
  }
}"""
ALARM_EVENTS = """
subscription {
  alarmRaised {
    __typename
    ... on Alarm { id kind notice { id } enterprise { id } }
    ... on Resync { at reason }
  }
}"""

_organisations = itertools.count(1)


class GraphQLError(AssertionError):
    pass


class API:
    """GraphQL over HTTP against one running server (async httpx)."""

    def __init__(self, base_url: str, timeout: float = 15) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def query(
        self, document: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ):
        response = await self.http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=_auth(token)
        )
        return _data(response)

    async def mutate(self, document: str, variables: dict[str, Any], *, token: str) -> dict:
        (payload,) = (await self.query(document, variables, token=token)).values()
        if payload["errors"]:
            raise GraphQLError(payload["errors"])
        return payload

    async def upload(
        self,
        document: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str,
    ) -> dict:
        keys = list(files)
        response = await self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": document, "variables": variables}),
                "map": json.dumps({str(i): [f"variables.{key}"] for i, key in enumerate(keys)}),
            },
            files={str(i): files[key] for i, key in enumerate(keys)},
            headers=_auth(token),
        )
        (payload,) = _data(response).values()
        if payload["errors"]:
            raise GraphQLError(payload["errors"])
        return payload

    # -- the cast -------------------------------------------------------------------------

    async def login(self, username: str, password: str = PASSWORD) -> str:
        payload = (await self.query(LOGIN, {"u": username, "p": password}))["login"]
        assert payload["errors"] == [] and payload["token"], payload
        return payload["token"]

    async def enterprise(self, admin: str, name: str, region: str = "440113") -> str:
        organisation = f"MA7L{next(_organisations):04d}"
        enterprise = {
            "name": name,
            "creditCode": make_credit_code(region, organisation),
            "regionCode": region,
            "industryCode": "4411",
            "sector": "POWER",
        }
        return (await self.mutate(CREATE_ENTERPRISE, {"input": enterprise}, token=admin))["enterprise"]["id"]

    async def user(
        self,
        admin: str,
        username: str,
        role: str,
        *,
        region_prefix: str = "",
        enterprise_id: str | None = None,
    ) -> str:
        """Creates the user and returns its token."""
        user = {
            "username": username,
            "password": PASSWORD,
            "role": role,
            "regionPrefix": region_prefix,
            "enterpriseId": enterprise_id,
        }
        await self.mutate(CREATE_USER, {"input": user}, token=admin)
        return await self.login(username)

    async def allowance(self, token: str, enterprise_id: str, year: int = 2025) -> None:
        await self.mutate(SET_ALLOWANCE, {"id": enterprise_id, "year": year}, token=token)

    async def issue(
        self, regulator: str, enterprise_id: str, *, year: int = 2025, ack_hours: int = 1, days: float = 30
    ) -> str:
        """Sets the year's allowance and issues the notice (multipart, with its PDF)."""
        await self.allowance(regulator, enterprise_id, year)
        notice = {
            "enterpriseId": enterprise_id,
            "year": year,
            "deadline": (datetime.now(UTC) + timedelta(days=days)).isoformat(),
            "ackWindowHours": ack_hours,
            "title": f"{year} 年度履约通知书",
            "body": "Surrender allowances covering your verified emissions.",
            "document": None,
            "requireVerification": False,  # these casts state the verified figure themselves
        }
        payload = await self.upload(
            ISSUE_NOTICE,
            {"input": notice},
            {"input.document": ("notice.pdf", NOTICE_PDF, "application/pdf")},
            token=regulator,
        )
        assert payload["notice"]["status"] == "ISSUED", payload
        return payload["notice"]["id"]

    async def acknowledge(self, member: str, notice_id: str) -> None:
        await self.mutate(ACKNOWLEDGE, {"id": notice_id}, token=member)

    async def submit(self, member: str, notice_id: str) -> str:
        application = {"noticeId": notice_id, "verifiedEmissions": 900, "offsets": 0, "report": None}
        payload = await self.upload(
            SUBMIT,
            {"input": application},
            {"input.report": ("report.pdf", REPORT_PDF, "application/pdf")},
            token=member,
        )
        assert payload["application"]["status"] == "UNDER_REVIEW", payload
        return payload["application"]["id"]

    async def review(
        self, regulator: str, application_id: str, decision: str, reason: str | None = None
    ) -> str:
        review = {"applicationId": application_id, "decision": decision, "reason": reason}
        payload = await self.mutate(REVIEW, {"input": review}, token=regulator)
        return payload["application"]["status"]

    async def alarms(self, token: str, kind: str | None = None) -> list[dict]:
        data = await self.query(ALARMS, {"kind": kind}, token=token)
        return [edge["node"] for edge in data["alarms"]["edges"]]

    async def notice(self, token: str, notice_id: str) -> dict:
        return (await self.query(NOTICE, {"id": notice_id}, token=token))["notice"]

    async def messages(self, token: str) -> list[dict]:
        return [edge["node"] for edge in (await self.query(MESSAGES, token=token))["messages"]["edges"]]


def _auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def _data(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    if body.get("errors"):
        raise GraphQLError(body["errors"])
    return body["data"]
