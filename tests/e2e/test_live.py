"""Live updates and background jobs across real processes.

With PostgreSQL and Redis: two API replicas (`ccms serve --no-migrate` after one
`ccms migrate`), a dramatiq worker and a scheduler, all separate processes. Clients
speak graphql-transport-ws over real sockets. Then the embedded default: one
`ccms serve` on SQLite doing everything itself.

Time is simulated by moving `notices.ack_due_at` / `deadline` into the past with SQL.
Every wait is bounded polling; every process is stopped in a finally.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from tests.backends import (
    CI,
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    postgres_available,
    redis_available,
)
from tests.e2e.cast import ALARM_EVENTS, API, NOTICE_EVENTS
from tests.e2e.deployment import Deployment, Process, claim_redis_db, redis_db
from tests.e2e.live import Subscriber, refused_code
from tests.e2e.server import REPO, Server, serve

SWEEP_SECONDS = 1.0
MARGIN = 1.0  # on top of one sweep interval: publish, fan-out, a loaded 2-core machine
BRIEF_NOTICE_EVENTS = "subscription { noticeStatusChanged { ... on NoticeStatusChange { event newStatus } } }"
ADMIN = {"CCMS_ADMIN_USERNAME": "chief", "CCMS_ADMIN_PASSWORD": "chief-password"}
QUEUE = "dramatiq:default"  # dramatiq's Redis keys: the queue (a list) and its messages (a hash)


def _require(available: bool, what: str) -> None:
    if available:
        return
    if CI:
        pytest.fail(f"CI=true but {what} does not answer")
    pytest.skip(f"{what} does not answer")


# -- the Redis deployment ----------------------------------------------------------------


@dataclass
class Cluster:
    deployment: Deployment
    a: Server
    b: Server
    worker: Process
    scheduler: Process
    database_url: str
    redis_url: str

    def pg(self) -> Awaitable[asyncpg.Connection]:
        return asyncpg.connect(self.database_url.replace("postgres://", "postgresql://", 1))


@pytest_asyncio.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    _require(postgres_available(), "PostgreSQL")
    _require(redis_available(), "Redis")
    # A Redis database number of its own, found empty (CCMS_TEST_REDIS_DB=n forces one, flushed):
    # pub/sub and dramatiq's queues stay apart from other suites on the same server.
    redis_url = claim_redis_db(REDIS_URL, avoid=(0, redis_db(REDIS_URL)))
    database_url: str | None = None
    deployment: Deployment | None = None
    try:
        database_url = await create_pg_database("live")
        env = {
            **ADMIN,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CCMS_SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
        }
        deployment = Deployment(tmp_path_factory.mktemp("live") / "var", env)
        deployment.migrate()
        # Started together, as replicas are: only one of them seeds the admin.
        a, b = deployment.start_api("api-a"), deployment.start_api("api-b")
        worker, scheduler = deployment.start_worker(), deployment.start_scheduler()
        deployment.wait_api(a)
        deployment.wait_api(b)
        deployment.wait_worker(worker)
        deployment.wait_scheduler(scheduler)
        yield Cluster(deployment, a, b, worker, scheduler, database_url, redis_url)
    finally:
        if deployment is not None:
            deployment.close()
        if database_url is not None:
            await drop_pg_database(database_url)
        async with Redis.from_url(redis_url) as redis:
            await redis.flushdb()


@pytest_asyncio.fixture
async def apis(cluster: Cluster) -> AsyncIterator[tuple[API, API]]:
    a, b = API(cluster.a.url), API(cluster.b.url)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


@pytest_asyncio.fixture
async def subscribers() -> AsyncIterator[list[Subscriber]]:
    """Subscribers to close at the end of the test, whatever happens."""
    opened: list[Subscriber] = []
    try:
        yield opened
    finally:
        await asyncio.gather(*(s.close() for s in opened))


async def subscribe(
    opened: list[Subscriber], server: Server, token: str | None, query: str, **variables: Any
):
    subscriber = Subscriber(server.url, token, query, variables)
    opened.append(subscriber)
    return await subscriber.start()


def change(received: Any) -> dict:
    return received.data["noticeStatusChanged"]


_serial = iter(range(1, 1_000_000))


async def cast(api: API, region: str = "440113") -> tuple[str, str, str, str]:
    """admin token, an enterprise, its member's token and a regulator of its province."""
    n = next(_serial)
    admin = await api.login("chief", "chief-password")
    enterprise = await api.enterprise(admin, f"示范电厂 {n}", region)
    member = await api.user(admin, f"member_{n}", "ENTERPRISE", enterprise_id=enterprise)
    regulator = await api.user(admin, f"regulator_{n}", "REGULATOR", region_prefix=region[:2])
    return admin, enterprise, member, regulator


