"""What a process needs besides its own loop: the database, the event hub, job dispatch.

One function for every kind of process, so the API, `ccms worker` and
`ccms scheduler` cannot drift apart:

- embedded default (no REDIS_URL): an in-memory hub and in-process jobs with a periodic sweep;
- with REDIS_URL: the Redis hub (API processes also listen, for subscriptions) and dramatiq
  (jobs sent by name on a broker of their own, or on the one `ccms worker` passes in).
"""

from __future__ import annotations

from dataclasses import dataclass

from core import db, metrics
from core.broker import broker_from, dispatcher_for
from core.hub import MemoryHub, RedisHub
from core.inprocess import InProcessJobs
from core.settings import Settings
from services.i18n import render
from services.identity import passwords
from services.live import events, jobs, webhooks
from services.live.jobs import Dispatcher


@dataclass
class Runtime:
    hub: MemoryHub
    inprocess: InProcessJobs | None = None


_current: Runtime | None = None


async def start(
    settings: Settings, *, listen: bool = True, manage_db: bool = True, dispatcher: Dispatcher | None = None
) -> Runtime:
    """Connect the database, start the hub, and install the publisher and the job dispatcher.

    `listen`: receive events for subscribers (API processes); workers only publish.
    `dispatcher`: where the services' jobs go; by default dramatiq when REDIS_URL is set, else
    the in-process runner (which a listening process, the embedded server, also sweeps with).
    """
    global _current
    settings.require_secret_key()
    passwords.set_threads(settings.password_hash_threads)
    render.configure(settings.language, settings.timezone)
    if manage_db:
        await db.init_db(settings.database_url)
    hub: MemoryHub
    if settings.redis_url:
        hub = RedisHub(settings.redis_url, max_queue=settings.subscriber_queue_size, listen=listen)
    else:
        hub = MemoryHub(max_queue=settings.subscriber_queue_size)
    await hub.start()
    events.set_publisher(_counting(hub.publish))
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
    if dispatcher is None:
        if settings.redis_url:
            dispatcher = dispatcher_for(broker_from(settings))
        else:
            inprocess = InProcessJobs(settings.sweep_interval_seconds)
            dispatcher = inprocess.dispatch
            if listen:  # the embedded server runs the sweep itself
                inprocess.start()
    jobs.set_dispatcher(dispatcher)
    _current = Runtime(hub, inprocess)
    return _current


def current_inprocess() -> InProcessJobs | None:
    """The embedded job runner of this process, if it runs one (for the queue-depth metric)."""
    return _current.inprocess if _current is not None else None


def _counting(publish: events.Publisher) -> events.Publisher:
    """The hub's publish, counting alarms on the way: every alarm is announced once, after its
    commit, by the process that raised it (API, worker or scheduler)."""

    async def publish_counted(event: events.Event) -> None:
        if event.type == events.EventType.ALARM_RAISED:
            metrics.ALARMS.labels(str(event.data.get("kind", ""))).inc()
        await publish(event)

    return publish_counted


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
