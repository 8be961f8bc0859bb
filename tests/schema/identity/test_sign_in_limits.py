"""What keeps sign-in from being used to guess passwords or to load the server: one login per
request (checked before anything runs), and TOO_MANY_ATTEMPTS with the time to wait."""

from __future__ import annotations

import pytest

from models import AuditEvent, SignInThrottle
from tests.conftest import GraphQLClient, World
from tests.schema.support import refused, succeeded

ALIASED = """
mutation {
  %s
}
"""


def logins(count: int, username: str, password: str = "wrong password") -> str:
    fields = "\n".join(
        f'l{i}: login(username: "{username}", password: "{password}") {{ token errors {{ code field message }} }}'
        for i in range(count)
    )
    return ALIASED % fields


async def nothing_was_checked() -> bool:
    """No password was verified: no sign-in was recorded or counted."""
    return (
        not await AuditEvent.filter(action__startswith="user.sign").exists()
        and not await SignInThrottle.exists()
    )


@pytest.mark.parametrize("count", [2, 30])
async def test_aliased_logins_are_refused_before_any_password_is_checked(
    gql: GraphQLClient, world: World, count: int
) -> None:
    regulator = await world.regulator()
    result = await gql(logins(count, regulator.username, "password-123"))
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_LOGINS"}
    assert len(error["locations"]) == count
    assert await nothing_was_checked()


@pytest.mark.parametrize(
    "document",
    [
        'mutation { login(username: "a", password: "b") { token } ...More } '
        'fragment More on Mutation { again: login(username: "a", password: "c") { token } }',
        'mutation { login(username: "a", password: "b") { token } ... on Mutation { x: login(username: "a", '
        'password: "c") { token } } }',
        'mutation { ...One ...Two } fragment One on Mutation { a: login(username: "a", password: "b") { token } } '
        'fragment Two on Mutation { b: login(username: "a", password: "c") { token } }',
    ],
    ids=["fragment", "inline-fragment", "two-fragments"],
)
async def test_a_second_login_hidden_in_a_fragment_is_refused_too(
    gql: GraphQLClient, world: World, document: str
) -> None:
    result = await gql(document)
    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["TOO_MANY_LOGINS"]
    assert await nothing_was_checked()


async def test_the_same_login_field_twice_is_one_login(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    field = f'login(username: "{regulator.username}", password: "password-123") {{ token errors {{ code }} }}'
    result = await gql(f"mutation {{ {field} {field} }}")
    assert succeeded(result, "login")["token"]


async def test_one_login_per_operation_leaves_other_operations_of_the_document_alone(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator()
    document = (
        f'mutation A {{ login(username: "{regulator.username}", password: "password-123") {{ token errors {{ code }} }} }}'
        f'mutation B {{ login(username: "{regulator.username}", password: "password-123") {{ token errors {{ code }} }} }}'
    )
    response = await gql.http.post("/graphql", json={"query": document, "operationName": "B"})
    assert succeeded(response.json(), "login")["token"]


async def test_repeated_failures_are_answered_with_the_time_to_wait(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    document = logins(1, regulator.username)
    for _ in range(3):  # the default allows three at full speed
        refused(await gql(document), "l0", "INVALID_CREDENTIALS")
    result = await gql(
        'mutation($u: String!) { login(username: $u, password: "password-123") '
        "{ token errors { code field message retryAfterSeconds } } }",
        {"u": regulator.username},
    )
    error = refused(result, "login", "TOO_MANY_ATTEMPTS")
    assert error["retryAfterSeconds"] == 1
    assert error["message"] == "登录失败次数过多：请在 1 秒后重试"
    # Other usernames from the same address are not held back by this one.
    refused(await gql(logins(1, "someone.else")), "l0", "INVALID_CREDENTIALS")
