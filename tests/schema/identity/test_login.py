"""login: a username and password for a bearer token; and what a token opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models import Role, User
from services.identity import tokens
from tests.conftest import SECRET, GraphQLClient, World
from tests.schema.support import refused, succeeded, unauthenticated

LOGIN = """
mutation($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    errors { code field message }
    token expiresAt
    user { username role regionPrefix enterprise { id name allowance(year: 2025) { amount } } }
  }
}
"""
ME = "{ me { username } }"


async def login(gql: GraphQLClient, username: str, password: str = "password-123") -> dict:
    return await gql(LOGIN, {"username": username, "password": password})


async def me_with(http: httpx.AsyncClient, token: str) -> dict:
    return (
        await http.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})
    ).json()


async def test_a_user_signs_in_and_the_token_opens_the_api(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World
) -> None:
    regulator = await world.regulator("44")
    body = succeeded(await login(gql, regulator.username), "login")
    assert body["user"] == {
        "username": regulator.username,
        "role": "REGULATOR",
        "regionPrefix": "44",
        "enterprise": None,
    }
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(hours=7) < expires - datetime.now(UTC) <= timedelta(hours=8)
    assert (await me_with(http, body["token"]))["data"]["me"] == {"username": regulator.username}


async def test_the_payload_shows_the_enterprise_of_who_signed_in(gql: GraphQLClient, world: World) -> None:
    enterprise = await world.enterprise(name="广州华润热电有限公司")
    regulator = await world.regulator()
    await world.allowance(regulator, enterprise, 5000)
    member = await world.member(enterprise)
    body = succeeded(await login(gql, member.username), "login")
    assert body["user"]["enterprise"] == {
        "id": str(enterprise.id),
        "name": "广州华润热电有限公司",
        "allowance": {"amount": 5000},
    }


async def test_signing_in_does_not_authenticate_the_rest_of_the_document(
    gql: GraphQLClient, world: World
) -> None:
    admin = await world.admin()
    document = """
    mutation($username: String!) {
      login(username: $username, password: "password-123") { token }
      createEnterprise(
        input: {name: "X", creditCode: "x", regionCode: "440113", industryCode: "4411", sector: POWER}
      ) {
        errors { code }
      }
    }"""
    result = await gql(document, {"username": admin.username})
    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


async def test_the_username_is_trimmed(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    assert succeeded(await login(gql, f"  {regulator.username} "), "login")["token"]


async def test_a_wrong_password_is_refused_as_invalid_credentials(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    refused(await login(gql, regulator.username, "password-124"), "login", "INVALID_CREDENTIALS")


async def test_an_unknown_user_is_refused_as_invalid_credentials(gql: GraphQLClient, world: World) -> None:
    refused(await login(gql, "nobody"), "login", "INVALID_CREDENTIALS")


async def test_a_deactivated_user_cannot_sign_in(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    await User.filter(id=regulator.user_id).update(is_active=False)
    refused(await login(gql, regulator.username), "login", "INVALID_CREDENTIALS")


async def test_the_token_of_a_deactivated_user_stops_working(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    assert (await gql(ME, actor=regulator))["data"]["me"]
    await User.filter(id=regulator.user_id).update(is_active=False)
    unauthenticated(await gql(ME, actor=regulator), "me")


@pytest.mark.parametrize(
    ("secret", "ttl"),
    [(SECRET, -60), ("another-secret-key-of-enough-length-0123456789", 3600)],
    ids=["expired", "forged"],
)
async def test_an_expired_or_forged_token_is_unauthenticated(
    http: httpx.AsyncClient, world: World, secret: str, ttl: int
) -> None:
    regulator = await world.regulator()
    token, _ = tokens.issue(regulator.user_id, secret, ttl)
    unauthenticated(await me_with(http, token), "me")


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwYXNz", "not-a-jwt"])
async def test_a_malformed_authorization_header_is_unauthenticated(
    http: httpx.AsyncClient, header: str
) -> None:
    response = await http.post("/graphql", json={"query": ME}, headers={"authorization": header})
    unauthenticated(response.json(), "me")


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_signs_in(gql: GraphQLClient, world: World, role: Role) -> None:
    enterprise = await world.enterprise() if role == Role.ENTERPRISE else None
    actor = await world.user(role, enterprise=enterprise)
    assert succeeded(await login(gql, actor.username), "login")["user"]["role"] == role.value
