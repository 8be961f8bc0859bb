"""The schema as a contract: the committed SDL, its descriptions, its limits, how errors look."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    Lexer,
    Source,
    TokenKind,
    get_introspection_query,
    get_nullable_type,
    parse,
    specified_scalar_types,
)
from tortoise import connections

from api.app import create_app
from core.settings import Settings
from models import User
from schema import build_schema
from schema.documents import MAX_TEXT, DocumentCache
from schema.limits import limit_of
from schema.permissions import IsAuthenticated
from schema.printer import sdl
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import auth, top_level_error
from tests.services.cycle import Cycle

ROOT = Path(__file__).parents[2]


def test_the_committed_schema_is_the_one_the_code_prints() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), (
        "schema.graphql is stale: run `.venv/bin/python -m schema.printer > schema.graphql`"
    )


def undescribed() -> list[str]:
    """Every type, field, argument and input field without a description."""
    missing = []
    for name, kind in build_schema()._schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, value in field.args.items()
                    if not value.description
                ]
        if isinstance(kind, GraphQLInputObjectType):
            missing += [f"{name}.{field}" for field, value in kind.fields.items() if not value.description]
    return missing


def test_every_type_field_argument_and_input_field_is_described() -> None:
    assert undescribed() == []


def test_every_root_field_but_login_requires_a_token() -> None:
    schema = build_schema()
    guarded = {}
    for root in ("Query", "Mutation", "Subscription"):
        for field in schema.get_type_by_name(root).fields:  # type: ignore[union-attr]
            guarded[f"{root}.{field.graphql_name or field.python_name}"] = (
                IsAuthenticated in field.permission_classes
            )
    open_fields = sorted(name for name, is_guarded in guarded.items() if not is_guarded)
    assert open_fields == ["Mutation.login"]
    assert {name for name in guarded if name.startswith("Subscription.")} == {
        "Subscription.notice_status_changed",
        "Subscription.alarm_raised",
        "Subscription.message_received",
        "Subscription.verification_status_changed",
    }


# -- limits ------------------------------------------------------------------------------------


def chain(depth: int) -> str:
    """notice { applications { notice { applications { ... id } } } }, `depth` levels below notice."""
    fields = ["applications" if level % 2 == 0 else "notice" for level in range(depth - 1)]
    return '{ notice(id: "1") { ' + "".join(f"{f} {{ " for f in fields) + "id" + " }" * len(fields) + " } }"


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator()


async def test_a_query_ten_levels_deep_is_answered(gql: GraphQLClient, regulator: Actor) -> None:
    assert await gql(chain(10), actor=regulator) == {"data": {"notice": None}}


async def test_a_query_eleven_levels_deep_is_refused_before_it_runs(
    gql: GraphQLClient, regulator: Actor
) -> None:
    error = top_level_error(await gql(chain(11), actor=regulator))
    assert "exceeds maximum operation depth of 10" in error["message"]


async def test_a_refused_document_stays_refused_and_an_accepted_one_answers_alike_when_sent_again(
    gql: GraphQLClient, regulator: Actor
) -> None:
    # Accepted documents are kept by their text (schema/documents.py); refused ones never are.
    for _ in range(3):
        assert (
            "exceeds maximum operation depth"
            in top_level_error(await gql(chain(11), actor=regulator))["message"]
        )
        assert await gql(chain(10), actor=regulator) == {"data": {"notice": None}}
    first = await gql("{ me { username role } }", actor=regulator)
    assert await gql("{ me { username role } }", actor=regulator) == first
    assert first["data"]["me"]["username"] == (await User.get(id=regulator.user_id)).username


async def test_a_remembered_document_still_has_its_variables_checked_against_the_limits(
    gql: GraphQLClient, world: World
) -> None:
    member = await world.member(await world.enterprise())
    document = "mutation($ids: [ID!]!) { markMessagesRead(ids: $ids) { errors { code } } }"
    for _ in range(2):  # accepted, so remembered
        assert "errors" not in await gql(document, {"ids": ["1"]}, actor=member)
    result = await gql(document, {"ids": ["1"] * 101}, actor=member)
    assert top_level_error(result)["extensions"]["code"] == "TOO_MANY_ITEMS"


def test_the_document_cache_is_bounded_in_count_and_in_text() -> None:
    cache = DocumentCache(size=2)
    for text in ("{ a }", "{ b }", "{ c }"):
        cache.put(text, parse(text))
    assert [cache.get(t) is not None for t in ("{ a }", "{ b }", "{ c }")] == [False, True, True]
    long = "{ " + "a " * MAX_TEXT + "}"
    cache.put(long, parse("{ a }"))
    assert cache.get(long) is None


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(count)) + " }"


async def test_thirty_aliases_are_answered(gql: GraphQLClient, regulator: Actor) -> None:
    result = await gql(aliases(30), actor=regulator)
    assert "errors" not in result and len(result["data"]) == 30


async def test_thirty_one_aliases_are_refused(gql: GraphQLClient, regulator: Actor) -> None:
    assert (
        top_level_error(await gql(aliases(31), actor=regulator))["message"] == "31 aliases found. Allowed: 30"
    )


def tokens(count: int) -> str:
    """A valid document of exactly `count` tokens: 16 of syntax around `count - 16` ids."""
    ids = " ".join(['"1"'] * (count - 16))
    document = f"mutation {{ markMessagesRead(ids: [{ids}]) {{ errors {{ code }} }} }}"
    lexer, counted = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        counted += 1
    assert counted == count
    return document


async def test_a_document_of_2000_tokens_is_answered(gql: GraphQLClient, world: World) -> None:
    member = await world.member(await world.enterprise())
    result = await gql(tokens(2000), actor=member)
    # Past the token limit, to the list's own cap (1,984 ids of at most 100).
    assert top_level_error(result)["extensions"]["code"] == "TOO_MANY_ITEMS"


async def test_a_document_of_more_than_2000_tokens_is_refused_unparsed(
    gql: GraphQLClient, world: World
) -> None:
    member = await world.member(await world.enterprise())
    error = top_level_error(await gql(tokens(2001), actor=member))
    assert "more than 2000 tokens" in error["message"]


async def test_the_introspection_query_of_graphql_tools_fits_the_limits(gql: GraphQLClient) -> None:
    result = await gql(get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert "errors" not in result
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


# -- errors ------------------------------------------------------------------------------------


async def corrupt_notice_status(cycle: Cycle) -> None:
    """Write a status no code knows: reading the row raises inside the resolver, a genuine bug
    on the server's side (the kind masking exists for), made without patching any code."""
    await connections.get("default").execute_script(
        f"UPDATE notices SET status = 'BOGUS' WHERE id = {int(cycle.notice.id)}"
    )