# -- 1. two API processes, one Redis -----------------------------------------------------


async def test_a_review_through_b_reaches_only_its_enterprise_on_a(
    cluster: Cluster, apis: tuple[API, API], subscribers: list[Subscriber]
) -> None:
    _, api_b = apis
    admin, enterprise, member, regulator = await cast(api_b)
    other = await api_b.enterprise(admin, "深圳另一家水泥厂", "440307")
    outsider = await api_b.user(admin, "live_outsider", "ENTERPRISE", enterprise_id=other)
    notice = await api_b.issue(regulator, enterprise, ack_hours=72)
    await api_b.acknowledge(member, notice)
    application = await api_b.submit(member, notice)

    mine = await subscribe(subscribers, cluster.a, member, NOTICE_EVENTS, id=notice)
    regional = await subscribe(subscribers, cluster.a, regulator, NOTICE_EVENTS)
    # Another document for the same event on the same process (its execution is shared
    # per document and variables, never across them).
    brief = await subscribe(subscribers, cluster.a, member, BRIEF_NOTICE_EVENTS)
    outsider_a = await subscribe(subscribers, cluster.a, outsider, NOTICE_EVENTS)
    outsider_b = await subscribe(subscribers, cluster.b, outsider, NOTICE_EVENTS)

    assert await api_b.review(regulator, application, "APPROVE") == "APPROVED"
    reviewed = time.time()
    for subscriber in (mine, regional):
        got = await subscriber.next(timeout=1.0)  # within 1 s of the mutation's answer
        assert got.at - reviewed < 1.0
        event = change(got)
        assert event["__typename"] == "NoticeStatusChange", event
        assert (event["noticeId"], event["enterpriseId"], event["event"]) == (
            notice,
            enterprise,
            "APPLICATION_REVIEWED",
        )
        assert (event["oldStatus"], event["newStatus"]) == ("UNDER_REVIEW", "FULFILLED")
        assert (event["applicationId"], event["applicationStatus"]) == (application, "APPROVED")
        assert datetime.fromisoformat(event["at"]).timestamp() <= got.at

    assert (await brief.next(timeout=1.0)).data == {
        "noticeStatusChanged": {"event": "APPLICATION_REVIEWED", "newStatus": "FULFILLED"}
    }

    # Nothing for the other enterprise's clients: the first event either receives is the
    # next one published (through B, so in order on the channel), its own notice.
    sentinel = await api_b.issue(regulator, other, ack_hours=72)
    for subscriber in (outsider_a, outsider_b):
        event = change(await subscriber.next(timeout=2.0))
        assert (event["event"], event["noticeId"], event["enterpriseId"]) == (
            "NOTICE_ISSUED",
            sentinel,
            other,
        )
    # The member's client follows one notice: the sentinel is not it.
    event = change(await regional.next(timeout=2.0))
    assert event["noticeId"] == sentinel
    assert mine.received.empty() and len(mine.history) == 1
    assert not any(s.errors for s in subscribers), [s.errors for s in subscribers]

    # No valid token, no connection: 4403, on either replica.
    assert await refused_code(cluster.a.url, "not-a-token") == 4403
    assert await refused_code(cluster.b.url, member[:-4] + "AAAA") == 4403
    assert await refused_code(cluster.a.url, "") == 4403


