"""An open WebSocket follows its session: it closes with 4401 when the token expires, or soon
after its user is deactivated, changes password, or gets another role, region or enterprise."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from starlette.applications import Starlette

from api.app import create_app
from core.settings import Settings
from models import Role
from services.access import Actor
from services.identity import accounts, tokens
from services.identity.users import SignIn
from tests.conftest import SECRET, World
from tests.schema.live.websocket import Live, connected, drain, hub_of, opened, running

CHECK_SECONDS = 0.2
CHANGES = "subscription { noticeStatusChanged { __typename } }"


@pytest.fixture
async def app(settings: Settings, db: str) -> AsyncIterator[Starlette]:
    app = create_app(dataclasses.replace(settings, session_check_seconds=CHECK_SECONDS), manage_db=False)
    async with running(app):
        yield app


async def closes_with(live: Live, timeout: float = 3.0) -> int:
    """The code the server closes with, waiting out any events first."""
    deadline = asyncio.get_running_loop().time() + timeout
    with contextlib.suppress(Exception):
        while asyncio.get_running_loop().time() < deadline:
            await live.socket.receive(timeout=deadline - asyncio.get_running_loop().time())
    assert live.socket.closed is not None, "the socket stayed open"
    return live.socket.closed.code


Change = Callable[[World, Actor, Actor], Awaitable[object]]


async def _deactivate(world: World, admin: Actor, user: Actor) -> object:
    return await accounts.deactivate_user(admin, user.user_id)


async def _reset(world: World, admin: Actor, user: Actor) -> object:
    return await accounts.reset_password(admin, user.user_id)


async def _change_password(world: World, admin: Actor, user: Actor) -> object:
    return await accounts.change_password(user, "password-123", "a brand new passphrase", SignIn(SECRET, 60))


async def _move_region(world: World, admin: Actor, user: Actor) -> object:
    return await accounts.update_user(admin, user.user_id, role=Role.REGULATOR, region_prefix="11")


@pytest.mark.parametrize(
    "change",
    [_deactivate, _reset, _change_password, _move_region],
    ids=["deactivated", "password-reset", "password-changed", "region-changed"],
)
async def test_the_socket_closes_with_4401_after_an_account_change(
    app: Starlette, world: World, change: Change
) -> None:
    admin, regulator = await world.admin(), await world.regulator("44")
    async with connected(app, regulator) as live:
        await live.subscribe(CHANGES)
        await change(world, admin, regulator)
        assert await closes_with(live) == 4401


async def test_the_socket_closes_with_4401_when_its_token_expires(app: Starlette, world: World) -> None:
    regulator = await world.regulator("44")
    token, _ = tokens.issue(regulator.user_id, SECRET, 1)
    async with opened(app) as socket:
        await socket.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await socket.receive())["type"] == "connection_ack"
        live = Live(app, socket)
        await live.subscribe(CHANGES)
        assert await closes_with(live) == 4401


async def test_an_unchanged_session_stays_open_and_keeps_receiving(app: Starlette, world: World) -> None:
    admin, regulator = await world.admin(), await world.regulator("44")
    other = await world.regulator("11")
    async with connected(app, regulator) as live:
        await live.subscribe(CHANGES)
        await accounts.deactivate_user(admin, other.user_id)  # someone else's change
        await asyncio.sleep(CHECK_SECONDS * 4)  # several checks pass
        assert await drain(hub_of(app), live) == [[]]
        assert live.socket.closed is None
