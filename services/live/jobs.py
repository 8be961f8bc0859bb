"""Background jobs as seen from the services: a name, ids, and an optional delay.

Services ask for a job with `enqueue`; the process installs the dispatcher at
start-up (dramatiq on Redis, or timers on the embedded server's own loop).
A job is only a hint to look again: every job re-reads the database and is
idempotent, and the periodic sweep redoes whatever a lost message missed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Dispatcher = Callable[[str, tuple[int, ...], float], Awaitable[None]]


async def _nowhere(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
    # No dispatcher (service tests, CLI): the sweep will do the job when it next runs.
    return None


_dispatch: Dispatcher = _nowhere


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatch
    _dispatch = dispatcher or _nowhere


async def enqueue(name: str, *args: int, delay_seconds: float = 0) -> None:
    """Ask for a job; failure to enqueue is logged, never raised (the sweep is the safety net)."""
    try:
        await _dispatch(name, args, max(delay_seconds, 0))
    except Exception:
        log.warning("could not enqueue %s%s; the sweep will catch up", name, args, exc_info=True)
