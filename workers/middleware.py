"""The worker's boot: the process runtime, started on the event loop the actors run on."""

from __future__ import annotations

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread

from core import runtime
from core.broker import dispatcher_for
from core.settings import Settings


class Runtime(dramatiq.Middleware):
    """Starts the process runtime (database, event publisher, webhook config, and jobs sent on
    this broker) on the worker's event loop once it exists, and stops it at shutdown.

    Before boot, not after: dramatiq starts its consumer and worker threads between the
    two hooks, so messages already queued would run before the database is connected.
    The AsyncIO middleware, added first, has created the event loop by then."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        start = runtime.start(self.settings, listen=False, dispatcher=dispatcher_for(broker))
        _event_loop().run_coroutine(start)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        _event_loop().run_coroutine(runtime.stop())


def _event_loop() -> EventLoopThread:
    loop = get_event_loop_thread()
    if loop is None:
        raise RuntimeError("the AsyncIO middleware must come before the Runtime middleware")
    return loop
