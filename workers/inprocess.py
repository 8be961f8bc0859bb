"""The embedded default's jobs: timers and a periodic sweep on the server's own event loop.

Timers do not survive a restart; they need not, because the sweep at start-up
and every interval after finds in the database whatever is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services import sweep
from workers.jobs import JOBS

log = logging.getLogger(__name__)


class InProcessJobs:
    def __init__(self, sweep_interval_seconds: float) -> None:
        self.sweep_interval_seconds = sweep_interval_seconds
        self.tasks: set[asyncio.Task[None]] = set()

    async def dispatch(self, name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        task = asyncio.create_task(self._run(name, args, delay_seconds), name=f"job:{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        await asyncio.sleep(delay_seconds)
        try:
            await JOBS[name](*args)
        except Exception:
            log.exception("job %s%s failed; the sweep will retry what it covers", name, args)

    def start(self) -> None:
        task = asyncio.create_task(periodic_sweep(self.sweep_interval_seconds), name="sweep")
        self.tasks.add(task)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()


async def periodic_sweep(interval_seconds: float) -> None:
    """Sweep now and then every interval, forever; a failed sweep is logged and retried."""
    while True:
        try:
            result = await sweep.sweep()
            if any(vars(result).values()):
                log.info("sweep: %s", result)
        except Exception:
            log.exception("sweep failed; retrying in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)
