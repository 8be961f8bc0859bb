"""Verifications in scope, moving one along its state machine, and what the enterprise's
energy records give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from tortoise.queryset import QuerySet

from models import EnergyRecord, Message, Verification, VerificationConclusion, VerificationStatus
from services.access import Actor, verification_scope
from services.enterprises import EnterpriseFilter, matching
from services.errors import ErrorCode, ServiceError, not_found
from services.live import events
from services.values import MAX_ID
from services.verification.workflow import Action, transition


@dataclass(frozen=True)
class VerificationFilter:
    year: int | None = None
    status: VerificationStatus | None = None
    enterprise_id: int | None = None
    verification_body_id: int | None = None
    region_prefix: str | None = None


def verifications_for(actor: Actor, where: VerificationFilter | None = None) -> QuerySet[Verification]:
    """The verifications the actor may see: a verifier its body's, everyone else by enterprise."""
    query = Verification.filter(verification_scope(actor))
    if where is None:
        return query
    if where.year is not None:
        query = query.filter(year=where.year)
    if where.status is not None:
        query = query.filter(status=where.status)
    if where.enterprise_id is not None:
        query = query.filter(enterprise_id=where.enterprise_id)
    if where.verification_body_id is not None:
        query = query.filter(body_id=where.verification_body_id)
    if where.region_prefix:
        query = query.filter(matching(EnterpriseFilter(region_prefix=where.region_prefix), "enterprise"))
    return query


async def get_verification(actor: Actor, verification_id: int, *, for_update: bool = False) -> Verification:
    query = verifications_for(actor).filter(id=verification_id if 0 < verification_id <= MAX_ID else -1)
    verification = await (query.select_for_update() if for_update else query).first()
    if verification is None:
        raise not_found("Verification", "verificationId")
    return verification


def records_of(verification: Verification) -> QuerySet[EnergyRecord]:
    """The energy records of the verified enterprise-year; reach them only through a visible
    verification (this is how a verifier sees records at all)."""
    return EnergyRecord.filter(enterprise_id=verification.enterprise_id, year=verification.year)


@dataclass(frozen=True)
class Computed:
    """Emissions from the enterprise-year's energy records, in millionths of tCO2, and how many
    records had no factor (the total leaves them out, and says so)."""

    emissions: int
    records: int
    without_factor: int


async def computed_emissions(enterprise_id: int, year: int) -> Computed:
    # Summed in Python over the integers: exact on both databases, and an enterprise-year is
    # at most a few thousand records.
    rows = cast(
        list[int | None],
        await EnergyRecord.filter(enterprise_id=enterprise_id, year=year).values_list("emissions", flat=True),
    )
    known = [r for r in rows if r is not None]
    return Computed(sum(known), len(rows), len(rows) - len(known))


async def current_conclusion(enterprise_id: int, year: int) -> VerificationConclusion | None:
    """The standing conclusion of an enterprise-year: the latest, which supersedes the others."""
    return (
        await VerificationConclusion.filter(enterprise_id=enterprise_id, year=year)
        .order_by("-sequence")
        .first()
    )


async def advance(verification: Verification, action: Action, **changes: Any) -> VerificationStatus:
    """Move the verification along the state machine with a compare-and-set on its version
    (the row is also locked on PostgreSQL; on SQLite the version alone makes a racing writer
    lose). Returns the status it moved from."""
    before = verification.status
    target = transition(verification, action)
    updated = await Verification.filter(id=verification.id, version=verification.version).update(
        status=target, version=verification.version + 1, updated_at=datetime.now(UTC), **changes
    )
    if updated != 1:
        raise ServiceError(
            ErrorCode.CONCURRENT_MODIFICATION, "the verification changed meanwhile; reload and try again"
        )
    verification.update_from_dict({"status": target, "version": verification.version + 1, **changes})
    return before


async def publish_change(
    verification: Verification,
    before: str | None,
    action: str,
    messages: list[Message],
    *,
    previous_body_id: int | None = None,
) -> None:
    """After the commit: the verification's event and its messages' events."""
    region = await events.region_of(verification.enterprise_id)
    await events.publish(
        events.verification_changed(verification, region, before, action, previous_body_id=previous_body_id),
        *(events.message_created(m, region) for m in messages),
    )
