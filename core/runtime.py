"""What a process needs besides its own loop: the database, the event hub, job dispatch.

One function for every kind of process, so the API, `ccms worker` and
`ccms scheduler` cannot drift apart:

- embedded default (no REDIS_URL): an in-memory hub and in-process jobs with a periodic sweep;
- with REDIS_URL: the Redis hub (API processes also listen, for subscriptions) and dramatiq.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import db
from core.hub import MemoryHub, RedisHub
from core.inprocess import InProcessJobs
from core.settings import Settings
from services.live import events, jobs, webhooks


@dataclass
class Runtime:
    hub: MemoryHub
    inprocess: InProcessJobs | None = None


_current: Runtime | None = None


async def start(settings: Settings, *, listen: bool = True, manage_db: bool = True) -> Runtime:
    """`listen`: receive events for subscribers (API processes); workers only publish."""
    global _current
    if manage_db:
        await db.init_db(settings.database_url)
    hub: MemoryHub
    if settings.redis_url:
        hub = RedisHub(settings.redis_url, max_queue=settings.subscriber_queue_size, listen=listen)
    else:
        hub = MemoryHub(max_queue=settings.subscriber_queue_size)
    await hub.start()
    events.set_publisher(hub.publish)
    if settings.alarm_webhook_url and not settings.alarm_webhook_secret:
        # Never fall back to the token-signing key: the receiver would have to hold it.
        raise RuntimeError("CCMS_ALARM_WEBHOOK_URL needs CCMS_ALARM_WEBHOOK_SECRET to sign deliveries")
    webhooks.configure(
        webhooks.WebhookConfig(
            url=settings.alarm_webhook_url,
            secret=settings.alarm_webhook_secret,
            max_attempts=settings.alarm_webhook_max_attempts,
        )
    )
    inprocess = None
    if settings.redis_url:
        from workers.actors import dispatch

        jobs.set_dispatcher(dispatch)
    else:
        inprocess = InProcessJobs(settings.sweep_interval_seconds)
        jobs.set_dispatcher(inprocess.dispatch)
        if listen:  # the embedded server runs the sweep itself
            inprocess.start()
    _current = Runtime(hub, inprocess)
    return _current


async def stop(*, manage_db: bool = True) -> None:
    global _current
    if _current is not None:
        if _current.inprocess is not None:
            await _current.inprocess.stop()
        await _current.hub.stop()
        _current = None
    events.set_publisher(None)
    jobs.set_dispatcher(None)
    if manage_db:
        await db.close_db()
