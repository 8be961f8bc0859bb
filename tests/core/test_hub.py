"""The event hub: fan-out to every subscriber, a slow subscriber dropped without holding the
others back, and (against the real Redis) events crossing hub instances, RESYNC after a lost
connection, and a failed publish logged rather than raised.

No database. Every wait is bounded: a missing event fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import cast

import pytest
from redis.asyncio import Redis

from core.hub import MemoryHub, RedisHub, SubscriberTooSlow, Subscription
from services.live.events import Event, EventType
from tests.backends import REDIS_URL, redis_key, require_redis

WAIT = 5.0


def numbered(n: int) -> Event:
    return Event(EventType.NOTICE_ACKNOWLEDGED, enterprise_id=1, region_code="440113", notice_id=n)


async def receive(stream: AsyncIterator[Event]) -> Event:
    return await asyncio.wait_for(anext(stream), WAIT)


async def receive_notices(stream: AsyncIterator[Event], count: int) -> list[int | None]:
    return [(await receive(stream)).notice_id for _ in range(count)]


# -- in memory -------------------------------------------------------------------------------


async def test_every_subscriber_receives_every_event_in_order() -> None:
    hub = MemoryHub()
    streams = [aiter(hub.subscribe()) for _ in range(3)]

    for n in range(1, 4):
        await hub.publish(numbered(n))

    for stream in streams:
        assert await receive_notices(stream, 3) == [1, 2, 3]


async def test_publishing_without_subscribers_is_harmless() -> None:
    await MemoryHub().publish(numbered(1))


async def test_a_subscriber_that_falls_behind_is_dropped_while_the_others_keep_receiving() -> None:
    hub = MemoryHub(max_queue=2)
    slow = hub.subscribe()
    fast = aiter(hub.subscribe())

    received = []
    for n in range(1, 6):
        await hub.publish(numbered(n))
        received.append((await receive(fast)).notice_id)

    assert received == [1, 2, 3, 4, 5]
    assert slow not in hub.subscriptions
    behind = aiter(slow)
    with pytest.raises(SubscriberTooSlow):
        while True:  # what was queued, then the end: never more than the queue held
            assert (await receive(behind)).notice_id in {1, 2}


async def test_a_dropped_subscriber_receives_nothing_more() -> None:
    hub = MemoryHub(max_queue=1)
    slow = hub.subscribe()
    for n in range(1, 4):
        await hub.publish(numbered(n))
    assert slow.queue.qsize() == 1 and slow.queue.get_nowait() is None


async def test_a_subscriber_leaving_is_detached() -> None:
    hub = MemoryHub()
    subscription = hub.subscribe()
    async with contextlib.aclosing(cast(AsyncGenerator[Event, None], aiter(subscription))) as stream:
        await hub.publish(numbered(1))
        await receive(stream)
        assert subscription in hub.subscriptions
    assert subscription not in hub.subscriptions


async def test_a_subscriber_cancelled_while_waiting_is_detached() -> None:
    hub = MemoryHub()
    subscription = hub.subscribe()

    async def consume() -> None:
        async for _ in subscription:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)  # let it start waiting
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, WAIT)
    assert subscription not in hub.subscriptions


async def test_stopping_ends_every_subscriber_even_one_with_a_full_queue() -> None:
    hub = MemoryHub(max_queue=1)
    full = hub.subscribe()
    await hub.publish(numbered(1))
    idle = hub.subscribe()

    await asyncio.wait_for(hub.stop(), WAIT)

    assert hub.subscriptions == set()
    for subscription in (full, idle):
        # A stopping hub ends each stream cleanly: no SubscriberTooSlow, the loop just ends.
        await asyncio.wait_for(consume(subscription), WAIT)


async def consume(subscription: Subscription) -> list[object]:
    """Everything a subscription yields until it ends."""
    return [event async for event in subscription]


# -- Redis -----------------------------------------------------------------------------------

HubFactory = Callable[..., Awaitable[RedisHub]]


@pytest.fixture
async def redis_hubs() -> AsyncIterator[tuple[HubFactory, str]]:
    """Started RedisHubs on one channel of their own (the Redis server may be shared with other
    test runs), stopped at the end. Their connections carry a client name, so a test can cut
    exactly its own listener's connection."""
    require_redis()
    name = f"ccms-test-hub-{uuid.uuid4().hex[:8]}"
    url = f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}client_name={name}"
    channel = redis_key("test", name)
    hubs: list[RedisHub] = []

    async def start(*, listen: bool = True, hub_url: str = url) -> RedisHub:
        hub = RedisHub(hub_url, max_queue=16, retry_seconds=0.05, listen=listen)
        hub.channel = channel
        hubs.append(hub)
        await hub.start()
        return hub

    try:
        yield start, name
    finally:
        for hub in hubs:
            await asyncio.wait_for(hub.stop(), WAIT)