# -- 2. worker and scheduler processes ----------------------------------------------------


async def enqueue(cluster: Cluster, job: str, notice_id: str, times: int) -> None:
    """Send the job's dramatiq message `times` times from another process, as the API does."""
    code = (
        "import asyncio, sys\n"
        "from core.broker import broker_from, dispatcher_for\n"
        "from core.settings import Settings\n"
        "dispatch = dispatcher_for(broker_from(Settings.from_env()))\n"
        "for _ in range(int(sys.argv[3])):\n"
        "    asyncio.run(dispatch(sys.argv[1], (int(sys.argv[2]),), 0))\n"
    )
    env = {**cluster.deployment.env, "REDIS_URL": cluster.redis_url}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, job, notice_id, str(times)],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()


async def poll(condition: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


async def alarm_event(subscriber: Subscriber, notice: str, kind: str, timeout: float) -> float:
    """Waits for the alarm on the subscription; returns when it arrived (time.time())."""

    def match(data: dict) -> bool:
        alarm = data["alarmRaised"]
        return alarm["__typename"] == "Alarm" and (alarm["notice"]["id"], alarm["kind"]) == (notice, kind)

    return (await subscriber.next_matching(match, timeout)).at


async def alarm_events(subscriber: Subscriber, notice: str, kinds: set[str], timeout: float) -> None:
    """Waits for an alarm of each kind on the subscription, in whatever order they come."""
    deadline = time.monotonic() + timeout
    waiting = set(kinds)

    def match(data: dict) -> bool:
        alarm = data["alarmRaised"]
        return alarm["__typename"] == "Alarm" and alarm["notice"]["id"] == notice and alarm["kind"] in waiting

    while waiting:
        received = await subscriber.next_matching(match, deadline - time.monotonic())
        waiting.discard(received.data["alarmRaised"]["kind"])


async def move_into_past(cluster: Cluster, notice: str, *columns: str) -> float:
    """Sets the columns to a second ago; returns when that committed (time.time())."""
    connection = await cluster.pg()
    try:
        assignments = ", ".join(f"{column} = now() - interval '1 second'" for column in columns)
        updated = await connection.execute(f"UPDATE notices SET {assignments} WHERE id = $1", int(notice))
    finally:
        await connection.close()
    assert updated == "UPDATE 1"
    return time.time()


async def alarm_count(cluster: Cluster, notice: str, kind: str) -> int:
    connection = await cluster.pg()
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM alarms WHERE notice_id = $1 AND kind = $2", int(notice), kind
        )
    finally:
        await connection.close()


async def drained(redis: Redis) -> bool:
    """Every immediate message was processed and acknowledged."""
    return await redis.llen(QUEUE) == 0 and await redis.hlen(f"{QUEUE}.msgs") == 0


