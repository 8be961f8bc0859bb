"""API tokens: long-lived bearer secrets for machines (a BI tool, a meter gateway).

A token acts for the user who created it, with that user's scope (a regulator's region, an
enterprise's own data), narrowed to the routes of its `TokenScope`; it never reaches GraphQL.
The secret is shown once, at creation: only its SHA-256 is stored. A fast hash is enough
because the secret is 256 random bits, not a password, and it is checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import ApiToken, Role, TokenScope, User
from services import audit
from services.access import Actor
from services.errors import ErrorCode, ServiceError, not_found
from services.values import aware, text

PREFIX = "ccms_"  # tells an API token from a session JWT, and makes a leaked one easy to grep for
SHOWN = 12  # characters kept in clear (`prefix`): "ccms_" and 7 of the 43 random ones
MAX_ACTIVE = 20
# last_used_at is a hint for people reviewing their tokens: one write a minute is precise
# enough, and a BI tool paging through an export must not write on every request.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _usable(now: datetime) -> Q:
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def is_active(token: ApiToken, now: datetime | None = None) -> bool:
    """Neither revoked nor expired."""
    now = now or datetime.now(UTC)
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


async def list_for(actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (an admin too: others' tokens are theirs to manage)."""
    return await ApiToken.filter(user_id=actor.user_id).order_by("-created_at", "-id")


async def create(
    actor: Actor, name: str, scope: TokenScope, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for the actor; returns the row and the secret, which is never available again."""
    name = text(name, "name", max_length=100)
    now = datetime.now(UTC)
    if expires_at is not None and aware(expires_at, "expiresAt") <= now:
        raise ServiceError(ErrorCode.INVALID_DATETIME, "expiresAt must be in the future", "expiresAt")
    secret = PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        # Lock the user's row (PostgreSQL) so two concurrent creations cannot both pass the limit.
        await User.filter(id=actor.user_id).select_for_update().first()
        if await ApiToken.filter(_usable(now), user_id=actor.user_id).count() >= MAX_ACTIVE:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS,
                "at most {MAX_ACTIVE} active API tokens a user: revoke one first",
                params={"MAX_ACTIVE": MAX_ACTIVE},
            )
        token = await ApiToken.create(
            user_id=actor.user_id,
            name=name,
            scope=scope,
            prefix=secret[:SHOWN],
            token_hash=_hash(secret),
            expires_at=expires_at,
        )
        await audit.record(actor, "api_token.created", token, data=_described(token))
    return token, secret


async def revoke(actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (an admin: anyone's, e.g. a leaked one). Takes effect at once."""
    async with in_transaction():
        query = ApiToken.filter(id=token_id)
        if actor.role != Role.ADMIN:
            query = query.filter(user_id=actor.user_id)
        token = await query.select_for_update().first()
        if token is None:  # someone else's looks missing, so ids reveal nothing
            raise not_found("API token", "id")
        # Guarded on revoked_at, so of two concurrent revocations exactly one is recorded.
        updated = await ApiToken.filter(id=token.id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )
        if updated != 1:
            raise ServiceError(ErrorCode.TOKEN_ALREADY_REVOKED, "the API token is already revoked", "id")
        await token.refresh_from_db()
        await audit.record(actor, "api_token.revoked", token, data=_described(token))
    return token


async def actor_for(token: str, scope: TokenScope) -> Actor | None:
    """The user a valid token of `scope` acts for; None if it is unknown, revoked, expired, of
    another scope, or its user is deactivated."""
    if not token.startswith(PREFIX):
        return None
    now = datetime.now(UTC)
    row = (
        await ApiToken.filter(_usable(now), token_hash=_hash(token), scope=scope)
        .select_related("user")
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if row.last_used_at is None or row.last_used_at <= now - TOUCH_EVERY:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return Actor.of(row.user)


def _described(token: ApiToken) -> dict[str, str | int | None]:
    """What the audit trail keeps of a token: never the secret or its hash."""
    return {
        "userId": token.user_id,
        "name": token.name,
        "scope": token.scope.value,
        "prefix": token.prefix,
        "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
    }
