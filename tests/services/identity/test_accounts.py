"""The account lifecycle: who may manage whom, and that every change ends the old sessions."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import pytest

from models import ApiToken, AuditEvent, Enterprise, Role, SignInThrottle, TokenScope, User
from services.access import Actor
from services.errors import ErrorCode, ServiceError
from services.identity import accounts, api_tokens, downloads, passwords, throttle, tokens
from services.identity.throttle import ThrottlePolicy
from services.identity.users import SignIn, actor_for_token, login
from tests.conftest import SECRET, World
from tests.services.cycle import fails_with, unchanged

PASSWORD = "password-123"  # what World gives every user
SIGN_IN = SignIn(SECRET, 3600, address="10.9.0.1")


@dataclass
class Cast:
    admin: Actor
    guangdong: Actor  # regulator, 44
    guangzhou: Actor  # regulator, 4401
    member: Actor  # user of a Guangzhou enterprise
    beijing_member: Actor
    enterprise: Enterprise


@pytest.fixture
async def cast(world: World) -> Cast:
    enterprise = await world.enterprise("440113")
    return Cast(
        await world.admin(),
        await world.regulator("44"),
        await world.regulator("4401"),
        await world.member(enterprise),
        await world.member(await world.enterprise("110105")),
        enterprise,
    )


async def session_of(actor: Actor) -> str:
    return (await login(actor.username, PASSWORD, SIGN_IN)).token


async def still_works(token: str) -> bool:
    return await actor_for_token(token, SECRET) is not None


async def actions(user_id: int) -> list[str]:
    return [e.action for e in await AuditEvent.filter(entity_type="User", entity_id=user_id).order_by("id")]


# -- deactivate and reactivate ---------------------------------------------------------------


async def test_deactivating_ends_every_session_and_sign_in_and_reactivating_restores_sign_in(
    cast: Cast,
) -> None:
    token = await session_of(cast.member)
    user = await accounts.deactivate_user(cast.admin, cast.member.user_id)
    assert not user.is_active
    assert not await still_works(token)
    with fails_with(ErrorCode.INVALID_CREDENTIALS):
        await login(cast.member.username, PASSWORD, SIGN_IN)
    await accounts.reactivate_user(cast.admin, cast.member.user_id)
    assert not await still_works(token)  # a reactivation revives no old session
    assert await still_works(await session_of(cast.member))
    # A deactivated account's failed sign-in is recorded as an unknown user's (entity 0).
    assert (await actions(cast.member.user_id))[-3:] == [
        "user.deactivated",
        "user.reactivated",
        "user.signed_in",
    ]


async def test_deactivating_twice_or_reactivating_an_active_account_is_refused(cast: Cast) -> None:
    with fails_with(ErrorCode.USER_ALREADY_ACTIVE, "id"):
        await accounts.reactivate_user(cast.admin, cast.member.user_id)
    await accounts.deactivate_user(cast.admin, cast.member.user_id)
    async with unchanged():
        with fails_with(ErrorCode.USER_ALREADY_INACTIVE, "id"):
            await accounts.deactivate_user(cast.admin, cast.member.user_id)


async def test_an_admin_cannot_deactivate_or_reset_their_own_account(cast: Cast) -> None:
    async with unchanged():
        with fails_with(ErrorCode.OWN_ACCOUNT, "id"):
            await accounts.deactivate_user(cast.admin, cast.admin.user_id)
        with fails_with(ErrorCode.OWN_ACCOUNT, "id"):
            await accounts.reset_password(cast.admin, cast.admin.user_id)
        with fails_with(ErrorCode.OWN_ACCOUNT, "id"):
            await accounts.update_user(cast.admin, cast.admin.user_id, role=Role.REGULATOR)


# fmt: off
WHO_MANAGES_WHOM = [
    # actor        target            outcome
    ("guangdong",  "member",         None),                # an enterprise user in its region
    ("guangzhou",  "member",         None),
    ("guangdong",  "beijing_member", ErrorCode.NOT_FOUND),  # outside its region: not even seen
    ("guangdong",  "guangzhou",      ErrorCode.PERMISSION_DENIED),  # a regulator: seen, not managed
    ("guangzhou",  "guangdong",      ErrorCode.NOT_FOUND),  # above it
    ("guangdong",  "admin",          ErrorCode.NOT_FOUND),
    ("member",     "beijing_member", ErrorCode.PERMISSION_DENIED),
    ("member",     "member",         ErrorCode.PERMISSION_DENIED),
]
# fmt: on


@pytest.mark.parametrize(("actor", "target", "outcome"), WHO_MANAGES_WHOM)
@pytest.mark.parametrize("operation", ["deactivate", "reset"])
async def test_a_regulator_manages_the_enterprise_users_of_its_region_only(
    cast: Cast, actor: str, target: str, outcome: ErrorCode | None, operation: str
) -> None:
    acting, user_id = getattr(cast, actor), getattr(cast, target).user_id
    call = accounts.deactivate_user if operation == "deactivate" else accounts.reset_password
    if outcome is None:
        await call(acting, user_id)
        return
    async with unchanged():
        with fails_with(outcome):
            await call(acting, user_id)


async def test_a_missing_user_is_not_found(cast: Cast) -> None:
    for user_id in (999_999, 0, -1, 2**40):
        with fails_with(ErrorCode.NOT_FOUND, "id"):
            await accounts.deactivate_user(cast.admin, user_id)


# -- passwords -------------------------------------------------------------------------------


async def test_a_reset_gives_a_one_time_password_that_must_be_replaced(cast: Cast) -> None:
    old = await session_of(cast.member)
    user, one_time = await accounts.reset_password(cast.guangdong, cast.member.user_id)
    assert re.fullmatch(r"([A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}", one_time)
    passwords.check_policy(one_time, user.username)  # it meets the policy itself
    assert user.must_change_password and one_time not in user.password_hash
    assert not await still_works(old)
    with fails_with(ErrorCode.INVALID_CREDENTIALS):
        await login(cast.member.username, PASSWORD, SIGN_IN)
    session = await login(cast.member.username, one_time, SIGN_IN)
    assert session.user.must_change_password
    actor = await actor_for_token(session.token, SECRET)
    assert actor is not None and actor.must_change_password
    assert (await actions(cast.member.user_id))[-1:] == ["user.signed_in"]
    assert "user.password_reset" in await actions(cast.member.user_id)


async def test_a_reset_lifts_a_sign_in_lockout(cast: Cast) -> None:
    policy = ThrottlePolicy(backoff_after=2, lockout_after=2, lockout_seconds=900, address_factor=100)
    locked = SignIn(SECRET, 60, address="10.9.0.2", policy=policy)
    for _ in range(2):
        with fails_with(ErrorCode.INVALID_CREDENTIALS):
            await login(cast.member.username, "not the password", locked)
    with fails_with(ErrorCode.TOO_MANY_ATTEMPTS):
        await login(cast.member.username, PASSWORD, locked)
    _, one_time = await accounts.reset_password(cast.admin, cast.member.user_id)
    assert (await login(cast.member.username, one_time, locked)).user.id == cast.member.user_id


async def test_changing_the_password_ends_the_other_sessions_and_clears_the_reset(cast: Cast) -> None:
    _, one_time = await accounts.reset_password(cast.admin, cast.member.user_id)
    first = await login(cast.member.username, one_time, SIGN_IN)
    other = await login(cast.member.username, one_time, SIGN_IN)
    actor = await actor_for_token(first.token, SECRET)
    assert actor is not None
    session = await accounts.change_password(actor, one_time, "a new passphrase", SIGN_IN)
    assert not await still_works(first.token) and not await still_works(other.token)
    assert await still_works(session.token)
    assert not session.user.must_change_password
    assert (await login(cast.member.username, "a new passphrase", SIGN_IN)).user.id == actor.user_id
    stored = await User.get(id=actor.user_id)
    assert stored.password_changed_at is not None and "a new passphrase" not in stored.password_hash


@pytest.mark.parametrize(
    ("current", "new", "code", "field"),
    [
        ("wrong password", "a new passphrase", ErrorCode.INVALID_CREDENTIALS, "currentPassword"),
        (PASSWORD, "short", ErrorCode.WEAK_PASSWORD, "newPassword"),
        (PASSWORD, "qwertyuiop", ErrorCode.WEAK_PASSWORD, "newPassword"),
        (PASSWORD, PASSWORD, ErrorCode.PASSWORD_UNCHANGED, "newPassword"),
    ],
    ids=["wrong-current", "short", "common", "unchanged"],
)
async def test_a_refused_password_change_changes_nothing(
    cast: Cast, current: str, new: str, code: ErrorCode, field: str
) -> None:
    token = await session_of(cast.member)
    before = await User.get(id=cast.member.user_id)
    with fails_with(code, field):
        await accounts.change_password(cast.member, current, new, SIGN_IN)
    after = await User.get(id=cast.member.user_id)
    assert (after.password_hash, after.session_version) == (before.password_hash, before.session_version)
    assert await still_works(token)


async def test_a_wrong_current_password_counts_as_a_failed_sign_in(cast: Cast) -> None:
    policy = ThrottlePolicy(backoff_after=2, lockout_after=2, lockout_seconds=60, address_factor=100)
    sign_in = SignIn(SECRET, 60, address="10.9.0.3", policy=policy)
    for _ in range(2):
        with fails_with(ErrorCode.INVALID_CREDENTIALS, "currentPassword"):
            await accounts.change_password(cast.member, "wrong password", "a new passphrase", sign_in)
    with fails_with(ErrorCode.TOO_MANY_ATTEMPTS):
        await accounts.change_password(cast.member, PASSWORD, "a new passphrase", sign_in)


async def test_of_two_concurrent_password_changes_exactly_one_wins(cast: Cast) -> None:
    results = await asyncio.gather(
        accounts.change_password(cast.member, PASSWORD, "first new passphrase", SIGN_IN),
        accounts.change_password(cast.member, PASSWORD, "second new passphrase", SIGN_IN),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, ServiceError)]
    assert len(won) == 1 and [e.code for e in lost] == [ErrorCode.CONCURRENT_MODIFICATION]
    assert (await User.get(id=cast.member.user_id)).session_version == 1
    assert await still_works(won[0].token)
    signs_in = [await _signs_in(p, cast) for p in ("first new passphrase", "second new passphrase")]
    assert sorted(signs_in) == [False, True]


async def _signs_in(password: str, cast: Cast) -> bool:
    try:
        await login(cast.member.username, password, SignIn(SECRET, 60, address="10.9.0.4"))
    except ServiceError:
        return False
    return True


# -- role and scope --------------------------------------------------------------------------


async def test_changing_the_scope_ends_sessions_and_revokes_api_tokens(cast: Cast) -> None:
    token = await session_of(cast.guangzhou)
    api_token, secret = await api_tokens.create(cast.guangzhou, "BI", TokenScope.EXPORT)
    user = await accounts.update_user(
        cast.admin, cast.guangzhou.user_id, role=Role.REGULATOR, region_prefix="11"
    )
    assert (user.role, user.region_prefix) == (Role.REGULATOR, "11")
    assert not await still_works(token)
    assert await api_tokens.actor_for(secret, TokenScope.EXPORT) is None
    assert (await ApiToken.get(id=api_token.id)).revoked_at is not None
    event = await AuditEvent.get(entity_type="User", entity_id=user.id, action="user.updated")
    assert (event.actor_id, event.data["before"]["regionPrefix"], event.data["after"]["regionPrefix"]) == (
        cast.admin.user_id,
        "4401",
        "11",
    )


async def test_an_unchanged_scope_ends_nothing(cast: Cast) -> None:
    token = await session_of(cast.guangzhou)
    await accounts.update_user(cast.admin, cast.guangzhou.user_id, role=Role.REGULATOR, region_prefix="4401")
    assert await still_works(token)


async def test_a_role_change_follows_the_scope_rules(cast: Cast) -> None:
    async with unchanged():
        with fails_with(ErrorCode.INVALID_ROLE_SCOPE, "enterpriseId"):
            await accounts.update_user(cast.admin, cast.guangzhou.user_id, role=Role.ENTERPRISE)
        with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
            await accounts.update_user(
                cast.admin,
                cast.guangzhou.user_id,
                role=Role.ENTERPRISE,
                enterprise_id=cast.enterprise.id + 99,
            )
    user = await accounts.update_user(
        cast.admin, cast.guangzhou.user_id, role=Role.ENTERPRISE, enterprise_id=cast.enterprise.id
    )
    assert (user.role, user.region_prefix, user.enterprise_id) == (Role.ENTERPRISE, "", cast.enterprise.id)


@pytest.mark.parametrize("actor", ["guangdong", "member"])
async def test_only_an_admin_changes_roles_and_scopes(cast: Cast, actor: str) -> None:
    async with unchanged():
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await accounts.update_user(getattr(cast, actor), cast.member.user_id, role=Role.REGULATOR)


async def test_a_signed_download_link_stops_when_the_session_version_moves_on(cast: Cast) -> None:
    link = downloads.sign(
        Actor.of(await User.get(id=cast.member.user_id)), "/documents/1", [], secret=SECRET, ttl_seconds=60
    )
    signature = link.url.split("link=")[1]
    assert (
        downloads.verify(signature, "/documents/1", [], secret=SECRET, session_version=0)
        == cast.member.user_id
    )
    await accounts.deactivate_user(cast.admin, cast.member.user_id)
    version = (await User.get(id=cast.member.user_id)).session_version
    assert downloads.verify(signature, "/documents/1", [], secret=SECRET, session_version=version) is None


async def test_the_operator_cli_needs_no_account(cast: Cast) -> None:
    await accounts.deactivate_user(None, cast.admin.user_id)  # even the last admin: the CLI can undo it
    await accounts.reactivate_user(None, cast.admin.user_id)
    event = await AuditEvent.filter(entity_id=cast.admin.user_id, action="user.reactivated").get()
    assert event.actor_id is None


async def test_a_token_from_before_a_change_names_its_old_version(cast: Cast) -> None:
    token = await session_of(cast.member)
    claims = tokens.claims_from(token, SECRET)
    assert claims is not None and claims.session_version == 0
    await accounts.reset_password(cast.admin, cast.member.user_id)
    assert (await User.get(id=cast.member.user_id)).session_version == 1
    assert not await SignInThrottle.filter(
        key=throttle.Key("username", cast.member.username, ThrottlePolicy()).digest
    ).exists()
