"""Sign-in and the account lifecycle over real HTTP and WebSockets, against two `ccms serve`
processes sharing one database: on SQLite (the embedded default), and on PostgreSQL with Redis.

Client addresses are told apart with X-Forwarded-For, which uvicorn trusts from 127.0.0.1 (as
it would from a reverse proxy there), so each test throttles addresses of its own.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from tests.e2e.live import Closed, Subscriber
from tests.e2e.server import Server

ADMIN = ("chief", "chief-password")
SESSION_CHECK_SECONDS = 1
LOCKOUT_AFTER = 5  # 3 free failures, then 1 s and 2 s of back-off, then locked for the default 900 s
_addresses = itertools.count(1)


def address() -> str:
    """A client address of the test's own (RFC 5737 documentation range)."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def _require(available: bool, what: str) -> None:
    if not available:
        if CI:
            pytest.fail(f"CI=true but {what} does not answer")
        pytest.skip(f"{what} does not answer")


@dataclass
class Pair:
    """Two API processes on one database."""

    a: Server
    b: Server


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgres"])
async def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pair]:
    env = {
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "CCMS_DEMO": "0",
        "CCMS_SESSION_CHECK_SECONDS": str(SESSION_CHECK_SECONDS),
        "CCMS_SIGNIN_LOCKOUT_AFTER": str(LOCKOUT_AFTER),
    }
    database_url = redis_url = None
    if request.param == "postgres":
        _require(postgres_available(), "PostgreSQL")
        _require(redis_available(), "Redis")
        redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
        database_url = await create_pg_database("accounts")
        env |= {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    deployment = Deployment(tmp_path_factory.mktemp(f"accounts-{request.param}") / "var", env)
    try:
        deployment.migrate()
        a = deployment.wait_api(deployment.start_api("api-a"))  # one at a time: one seeds the admin
        b = deployment.wait_api(deployment.start_api("api-b"))
        yield Pair(a, b)
    finally:
        deployment.close()
        if database_url is not None:
            await drop_pg_database(database_url)
        if redis_url is not None:
            async with Redis.from_url(redis_url) as redis:
                await redis.flushdb()


class Client:
    """GraphQL over HTTP to one process, from one client address."""

    def __init__(self, server: Server, client_address: str | None = None) -> None:
        self.server = server
        self.address = client_address or address()
        self.http = httpx.AsyncClient(
            base_url=server.url,
            timeout=30,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict:
        headers = {"x-forwarded-for": self.address}
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, username: str, password: str) -> dict:
        result = await self(LOGIN, {"u": username, "p": password})
        return result["data"]["login"]

    async def token(self, username: str, password: str) -> str:
        session = await self.login(username, password)
        assert session["errors"] == [] and session["token"], session
        return session["token"]

    async def mutate(self, query: str, variables: dict[str, Any], token: str) -> dict:
        result = await self(query, variables, token)
        assert "errors" not in result, result
        [payload] = result["data"].values()
        assert payload["errors"] == [], payload
        return payload

    async def aclose(self) -> None:
        await self.http.aclose()


@pytest_asyncio.fixture
async def clients(pair: Pair) -> AsyncIterator[tuple[Client, Client]]:
    a, b = Client(pair.a), Client(pair.b)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { token mustChangePassword errors { code message retryAfterSeconds } }
}
"""
ME = "{ me { username } }"
CREATE_ENTERPRISE = """
mutation($input: CreateEnterpriseInput!) { createEnterprise(input: $input) { enterprise { id } errors { code } } }
"""
CREATE_USER = (
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code } } }"
)
RESET = "mutation($id: ID!) { resetPassword(id: $id) { oneTimePassword errors { code } } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { user { id } errors { code } } }"
REACTIVATE = "mutation($id: ID!) { reactivateUser(id: $id) { user { id } errors { code } } }"
UPDATE = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } errors { code } } }"
CHANGE = """
mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token errors { code } } }
"""
EXPORT_LINK = "mutation { createStatisticsExportLink(format: CSV, groupBy: [YEAR]) { url errors { code } } }"
_names = itertools.count(1)


async def new_user(admin: Client, token: str, role: str = "REGULATOR", **scope: Any) -> tuple[str, str]:
    """A fresh account (username, id) with the password "password-123"."""
    username = f"{role.lower()}.{next(_names)}.{time.time_ns() % 10**6}"
    payload = await admin.mutate(
        CREATE_USER,
        {"input": {"username": username, "password": "password-123", "role": role, **scope}},
        token,
    )
    return username, payload["user"]["id"]


async def me_code(client: Client, token: str) -> str:
    body = await client(ME, token=token)
    return "ok" if "errors" not in body else body["errors"][0]["extensions"]["code"]


# -- 1. sign-in cannot freeze the server -------------------------------------------------------


async def test_a_request_is_answered_while_wrong_logins_are_being_hashed(
    clients: tuple[Client, Client],
) -> None:
    a, _ = clients
    token = await a.token(*ADMIN)
    finished: list[tuple[str, float]] = []

    async def wrong_login(n: int) -> None:
        # Each its own username and address: every one of them reaches the password hash.
        client = Client(a.server)
        try:
            await client.login(f"nobody.{n}.{time.time_ns()}", "wrong password")
        finally:
            finished.append(("login", time.monotonic()))
            await client.aclose()

    logins = [asyncio.create_task(wrong_login(n)) for n in range(12)]
    await asyncio.sleep(0.1)  # the logins have reached the server and are hashing
    assert await me_code(a, token) == "ok"
    finished.append(("me", time.monotonic()))
    await asyncio.gather(*logins)
    order = [what for what, _ in sorted(finished, key=lambda item: item[1])]
    # On the event loop, each hash held up everything behind it: `me` came after most logins.
    assert order.index("me") < 6, order


async def test_thirty_aliased_logins_are_refused_before_any_password_is_checked(
    clients: tuple[Client, Client],
) -> None:
    a, _ = clients
    username, _ = await new_user(a, await a.token(*ADMIN))
    fields = " ".join(
        f'l{i}: login(username: "{username}", password: "wrong {i}") {{ token }}' for i in range(30)
    )
    result = await a(f"mutation {{ {fields} }}")
    assert result.get("data") is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["TOO_MANY_LOGINS"]
    # Nothing was counted against the username: the next three wrong passwords are checked.
    for _ in range(3):
        assert (await a.login(username, "wrong again"))["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_wrong_passwords_back_off_then_lock_across_processes_alike_for_unknown_users(
    clients: tuple[Client, Client],
) -> None:
    a, b = clients
    username, _ = await new_user(a, await a.token(*ADMIN))
    for name in (username, f"no.such.user.{time.time_ns()}"):
        one, other = Client(a.server), Client(b.server)  # two processes, two addresses
        try:
            codes = [(await one.login(name, "wrong password"))["errors"][0]["code"] for _ in range(3)]
            assert codes == ["INVALID_CREDENTIALS"] * 3
            held = (await other.login(name, "wrong password"))["errors"][0]
            assert held["code"] == "TOO_MANY_ATTEMPTS" and held["retryAfterSeconds"] == 1, held
            assert held["message"] == "登录失败次数过多：请在 1 秒后重试"
            for wait in (1, 2):  # the 4th and 5th failures, each after its wait
                await asyncio.sleep(wait + 0.1)
                assert (await other.login(name, "wrong password"))["errors"][0][
                    "code"
                ] == "INVALID_CREDENTIALS"
            locked = (await one.login(name, "password-123"))["errors"][0]  # even the right password
            assert locked["code"] == "TOO_MANY_ATTEMPTS" and 890 <= locked["retryAfterSeconds"] <= 900, locked
        finally:
            await one.aclose()
            await other.aclose()


# -- 2. the account lifecycle -----------------------------------------------------------------


async def test_a_reset_password_must_be_changed_and_the_change_ends_the_other_sessions(
    clients: tuple[Client, Client],
) -> None:
    a, b = clients
    admin = await a.token(*ADMIN)
    username, user_id = await new_user(a, admin)
    before = [await a.token(username, "password-123"), await b.token(username, "password-123")]
    one_time = (await a.mutate(RESET, {"id": user_id}, admin))["oneTimePassword"]
    assert [await me_code(b, t) for t in before] == ["UNAUTHENTICATED"] * 2

    session = await b.login(username, one_time)
    assert session["mustChangePassword"] is True
    blocked = await a(EXPORT_LINK, token=session["token"])
    assert blocked["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    changed = await a.mutate(CHANGE, {"c": one_time, "n": "my very own passphrase"}, session["token"])
    assert await me_code(b, changed["token"]) == "ok"
    assert await me_code(b, session["token"]) == "UNAUTHENTICATED"
    assert (await b.login(username, "my very own passphrase"))["mustChangePassword"] is False


async def test_deactivation_ends_sessions_links_and_subscriptions_on_every_process(
    clients: tuple[Client, Client],
) -> None:
    a, b = clients
    admin = await a.token(*ADMIN)
    username, user_id = await new_user(a, admin, regionPrefix="44")
    token = await b.token(username, "password-123")
    link = (await b.mutate(EXPORT_LINK, {}, token))["url"]
    assert (await b.http.get(link)).status_code == 200
    subscriber = await Subscriber(
        b.server.url, token, "subscription { noticeStatusChanged { __typename } }"
    ).start()
    try:
        await a.mutate(DEACTIVATE, {"id": user_id}, admin)
        assert await me_code(b, token) == "UNAUTHENTICATED"
        assert await me_code(a, token) == "UNAUTHENTICATED"
        assert (await a.http.get(link)).status_code == 401
        with pytest.raises(Closed) as closed:
            await subscriber.next(timeout=SESSION_CHECK_SECONDS + 5)
        assert closed.value.code == 4401
    finally:
        await subscriber.close()
    assert (await a.login(username, "password-123"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    await a.mutate(REACTIVATE, {"id": user_id}, admin)
    assert await me_code(b, await b.token(username, "password-123")) == "ok"
    assert await me_code(b, token) == "UNAUTHENTICATED"  # the old session stays ended


async def test_a_region_change_ends_the_old_regions_sessions_and_subscriptions(
    clients: tuple[Client, Client],
) -> None:
    a, b = clients
    admin = await a.token(*ADMIN)
    username, user_id = await new_user(a, admin, regionPrefix="44")
    token = await a.token(username, "password-123")
    subscriber = await Subscriber(
        b.server.url, token, "subscription { noticeStatusChanged { __typename } }"
    ).start()
    try:
        started = time.monotonic()
        await b.mutate(UPDATE, {"input": {"id": user_id, "role": "REGULATOR", "regionPrefix": "11"}}, admin)
        assert await me_code(a, token) == "UNAUTHENTICATED"
        with pytest.raises(Closed) as closed:
            await subscriber.next(timeout=SESSION_CHECK_SECONDS + 5)
        assert closed.value.code == 4401 and time.monotonic() - started < 60
    finally:
        await subscriber.close()
    assert await me_code(b, await b.token(username, "password-123")) == "ok"


# -- 4. uploads required in the schema ------------------------------------------------------------

INTROSPECT = """
query($t: String!) { __type(name: $t) { inputFields { name type { kind ofType { name } } } } }
"""


@pytest.mark.parametrize(
    ("input_type", "field"),
    [
        ("IssueNoticeInput", "document"),
        ("SubmitEmissionReportInput", "document"),
        ("IssueVerificationConclusionInput", "report"),
    ],
)
async def test_a_required_upload_is_non_null_in_the_schema_and_refused_when_missing(
    clients: tuple[Client, Client], input_type: str, field: str
) -> None:
    a, _ = clients
    admin = await a.token(*ADMIN)
    described = await a(INTROSPECT, {"t": input_type}, admin)
    [found] = [f for f in described["data"]["__type"]["inputFields"] if f["name"] == field]
    assert found["type"] == {"kind": "NON_NULL", "ofType": {"name": "Upload"}}
    mutation, complete_but_the_upload = {
        "IssueNoticeInput": (
            "issueNotice",
            {
                "enterpriseId": "1",
                "year": 2025,
                "deadline": "2099-12-31T00:00:00+08:00",
                "ackWindowHours": 72,
                "title": "t",
            },
        ),
        "SubmitEmissionReportInput": (
            "submitEmissionReport",
            {"verificationId": "1", "reportedEmissions": 1},
        ),
        "IssueVerificationConclusionInput": (
            "issueVerificationConclusion",
            {"verificationId": "1", "verifiedEmissions": 1, "opinion": "UNQUALIFIED"},
        ),
    }[input_type]
    result = await a(
        f"mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ errors {{ code }} }} }}",
        {"i": complete_but_the_upload},
        admin,
    )
    assert result.get("data") is None
    [error] = result["errors"]
    assert f"to include required field '{field}'" in error["message"], error


async def test_an_enterprise_can_be_managed_by_its_regulator_over_http(
    clients: tuple[Client, Client],
) -> None:
    a, b = clients
    admin = await a.token(*ADMIN)
    enterprise = await a.mutate(
        CREATE_ENTERPRISE,
        {
            "input": {
                "name": f"账户测试 {time.time_ns()}",
                "creditCode": make_credit_code("440113", f"MA{time.time_ns() % 10**6:06d}"),
                "regionCode": "440113",
                "industryCode": "4411",
                "sector": "POWER",
            }
        },
        admin,
    )
    member, member_id = await new_user(a, admin, "ENTERPRISE", enterpriseId=enterprise["enterprise"]["id"])
    guangdong, _ = await new_user(a, admin, regionPrefix="44")
    beijing, _ = await new_user(a, admin, regionPrefix="11")
    reset = await b(RESET, {"id": member_id}, await b.token(guangdong, "password-123"))
    assert (
        reset["data"]["resetPassword"]["errors"] == [] and reset["data"]["resetPassword"]["oneTimePassword"]
    )
    refused = await b(RESET, {"id": member_id}, await b.token(beijing, "password-123"))
    assert refused["data"]["resetPassword"]["errors"] == [{"code": "NOT_FOUND"}]
    assert (await a.login(member, "password-123"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
