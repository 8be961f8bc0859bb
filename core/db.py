"""Database wiring: the Tortoise config, start-up and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
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


# For the `tortoise` CLI (makemigrations): see [tool.tortoise] in pyproject.toml.
TORTOISE_ORM = tortoise_config(database_url_from_env())