async def test_ack_overdue_is_raised_exactly_once_by_worker_and_scheduler(
    cluster: Cluster, apis: tuple[API, API], subscribers: list[Subscriber]
) -> None:
    deployment = cluster.deployment
    api_a, api_b = apis
    _, enterprise, member, regulator = await cast(api_b, "440606")
    alarms = await subscribe(subscribers, cluster.a, regulator, ALARM_EVENTS)
    redis = Redis.from_url(cluster.redis_url)
    try:
        # (a) The delayed check delivered twice (at-least-once), the sweep running as well.
        duplicated = await api_b.issue(regulator, enterprise, year=2021)
        moved = await move_into_past(cluster, duplicated, "ack_due_at")
        await enqueue(cluster, "check_acknowledgement", duplicated, times=2)
        arrived = await alarm_event(alarms, duplicated, "ACK_OVERDUE", SWEEP_SECONDS + MARGIN)
        assert arrived - moved <= SWEEP_SECONDS + MARGIN, f"{arrived - moved:.2f} s"
        await poll(lambda: drained(redis), 15, "both check_acknowledgement messages processed")
        assert await alarm_count(cluster, duplicated, "ACK_OVERDUE") == 1

        # (b) Redis flushed between issue and window end: the delayed message is gone,
        # the sweep alone finds the late notice in the database.
        lost = await api_b.issue(regulator, enterprise, year=2022)
        await redis.flushdb()
        moved = await move_into_past(cluster, lost, "ack_due_at")
        arrived = await alarm_event(alarms, lost, "ACK_OVERDUE", SWEEP_SECONDS + MARGIN)
        assert arrived - moved <= SWEEP_SECONDS + MARGIN, f"{arrived - moved:.2f} s"

        # (c) The worker SIGKILLed with jobs queued, the scheduler down too: nothing is lost,
        # the restarted worker alone raises the alarm and marks the notice overdue, once.
        queued = await api_b.issue(regulator, enterprise, year=2023)
        sentinel = await api_b.issue(regulator, enterprise, year=2024)
        await poll(lambda: drained(redis), 15, "the webhook jobs of the alarms so far processed")
        deployment.kill(cluster.worker)
        deployment.kill(cluster.scheduler)
        await move_into_past(cluster, queued, "ack_due_at", "deadline")
        await enqueue(cluster, "check_acknowledgement", queued, times=2)
        await enqueue(cluster, "mark_overdue", queued, times=2)
        assert await redis.llen(QUEUE) == 4
        assert await alarm_count(cluster, queued, "ACK_OVERDUE") == 0
        cluster.worker = deployment.start_worker("worker-restarted")
        await asyncio.to_thread(deployment.wait_worker, cluster.worker)
        # Its threads run the two jobs side by side: either alarm may come first.
        await alarm_events(alarms, queued, {"ACK_OVERDUE", "NOTICE_OVERDUE"}, 20)
        await poll(lambda: drained(redis), 15, "the queued jobs processed by the restarted worker")
        # The scheduler comes back: its sweep finds the sentinel (late while nothing ran)
        # and must find nothing left to do for the notice the worker handled.
        await move_into_past(cluster, sentinel, "ack_due_at")
        cluster.scheduler = deployment.start_scheduler("scheduler-restarted")
        await alarm_event(alarms, sentinel, "ACK_OVERDUE", 15)

        seen = await api_b.notice(member, queued)
        assert seen["status"] == "OVERDUE"
        overdue_messages = [
            m for m in await api_a.messages(member) if m["kind"] == "OVERDUE" and m["notice"]["id"] == queued
        ]
        assert len(overdue_messages) == 1
        # Exactly once, in the database, in `alarms` and on the subscription.
        listed = Counter((a["notice"]["id"], a["kind"]) for a in await api_a.alarms(regulator))
        streamed = Counter(
            (e.data["alarmRaised"]["notice"]["id"], e.data["alarmRaised"]["kind"])
            for e in alarms.history
            if e.data["alarmRaised"]["__typename"] == "Alarm"
        )
        expected = Counter(
            {
                (duplicated, "ACK_OVERDUE"): 1,
                (lost, "ACK_OVERDUE"): 1,
                (queued, "ACK_OVERDUE"): 1,
                (queued, "NOTICE_OVERDUE"): 1,
                (sentinel, "ACK_OVERDUE"): 1,
            }
        )
        assert listed == expected
        assert streamed == expected, alarms.history
        for notice, kind in expected:
            assert await alarm_count(cluster, notice, kind) == 1
        assert not alarms.errors, alarms.errors
        # Every job ran at its first attempt: none failed (e.g. before the worker's database was up).
        for process in (cluster.worker, cluster.scheduler):
            assert "Traceback" not in process.output(), process.output()
    except BaseException:
        print(deployment.outputs())
        raise
    finally:
        await redis.aclose()


