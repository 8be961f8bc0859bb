"""Broker selection. Must run before any actor module is imported (dramatiq binds actors
to the broker current at import time)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def setup_broker(redis_url: str | None) -> dramatiq.Broker:
    """Redis when configured; otherwise a stub broker (the embedded default runs jobs in-process)."""
    broker: dramatiq.Broker = RedisBroker(url=redis_url) if redis_url else StubBroker()
    dramatiq.set_broker(broker)
    return broker
