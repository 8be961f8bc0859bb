"""Signed, expiring bearer tokens (HS256 JWTs carrying the user id and session version).

`sv` is the user's `session_version` when the token was issued. A password change, a
deactivation or a change of role, region or enterprise bumps the user's number, and a token
carrying an older one is refused on the next request (the user is loaded per request anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from services.values import MAX_ID

# session_version is a 32-bit INTEGER column: a larger claim names no session.
MAX_SESSION_VERSION = 2**31 - 1

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    user_id: int
    session_version: int
    expires_at: datetime


def issue(user_id: int, secret: str, ttl_seconds: int, session_version: int = 0) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    claims = {"sub": str(user_id), "sv": session_version, "iat": now, "exp": expires}
    return jwt.encode(claims, secret, ALGORITHM), expires


# A session token is checked on every request; verifying its signature was about a tenth of a
# small query's CPU. The same text always verifies the same way, so verified claims are kept by
# the token's text (bounded; expiry is still checked on every use). Longer texts are no token.
MAX_TOKEN_TEXT = 1024


def claims_from(token: str, secret: str) -> Claims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    claims = _verified(token, secret) if len(token) <= MAX_TOKEN_TEXT else None
    return claims if claims is not None and claims.expires_at > datetime.now(UTC) else None


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> Claims | None:
    """The claims of a token whose signature is right, expired or not."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"], "verify_exp": False},
        )
        version = claims.get("sv", 0)
        if not isinstance(version, int) or not 0 <= version <= MAX_SESSION_VERSION:
            return None
        if not isinstance(claims["exp"], int | float):
            return None
        user_id = int(claims["sub"])
        # A validly signed id beyond the column's range (2^63) would fail in the database.
        if not 0 < user_id <= MAX_ID:
            return None
        return Claims(user_id, version, datetime.fromtimestamp(claims["exp"], UTC))
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
        return None


def user_id_from(token: str, secret: str) -> int | None:
    """The user id of a valid, unexpired token; None for anything else."""
    claims = claims_from(token, secret)
    return claims.user_id if claims else None
