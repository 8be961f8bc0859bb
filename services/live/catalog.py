"""Every background job, defined once: a name and the service function it runs.

The embedded runner (core/inprocess.py) runs this table; `ccms worker` declares one dramatiq
actor of the same name per entry (workers/actors.py), calling the same function with the same
ids. So the two deployments run the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.compliance import alarms, deadlines
from services.energy import aggregates, factors
from services.live import sweep, webhooks
from services.verification import overdue

JOBS: dict[str, Callable[..., Awaitable[Any]]] = {
    "check_acknowledgement": alarms.check_acknowledgement,
    "mark_overdue": deadlines.mark_overdue,
    "deliver_webhook": webhooks.deliver,
    "sweep": sweep.sweep,
    "refresh_aggregates": aggregates.refresh,
    "recompute_emissions": factors.recompute,
    "check_verification_overdue": overdue.check_verification_overdue,
}
# Jobs that may run for minutes over a large dataset; both resume where they stopped.
LONG_JOBS = {"refresh_aggregates", "recompute_emissions"}
