"""Workflow events: what changed, published after the change's transaction commits.

Events are hints for live clients. The database stays the source of truth: a
subscriber that misses events (slow, disconnected, or told to RESYNC after a
broker reconnect) refetches what it shows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    NOTICE_ISSUED = "NOTICE_ISSUED"
    NOTICE_ACKNOWLEDGED = "NOTICE_ACKNOWLEDGED"
    APPLICATION_SUBMITTED = "APPLICATION_SUBMITTED"
    APPLICATION_REVIEWED = "APPLICATION_REVIEWED"
    DEADLINE_EXTENDED = "DEADLINE_EXTENDED"
    NOTICE_OVERDUE = "NOTICE_OVERDUE"
    ALARM_RAISED = "ALARM_RAISED"
    MESSAGE_CREATED = "MESSAGE_CREATED"
    # Not a change: the hub lost its broker connection and events may have been missed.
    RESYNC = "RESYNC"


@dataclass(frozen=True)
class Event:
    type: EventType
    enterprise_id: int | None = None
    region_code: str | None = None
    notice_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        values = json.loads(raw)
        values["type"] = EventType(values["type"])
        return cls(**values)


Publisher = Callable[[Event], Awaitable[None]]


async def _discard(event: Event) -> None:
    return None


_publisher: Publisher = _discard


def set_publisher(publisher: Publisher | None) -> None:
    """Installed by the API process or worker at start-up (the hub's publish)."""
    global _publisher
    _publisher = publisher or _discard


async def publish(*events: Event) -> None:
    """Call only after the transaction that made the change has committed."""
    for event in events:
        await _publisher(event)
