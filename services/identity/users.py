"""Users, sign-in and the sessions they open."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Enterprise, Role, User, VerificationBody
from services import audit
from services.access import Actor, require_role
from services.codes import validate_region_prefix
from services.errors import ErrorCode, ServiceError, not_found
from services.i18n.render import Term
from services.identity import passwords, throttle, tokens
from services.identity.throttle import ThrottlePolicy
from services.orm import row_by_id
from services.values import MAX_ID

USERNAME = re.compile(r"[A-Za-z0-9_.@-]{3,64}")


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    user: User


@dataclass(frozen=True)
class SignIn:
    """Where an attempt comes from and how sign-ins are throttled (from Settings)."""

    secret: str
    ttl_seconds: int
    address: str | None = None
    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)


def open_session(user: User, secret: str, ttl_seconds: int) -> Session:
    token, expires_at = tokens.issue(user.id, secret, ttl_seconds, user.session_version)
    return Session(token, expires_at, user)


async def login(username: str, password: str, sign_in: SignIn) -> Session:
    """Check the password and issue a token.

    The error never says whether the user exists: an unknown, a deactivated and a real user
    with a wrong password go through the same steps (the throttle, one lookup, one argon2
    verification, one audit event) and get the same INVALID_CREDENTIALS. Too many failures
    for the username or the client address answer TOO_MANY_ATTEMPTS before any hashing.
    """
    name = username.strip()
    attempt = await throttle.admit(throttle.keys_for(name, sign_in.address, sign_in.policy))
    # A name no account can have is not looked up (a NUL byte would be an error on PostgreSQL).
    user = await User.get_or_none(username=name, is_active=True) if USERNAME.fullmatch(name) else None
    matches, rehash = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not matches:
        await _failed(attempt, name, sign_in.address, user)
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, "Wrong username or password")
    await attempt.succeeded()
    if rehash:  # hashed with older parameters than today's
        user.password_hash = await passwords.hash_password(password)
        await user.save(update_fields=["password_hash"])
    await audit.record(Actor.of(user), "user.signed_in", user, data={"address": sign_in.address})
    return open_session(user, sign_in.secret, sign_in.ttl_seconds)


async def _failed(attempt: throttle.Attempt, name: str, address: str | None, user: User | None) -> None:
    """Record a failed sign-in, and a lockout if this failure started one."""
    shown = name if USERNAME.fullmatch(name) else "(not a possible username)"
    subject: User | audit.Ref = user if user is not None else audit.Ref("User", 0)
    async with in_transaction():
        await audit.record(None, "user.sign_in_failed", subject, data={"username": shown, "address": address})
        for key in attempt.locked_out():
            await audit.record(
                None,
                "user.sign_in_locked",
                subject,
                data={
                    "username": shown,
                    "address": address,
                    "by": key.kind,
                    "seconds": key.policy.lockout_seconds,
                },
            )


async def verify_password(user: User, password: str, sign_in: SignIn, field: str) -> None:
    """Check a signed-in user's own password (to change it), throttled like a sign-in."""
    attempt = await throttle.admit(throttle.keys_for(user.username, sign_in.address, sign_in.policy))
    matches, _ = await passwords.verify(user.password_hash, password)
    if not matches:
        await _failed(attempt, user.username, sign_in.address, user)
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, "The current password is wrong", field)
    await attempt.succeeded()


async def user_for_token(token: str, secret: str) -> User | None:
    """The active user a valid token was issued to, if nothing has changed since (no password
    change, deactivation, or change of role, region or enterprise)."""
    claims = tokens.claims_from(token, secret)
    if claims is None or not 0 < claims.user_id <= MAX_ID:
        return None
    user = await row_by_id(User, claims.user_id)
    if user is None or not user.is_active or user.session_version != claims.session_version:
        return None
    return user


async def actor_for_token(token: str, secret: str) -> Actor | None:
    user = await user_for_token(token, secret)
    return Actor.of(user) if user else None


async def still_valid(user_id: int, session_version: int) -> bool:
    """Whether a session opened at `session_version` may go on (an open WebSocket asks)."""
    return await User.exists(id=user_id, is_active=True, session_version=session_version)