async def test_an_event_published_on_one_hub_reaches_the_subscribers_of_another(
    redis_hubs: tuple[HubFactory, str],
) -> None:
    start, _ = redis_hubs
    api_a, api_b = await start(), await start()
    worker = await start(listen=False)
    streams = [aiter(api_a.subscribe()), aiter(api_a.subscribe()), aiter(api_b.subscribe())]
    event = Event(EventType.APPLICATION_REVIEWED, 7, "440113", 9, {"rejectionReason": "报告未签字"})

    await worker.publish(event)

    for stream in streams:
        assert await receive(stream) == event


async def test_a_hub_hears_its_own_events_once_through_redis(redis_hubs: tuple[HubFactory, str]) -> None:
    start, _ = redis_hubs
    hub = await start()
    stream = aiter(hub.subscribe())

    await hub.publish(numbered(1))
    await hub.publish(numbered(2))

    assert await receive_notices(stream, 2) == [1, 2]


async def kill_listener(client_name: str) -> None:
    """Cut the hub's pub/sub connection from the server side, as a Redis restart would."""
    admin = Redis.from_url(REDIS_URL)
    try:
        ours = [c for c in await admin.client_list(_type="pubsub") if c.get("name") == client_name]
        assert len(ours) == 1, ours
        killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub", "ID", ours[0]["id"])
        assert killed == 1
    finally:
        await admin.aclose()


async def test_after_a_lost_connection_subscribers_are_told_to_resync_and_events_flow_again(
    redis_hubs: tuple[HubFactory, str],
) -> None:
    start, name = redis_hubs
    hub = await start()
    publisher = await start(listen=False)
    stream = aiter(hub.subscribe())
    await publisher.publish(numbered(1))
    assert (await receive(stream)).notice_id == 1

    await kill_listener(name)

    assert (await receive(stream)).type == EventType.RESYNC
    await publisher.publish(numbered(2))
    await publisher.publish(numbered(3))
    assert await receive_notices(stream, 2) == [2, 3]


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"type": "NOTICE_ARCHIVED"}',  # a type from a newer version, mid-deploy
        b'{"type": "RESYNC", "priority": 1}',  # a field from a newer version
        b'{"enterprise_id": 1}',
    ],
)
async def test_an_unreadable_message_is_skipped_without_dropping_the_connection(
    redis_hubs: tuple[HubFactory, str], raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    start, _ = redis_hubs
    hub = await start()
    stream = aiter(hub.subscribe())
    sender = Redis.from_url(REDIS_URL)
    try:
        with caplog.at_level(logging.WARNING, logger="core.hub"):
            await sender.publish(hub.channel, raw)
            await hub.publish(numbered(4))
            event = await receive(stream)
    finally:
        await sender.aclose()

    assert (event.type, event.notice_id) == (EventType.NOTICE_ACKNOWLEDGED, 4)  # no RESYNC, nothing lost
    assert [r.getMessage()[:30] for r in caplog.records] == ["ignoring an unreadable event o"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_publish_that_keeps_failing_is_logged_not_raised_and_becomes_a_resync(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = RedisHub(f"redis://127.0.0.1:{closed_port()}/0", listen=False, retry_seconds=0.01)
    subscription: Subscription = hub.subscribe(lambda event: True)
    try:
        with caplog.at_level(logging.WARNING, logger="core.hub"):
            await asyncio.wait_for(hub.publish(numbered(1)), WAIT)
        # This process's subscribers are told at once; the others before the next event.
        resync = subscription.queue.get_nowait()
        assert resync is not None and resync.type == EventType.RESYNC
        assert hub.unannounced_loss
    finally:
        await hub.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == hub.publish_attempts + 1, messages
    assert all("NOTICE_ACKNOWLEDGED" in message for message in messages)
    assert "lost: sending RESYNC" in messages[-1]


async def test_after_a_lost_event_every_process_gets_a_resync_before_the_next_event(
    redis_hubs: tuple[HubFactory, str],
) -> None:
    start, _ = redis_hubs
    api = await start()
    worker = await start(listen=False)
    stream = aiter(api.subscribe())
    worker.unannounced_loss = True  # as a publish that failed every attempt leaves it
    event = numbered(2)

    await worker.publish(event)

    assert (await receive(stream)).type == EventType.RESYNC
    assert await receive(stream) == event
    assert not worker.unannounced_loss


async def test_stopping_a_redis_hub_ends_its_listener_and_subscribers(
    redis_hubs: tuple[HubFactory, str],
) -> None:
    start, _ = redis_hubs
    hub = await start()
    subscription: Subscription = hub.subscribe()

    await hub.stop()

    assert hub.listener is not None and hub.listener.done()
    assert await asyncio.wait_for(consume(subscription), WAIT) == []
