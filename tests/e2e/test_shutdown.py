"""`ccms worker` and `ccms scheduler` stop within 10 s of SIGTERM to their process group, which
is what systemd and `docker stop` send: real processes, on SQLite and on PostgreSQL, with Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from tests.backends import (
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    postgres_available,
    redis_available,
)
from tests.e2e.deployment import Deployment, Process, claim_redis_db, redis_db
from tests.e2e.hardening import require

LIMIT_SECONDS = 10


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    require(redis_available(), "Redis")
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    env = {"REDIS_URL": redis_url, "CCMS_SWEEP_INTERVAL_SECONDS": "1"}
    database_url = None
    if request.param == "postgres":
        require(postgres_available(), "PostgreSQL")
        database_url = await create_pg_database("ccms_shutdown")
        env["DATABASE_URL"] = database_url
    running = Deployment(tmp_path_factory.mktemp(f"shutdown-{request.param}") / "var", env)
    try:
        running.migrate()
        yield running
    finally:
        running.close()
        if database_url is not None:
            await drop_pg_database(database_url)
        async with Redis.from_url(redis_url) as redis:
            await redis.flushdb()


def stop_group(process: Process) -> float:
    """SIGTERM to the whole process group; seconds until the process exited (or the limit + 1)."""
    started = time.monotonic()
    os.killpg(process.process.pid, signal.SIGTERM)
    try:
        process.process.wait(timeout=LIMIT_SECONDS + 1)
    except subprocess.TimeoutExpired:
        return LIMIT_SECONDS + 1
    return time.monotonic() - started


def group_is_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_worker_and_the_scheduler_stop_within_ten_seconds_of_sigterm_to_their_group(
    deployment: Deployment,
) -> None:
    worker = deployment.start("worker", ["worker", "--processes", "2", "--threads", "4"])
    scheduler = deployment.start_scheduler()
    deployment.wait_worker(worker)
    deployment.wait_scheduler(scheduler)
    time.sleep(2)  # a sweep or two, and the workers idle on their queue
    for process in (worker, scheduler):
        took = stop_group(process)
        assert took <= LIMIT_SECONDS, (
            f"{process.name} took over {LIMIT_SECONDS} s:\n{process.output()[-3000:]}"
        )
        deadline = time.monotonic() + 5
        while not group_is_gone(process.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert group_is_gone(process.process.pid), f"{process.name} left children behind"
