"""deactivateUser, reactivateUser, resetPassword, changePassword and updateUser through GraphQL:
success, each error code, and who may not."""

from __future__ import annotations

import httpx
import pytest

from models import AuditEvent, User
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded, unauthenticated

LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) {
    errors { code field message retryAfterSeconds } token mustChangePassword user { username mustChangePassword }
  }
}
"""
DEACTIVATE = (
    "mutation($id: ID!) { deactivateUser(id: $id) { errors { code field message } user { id isActive } } }"
)
REACTIVATE = (
    "mutation($id: ID!) { reactivateUser(id: $id) { errors { code field message } user { id isActive } } }"
)
RESET = """
mutation($id: ID!) {
  resetPassword(id: $id) { errors { code field message } oneTimePassword user { id mustChangePassword } }
}
"""
CHANGE = """
mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) {
    errors { code field message } token expiresAt user { username mustChangePassword passwordChangedAt }
  }
}
"""
UPDATE = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { errors { code field message } user { id role regionPrefix enterprise { id } } }
}
"""
ME = "{ me { username mustChangePassword } }"
NOTICES = "{ notices { totalCount } }"


async def sign_in(gql: GraphQLClient, username: str, password: str = "password-123") -> dict:
    return (await gql(LOGIN, {"u": username, "p": password}))["data"]["login"]


async def as_token(http: httpx.AsyncClient, token: str, query: str, variables: dict | None = None) -> dict:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.json()


async def test_an_admin_deactivates_and_reactivates_an_account(gql: GraphQLClient, world: World) -> None:
    admin, regulator = await world.admin(), await world.regulator()
    body = succeeded(await gql(DEACTIVATE, {"id": str(regulator.user_id)}, actor=admin), "deactivateUser")
    assert body["user"] == {"id": str(regulator.user_id), "isActive": False}
    refused(
        await gql(DEACTIVATE, {"id": str(regulator.user_id)}, actor=admin),
        "deactivateUser",
        "USER_ALREADY_INACTIVE",
        "id",
    )
    body = succeeded(await gql(REACTIVATE, {"id": str(regulator.user_id)}, actor=admin), "reactivateUser")
    assert body["user"]["isActive"] is True
    refused(
        await gql(REACTIVATE, {"id": str(regulator.user_id)}, actor=admin),
        "reactivateUser",
        "USER_ALREADY_ACTIVE",
        "id",
    )


@pytest.mark.parametrize("mutation", ["deactivateUser", "reactivateUser", "resetPassword"])
@pytest.mark.parametrize("id", ["999999", "abc", "-1", "99999999999999"])
async def test_a_missing_account_is_not_found(
    gql: GraphQLClient, world: World, mutation: str, id: str
) -> None:
    document = {"deactivateUser": DEACTIVATE, "reactivateUser": REACTIVATE, "resetPassword": RESET}[mutation]
    refused(await gql(document, {"id": id}, actor=await world.admin()), mutation, "NOT_FOUND", "id")


