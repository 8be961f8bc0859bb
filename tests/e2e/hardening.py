"""One `ccms serve` per backend (SQLite; PostgreSQL with Redis) and a client for it, shared by
the hardening tests: limits before work, coded bad inputs, idempotent replays."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from services.codes import make_credit_code
from tests.backends import (
    CI,
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    postgres_available,
    redis_available,
)
from tests.e2e.deployment import Deployment, claim_redis_db, redis_db
from tests.e2e.server import Server

ADMIN = ("chief", "chief-password")
PDF = b"%PDF-1.4\n% a test document\n%%EOF\n"
_organisations = itertools.count(1)


def require(available: bool, what: str) -> None:
    if not available:
        if CI:
            pytest.fail(f"CI=true but {what} does not answer")
        pytest.skip(f"{what} does not answer")


@dataclass
class Api:
    server: Server
    backend: str
    deployment: Deployment


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgres"])
async def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    env = {"CCMS_ADMIN_USERNAME": ADMIN[0], "CCMS_ADMIN_PASSWORD": ADMIN[1], "CCMS_DEMO": "0"}
    database_url = redis_url = None
    if request.param == "postgres":
        require(postgres_available(), "PostgreSQL")
        require(redis_available(), "Redis")
        redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
        database_url = await create_pg_database("ccms_hardening")
        env |= {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    deployment = Deployment(tmp_path_factory.mktemp(f"hardening-{request.param}") / "var", env)
    try:
        deployment.migrate()
        yield Api(deployment.wait_api(deployment.start_api("api")), request.param, deployment)
    finally:
        deployment.close()
        if database_url is not None:
            await drop_pg_database(database_url)
        if redis_url is not None:
            async with Redis.from_url(redis_url) as redis:
                await redis.flushdb()


class Client:
    """HTTP to the server under test, signed in as one user."""

    def __init__(self, server: Server, token: str | None = None) -> None:
        self.server = server
        self.token = token
        self.http = httpx.AsyncClient(base_url=server.url, timeout=60)

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.post(path, headers=self.headers() | kwargs.pop("headers", {}), **kwargs)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        response = await self.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        body = await self(query, variables)
        assert "errors" not in body, body
        return body["data"]

    async def upload(self, query: str, variables: dict[str, Any], path: str) -> dict:
        """A GraphQL multipart request with one PDF at the variable `path` (e.g. input.document)."""
        response = await self.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": query, "variables": variables}),
                "map": json.dumps({"0": [f"variables.{path}"]}),
            },
            files={"0": ("document.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def aclose(self) -> None:
        await self.http.aclose()


LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
CREATE_ENTERPRISE = """
mutation($input: CreateEnterpriseInput!) {
  createEnterprise(input: $input) { enterprise { id creditCode } errors { code } }
}
"""
CREATE_USER = (
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code } } }"
)


async def signed_in(server: Server, username: str, password: str) -> Client:
    client = Client(server)
    session = (await client(LOGIN, {"u": username, "p": password}))["data"]["login"]
    assert session["errors"] == [] and session["token"], session
    client.token = session["token"]
    return client


async def new_enterprise(admin: Client, region: str = "440113") -> dict[str, str]:
    """A fresh enterprise (id, creditCode) in `region`."""
    body = f"MB{(next(_organisations) * 7919 + time.time_ns() // 1000) % 10**6:06d}"
    result = await admin.data(
        CREATE_ENTERPRISE,
        {
            "input": {
                "name": f"加固测试 {body}",
                "creditCode": make_credit_code(region, body),
                "regionCode": region,
                "industryCode": "4411",
                "sector": "POWER",
            }
        },
    )
    payload = result["createEnterprise"]
    assert payload["errors"] == [], payload
    return payload["enterprise"]


async def new_member(admin: Client, enterprise_id: str) -> Client:
    """A signed-in user of the enterprise."""
    username = f"member.{enterprise_id}.{time.time_ns() % 10**6}"
    result = await admin.data(
        CREATE_USER,
        {
            "input": {
                "username": username,
                "password": "member-password-1",
                "role": "ENTERPRISE",
                "enterpriseId": enterprise_id,
            }
        },
    )
    assert result["createUser"]["errors"] == [], result
    return await signed_in(admin.server, username, "member-password-1")


async def new_regulator(admin: Client, region_prefix: str = "") -> Client:
    """A signed-in regulator of `region_prefix` ("" national)."""
    username = f"regulator.{time.time_ns() % 10**9}"
    result = await admin.data(
        CREATE_USER,
        {
            "input": {
                "username": username,
                "password": "regulator-password-1",
                "role": "REGULATOR",
                "regionPrefix": region_prefix,
            }
        },
    )
    assert result["createUser"]["errors"] == [], result
    return await signed_in(admin.server, username, "regulator-password-1")


def code_of(body: dict) -> str:
    """The code of a response's one top-level error."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error["extensions"]["code"]


ISSUE = """
mutation($input: IssueNoticeInput!) { issueNotice(input: $input) { notice { id deadline } errors { code field } } }
"""


async def issue_notice(regulator: Client, enterprise_id: str, year: int = 2026) -> str:
    """Set the enterprise's allowance for `year` and issue its notice; the notice's id."""
    allowance = await regulator.data(
        "mutation($e: ID!, $y: Int!) { setInitialAllowance(enterpriseId: $e, year: $y, amount: 1000) "
        "{ errors { code } } }",
        {"e": enterprise_id, "y": year},
    )
    assert allowance["setInitialAllowance"]["errors"] == [], allowance
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    notice = {
        "enterpriseId": enterprise_id,
        "year": year,
        "ackWindowHours": 72,
        "title": "履约通知",
        "deadline": deadline,
        "document": None,
        "requireVerification": False,  # a deployment that does not use verification
    }
    issued = await regulator.upload(ISSUE, {"input": notice}, "input.document")
    assert issued["data"]["issueNotice"]["errors"] == [], issued
    return issued["data"]["issueNotice"]["notice"]["id"]
