"""Shared fixtures: a migrated database per backend, users, uploads and a GraphQL client."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.contrib.test import _topological_sort_models

from api.app import create_app
from core import db as database
from core.settings import Settings
from models import Enterprise, Role, Sector, VerificationBody
from services.access import Actor
from services.codes import make_credit_code
from services.compliance.allowances import set_initial_allowance
from services.compliance.documents import FileStore
from services.energy.seeds import rows_of
from services.identity import tokens
from services.identity.users import create_user
from tests.backends import backends, create_pg_database, drop_pg_database

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SECRET = "test-secret-key-with-enough-entropy-0123456789"


@pytest.fixture(scope="session", params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture(scope="session")
async def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A database with every committed migration applied, once per backend and session."""
    if backend == "postgres":
        url = await create_pg_database()
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'ccms.sqlite3'}"
    # Tortoise caches prepared statements by connection name, not dialect: clear them when the
    # suite moves from one backend to the next in the same process.
    EXECUTOR_CACHE.clear()
    await database.migrate(url)
    await database.init_db(url)
    try:
        yield url
    finally:
        await Tortoise.close_connections()
        if backend == "postgres":
            await drop_pg_database(url)


@pytest_asyncio.fixture
async def db(database_url: str, backend: str) -> AsyncIterator[str]:
    """An empty, migrated database for one test. Yields the backend name."""
    try:
        yield backend
    finally:
        await empty_tables()


REFERENCE_TABLES = {
    "energy_types",
    "tce_coefficients",
    "products",
    "benchmarks",
    "emission_factors",
    "source_precedence",
    "tortoise_migrations",
}
SHIPPED_ENERGY_TYPES = ", ".join(f"'{r['code']}'" for r in rows_of("energy_types.csv"))


async def empty_tables() -> None:
    """Delete every row but the seeded reference data, which the migrations put there once."""
    models = [m for m in Tortoise.apps.get_models_iterable() if m._meta.db_table not in REFERENCE_TABLES]
    connection = Tortoise.get_connection("default")
    # In the reference tables a test may add to, keep what ccms migrate shipped. Those rows are
    # referenced by records and aggregates and refer to users: clear them in between.
    await connection.execute_script(
        "DELETE FROM energy_records; DELETE FROM energy_monthly; DELETE FROM energy_yearly; "
        "DELETE FROM emission_factors WHERE created_by_id IS NOT NULL; "
        f"DELETE FROM energy_types WHERE code NOT IN ({SHIPPED_ENERGY_TYPES})"
    )
    # Children before parents. Plain DELETE beats TRUNCATE on PostgreSQL for tables this
    # small (about 1 ms against 140 ms a test).
    await connection.execute_script(
        "; ".join(f'DELETE FROM "{m._meta.db_table}"' for m in _topological_sort_models(models))
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        var_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        upload_dir=tmp_path / "uploads",
        upload_max_bytes=64 * 1024,
        admin_password="admin-password",
        demo=False,
    )


@pytest.fixture
def files(settings: Settings) -> FileStore:
    return FileStore(settings.upload_dir, settings.upload_max_bytes)


class Upload:
    """An in-memory file with the interface of a multipart upload (a real value, not a mock)."""

    def __init__(self, data: bytes, filename: str = "document.pdf") -> None:
        self.data = data
        self.filename: str | None = filename  # as services.compliance.documents.Upload declares it
        self._offset = 0

    async def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self._offset + size
        chunk = self.data[self._offset : end]
        self._offset += len(chunk)
        return chunk


def pdf(name: str = "notice.pdf") -> Upload:
    return Upload(PDF, name)


_serial = itertools.count(1)


@dataclass
class World:
    """Builders for the usual cast: enterprises, regulators, enterprise users."""

    async def enterprise(
        self, region: str = "440113", sector: Sector = Sector.POWER, name: str | None = None
    ) -> Enterprise:
        n = next(_serial)
        return await Enterprise.create(
            name=name or f"Enterprise {n}",
            credit_code=make_credit_code(region, f"MA{n:06d}"),
            region_code=region,
            industry_code="4411",
            sector=sector,
        )

    async def user(
        self,
        role: Role,
        *,
        region_prefix: str = "",
        enterprise: Enterprise | None = None,
        body: VerificationBody | None = None,
    ) -> Actor:
        if role == Role.VERIFIER and body is None:
            body = await self.body()
        user = await create_user(
            None,
            username=f"{role.value.lower()}{next(_serial)}",
            password="password-123",
            role=role,
            region_prefix=region_prefix,
            enterprise_id=enterprise.id if enterprise else None,
            verification_body_id=body.id if body else None,
        )
        return Actor.of(user)

    async def body(
        self, sectors: tuple[Sector, ...] = (Sector.POWER,), *, active: bool = True, name: str | None = None
    ) -> VerificationBody:
        """A verification body accredited for these sectors."""
        n = next(_serial)
        return await VerificationBody.create(
            name=name or f"Verifier Body {n}",
            credit_code=make_credit_code("110105", f"MB{n:06d}"),
            accreditation_number=f"ACC-{n:04d}",
            sectors=[s.value for s in sectors],
            is_active=active,
        )

    async def verifier(self, body: VerificationBody | None = None) -> Actor:
        return await self.user(Role.VERIFIER, body=body)

    async def admin(self) -> Actor:
        return await self.user(Role.ADMIN)

    async def regulator(self, region_prefix: str = "44") -> Actor:
        return await self.user(Role.REGULATOR, region_prefix=region_prefix)

    async def member(self, enterprise: Enterprise) -> Actor:
        return await self.user(Role.ENTERPRISE, enterprise=enterprise)

    async def allowance(
        self, regulator: Actor, enterprise: Enterprise, amount: int = 100_000, year: int = 2025
    ) -> None:
        await set_initial_allowance(regulator, enterprise.id, year, amount)


@pytest.fixture
def world(db: str) -> World:
    return World()


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def token_for(actor: Actor) -> str:
    return tokens.issue(actor.user_id, SECRET, 3600)[0]


class GraphQLClient:
    """Talks to the real ASGI app (middleware, auth, uploads) without a socket."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        actor: Actor | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """`language`: the Accept-Language to send; without it the server's default (zh-CN) answers."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=self._headers(actor, language),
        )
        return response.json()

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        actor: Actor | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """A GraphQL multipart request: `files` maps a variable path (e.g. "input.document") to a file."""
        import json

        keys = list(files)
        operations = json.dumps({"query": query, "variables": variables})
        mapping = json.dumps({str(i): [f"variables.{key}"] for i, key in enumerate(keys)})
        response = await self.http.post(
            "/graphql",
            data={"operations": operations, "map": mapping},
            files={str(i): files[key] for i, key in enumerate(keys)},
            headers=self._headers(actor, language),
        )
        return response.json()

    @staticmethod
    def _headers(actor: Actor | None, language: str | None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {token_for(actor)}"} if actor else {}
        if language:
            headers["accept-language"] = language
        return headers


@pytest_asyncio.fixture
async def app(settings: Settings, db: str) -> Any:
    return create_app(settings, manage_db=False)


@pytest_asyncio.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccms.test"
    ) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
