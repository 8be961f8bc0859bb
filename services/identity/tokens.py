"""Signed, expiring bearer tokens (HS256 JWTs carrying the user id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


def issue(user_id: int, secret: str, ttl_seconds: int) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    token = jwt.encode({"sub": str(user_id), "iat": now, "exp": expires}, secret, ALGORITHM)
    return token, expires


def user_id_from(token: str, secret: str) -> int | None:
    """The user id of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
