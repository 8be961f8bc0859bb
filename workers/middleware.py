"""The worker's boot, its stop and its observability: the process runtime, started on the
event loop the actors run on; one stop per signal; the log format; job durations; the
heartbeat; the metrics port."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.broker import MessageProxy
from dramatiq.cli import RET_KILLED

from core import heartbeat, logs, metrics, runtime
from core.broker import dispatcher_for, queue_depth
from core.settings import Settings

log = logging.getLogger(__name__)


class Runtime(dramatiq.Middleware):
    """Starts the process runtime (database, event publisher, webhook config, and jobs sent on
    this broker) on the worker's event loop once it exists, and stops it at shutdown.

    Before boot, not after: dramatiq starts its consumer and worker threads between the
    two hooks, so messages already queued would run before the database is connected.
    The AsyncIO middleware, added first, has created the event loop by then."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.beating: asyncio.Task[None] | None = None

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        # `ccms worker` runs dramatiq with --skip-logging: every process logs in our format.
        logs.configure(self.settings)

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        start = runtime.start(self.settings, listen=False, dispatcher=dispatcher_for(broker))
        _event_loop().run_coroutine(start)
        if self.settings.redis_url:
            _event_loop().run_coroutine(self._start_heartbeat())

    async def _start_heartbeat(self) -> None:
        self.beating = asyncio.create_task(heartbeat.run(self.settings, "worker"))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        _event_loop().run_coroutine(self._stop())

    async def _stop(self) -> None:
        if self.beating is not None:
            self.beating.cancel()
            self.beating = None
        await runtime.stop()


class JobMetrics(dramatiq.Middleware):
    """Times every job (ccms_job_duration_seconds by job and outcome), and, through dramatiq's
    fork hook, runs the small server that exposes the metrics of all the worker's processes on
    CCMS_WORKER_METRICS_PORT."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    @property
    def forks(self) -> list[Any]:
        return [serve_metrics]

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        with self.lock:
            self.started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self.lock:
            start = self.started.pop(message.message_id, None)
        if start is not None:
            outcome = "ok" if exception is None else "failed"
            metrics.JOB_DURATION.labels(message.actor_name, outcome).observe(time.perf_counter() - start)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)


def serve_metrics() -> int:
    """The fork process: /metrics (every worker process's figures, and the queue's depth) and
    /health/live. A port already taken (a second worker on one host) is logged, not fatal:
    dramatiq would otherwise stop the whole worker when this process exits."""
    settings = Settings.from_env()
    logs.configure(settings)
    if not settings.worker_metrics_port:
        return _idle()
    depth = [metrics.QueueDepth(queue_depth(settings.redis_url))] if settings.redis_url else []
    try:
        metrics.serve(settings.host, settings.worker_metrics_port, depth)
    except OSError as error:
        log.warning("worker metrics not served on port %s: %s", settings.worker_metrics_port, error)
    else:
        log.info("worker metrics on port %s", settings.worker_metrics_port)
    return _idle()


def _idle() -> int:
    while True:  # the server runs in its thread; dramatiq stops this process with SIGTERM
        time.sleep(3600)


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
