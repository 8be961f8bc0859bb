"""Database wiring: the Tortoise config, start-up and migrations."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

from asyncpg.exceptions import InterfaceError, OperatorInterventionError, PostgresConnectionError
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as run_migrations

from core.settings import database_url_from_env

MODEL_MODULES = ["models"]


async def _keep_session(connection: object) -> None:
    """What a pooled PostgreSQL connection needs on release, beyond the rollback of an open
    transaction that asyncpg always does: nothing. Its default reset (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) is one more round trip after every query, and the code keeps no
    session state: settings are SET LOCAL, locks are transaction locks, nothing LISTENs."""


def _connection(database_url: str) -> str | dict[str, Any]:
    if not database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def init_db(database_url: str) -> None:
    """Connect for the life of the process.

    The global fallback matters: uvicorn runs each request in a fresh context,
    where Tortoise's ContextVar would otherwise be empty.
    """
    _ensure_sqlite_dir(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every committed migration and seed missing reference data (both idempotent)."""
    from services.energy.seeds import seed_reference_data

    _ensure_sqlite_dir(database_url)
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        await seed_reference_data()
    finally:
        await Tortoise.close_connections()


# What a database that is down, restarting or out of reach raises (through Tortoise's wrappers):
# a refused or reset socket, a connection lost mid-query, "the database system is shutting down".
_UNAVAILABLE = (
    ConnectionError,  # refused, reset, aborted, broken pipe
    socket.gaierror,  # the host name does not resolve
    TimeoutError,
    DBConnectionError,
    PostgresConnectionError,
    OperatorInterventionError,
    InterfaceError,
)


def unavailable(error: BaseException) -> bool:
    """Whether `error`, or anything it was raised from, says the database cannot be reached
    (rather than that a statement was wrong): the request may succeed if retried later."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNAVAILABLE) or _unreachable(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _unreachable(error: BaseException) -> bool:
    # asyncpg trying several addresses raises a plain OSError("Multiple exceptions: ...").
    # Other OSErrors (a full disk under the upload store) are not the database's.
    return isinstance(error, OSError) and (
        error.errno in _UNREACHABLE or str(error).startswith("Multiple exceptions")
    )


_UNREACHABLE = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}


# For the `tortoise` CLI (makemigrations): see [tool.tortoise] in pyproject.toml.
TORTOISE_ORM = tortoise_config(database_url_from_env())
