"""The worker's boot: the process runtime, started on the event loop the actors run on; and
its stop, once per signal."""

from __future__ import annotations

import os
import signal
import time
from types import FrameType

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.cli import RET_KILLED

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


# A second SIGTERM this soon after the first is the same stop, delivered twice.
DUPLICATE_SIGTERM_SECONDS = 2.0


class OneStopPerSignal(dramatiq.Middleware):
    """systemd and `docker stop` send SIGTERM to the whole process group, so each worker process
    gets it twice: from the signal itself and forwarded by dramatiq's main process. dramatiq
    takes a second SIGTERM as "kill now" and calls sys.exit from the handler, which leaves its
    non-daemon worker threads running: the process never exited and `ccms worker` hung for
    over 50 s. Here the duplicate is ignored, so the first stops gracefully (in-flight jobs get
    CCMS_WORKER_SHUTDOWN_SECONDS, then their messages are redelivered), and a deliberate second
    SIGTERM later really kills the process."""

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        stop = signal.getsignal(signal.SIGTERM)
        if not callable(stop):
            return
        first: float | None = None

        def handler(signum: int, frame: FrameType | None) -> None:
            nonlocal first
            now = time.monotonic()
            if first is None:
                first = now
                stop(signum, frame)
            elif now - first > DUPLICATE_SIGTERM_SECONDS:
                os._exit(RET_KILLED)

        signal.signal(signal.SIGTERM, handler)
