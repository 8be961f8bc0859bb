"""The audit trail: every change appends one immutable event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from models import AuditEvent
from services.access import Actor


class Row(Protocol):
    """An audited row: its model's name is the entity type."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class Ref:
    """An audited subject that is not a row of its own: an import or a preview, by its user."""

    kind: str
    id: int


async def record(
    actor: Actor | None,
    action: str,
    entity: Row | Ref,
    *,
    notice_id: int | None = None,
    verification_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event; call it inside the transaction that makes the change."""
    return await AuditEvent.create(
        at=datetime.now(UTC),
        actor_id=actor.user_id if actor else None,
        action=action,
        entity_type=entity.kind if isinstance(entity, Ref) else type(entity).__name__,
        entity_id=entity.id,
        notice_id=notice_id,
        verification_id=verification_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )
