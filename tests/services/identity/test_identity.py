"""Users, passwords, sign-in and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import pytest

from models import Role, User
from services.access import Actor
from services.errors import ErrorCode
from services.identity import tokens
from services.identity.users import SignIn, actor_for_token, create_user, login
from tests.conftest import SECRET, World
from tests.services.cycle import fails_with, unchanged

TTL = 3600


async def make(actor: Actor | None = None, **values: object) -> User:
    fields: dict[str, object] = {"username": "alice", "password": "correct horse", "role": Role.REGULATOR}
    fields.update(values)
    return await create_user(actor, **fields)  # type: ignore[arg-type]


async def test_a_regulator_is_created_with_a_hashed_password_and_a_region(world: World) -> None:
    user = await make(region_prefix="44")
    stored = await User.get(id=user.id)
    assert (stored.username, stored.role, stored.region_prefix, stored.enterprise_id) == (
        "alice",
        Role.REGULATOR,
        "44",
        None,
    )
    assert stored.is_active
    assert "correct horse" not in stored.password_hash
    assert stored.password_hash.startswith("$argon2")


async def test_an_enterprise_user_is_bound_to_its_enterprise(world: World) -> None:
    enterprise = await world.enterprise()
    user = await make(role=Role.ENTERPRISE, enterprise_id=enterprise.id)
    assert Actor.of(user) == Actor(user.id, "alice", Role.ENTERPRISE, "", enterprise.id)


async def test_an_admin_may_create_users_and_the_username_is_trimmed(world: World) -> None:
    admin = await world.admin()
    user = await make(admin, username="  bob.smith@example_1-a  ")
    assert user.username == "bob.smith@example_1-a"


@pytest.mark.parametrize(
    ("role", "region_prefix", "with_enterprise", "field"),
    [
        (Role.ADMIN, "44", False, "regionPrefix"),
        (Role.ADMIN, "", True, "enterpriseId"),
        (Role.REGULATOR, "44", True, "enterpriseId"),
        (Role.ENTERPRISE, "", False, "enterpriseId"),
        (Role.ENTERPRISE, "44", True, "regionPrefix"),
    ],
)
async def test_role_and_scope_must_agree(
    world: World, role: Role, region_prefix: str, with_enterprise: bool, field: str
) -> None:
    enterprise = await world.enterprise()
    async with unchanged():
        with fails_with(ErrorCode.INVALID_ROLE_SCOPE, field):
            await make(
                role=role,
                region_prefix=region_prefix,
                enterprise_id=enterprise.id if with_enterprise else None,
            )


async def test_an_enterprise_user_needs_an_existing_enterprise(world: World) -> None:
    enterprise = await world.enterprise()
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
            await make(role=Role.ENTERPRISE, enterprise_id=enterprise.id + 1000)


async def test_a_regulator_scope_must_be_a_region_prefix(world: World) -> None:
    with fails_with(ErrorCode.INVALID_REGION_CODE, "regionPrefix"):
        await make(region_prefix="99")
    assert await User.all().count() == 0


@pytest.mark.parametrize(
    "password",
    ["", "short", "123456789", "alice", "ALICE", "1234567890", "Password123", "QWERTYUIOP", "woaini1314"],
    ids=[
        "empty",
        "short",
        "nine",
        "the username",
        "the username shouting",
        "digits",
        "common",
        "common shouting",
        "common in Chinese",
    ],
)
async def test_a_password_needs_ten_characters_and_is_neither_the_username_nor_common(
    world: World, password: str
) -> None:
    with fails_with(ErrorCode.WEAK_PASSWORD, "password"):
        await make(password=password, username="alice")
    assert await User.all().count() == 0


async def test_a_password_may_not_be_the_username_even_when_that_is_long(world: World) -> None:
    with fails_with(ErrorCode.WEAK_PASSWORD, "password"):
        await make(username="hydropower.station", password="Hydropower.Station")


async def test_ten_uncommon_characters_are_enough(world: World) -> None:
    assert await make(password="ten chars!")


@pytest.mark.parametrize("username", ["ab", "a b", "名字名字", "x" * 65, "alice!", ""])
async def test_a_username_is_three_to_sixty_four_plain_characters(world: World, username: str) -> None:
    with fails_with(ErrorCode.INVALID_USERNAME, "username"):
        await make(username=username)
    assert await User.all().count() == 0


async def test_a_username_is_taken_once(world: World) -> None:
    await make(username="alice")
    async with unchanged():
        with fails_with(ErrorCode.DUPLICATE_USERNAME, "username"):
            await make(username=" alice ", role=Role.ADMIN)


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ENTERPRISE])
async def test_only_an_admin_may_create_users(world: World, role: Role) -> None:
    enterprise = await world.enterprise()
    actor = await world.regulator() if role == Role.REGULATOR else await world.member(enterprise)
    async with unchanged():
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await make(actor, username="mallory", role=Role.ADMIN)


async def test_login_returns_a_token_that_decodes_to_the_user(world: World) -> None:
    user = await make(region_prefix="44")
    before = datetime.now(UTC)
    session = await login(" alice ", "correct horse", SignIn(SECRET, TTL))
    assert session.user.id == user.id
    assert tokens.user_id_from(session.token, SECRET) == user.id
    assert (
        before + timedelta(seconds=TTL - 5)
        <= session.expires_at
        <= datetime.now(UTC) + timedelta(seconds=TTL)
    )
    assert await actor_for_token(session.token, SECRET) == Actor(user.id, "alice", Role.REGULATOR, "44", None)


async def test_a_wrong_password_and_an_unknown_user_fail_alike(world: World) -> None:
    await make()
    with fails_with(ErrorCode.INVALID_CREDENTIALS) as wrong_password:
        await login("alice", "wrong horse", SignIn(SECRET, TTL))
    with fails_with(ErrorCode.INVALID_CREDENTIALS) as unknown_user:
        await login("nobody", "correct horse", SignIn(SECRET, TTL))
    assert wrong_password.value.message == unknown_user.value.message
    assert wrong_password.value.field == unknown_user.value.field is None


async def test_an_inactive_user_can_neither_log_in_nor_use_an_earlier_token(world: World) -> None:
    user = await make()
    session = await login("alice", "correct horse", SignIn(SECRET, TTL))
    await User.filter(id=user.id).update(is_active=False)
    with fails_with(ErrorCode.INVALID_CREDENTIALS) as error:
        await login("alice", "correct horse", SignIn(SECRET, TTL))
    assert error.value.message == "Wrong username or password"
    assert await actor_for_token(session.token, SECRET) is None


async def test_an_expired_token_is_rejected(world: World) -> None:
    user = await make()
    token, expires_at = tokens.issue(user.id, SECRET, -1)
    assert expires_at < datetime.now(UTC)
    assert tokens.user_id_from(token, SECRET) is None
    assert await actor_for_token(token, SECRET) is None


async def test_a_token_that_expires_after_it_was_first_accepted_is_refused_from_then_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make()
    token, expires_at = tokens.issue(user.id, SECRET, TTL)
    assert tokens.user_id_from(token, SECRET) == user.id  # verified once, and remembered

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:
            return cls.fromtimestamp(expires_at.timestamp() + 1, tz)

    monkeypatch.setattr(tokens, "datetime", Later)
    assert tokens.user_id_from(token, SECRET) is None


async def test_a_token_signed_with_another_key_or_altered_is_rejected(world: World) -> None:
    user = await make()
    token, _ = tokens.issue(user.id, SECRET, TTL)
    assert tokens.user_id_from(token, "another-secret-key-with-enough-entropy-987654") is None
    header, payload, signature = token.split(".")
    assert tokens.user_id_from(f"{header}.{payload}.{signature[::-1]}", SECRET) is None
    assert tokens.user_id_from("not a token", SECRET) is None


async def test_a_token_of_a_deleted_user_names_nobody(world: World) -> None:
    token, _ = tokens.issue(424242, SECRET, TTL)
    assert tokens.user_id_from(token, SECRET) == 424242
    assert await actor_for_token(token, SECRET) is None


@pytest.mark.parametrize("user_id", [0, -1, 2**31, 2**63])
def test_a_signed_token_naming_a_user_id_no_column_can_hold_names_nobody(user_id: int) -> None:
    token, _ = tokens.issue(user_id, SECRET, TTL)
    assert tokens.claims_from(token, SECRET) is None


def test_a_signed_token_with_a_session_version_past_the_column_names_nobody() -> None:
    token, _ = tokens.issue(1, SECRET, TTL, session_version=2**63)
    assert tokens.claims_from(token, SECRET) is None
