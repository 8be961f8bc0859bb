"""The account lifecycle: deactivate, reactivate, reset or change a password, change a scope.

Who may do what is in services/identity/directory.py. Every change is one compare-and-set on
the user's `session_version`, which it also bumps (except reactivation, which has no session
to end): of two concurrent changes one wins and the other gets CONCURRENT_MODIFICATION, and
every token issued before the change stops working on the next request, and on an open
WebSocket within CCMS_SESSION_CHECK_SECONDS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import ApiToken, Role, User
from services import audit
from services.access import Actor, require_role
from services.errors import ErrorCode, ServiceError
from services.i18n.render import Term
from services.identity import passwords, throttle
from services.identity.directory import managed_user
from services.identity.users import Session, SignIn, check_scope, described, open_session, verify_password


def _concurrent() -> ServiceError:
    return ServiceError(ErrorCode.CONCURRENT_MODIFICATION, "The account changed meanwhile: reload and retry")


def _not_own(actor: Actor, user: User, what: str) -> None:
    if user.id == actor.user_id:
        raise ServiceError(
            ErrorCode.OWN_ACCOUNT, "You cannot {what} your own account", "id", params={"what": Term(what)}
        )


async def _change(user: User, actor: Actor | None, action: str, **values: Any) -> User:
    """Apply `values` and end the user's sessions, if nobody changed the account meanwhile."""
    async with in_transaction():
        updated = await User.filter(id=user.id, session_version=user.session_version).update(
            session_version=user.session_version + 1, **values
        )
        if updated != 1:
            raise _concurrent()
        before = described(user)
        await user.refresh_from_db()
        await audit.record(actor, action, user, data={"before": before, "after": described(user)})
    return user


async def deactivate_user(actor: Actor | None, user_id: int) -> User:
    """The user can no longer sign in, and every session and download link of theirs stops."""
    user = await _target(actor, user_id)
    if actor is not None:
        _not_own(actor, user, "deactivate")
    if not user.is_active:
        raise ServiceError(ErrorCode.USER_ALREADY_INACTIVE, "The account is already deactivated", "id")
    return await _change(user, actor, "user.deactivated", is_active=False)


async def reactivate_user(actor: Actor | None, user_id: int) -> User:
    """The user may sign in again, with the password they had."""
    user = await _target(actor, user_id)
    if user.is_active:
        raise ServiceError(ErrorCode.USER_ALREADY_ACTIVE, "The account is already active", "id")
    user = await _change(user, actor, "user.reactivated", is_active=True)
    await throttle.clear(user.username)
    return user


async def reset_password(actor: Actor | None, user_id: int) -> tuple[User, str]:
    """Give the user a one-time password, returned once and never stored in clear. Their
    sessions end, a sign-in lockout is lifted, and their next session may do nothing but
    choose a password of their own (mustChangePassword)."""
    user = await _target(actor, user_id)
    if actor is not None:
        _not_own(actor, user, "reset the password of (use changePassword for)")
    password = passwords.one_time_password()
    password_hash = await passwords.hash_password(password)
    user = await _change(
        user,
        actor,
        "user.password_reset",
        password_hash=password_hash,
        must_change_password=True,
        password_changed_at=datetime.now(UTC),
    )
    await throttle.clear(user.username)
    return user, password


async def change_password(actor: Actor, current: str, new: str, sign_in: SignIn) -> Session:
    """Replace the actor's own password, given the current one (checked, and throttled, like a
    sign-in). Every other session ends; the new one is returned."""
    user = await User.get(id=actor.user_id)
    await verify_password(user, current, sign_in, "currentPassword")
    passwords.check_policy(new, user.username, "newPassword")
    if new == current:
        raise ServiceError(
            ErrorCode.PASSWORD_UNCHANGED, "The new password must differ from the current one", "newPassword"
        )
    password_hash = await passwords.hash_password(new)
    user = await _change(
        user,
        actor,
        "user.password_changed",
        password_hash=password_hash,
        must_change_password=False,
        password_changed_at=datetime.now(UTC),
    )
    return open_session(user, sign_in.secret, sign_in.ttl_seconds)


async def update_user(
    actor: Actor | None,
    user_id: int,
    *,
    role: Role,
    region_prefix: str = "",
    enterprise_id: int | None = None,
    verification_body_id: int | None = None,
) -> User:
    """Set an account's role and scope (administrators). Sessions end when anything changed,
    and so do the user's API tokens: they were granted for the old scope."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    user = await _target(actor, user_id)
    if actor is not None:
        _not_own(actor, user, "change the role or scope of")
    region_prefix = await check_scope(role, region_prefix, enterprise_id, verification_body_id)
    scope = (role, region_prefix, enterprise_id, verification_body_id)
    if (user.role, user.region_prefix, user.enterprise_id, user.verification_body_id) == scope:
        return user
    async with in_transaction():
        user = await _change(
            user,
            actor,
            "user.updated",
            role=role,
            region_prefix=region_prefix,
            enterprise_id=enterprise_id,
            verification_body_id=verification_body_id,
        )
        revoked = await ApiToken.filter(user_id=user.id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )
        if revoked:
            await audit.record(actor, "user.api_tokens_revoked", user, data={"count": revoked})
    return user


async def _target(actor: Actor | None, user_id: int) -> User:
    """`actor=None` is the operator's CLI, which may manage every account."""
    if actor is None:
        user = await User.get_or_none(id=user_id) if user_id > 0 else None
        if user is None:
            raise ServiceError(ErrorCode.NOT_FOUND, "User not found", "id")
        return user
    return await managed_user(actor, user_id)
