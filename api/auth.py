"""Authentication: who is calling. Authorisation (what they may see) lives in services."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from core.logs import note_user
from models import TokenScope, User
from services.access import Actor
from services.identity import api_tokens
from services.identity.users import actor_for_token, user_for_token


def bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def session_user(connection: HTTPConnection, secret: str) -> User | None:
    """The user behind the request's bearer token, or None (anonymous or invalid token), also
    when the account must change its password first: GraphQL lets such a session read `me` and
    call changePassword (schema/permissions.py)."""
    token = bearer_token(connection.headers.get("authorization"))
    user = await user_for_token(token, secret) if token else None
    note_user(user.id if user else None)
    return user


async def authenticate_session(connection: HTTPConnection, secret: str) -> Actor | None:
    """As `session_user`, as the actor."""
    user = await session_user(connection, secret)
    return Actor.of(user) if user else None


async def authenticate(connection: HTTPConnection, secret: str) -> Actor | None:
    """For the HTTP routes besides /graphql: as `authenticate_session`, but a session that must
    change its password first opens nothing."""
    return _usable(await authenticate_session(connection, secret))


async def authenticate_api(connection: HTTPConnection, secret: str, scope: TokenScope) -> Actor | None:
    """For the machine routes (/export, /ingest): an API token of `scope`, or a session token,
    so that a signed-in browser can download too. None for anything else."""
    token = bearer_token(connection.headers.get("authorization"))
    if not token:
        return None
    if token.startswith(api_tokens.PREFIX):
        actor = await api_tokens.actor_for(token, scope)
    else:
        actor = _usable(await actor_for_token(token, secret))
    note_user(actor.user_id if actor else None)
    return actor


def _usable(actor: Actor | None) -> Actor | None:
    return None if actor is None or actor.must_change_password else actor
