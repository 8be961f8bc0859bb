"""The embedded default's jobs: timers and a periodic sweep on the server's own event loop.

Timers do not survive a restart; they need not, because the sweep at start-up
and every interval after finds in the database whatever is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core import metrics
from services.live import sweep
from services.live.catalog import JOBS

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


class InProcessJobs:
    def __init__(self, sweep_interval_seconds: float) -> None:
        self.sweep_interval_seconds = sweep_interval_seconds
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = asyncio.Event()
        self.busy: set[asyncio.Task[None]] = set()  # the sweep, and jobs past their delay

    async def dispatch(self, name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        task = asyncio.create_task(self._run(name, args, delay_seconds), name=f"job:{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        await asyncio.sleep(delay_seconds)
        task = asyncio.current_task()
        assert task is not None  # dispatch runs this as a task
        self.busy.add(task)
        elapsed = metrics.timer()
        outcome = "failed"
        try:
            await JOBS[name](*args)
            outcome = "ok"
        except Exception:
            log.exception("job %s%s failed; the sweep will retry what it covers", name, args)
        finally:
            self.busy.discard(task)
            metrics.JOB_DURATION.labels(name, outcome).observe(elapsed())

    def depth(self) -> tuple[int, int]:
        """(jobs running, jobs waiting for their delay), for the queue-depth metric."""
        running = sum(1 for task in self.busy if task.get_name() != "sweep")
        return running, len(self.tasks) - len(self.busy)

    def start(self) -> None:
        self.stopping = asyncio.Event()
        task = asyncio.create_task(periodic_sweep(self.sweep_interval_seconds, self.stopping), name="sweep")
        self.tasks.add(task)
        self.busy.add(task)

    async def stop(self) -> None:
        # Let the sweep and running jobs finish their transactions rather than cancel them half-way
        # (a cancelled SQLite transaction can leave its connection locked); timers still waiting
        # are cancelled: the sweep finds their work after a restart.
        self.stopping.set()
        if self.busy:
            await asyncio.wait(list(self.busy), timeout=STOP_GRACE_SECONDS)
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        self.busy.clear()


async def periodic_sweep(interval_seconds: float, stopping: asyncio.Event | None = None) -> None:
    """Sweep now and then every interval until `stopping` is set; a failed sweep is logged and retried."""
    stopping = stopping or asyncio.Event()
    while not stopping.is_set():
        elapsed = metrics.timer()
        try:
            result = await sweep.sweep()
            metrics.SWEEP_LAST_RUN.set_to_current_time()
            metrics.JOB_DURATION.labels("sweep", "ok").observe(elapsed())
            if any(vars(result).values()):
                log.info("sweep: %s", result, extra={"sweep": vars(result)})
        except Exception:
            metrics.SWEEP_FAILURES.inc()
            metrics.JOB_DURATION.labels("sweep", "failed").observe(elapsed())
            log.exception("sweep failed; retrying in %s s", interval_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_seconds)