async def by_username(username: str) -> User:
    """An account by its sign-in name (the operator's CLI names accounts so)."""
    user = await User.get_or_none(username=username.strip()) if USERNAME.fullmatch(username.strip()) else None
    if user is None:
        raise not_found("User", "username")
    return user


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise ServiceError(
            ErrorCode.INVALID_USERNAME,
            "username must be 3-64 letters, digits or _ . @ -",
            "username",
        )
    return username


async def check_scope(
    role: Role, region_prefix: str, enterprise_id: int | None, verification_body_id: int | None = None
) -> str:
    """The role's scope rules: a regulator has a region prefix ('' is national), an enterprise
    user an enterprise and no prefix, a verifier a verification body and neither, an
    administrator none of them. Returns the clean prefix."""
    region_prefix = validate_region_prefix(region_prefix)
    if role == Role.VERIFIER:
        if verification_body_id is None:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE, "a verifier needs a verification body", "verificationBodyId"
            )
        if region_prefix or enterprise_id is not None:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE,
                "a verifier has no region prefix and no enterprise",
                "regionPrefix" if region_prefix else "enterpriseId",
            )
        if not 0 < verification_body_id <= MAX_ID or not await VerificationBody.exists(
            id=verification_body_id
        ):
            raise not_found("Verification body", "verificationBodyId")
        return region_prefix
    if verification_body_id is not None:
        raise ServiceError(
            ErrorCode.INVALID_ROLE_SCOPE,
            "a {role} is not bound to a verification body",
            "verificationBodyId",
            params={"role": Term(role.value)},
        )
    if role == Role.ENTERPRISE:
        if enterprise_id is None:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE, "an enterprise user needs an enterprise", "enterpriseId"
            )
        if region_prefix:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE, "an enterprise user has no region prefix", "regionPrefix"
            )
        if not 0 < enterprise_id <= MAX_ID or not await Enterprise.exists(id=enterprise_id):
            raise not_found("Enterprise", "enterpriseId")
    elif enterprise_id is not None:
        raise ServiceError(
            ErrorCode.INVALID_ROLE_SCOPE,
            "a {role} is not bound to an enterprise",
            "enterpriseId",
            params={"role": Term(role.value)},
        )
    elif role == Role.ADMIN and region_prefix:
        raise ServiceError(ErrorCode.INVALID_ROLE_SCOPE, "an admin has no region prefix", "regionPrefix")
    return region_prefix


async def create_user(
    actor: Actor | None,
    *,
    username: str,
    password: str,
    role: Role,
    region_prefix: str = "",
    enterprise_id: int | None = None,
    verification_body_id: int | None = None,
) -> User:
    """Create a user. `actor=None` is the operator's CLI, which needs no account."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    username = check_username(username)
    passwords.check_policy(password, username)
    region_prefix = await check_scope(role, region_prefix, enterprise_id, verification_body_id)
    if await User.exists(username=username):
        raise ServiceError(
            ErrorCode.DUPLICATE_USERNAME, "{username!r} is taken", "username", params={"username": username}
        )
    password_hash = await passwords.hash_password(password)
    try:
        async with in_transaction():
            user = await User.create(
                username=username,
                password_hash=password_hash,
                role=role,
                region_prefix=region_prefix,
                enterprise_id=enterprise_id,
                verification_body_id=verification_body_id,
                password_changed_at=datetime.now(UTC),
            )
            await audit.record(actor, "user.created", user, data=described(user))
    except IntegrityError:
        raise ServiceError(
            ErrorCode.DUPLICATE_USERNAME, "{username!r} is taken", "username", params={"username": username}
        ) from None
    return user


def described(user: User) -> dict[str, str | int | bool | None]:
    """What the audit trail keeps of an account: never the password or its hash."""
    return {
        "username": user.username,
        "role": user.role.value,
        "regionPrefix": user.region_prefix,
        "enterpriseId": user.enterprise_id,
        "verificationBodyId": user.verification_body_id,
        "isActive": user.is_active,
    }