async def test_an_admin_may_not_deactivate_themselves(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    refused(
        await gql(DEACTIVATE, {"id": str(admin.user_id)}, actor=admin), "deactivateUser", "OWN_ACCOUNT", "id"
    )


async def test_without_a_token_nothing_is_managed(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    unauthenticated(await gql(DEACTIVATE, {"id": str(regulator.user_id)}), "deactivateUser")
    unauthenticated(
        await gql(CHANGE, {"current": "password-123", "new": "another passphrase"}), "changePassword"
    )


async def test_a_reset_password_signs_in_once_and_must_be_changed_before_anything_else(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World
) -> None:
    admin = await world.admin()
    member = await world.member(await world.enterprise())
    reset = succeeded(await gql(RESET, {"id": str(member.user_id)}, actor=admin), "resetPassword")
    assert reset["user"]["mustChangePassword"] is True
    one_time = reset["oneTimePassword"]

    session = await sign_in(gql, member.username, one_time)
    assert (session["errors"], session["mustChangePassword"]) == ([], True)
    token = session["token"]
    assert (await as_token(http, token, ME))["data"]["me"] == {
        "username": member.username,
        "mustChangePassword": True,
    }
    blocked = await as_token(http, token, NOTICES)
    assert blocked["data"] is None
    assert blocked["errors"][0]["extensions"] == {"code": "PASSWORD_CHANGE_REQUIRED"}
    # The HTTP routes serve such a session nothing either.
    assert (await http.get("/documents/1", headers={"authorization": f"Bearer {token}"})).status_code == 401

    changed = await as_token(http, token, CHANGE, {"current": one_time, "new": "my own passphrase"})
    body = changed["data"]["changePassword"]
    assert body["errors"] == [] and body["user"]["mustChangePassword"] is False
    assert body["user"]["passwordChangedAt"]
    assert "errors" not in await as_token(http, body["token"], NOTICES)
    unauthenticated(await as_token(http, token, ME), "me")  # the one-time session ended


@pytest.mark.parametrize(
    ("current", "new", "code", "field"),
    [
        ("not my password", "another passphrase", "INVALID_CREDENTIALS", "currentPassword"),
        ("password-123", "short", "WEAK_PASSWORD", "newPassword"),
        ("password-123", "1234567890", "WEAK_PASSWORD", "newPassword"),
        ("password-123", "password-123", "PASSWORD_UNCHANGED", "newPassword"),
    ],
    ids=["wrong-current", "short", "common", "unchanged"],
)
async def test_a_refused_password_change(
    gql: GraphQLClient, world: World, current: str, new: str, code: str, field: str
) -> None:
    regulator = await world.regulator()
    before = await User.get(id=regulator.user_id)
    refused(
        await gql(CHANGE, {"current": current, "new": new}, actor=regulator), "changePassword", code, field
    )
    after = await User.get(id=regulator.user_id)
    assert (after.password_hash, after.session_version) == (before.password_hash, before.session_version)


async def test_the_new_password_may_not_be_the_username(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    await User.filter(id=regulator.user_id).update(username="long.regulator.name")
    regulator = Actor.of(await User.get(id=regulator.user_id))
    refused(
        await gql(CHANGE, {"current": "password-123", "new": "Long.Regulator.Name"}, actor=regulator),
        "changePassword",
        "WEAK_PASSWORD",
        "newPassword",
    )


async def test_an_admin_changes_a_role_and_scope(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    enterprise = await world.enterprise()
    regulator = await world.regulator("44")
    body = succeeded(
        await gql(
            UPDATE,
            {
                "input": {
                    "id": str(regulator.user_id),
                    "role": "ENTERPRISE",
                    "enterpriseId": str(enterprise.id),
                }
            },
            actor=admin,
        ),
        "updateUser",
    )
    assert body["user"] == {
        "id": str(regulator.user_id),
        "role": "ENTERPRISE",
        "regionPrefix": "",
        "enterprise": {"id": str(enterprise.id)},
    }
    event = await AuditEvent.get(action="user.updated", entity_id=regulator.user_id)
    assert event.data["before"]["role"] == "REGULATOR" and event.data["after"]["role"] == "ENTERPRISE"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"role": "ENTERPRISE"}, "INVALID_ROLE_SCOPE", "enterpriseId"),
        ({"role": "ADMIN", "regionPrefix": "44"}, "INVALID_ROLE_SCOPE", "regionPrefix"),
        ({"role": "REGULATOR", "regionPrefix": "99"}, "INVALID_REGION_CODE", "regionPrefix"),
        ({"role": "ENTERPRISE", "enterpriseId": "424242"}, "NOT_FOUND", "enterpriseId"),
    ],
    ids=["no-enterprise", "admin-with-region", "bad-region", "missing-enterprise"],
)
async def test_a_bad_scope_is_refused(
    gql: GraphQLClient, world: World, change: dict, code: str, field: str
) -> None:
    admin, regulator = await world.admin(), await world.regulator("44")
    refused(
        await gql(UPDATE, {"input": {"id": str(regulator.user_id), **change}}, actor=admin),
        "updateUser",
        code,
        field,
    )
    assert (await User.get(id=regulator.user_id)).region_prefix == "44"


async def test_a_regulator_resets_its_enterprise_users_but_changes_no_roles(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator("44")
    member = await world.member(await world.enterprise("440113"))
    assert succeeded(await gql(RESET, {"id": str(member.user_id)}, actor=regulator), "resetPassword")[
        "oneTimePassword"
    ]
    refused(
        await gql(
            UPDATE,
            {"input": {"id": str(member.user_id), "role": "REGULATOR", "regionPrefix": "44"}},
            actor=regulator,
        ),
        "updateUser",
        "PERMISSION_DENIED",
    )


async def test_an_enterprise_user_manages_nobody(gql: GraphQLClient, world: World) -> None:
    enterprise = await world.enterprise()
    member, colleague = await world.member(enterprise), await world.member(enterprise)
    for document, mutation in ((DEACTIVATE, "deactivateUser"), (RESET, "resetPassword")):
        refused(
            await gql(document, {"id": str(colleague.user_id)}, actor=member), mutation, "PERMISSION_DENIED"
        )
    assert (await User.get(id=colleague.user_id)).is_active