NOTICE = "query($id: ID!) { notice(id: $id) { status } }"


async def test_an_unexpected_error_is_masked_when_debug_is_off(gql: GraphQLClient, cycle: Cycle) -> None:
    await corrupt_notice_status(cycle)
    result = await gql(NOTICE, {"id": str(cycle.notice.id)}, actor=cycle.regulator)
    assert result["data"] == {"notice": None}
    [error] = result["errors"]
    assert error["message"] == "Unexpected error." and error["path"] == ["notice"]
    assert "extensions" not in error and "BOGUS" not in str(result)


async def test_with_debug_on_the_same_error_shows_its_cause(settings: Settings, cycle: Cycle) -> None:
    app = create_app(dataclasses.replace(settings, debug=True), manage_db=False)
    await corrupt_notice_status(cycle)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccms.test"
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": NOTICE, "variables": {"id": str(cycle.notice.id)}},
            headers=auth(cycle.regulator),
        )
    [error] = response.json()["errors"]
    assert "BOGUS" in error["message"]


async def test_expected_top_level_errors_are_not_masked(gql: GraphQLClient, regulator: Actor) -> None:
    result = await gql("{ notices(first: 1000) { totalCount } }", actor=regulator)
    assert top_level_error(result)["extensions"] == {"code": "INVALID_PAGINATION"}


LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { errors { code field message } token user { id } }
}
"""


async def test_login_failures_look_the_same_whether_or_not_the_user_exists(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator()
    inactive = await world.regulator()
    await User.filter(id=inactive.user_id).update(is_active=False)
    answers: list[dict[str, Any]] = [
        await gql(LOGIN, {"u": "no_such_user", "p": "password-123"}),
        await gql(LOGIN, {"u": regulator.username, "p": "wrong-password"}),
        await gql(LOGIN, {"u": inactive.username, "p": "password-123"}),
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


def _is_list(type_: Any) -> bool:
    return isinstance(get_nullable_type(type_), GraphQLList)


def test_every_list_in_an_input_declares_its_largest_size() -> None:
    graphql_schema = build_schema()._schema
    unlimited = []
    for name, type_ in graphql_schema.type_map.items():
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for argument_name, argument in field.args.items():
                    if _is_list(argument.type) and limit_of(argument) is None:
                        unlimited.append(f"{name}.{field_name}({argument_name})")
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                if _is_list(input_field.type) and limit_of(input_field) is None:
                    unlimited.append(f"{name}.{field_name}")
    assert unlimited == [], "give these @maxItems (schema.limits.max_items):\n" + "\n".join(unlimited)
