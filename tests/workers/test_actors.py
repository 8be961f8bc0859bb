"""The dramatiq side of job dispatch: one actor per job, and the services' dispatcher sending
the ids with the delay (capped below the Redis broker's limit; the job re-checks when woken).

Sent to dramatiq's stub broker; the actors themselves run in `ccms worker` and end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis

from services.live.catalog import JOBS
from workers import actors


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    if not isinstance(actors.broker, StubBroker):
        pytest.skip("REDIS_URL is set: the actors are bound to a real broker")
    actors.broker.flush_all()
    yield actors.broker
    actors.broker.flush_all()


def sent(broker: StubBroker, queue: str) -> list[Message]:
    return [Message.decode(raw) for raw in list(broker.queues[queue].queue)]


def test_every_job_has_an_actor_of_the_same_name() -> None:
    assert set(actors.ACTORS) == set(JOBS)
    assert all(actor.actor_name == name for name, actor in actors.ACTORS.items())


async def test_a_job_without_delay_goes_straight_to_the_queue(broker: StubBroker) -> None:
    await actors.dispatch("deliver_webhook", (12, 2), 0)

    [message] = sent(broker, "default")
    assert (message.actor_name, message.args) == ("deliver_webhook", (12, 2))
    assert sent(broker, "default.DQ") == []


async def test_a_delayed_job_waits_in_the_delay_queue_until_due(broker: StubBroker) -> None:
    before = current_millis()
    await actors.dispatch("check_acknowledgement", (5,), 72 * 3600)

    [message] = sent(broker, "default.DQ")
    assert (message.actor_name, message.args) == ("check_acknowledgement", (5,))
    assert before + 72 * 3600 * 1000 <= message.options["eta"] <= current_millis() + 72 * 3600 * 1000


async def test_a_delay_beyond_the_brokers_limit_is_capped(broker: StubBroker) -> None:
    before = current_millis()
    await actors.dispatch("check_acknowledgement", (5,), 90 * 24 * 3600)

    [message] = sent(broker, "default.DQ")
    assert before + actors.MAX_DELAY_MS <= message.options["eta"] <= current_millis() + actors.MAX_DELAY_MS
    assert actors.MAX_DELAY_MS < 7 * 24 * 3600 * 1000
