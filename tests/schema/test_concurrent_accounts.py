"""Account changes racing live sessions, through the real app: password changes against each
other, and deactivations against requests and subscriptions of the same user in flight."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from core.settings import Settings
from models import AuditEvent, User
from services.access import Actor
from services.identity import accounts
from tests.conftest import GraphQLClient, World, token_for
from tests.schema.live.websocket import connected, running

CHANGE = """
mutation($new: String!) {
  changePassword(currentPassword: "password-123", newPassword: $new) { errors { code } token }
}
"""
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { errors { code } } }"
REACTIVATE = "mutation($id: ID!) { reactivateUser(id: $id) { errors { code } } }"
RESET = "mutation($id: ID!) { resetPassword(id: $id) { errors { code } oneTimePassword } }"
ME = "{ me { username } }"
# A changePassword that lost the race: the winner's commit came first (CONCURRENT_MODIFICATION),
# or the password had already changed when this one checked it (INVALID_CREDENTIALS), or the
# failures that caused counted against the username (TOO_MANY_ATTEMPTS).
LOSING = {"CONCURRENT_MODIFICATION", "INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}


async def me(http: httpx.AsyncClient, token: str) -> str:
    """ "ok", or the top-level error code."""
    body = (
        await http.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})
    ).json()
    return "ok" if "errors" not in body else body["errors"][0]["extensions"]["code"]


async def test_of_racing_password_changes_exactly_one_wins_and_every_old_session_ends(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World
) -> None:
    member = await world.member(await world.enterprise())
    sessions = [token_for(member) for _ in range(3)]
    candidates = [f"passphrase number {i}" for i in range(6)]
    results = await asyncio.gather(*(gql(CHANGE, {"new": p}, actor=member) for p in candidates))
    payloads = [r["data"]["changePassword"] for r in results]
    winners = [p for p, body in zip(candidates, payloads, strict=True) if not body["errors"]]
    assert len(winners) == 1, payloads
    assert {body["errors"][0]["code"] for body in payloads if body["errors"]} <= LOSING
    [token] = [body["token"] for body in payloads if not body["errors"]]
    assert await me(http, token) == "ok"
    assert [await me(http, s) for s in sessions] == ["UNAUTHENTICATED"] * 3
    user = await User.get(id=member.user_id)
    assert user.session_version == 1
    assert await AuditEvent.filter(entity_id=member.user_id, action="user.password_changed").count() == 1
    # Only the winning password signs in.
    signs_in = []
    for password in candidates:
        response = await http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"u": member.username, "p": password}},
            headers={"x-forwarded-for": "10.20.0.1"},
        )
        signs_in.append(response.json()["data"]["login"]["token"] is not None)
    assert sum(signs_in) <= 1  # the others may be held back by the throttle too


async def test_requests_racing_a_deactivation_are_answered_as_before_or_refused_and_none_after(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World
) -> None:
    admin = await world.admin()
    member = await world.member(await world.enterprise())
    token = token_for(member)

    async def stream(stop: asyncio.Event) -> list[str]:
        outcomes = []
        while not stop.is_set():
            outcomes.append(await me(http, token))
        return outcomes

    stop = asyncio.Event()
    streams = [asyncio.create_task(stream(stop)) for _ in range(4)]
    await asyncio.sleep(0.05)
    deactivated = await gql(DEACTIVATE, {"id": str(member.user_id)}, actor=admin)
    assert deactivated["data"]["deactivateUser"]["errors"] == []
    after = [await me(http, token) for _ in range(5)]  # sent after the deactivation returned
    stop.set()
    during = [outcome for task in streams for outcome in await task]
    assert set(during) <= {"ok", "UNAUTHENTICATED"}, set(during)
    assert after == ["UNAUTHENTICATED"] * 5


async def test_racing_lifecycle_changes_each_apply_once_and_version_the_session_each_time(
    gql: GraphQLClient, world: World
) -> None:
    admins = [await world.admin() for _ in range(3)]
    member = await world.member(await world.enterprise())
    target = {"id": str(member.user_id)}
    results = await asyncio.gather(
        *(gql(DEACTIVATE, target, actor=a) for a in admins),
        *(gql(RESET, target, actor=a) for a in admins),
    )
    outcomes = [next(iter(r["data"].values()))["errors"] for r in results]
    succeeded = sum(1 for errors in outcomes if not errors)
    assert {e[0]["code"] for e in outcomes if e} <= {"USER_ALREADY_INACTIVE", "CONCURRENT_MODIFICATION"}
    user = await User.get(id=member.user_id)
    assert not user.is_active
    assert user.session_version == succeeded  # every change that reported success, and no other
    changes = await AuditEvent.filter(
        entity_id=member.user_id, action__in=["user.deactivated", "user.password_reset"]
    )
    assert len(changes) == succeeded
    assert sum(1 for c in changes if c.action == "user.deactivated") == 1


@pytest.fixture
async def live_app(settings: Settings, db: str) -> AsyncIterator[Starlette]:
    app = create_app(dataclasses.replace(settings, session_check_seconds=0.2), manage_db=False)
    async with running(app):
        yield app


async def test_a_deactivation_racing_open_subscriptions_closes_every_one_of_them(
    live_app: Starlette, world: World
) -> None:
    admin = await world.admin()
    enterprise = await world.enterprise()
    member, colleague = await world.member(enterprise), await world.member(enterprise)

    async def subscriber(actor: Actor) -> int | None:
        async with connected(live_app, actor) as live:
            await live.subscribe("subscription { noticeStatusChanged { __typename } }")
            with_code: Any = None
            try:
                async with asyncio.timeout(3):
                    while True:
                        await live.socket.receive(timeout=3)
            except Exception:
                with_code = live.socket.closed.code if live.socket.closed else None
            return with_code

    tasks = [asyncio.create_task(subscriber(member)) for _ in range(5)]
    bystander = asyncio.create_task(subscriber(colleague))
    await asyncio.sleep(0.1)
    await accounts.deactivate_user(admin, member.user_id)
    assert [await t for t in tasks] == [4401] * 5
    assert await bystander is None  # the colleague's subscription ran on until the test stopped it
