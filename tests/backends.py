"""Which databases and services the suite runs against.

SQLite always. PostgreSQL and Redis whenever they answer (or CCMS_TEST_DATABASE_URL /
CCMS_TEST_REDIS_URL are set); under CI=true their absence is a failure, not a skip.
"""

from __future__ import annotations

import os
import socket
import uuid

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The maintenance database `postgres` exists on every server; test databases are created beside it.
PG_ADMIN_URL = os.environ.get("CCMS_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CCMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Names of what the suite creates on shared servers: databases `<prefix>_test_…`, `<prefix>_e2e_…`
# and so on, and Redis keys `<prefix>:…`. Two checkouts testing on one server at once choose two
# prefixes, and each one's clean-up then never touches the other's.
PREFIX = os.environ.get("CCMS_TEST_DB_PREFIX", "ccms")
if not PREFIX.replace("_", "").isalnum() or not PREFIX[0].isalpha():
    raise ValueError(f"CCMS_TEST_DB_PREFIX must be letters, digits and _, starting with a letter: {PREFIX!r}")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    netloc = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":")
    return host or "127.0.0.1", int(port or default_port)


def postgres_available() -> bool:
    return _answers(*_host_port(PG_ADMIN_URL, 5432))


def redis_available() -> bool:
    return _answers(*_host_port(REDIS_URL, 6379))


def require_redis() -> None:
    """Skip the calling test when Redis does not answer; under CI=true fail it instead."""
    if redis_available():
        return
    import pytest

    if CI:
        pytest.fail(f"CI=true but Redis does not answer at {REDIS_URL}")
    pytest.skip(f"Redis does not answer at {REDIS_URL}")


def backends() -> list[str]:
    found = ["sqlite"]
    if postgres_available():
        found.append("postgres")
    elif CI:
        raise RuntimeError(f"CI=true but PostgreSQL does not answer at {PG_ADMIN_URL}")
    return found


def database_name(kind: str) -> str:
    """`<CCMS_TEST_DB_PREFIX>_<kind>_<random>`, e.g. ccms_test_1f2e3d4c."""
    return f"{PREFIX}_{kind}_{uuid.uuid4().hex[:8]}".lower()


def redis_key(*parts: str) -> str:
    """A Redis key of the suite's own, under CCMS_TEST_DB_PREFIX."""
    return ":".join((PREFIX, *parts))


async def create_pg_database(kind: str = "test") -> str:
    """A fresh, uniquely named database (`database_name(kind)`); returns its URL."""
    import asyncpg

    name = database_name(kind)
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
