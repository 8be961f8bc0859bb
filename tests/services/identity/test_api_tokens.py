"""API tokens: created for oneself with the secret shown once, stored hashed, listed, revoked,
and accepted only while valid, unrevoked, unexpired, of the right scope and of an active user."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from models import ApiToken, AuditEvent, TokenScope, User
from services.access import Actor
from services.errors import ErrorCode
from services.identity import api_tokens
from tests.conftest import World, in_days
from tests.services.cycle import fails_with

EXPORT, INGEST = TokenScope.EXPORT, TokenScope.INGEST


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


async def test_a_token_is_stored_as_a_hash_and_its_secret_returned_once(regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "  Power BI  ", EXPORT, in_days(30))
    assert secret.startswith("ccms_") and len(secret) >= 45
    stored = await ApiToken.get(id=token.id)
    assert (stored.user_id, stored.name, stored.scope, stored.prefix) == (
        regulator.user_id,
        "Power BI",
        EXPORT,
        secret[:12],
    )
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Nothing stored or listed lets anyone rebuild the secret.
    row = await ApiToken.filter(id=token.id).values()
    assert not any(secret in str(value) for value in row[0].values())
    assert api_tokens.is_active(stored)


async def test_two_tokens_never_share_a_secret(regulator: Actor) -> None:
    (_, first), (_, second) = [await api_tokens.create(regulator, "BI", EXPORT) for _ in range(2)]
    assert first != second


async def test_creating_and_revoking_are_audited_without_the_secret(regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", EXPORT)
    await api_tokens.revoke(regulator, token.id)
    events = await AuditEvent.filter(entity_type="ApiToken", entity_id=token.id).order_by("id")
    assert [(e.action, e.actor_id) for e in events] == [
        ("api_token.created", regulator.user_id),
        ("api_token.revoked", regulator.user_id),
    ]
    assert events[0].data["name"] == "BI" and events[0].data["scope"] == "EXPORT"
    for event in events:
        assert secret not in str(event.data) and token.token_hash not in str(event.data)


async def test_the_token_acts_for_its_user_with_the_users_scope(world: World, regulator: Actor) -> None:
    _, secret = await api_tokens.create(regulator, "BI", EXPORT)
    assert await api_tokens.actor_for(secret, EXPORT) == regulator
    member = await world.member(await world.enterprise("110105"))
    _, member_secret = await api_tokens.create(member, "ERP", INGEST)
    assert await api_tokens.actor_for(member_secret, INGEST) == member


async def test_a_token_of_another_scope_is_refused(regulator: Actor) -> None:
    _, secret = await api_tokens.create(regulator, "gateway", INGEST)
    assert await api_tokens.actor_for(secret, EXPORT) is None


async def test_unknown_and_altered_secrets_are_refused(regulator: Actor) -> None:
    _, secret = await api_tokens.create(regulator, "BI", EXPORT)
    for wrong in (secret[:-1], secret + "x", "ccms_" + "A" * 43, "", secret.removeprefix("ccms_")):
        assert await api_tokens.actor_for(wrong, EXPORT) is None, wrong


async def test_a_revoked_token_is_refused_at_once(regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", EXPORT)
    revoked = await api_tokens.revoke(regulator, token.id)
    assert revoked.revoked_at is not None and not api_tokens.is_active(revoked)
    assert await api_tokens.actor_for(secret, EXPORT) is None


async def test_an_expired_token_is_refused(regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", EXPORT, in_days(1))
    await ApiToken.filter(id=token.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await api_tokens.actor_for(secret, EXPORT) is None
    assert not api_tokens.is_active(await ApiToken.get(id=token.id))


async def test_the_token_of_a_deactivated_user_is_refused(regulator: Actor) -> None:
    _, secret = await api_tokens.create(regulator, "BI", EXPORT)
    await User.filter(id=regulator.user_id).update(is_active=False)
    assert await api_tokens.actor_for(secret, EXPORT) is None


async def test_last_use_is_recorded_at_most_once_a_minute(regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", EXPORT)
    assert token.last_used_at is None
    await api_tokens.actor_for(secret, EXPORT)
    first = (await ApiToken.get(id=token.id)).last_used_at
    assert first is not None and datetime.now(UTC) - first < timedelta(seconds=5)
    await api_tokens.actor_for(secret, EXPORT)
    assert (await ApiToken.get(id=token.id)).last_used_at == first

    long_ago = datetime.now(UTC) - timedelta(minutes=2)
    await ApiToken.filter(id=token.id).update(last_used_at=long_ago)
    await api_tokens.actor_for(secret, EXPORT)
    assert (await ApiToken.get(id=token.id)).last_used_at > long_ago  # type: ignore[operator]


async def test_the_list_holds_the_callers_own_tokens_newest_first(world: World, regulator: Actor) -> None:
    first, _ = await api_tokens.create(regulator, "first", EXPORT)
    await api_tokens.create(regulator, "second", INGEST)
    await api_tokens.revoke(regulator, first.id)
    admin = await world.admin()
    await api_tokens.create(admin, "admin's", EXPORT)
    assert [t.name for t in await api_tokens.list_for(regulator)] == ["second", "first"]
    # An admin's list is its own too.
    assert [t.name for t in await api_tokens.list_for(admin)] == ["admin's"]


async def test_someone_elses_token_is_not_found(world: World, regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", EXPORT)
    colleague = await world.regulator("44")
    with fails_with(ErrorCode.NOT_FOUND, "id"):
        await api_tokens.revoke(colleague, token.id)
    with fails_with(ErrorCode.NOT_FOUND, "id"):
        await api_tokens.revoke(regulator, token.id + 1000)
    assert await api_tokens.actor_for(secret, EXPORT) == regulator


async def test_an_admin_may_revoke_anyones_token(world: World, regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "leaked", EXPORT)
    admin = await world.admin()
    await api_tokens.revoke(admin, token.id)
    assert await api_tokens.actor_for(secret, EXPORT) is None
    event = await AuditEvent.get(entity_type="ApiToken", action="api_token.revoked")
    assert (event.actor_id, event.data["userId"]) == (admin.user_id, regulator.user_id)


async def test_revoking_twice_is_refused_and_keeps_the_first_time(regulator: Actor) -> None:
    token, _ = await api_tokens.create(regulator, "BI", EXPORT)
    first = (await api_tokens.revoke(regulator, token.id)).revoked_at
    with fails_with(ErrorCode.TOKEN_ALREADY_REVOKED, "id"):
        await api_tokens.revoke(regulator, token.id)
    assert (await ApiToken.get(id=token.id)).revoked_at == first
    assert await AuditEvent.filter(action="api_token.revoked").count() == 1


@pytest.mark.parametrize(
    ("name", "code"), [("", ErrorCode.REQUIRED), ("   ", ErrorCode.REQUIRED), ("x" * 101, ErrorCode.TOO_LONG)]
)
async def test_a_name_is_required_and_at_most_100_characters(
    regulator: Actor, name: str, code: ErrorCode
) -> None:
    with fails_with(code, "name"):
        await api_tokens.create(regulator, name, EXPORT)
    assert not await ApiToken.exists()
    token, _ = await api_tokens.create(regulator, "x" * 100, EXPORT)
    assert len(token.name) == 100


@pytest.mark.parametrize(
    "expires_at",
    [datetime.now(UTC) - timedelta(minutes=1), datetime(2099, 1, 1)],  # past; no UTC offset
    ids=["past", "naive"],
)
async def test_the_expiry_is_an_instant_in_the_future(regulator: Actor, expires_at: datetime) -> None:
    with fails_with(ErrorCode.INVALID_DATETIME, "expiresAt"):
        await api_tokens.create(regulator, "BI", EXPORT, expires_at)
    assert not await ApiToken.exists()


async def test_a_user_has_at_most_20_active_tokens(world: World, regulator: Actor) -> None:
    tokens = [(await api_tokens.create(regulator, f"t{i}", EXPORT))[0] for i in range(20)]
    with fails_with(ErrorCode.TOO_MANY_ITEMS):
        await api_tokens.create(regulator, "one more", EXPORT)
    assert await ApiToken.all().count() == 20
    # Others have their own allowance; revoked and expired tokens do not count.
    await api_tokens.create(await world.regulator("44"), "colleague's", EXPORT)
    await api_tokens.revoke(regulator, tokens[0].id)
    await ApiToken.filter(id=tokens[1].id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    await api_tokens.create(regulator, "again", EXPORT)
    await api_tokens.create(regulator, "and again", EXPORT)
    with fails_with(ErrorCode.TOO_MANY_ITEMS):
        await api_tokens.create(regulator, "one more", EXPORT)