async def test_subscribers_are_told_to_resync_when_the_hub_loses_redis(
    cluster: Cluster, apis: tuple[API, API], subscribers: list[Subscriber]
) -> None:
    _, api_b = apis
    _, enterprise, member, regulator = await cast(api_b, "440307")
    notice = await api_b.issue(regulator, enterprise, ack_hours=72)
    on_a = await subscribe(subscribers, cluster.a, member, NOTICE_EVENTS, id=notice)
    on_b = await subscribe(subscribers, cluster.b, regulator, ALARM_EVENTS)

    async with Redis.from_url(cluster.redis_url) as redis:
        # What `CLIENT KILL TYPE pubsub` does, limited to this deployment's listeners so that
        # other suites sharing the Redis server keep theirs.
        db = redis_db(cluster.redis_url)
        listeners = [c for c in await redis.client_list(_type="pubsub") if int(c["db"]) == db]
        assert len(listeners) >= 2, listeners  # one per API process
        for client in listeners:
            await redis.client_kill_filter(_id=client["id"])

    assert change(await on_a.next(timeout=5))["__typename"] == "Resync"
    assert (await on_b.next(timeout=5)).data["alarmRaised"]["__typename"] == "Resync"
    # The listeners are back: a change made through B reaches A again.
    await api_b.acknowledge(member, notice)
    event = change(await on_a.next(timeout=2))
    assert (event["event"], event["newStatus"]) == ("NOTICE_ACKNOWLEDGED", "ACKNOWLEDGED")


# -- 3. the embedded default: one process, SQLite, no Redis --------------------------------


def _sqlite_move_into_past(database: Path, notice: str) -> None:
    """What time passing does, written the way Tortoise stores datetimes on SQLite."""
    with sqlite3.connect(database, timeout=10) as connection:
        (stored,) = connection.execute(
            "SELECT ack_due_at FROM notices WHERE id = ?", (int(notice),)
        ).fetchone()
        past = datetime.now(UTC) - timedelta(seconds=1)
        value = past.isoformat(sep=" " if " " in str(stored) else "T", timespec="microseconds")
        updated = connection.execute("UPDATE notices SET ack_due_at = ? WHERE id = ?", (value, int(notice)))
        assert updated.rowcount == 1
    connection.close()


async def test_the_embedded_server_does_it_all_in_one_process(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = {**ADMIN, "CCMS_DEMO": "0", "CCMS_SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS)}
    opened: list[Subscriber] = []
    with serve(var_dir, env) as server:
        api = API(server.url)
        try:
            _, enterprise, member, regulator = await cast(api)
            notice = await api.issue(regulator, enterprise, ack_hours=72)
            await api.acknowledge(member, notice)
            application = await api.submit(member, notice)
            mine = await subscribe(opened, server, member, NOTICE_EVENTS, id=notice)
            alarms = await subscribe(opened, server, regulator, ALARM_EVENTS)

            assert await api.review(regulator, application, "APPROVE") == "APPROVED"
            reviewed = time.time()
            got = await mine.next(timeout=1.0)
            event = change(got)
            assert (event["event"], event["newStatus"], event["applicationStatus"]) == (
                "APPLICATION_REVIEWED",
                "FULFILLED",
                "APPROVED",
            )
            assert got.at - reviewed < 1.0

            late = await api.issue(regulator, enterprise, year=2024)
            _sqlite_move_into_past(var_dir / "ccms.sqlite3", late)
            moved = time.time()
            arrived = await alarm_event(alarms, late, "ACK_OVERDUE", SWEEP_SECONDS + MARGIN)
            assert arrived - moved <= SWEEP_SECONDS + MARGIN, f"{arrived - moved:.2f} s"
            # Another late notice, found by a later sweep, which must not raise the first again.
            sentinel = await api.issue(regulator, enterprise, year=2023)
            _sqlite_move_into_past(var_dir / "ccms.sqlite3", sentinel)
            await alarm_event(alarms, sentinel, "ACK_OVERDUE", SWEEP_SECONDS + MARGIN)
            listed = Counter((a["notice"]["id"], a["kind"]) for a in await api.alarms(regulator))
            assert listed == Counter({(late, "ACK_OVERDUE"): 1, (sentinel, "ACK_OVERDUE"): 1})
            assert len(alarms.history) == 2 and not alarms.errors and not mine.errors
        except BaseException:
            print(server.output())
            raise
        finally:
            await asyncio.gather(*(s.close() for s in opened))
            await api.aclose()
