"""A database outage over HTTP: `ccms serve` reaches PostgreSQL through a TCP relay the test
owns, the relay is cut (nothing listens on its port any more, open connections are reset), and
every route answers JSON with SERVICE_UNAVAILABLE and HTTP 503, never plain text. When the relay
is back, the same requests succeed again without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from tests.backends import (
    PG_ADMIN_URL,
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    postgres_available,
    redis_available,
)
from tests.e2e.deployment import Deployment, claim_redis_db, redis_db
from tests.e2e.hardening import ADMIN, require
from tests.e2e.server import Server, free_port

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code } } }"


class Relay:
    """A TCP relay on a port of its own to PostgreSQL, in a thread with its own event loop."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def _run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)  # type: ignore[arg-type]

    def start(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        """Stop listening and reset every open connection."""
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(Exception):
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


@dataclass
class Outage:
    server: Server
    relay: Relay
    token: str


def _pg_target() -> tuple[str, int]:
    from urllib.parse import urlparse

    url = urlparse(PG_ADMIN_URL)
    return url.hostname or "127.0.0.1", url.port or 5432


@pytest_asyncio.fixture(scope="module")
async def outage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Outage]:
    require(postgres_available(), "PostgreSQL")
    require(redis_available(), "Redis")
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    database_url = await create_pg_database("ccms_outage")
    relay = Relay(_pg_target())
    relay.start()
    host, port = _pg_target()
    relayed = database_url.replace(f"{host}:{port}", f"127.0.0.1:{relay.port}", 1)
    assert relayed != database_url, database_url
    env = {
        "CCMS_ADMIN_USERNAME": ADMIN[0],
        "CCMS_ADMIN_PASSWORD": ADMIN[1],
        "DATABASE_URL": relayed,
        "REDIS_URL": redis_url,
    }
    deployment = Deployment(tmp_path_factory.mktemp("outage") / "var", env)
    try:
        deployment.migrate()
        server = deployment.wait_api(deployment.start_api("api"))
        response = httpx.post(
            f"{server.url}/graphql", json={"query": LOGIN, "variables": {"u": ADMIN[0], "p": ADMIN[1]}}
        )
        yield Outage(server, relay, response.json()["data"]["login"]["token"])
    finally:
        deployment.close()
        relay.close()
        await drop_pg_database(database_url)
        async with Redis.from_url(redis_url) as redis:
            await redis.flushdb()


@contextlib.contextmanager
def database_down(relay: Relay) -> Iterator[None]:
    relay.cut()
    try:
        yield
    finally:
        relay.start()


def requests(outage: Outage) -> list[tuple[str, httpx.Request]]:
    """One request per route that reads the database, each as a signed-in client sends it."""
    bearer = {"authorization": f"Bearer {outage.token}"}
    url = outage.server.url
    return [
        (
            "token check",
            httpx.Request("POST", f"{url}/graphql", json={"query": "{ me { username } }"}, headers=bearer),
        ),
        (
            "login",
            httpx.Request("POST", f"{url}/graphql", json={"query": LOGIN, "variables": {"u": "x", "p": "y"}}),
        ),
        ("export", httpx.Request("GET", f"{url}/export/statistics.csv?groupBy=YEAR", headers=bearer)),
        ("json export", httpx.Request("GET", f"{url}/export/statistics.json?groupBy=YEAR", headers=bearer)),
        ("document", httpx.Request("GET", f"{url}/documents/1", headers=bearer)),
        (
            "energy csv",
            httpx.Request(
                "POST", f"{url}/import/energy.csv", content=b"credit_code,period\n", headers=bearer
            ),
        ),
        (
            "history csv",
            httpx.Request("POST", f"{url}/import/history.csv", content=b"credit_code,year\n", headers=bearer),
        ),
        ("ingest", httpx.Request("POST", f"{url}/ingest/energy", json={"records": []}, headers=bearer)),
    ]


def test_every_route_answers_a_coded_503_while_the_database_is_down_and_recovers(outage: Outage) -> None:
    with httpx.Client(timeout=30) as client:
        for name, request in requests(outage):
            assert client.send(request).status_code != 503, name  # up: anything but unavailable
        with database_down(outage.relay):
            for name, request in requests(outage):
                response = client.send(request)
                assert response.status_code == 503, (name, response.status_code, response.text[:300])
                assert response.headers["content-type"].startswith("application/json"), name
                assert response.headers["retry-after"], name
                body = response.json()
                code = (
                    body["errors"][0]["extensions"]["code"]
                    if "/graphql" in str(request.url)
                    else body["code"]
                )
                assert code == "SERVICE_UNAVAILABLE", (name, body)
            health = client.get(f"{outage.server.url}/health")
            assert (health.status_code, health.json()["database"]) == (503, "down")
        # Back without a restart: the pool reconnects.
        for name, request in requests(outage):
            assert client.send(request).status_code != 503, name
        me = client.post(
            f"{outage.server.url}/graphql",
            json={"query": "{ me { username } }"},
            headers={"authorization": f"Bearer {outage.token}"},
        )
        assert me.json()["data"]["me"]["username"] == ADMIN[0]
