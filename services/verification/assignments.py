"""Assigning a verification body to an enterprise-year, and reassigning it.

An assignment is refused when the body is inactive, not accredited for the enterprise's
sector, has declared a conflict with the enterprise, or (when the rotation rule is on) has
verified it for the allowed number of consecutive years already. Reassignment passes the same
checks and is audited with the body it leaves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import (
    Enterprise,
    Message,
    MessageKind,
    Role,
    Verification,
    VerificationBody,
    VerificationConflict,
)
from services import audit
from services.access import Actor, require_role
from services.compliance import inbox
from services.enterprises import get_enterprise
from services.errors import ErrorCode, ServiceError, not_found
from services.live import jobs
from services.values import MAX_ID, aware, text
from services.values import year as valid_year
from services.verification.verifications import advance, publish_change
from services.verification.workflow import Action


async def assign_verification(
    actor: Actor,
    *,
    enterprise_id: int,
    year: int,
    body_id: int,
    due_at: datetime,
    max_consecutive_years: int = 0,
    reason: str | None = None,
) -> Verification:
    """Assign (or reassign, before a conclusion) the body verifying an enterprise-year.

    `max_consecutive_years` is Settings.verification_max_consecutive_years (0: no limit).
    """
    require_role(actor, Role.REGULATOR)
    valid_year(year)
    if aware(due_at, "dueDate") <= datetime.now(UTC):
        raise ServiceError(ErrorCode.DEADLINE_IN_PAST, "the due date must be in the future", "dueDate")
    reason = text(reason, "reason", max_length=2000, required=False) or None
    enterprise = await get_enterprise(actor, enterprise_id, "enterpriseId")
    body = await VerificationBody.get_or_none(id=body_id if 0 < body_id <= MAX_ID else -1)
    if body is None:
        raise not_found("Verification body", "verificationBodyId")
    await _check_eligible(body, enterprise, year, max_consecutive_years)
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            existing = (
                await Verification.filter(enterprise_id=enterprise.id, year=year).select_for_update().first()
            )
            if existing is None:
                verification = await Verification.create(
                    enterprise_id=enterprise.id,
                    year=year,
                    body_id=body.id,
                    due_at=due_at.astimezone(UTC),
                    assigned_by_id=actor.user_id,
                    assigned_at=now,
                )
                before, previous, action = None, None, "assigned"
            else:
                verification, previous = existing, existing.body_id
                before = await advance(
                    verification,
                    Action.REASSIGN,
                    body_id=body.id,
                    due_at=due_at.astimezone(UTC),
                    assigned_by_id=actor.user_id,
                    assigned_at=now,
                )
                action = "reassigned"
            await audit.record(
                actor,
                f"verification.{action}",
                verification,
                verification_id=verification.id,
                from_status=before,
                to_status=verification.status,
                reason=reason,
                data={
                    "enterpriseId": enterprise.id,
                    "year": year,
                    "bodyId": body.id,
                    "previousBodyId": previous,
                    "dueAt": verification.due_at.isoformat(),
                },
            )
            messages = await _notify(verification, enterprise, body, previous)
    except IntegrityError:  # two first assignments of one enterprise-year at once
        raise ServiceError(
            ErrorCode.CONCURRENT_MODIFICATION, "the verification changed meanwhile; reload and try again"
        ) from None
    await publish_change(verification, before, action, messages, previous_body_id=previous)
    # The check that raises the overdue alarm; the sweep backs it up.
    delay = (verification.due_at - datetime.now(UTC)).total_seconds()
    await jobs.enqueue("check_verification_overdue", verification.id, delay_seconds=delay)
    return verification


async def _check_eligible(body: VerificationBody, enterprise: Enterprise, year: int, max_years: int) -> None:
    if not body.is_active:
        raise ServiceError(
            ErrorCode.VERIFICATION_BODY_INACTIVE,
            "{body} is not active",
            "verificationBodyId",
            params={"body": body.name},
        )
    if enterprise.sector.value not in body.sectors:
        raise ServiceError(
            ErrorCode.SECTOR_NOT_ACCREDITED,
            "{body} is not accredited for the {sector} sector",
            "verificationBodyId",
            params={"body": body.name, "sector": enterprise.sector.value},
        )
    if await VerificationConflict.exists(body_id=body.id, enterprise_id=enterprise.id):
        raise ServiceError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "{body} has declared a conflict of interest with {enterprise}",
            "verificationBodyId",
            params={"body": body.name, "enterprise": enterprise.name},
        )
    if max_years > 0:
        earlier = dict(
            await Verification.filter(
                enterprise_id=enterprise.id, year__gte=year - max_years, year__lt=year
            ).values_list("year", "body_id")
        )
        run = 0
        while earlier.get(year - run - 1) == body.id:
            run += 1
        if run >= max_years:
            raise ServiceError(
                ErrorCode.CONSECUTIVE_YEARS_EXCEEDED,
                "{body} verified this enterprise for the last {run} years; at most {limit} in a row",
                "verificationBodyId",
                params={"body": body.name, "run": run, "limit": max_years},
            )


async def _notify(
    verification: Verification, enterprise: Enterprise, body: VerificationBody, previous: int | None
) -> list[Message]:
    year = verification.year
    messages = [
        await inbox.post(
            enterprise.id,
            MessageKind.VERIFICATION,
            inbox.Text(
                "verification.assigned", {"year": year, "body": body.name, "due": verification.due_at}
            ),
            verification_id=verification.id,
        ),
        await inbox.post_to_body(
            body.id,
            inbox.Text(
                "verification.new",
                {
                    "enterprise": enterprise.name,
                    "credit_code": enterprise.credit_code,
                    "year": year,
                    "due": verification.due_at,
                },
            ),
            verification.id,
        ),
    ]
    if previous is not None and previous != body.id:
        messages.append(
            await inbox.post_to_body(
                previous,
                inbox.Text("verification.reassigned", {"enterprise": enterprise.name, "year": year}),
                verification.id,
            )
        )
    return messages
