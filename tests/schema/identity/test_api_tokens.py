"""createApiToken, revokeApiToken and apiTokens: a signed-in user manages its own tokens; the
secret appears once, in createApiToken's payload; API tokens never authenticate /graphql."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models import ApiToken
from services.access import Actor
from tests.conftest import GraphQLClient, World, in_days
from tests.schema.support import refused, succeeded, unauthenticated

FIELDS = "id name scope prefix createdAt expiresAt lastUsedAt revokedAt active"
CREATE = f"""
mutation($input: CreateApiTokenInput!) {{
  createApiToken(input: $input) {{ errors {{ code field message }} secret token {{ {FIELDS} }} }}
}}
"""
REVOKE = f"""
mutation($id: ID!) {{
  revokeApiToken(id: $id) {{ errors {{ code field message }} token {{ {FIELDS} }} }}
}}
"""
LIST = f"query {{ apiTokens {{ {FIELDS} }} }}"


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


async def create(gql: GraphQLClient, actor: Actor | None, **values: Any) -> dict[str, Any]:
    return await gql(CREATE, {"input": {"name": "Power BI", "scope": "EXPORT", **values}}, actor=actor)


async def test_a_user_creates_a_token_and_sees_its_secret_once(gql: GraphQLClient, regulator: Actor) -> None:
    expires = in_days(90).replace(microsecond=0)
    body = succeeded(await create(gql, regulator, expiresAt=expires.isoformat()), "createApiToken")
    token, secret = body["token"], body["secret"]
    assert secret.startswith("ccms_")
    assert token["prefix"] == secret[:12]
    assert (token["name"], token["scope"], token["active"], token["revokedAt"], token["lastUsedAt"]) == (
        "Power BI",
        "EXPORT",
        True,
        None,
        None,
    )
    assert datetime.fromisoformat(token["expiresAt"]) == expires
    # The list never shows the secret again.
    listed = await gql(LIST, actor=regulator)
    assert listed == {"data": {"apiTokens": [token]}}
    assert secret not in str(listed)


async def test_the_list_is_the_callers_own_newest_first(
    gql: GraphQLClient, world: World, regulator: Actor
) -> None:
    succeeded(await create(gql, regulator, name="first"), "createApiToken")
    succeeded(await create(gql, regulator, name="second", scope="INGEST"), "createApiToken")
    succeeded(await create(gql, await world.admin(), name="the admin's"), "createApiToken")
    result = await gql(LIST, actor=regulator)
    assert [(t["name"], t["scope"]) for t in result["data"]["apiTokens"]] == [
        ("second", "INGEST"),
        ("first", "EXPORT"),
    ]
    assert (await gql(LIST, actor=await world.regulator("44"))) == {"data": {"apiTokens": []}}


async def test_a_revoked_token_is_listed_as_inactive(gql: GraphQLClient, regulator: Actor) -> None:
    created = succeeded(await create(gql, regulator), "createApiToken")["token"]
    token = succeeded(await gql(REVOKE, {"id": created["id"]}, actor=regulator), "revokeApiToken")["token"]
    assert token["id"] == created["id"] and token["revokedAt"] and token["active"] is False
    assert (await gql(LIST, actor=regulator))["data"]["apiTokens"] == [token]


async def test_an_expired_token_is_listed_as_inactive(gql: GraphQLClient, regulator: Actor) -> None:
    created = succeeded(await create(gql, regulator), "createApiToken")["token"]
    await ApiToken.filter(id=int(created["id"])).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    [token] = (await gql(LIST, actor=regulator))["data"]["apiTokens"]
    assert (token["active"], token["revokedAt"]) == (False, None)


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"name": " "}, "REQUIRED", "name"),
        ({"name": "x" * 101}, "TOO_LONG", "name"),
        ({"expiresAt": "2020-01-01T00:00:00+00:00"}, "INVALID_DATETIME", "expiresAt"),
        ({"expiresAt": "2099-01-01T00:00:00"}, "INVALID_DATETIME", "expiresAt"),
    ],
)
async def test_bad_input_creates_nothing(
    gql: GraphQLClient, regulator: Actor, values: dict[str, str], code: str, field: str
) -> None:
    refused(await create(gql, regulator, **values), "createApiToken", code, field)
    assert not await ApiToken.exists()


async def test_a_21st_active_token_is_refused(gql: GraphQLClient, regulator: Actor) -> None:
    for i in range(20):
        succeeded(await create(gql, regulator, name=f"t{i}"), "createApiToken")
    refused(await create(gql, regulator), "createApiToken", "TOO_MANY_ITEMS")
    assert await ApiToken.all().count() == 20


async def test_someone_elses_token_cannot_be_revoked(
    gql: GraphQLClient, world: World, regulator: Actor
) -> None:
    created = succeeded(await create(gql, regulator), "createApiToken")["token"]
    member = await world.member(await world.enterprise("440113"))
    for token_id in (created["id"], "999999", "not-an-id"):
        refused(await gql(REVOKE, {"id": token_id}, actor=member), "revokeApiToken", "NOT_FOUND", "id")
    assert (await ApiToken.get(id=int(created["id"]))).revoked_at is None


async def test_an_admin_may_revoke_anyones_token(gql: GraphQLClient, world: World, regulator: Actor) -> None:
    created = succeeded(await create(gql, regulator), "createApiToken")["token"]
    result = await gql(REVOKE, {"id": created["id"]}, actor=await world.admin())
    assert succeeded(result, "revokeApiToken")["token"]["active"] is False


async def test_revoking_twice_is_refused(gql: GraphQLClient, regulator: Actor) -> None:
    created = succeeded(await create(gql, regulator), "createApiToken")["token"]
    succeeded(await gql(REVOKE, {"id": created["id"]}, actor=regulator), "revokeApiToken")
    refused(
        await gql(REVOKE, {"id": created["id"]}, actor=regulator),
        "revokeApiToken",
        "TOKEN_ALREADY_REVOKED",
        "id",
    )


async def test_tokens_need_a_signed_in_user(gql: GraphQLClient, regulator: Actor) -> None:
    unauthenticated(await create(gql, None), "createApiToken")
    unauthenticated(await gql(REVOKE, {"id": "1"}), "revokeApiToken")
    unauthenticated(await gql(LIST), "apiTokens")
    assert not await ApiToken.exists()


@pytest.mark.parametrize("scope", ["EXPORT", "INGEST"])
async def test_an_api_token_does_not_authenticate_graphql(
    gql: GraphQLClient, http: httpx.AsyncClient, regulator: Actor, scope: str
) -> None:
    secret = succeeded(await create(gql, regulator, scope=scope), "createApiToken")["secret"]
    response = await http.post(
        "/graphql", json={"query": LIST}, headers={"authorization": f"Bearer {secret}"}
    )
    unauthenticated(response.json(), "apiTokens")
    # Nor may it mint more tokens for itself.
    response = await http.post(
        "/graphql",
        json={"query": CREATE, "variables": {"input": {"name": "more", "scope": "EXPORT"}}},
        headers={"authorization": f"Bearer {secret}"},
    )
    unauthenticated(response.json(), "createApiToken")
    assert await ApiToken.all().count() == 1
