"""Every background job, defined once: a name and the service function it runs.

Dramatiq actors (workers/actors.py) and the embedded runner (workers/inprocess.py)
both dispatch through this table, so the two deployments run the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.compliance import alarms, deadlines
from services.energy import aggregates, factors
from services.live import sweep, webhooks


async def run_sweep() -> None:
    await sweep.sweep()


JOBS: dict[str, Callable[..., Awaitable[Any]]] = {
    "check_acknowledgement": alarms.check_acknowledgement,
    "mark_overdue": deadlines.mark_overdue,
    "deliver_webhook": webhooks.deliver,
    "sweep": run_sweep,
    "refresh_aggregates": aggregates.refresh,
    "recompute_emissions": factors.recompute,
}
# Jobs that may run for minutes over a large dataset; both resume where they stopped.
LONG_JOBS = {"refresh_aggregates", "recompute_emissions"}
