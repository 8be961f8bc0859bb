"""Jobs on dramatiq: the broker from Settings, and the services' dispatcher sending a job's ids
to the actor of its name, with the delay (capped below the Redis broker's limit; the job
re-checks when woken).

Sent to dramatiq's stub broker; tests/workers/test_worker.py runs them through a worker.
"""

from __future__ import annotations

import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis

from core.broker import MAX_DELAY_MS, QUEUE, broker_from, dispatcher_for
from core.settings import Settings


@pytest.fixture
def broker() -> StubBroker:
    broker = StubBroker()
    broker.declare_queue(QUEUE)
    return broker


def sent(broker: StubBroker, queue: str) -> list[Message]:
    return [Message.decode(raw) for raw in list(broker.queues[queue].queue)]


def test_the_broker_is_redis_when_configured_and_a_stub_otherwise() -> None:
    assert isinstance(broker_from(Settings(redis_url="redis://127.0.0.1:6379/14")), RedisBroker)
    assert isinstance(broker_from(Settings()), StubBroker)


async def test_a_job_without_delay_goes_straight_to_the_queue(broker: StubBroker) -> None:
    await dispatcher_for(broker)("deliver_webhook", (12, 2), 0)

    [message] = sent(broker, QUEUE)
    assert (message.actor_name, message.args) == ("deliver_webhook", (12, 2))
    assert sent(broker, f"{QUEUE}.DQ") == []


async def test_a_delayed_job_waits_in_the_delay_queue_until_due(broker: StubBroker) -> None:
    before = current_millis()
    await dispatcher_for(broker)("check_acknowledgement", (5,), 72 * 3600)

    [message] = sent(broker, f"{QUEUE}.DQ")
    assert (message.actor_name, message.args) == ("check_acknowledgement", (5,))
    assert before + 72 * 3600 * 1000 <= message.options["eta"] <= current_millis() + 72 * 3600 * 1000


async def test_a_delay_beyond_the_brokers_limit_is_capped(broker: StubBroker) -> None:
    before = current_millis()
    await dispatcher_for(broker)("check_acknowledgement", (5,), 90 * 24 * 3600)

    [message] = sent(broker, f"{QUEUE}.DQ")
    assert before + MAX_DELAY_MS <= message.options["eta"] <= current_millis() + MAX_DELAY_MS
    assert MAX_DELAY_MS < 7 * 24 * 3600 * 1000
