"""No silent loss of events over a Redis restart: `ccms serve` on a `redis-server` this test
starts on a port of its own, a subscriber over a real WebSocket, and the server restarted under
them. The first event published after the restart must arrive, or a Resync in its place; on
SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import redis

from tests.backends import create_pg_database, drop_pg_database, postgres_available
from tests.e2e.deployment import Deployment, wait_for
from tests.e2e.hardening import ADMIN, Client, issue_notice, new_enterprise, new_regulator, require, signed_in
from tests.e2e.live import Subscriber
from tests.e2e.server import Server, free_port

EVENTS = """
subscription { noticeStatusChanged { __typename ... on NoticeStatusChange { noticeId event } } }
"""


class RedisServer:
    """A `redis-server` of the test's own: no persistence, so a restart starts empty."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


@contextmanager
def own_redis(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Live:
    server: Server
    redis: RedisServer


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def live(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Live]:
    require(shutil.which("redis-server") is not None, "redis-server")
    database_url = None
    with own_redis(tmp_path) as redis_server:
        env = {
            "CCMS_ADMIN_USERNAME": ADMIN[0],
            "CCMS_ADMIN_PASSWORD": ADMIN[1],
            "REDIS_URL": redis_server.url,
        }
        if request.param == "postgres":
            require(postgres_available(), "PostgreSQL")
            database_url = await create_pg_database("ccms_hub")
            env["DATABASE_URL"] = database_url
        deployment = Deployment(tmp_path / "var", env)
        try:
            deployment.migrate()
            yield Live(deployment.wait_api(deployment.start_api("api")), redis_server)
        finally:
            deployment.close()
            if database_url is not None:
                await drop_pg_database(database_url)


async def test_the_first_event_after_a_redis_restart_arrives_or_a_resync_does(live: Live) -> None:
    admin = await signed_in(live.server, *ADMIN)
    regulator: Client = await new_regulator(admin)
    subscriber = Subscriber(live.server.url, regulator.token, EVENTS)
    try:
        await subscriber.start()
        first = await issue_notice(regulator, (await new_enterprise(admin))["id"])
        arrived = await subscriber.next(timeout=10)
        assert arrived.data["noticeStatusChanged"]["noticeId"] == first

        live.redis.stop()
        live.redis.start()  # same port, empty, every connection to the old one gone
        # The listener's own reconnection announces itself: the stream was interrupted.
        reconnected = await subscriber.next(timeout=15)
        assert reconnected.data["noticeStatusChanged"]["__typename"] == "Resync"
        await asyncio.sleep(0.5)  # the listener's RESYNC is behind us: what comes next is new

        second = await issue_notice(regulator, (await new_enterprise(admin))["id"], year=2027)
        after = (await subscriber.next(timeout=10)).data["noticeStatusChanged"]
        assert after.get("noticeId") == second or after["__typename"] == "Resync", after
    finally:
        await subscriber.close()
        await regulator.aclose()
        await admin.aclose()
