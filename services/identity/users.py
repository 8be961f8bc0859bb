"""Users, passwords and sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError

from models import Enterprise, Role, User
from services.access import Actor, require_role
from services.codes import validate_region_prefix
from services.errors import ErrorCode, ServiceError, not_found
from services.identity import tokens

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both failures take as long.
_DUMMY_HASH = _hasher.hash("not a real password")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    user: User


async def login(username: str, password: str, *, secret: str, ttl_seconds: int) -> Session:
    """Check the password and issue a token. The error never says whether the user exists."""
    user = await User.get_or_none(username=username.strip(), is_active=True)
    if not _verify(user.password_hash if user else _DUMMY_HASH, password) or user is None:
        raise ServiceError(ErrorCode.INVALID_CREDENTIALS, "Wrong username or password")
    token, expires_at = tokens.issue(user.id, secret, ttl_seconds)
    return Session(token, expires_at, user)


async def actor_for_token(token: str, secret: str) -> Actor | None:
    user_id = tokens.user_id_from(token, secret)
    if user_id is None:
        return None
    user = await User.get_or_none(id=user_id, is_active=True)
    return Actor.of(user) if user else None


async def create_user(
    actor: Actor | None,
    *,
    username: str,
    password: str,
    role: Role,
    region_prefix: str = "",
    enterprise_id: int | None = None,
) -> User:
    """Create a user. `actor=None` is the operator's CLI, which needs no account."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    username = username.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,64}", username):
        raise ServiceError(
            ErrorCode.INVALID_USERNAME,
            "username must be 3-64 letters, digits or _ . @ -",
            "username",
        )
    if len(password) < MIN_PASSWORD:
        raise ServiceError(
            ErrorCode.WEAK_PASSWORD, f"password must have at least {MIN_PASSWORD} characters", "password"
        )
    region_prefix = validate_region_prefix(region_prefix)
    if role == Role.ENTERPRISE:
        if enterprise_id is None:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE, "an enterprise user needs an enterprise", "enterpriseId"
            )
        if region_prefix:
            raise ServiceError(
                ErrorCode.INVALID_ROLE_SCOPE, "an enterprise user has no region prefix", "regionPrefix"
            )
        if not await Enterprise.exists(id=enterprise_id):
            raise not_found("Enterprise", "enterpriseId")
    elif enterprise_id is not None:
        raise ServiceError(
            ErrorCode.INVALID_ROLE_SCOPE,
            f"a {role.value.lower()} is not bound to an enterprise",
            "enterpriseId",
        )
    elif role == Role.ADMIN and region_prefix:
        raise ServiceError(ErrorCode.INVALID_ROLE_SCOPE, "an admin has no region prefix", "regionPrefix")
    if await User.exists(username=username):
        raise ServiceError(ErrorCode.DUPLICATE_USERNAME, f"{username!r} is taken", "username")
    try:
        return await User.create(
            username=username,
            password_hash=hash_password(password),
            role=role,
            region_prefix=region_prefix,
            enterprise_id=enterprise_id,
        )
    except IntegrityError:
        raise ServiceError(ErrorCode.DUPLICATE_USERNAME, f"{username!r} is taken", "username") from None
