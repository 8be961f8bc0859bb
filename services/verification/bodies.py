"""Verification bodies: created and (de)activated by administrators, and the conflicts of
interest a body declares with enterprises it must not verify."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Enterprise, Role, Sector, Verification, VerificationBody, VerificationConflict
from services import audit
from services.access import Actor, require_role
from services.codes import validate_credit_code
from services.errors import ErrorCode, ServiceError, not_found
from services.values import MAX_ID, text

MAX_SECTORS = len(Sector)


@dataclass(frozen=True)
class BodyRequest:
    name: str
    credit_code: str
    accreditation_number: str
    sectors: list[str]


def _sectors(values: list[str]) -> list[str]:
    if not values:
        raise ServiceError(ErrorCode.REQUIRED, "a body is accredited for at least one sector", "sectors")
    if len(values) > MAX_SECTORS:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS, "at most {limit} sectors", "sectors", params={"limit": MAX_SECTORS}
        )
    chosen: list[str] = []
    for value in values:
        try:
            sector = Sector(value.strip().upper()).value
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_SECTOR,
                "{value} is not an ETS sector",
                "sectors",
                params={"value": repr(value)},
            ) from None
        if sector not in chosen:
            chosen.append(sector)
    return chosen


async def create_body(actor: Actor, request: BodyRequest) -> VerificationBody:
    """A new active body; its credit code is checked like an enterprise's and unique among bodies."""
    require_role(actor, Role.ADMIN)
    name = text(request.name, "name", max_length=200)
    code = validate_credit_code(request.credit_code)
    accreditation = text(request.accreditation_number, "accreditationNumber", max_length=64)
    sectors = _sectors(request.sectors)
    try:
        async with in_transaction():
            if await VerificationBody.exists(credit_code=code):
                raise _duplicate(code)
            body = await VerificationBody.create(
                name=name, credit_code=code, accreditation_number=accreditation, sectors=sectors
            )
            await audit.record(
                actor,
                "verification_body.created",
                body,
                data={
                    "name": name,
                    "creditCode": code,
                    "accreditationNumber": accreditation,
                    "sectors": sectors,
                },
            )
    except IntegrityError:
        raise _duplicate(code) from None
    return body


def _duplicate(code: str) -> ServiceError:
    return ServiceError(
        ErrorCode.DUPLICATE_CREDIT_CODE,
        "a body with credit code {code} exists",
        "creditCode",
        params={"code": code},
    )


async def set_body_active(actor: Actor, body_id: int, active: bool, reason: str) -> VerificationBody:
    """Suspend or restore a body's accreditation in the system: an inactive body gets no new
    assignment (those under way continue)."""
    require_role(actor, Role.ADMIN)
    reason = text(reason, "reason", max_length=2000)
    async with in_transaction():
        body = await _body(body_id).select_for_update().first()
        if body is None:
            raise not_found("Verification body", "verificationBodyId")
        if body.is_active != active:
            await VerificationBody.filter(id=body.id).update(is_active=active)
            body.is_active = active
            action = "activated" if active else "deactivated"
            await audit.record(actor, f"verification_body.{action}", body, reason=reason)
    return body


def _body(body_id: int) -> QuerySet[VerificationBody]:
    return VerificationBody.filter(id=body_id if 0 < body_id <= MAX_ID else -1)


def bodies_for(actor: Actor) -> QuerySet[VerificationBody]:
    """Administrators and regulators see every body (to assign them); a verifier its own; an
    enterprise the bodies assigned to verify it."""
    if actor.role in (Role.ADMIN, Role.REGULATOR):
        return VerificationBody.all()
    if actor.role == Role.VERIFIER:
        return VerificationBody.filter(id=actor.verification_body_id or -1)
    assigned = Verification.filter(enterprise_id=actor.enterprise_id or -1).values("body_id")
    return VerificationBody.filter(Q(id__in=Subquery(assigned)))


async def get_body(actor: Actor, body_id: int, field: str = "verificationBodyId") -> VerificationBody:
    body = await bodies_for(actor).filter(id=body_id if 0 < body_id <= MAX_ID else -1).first()
    if body is None:
        raise not_found("Verification body", field)
    return body


async def declare_conflict(actor: Actor, credit_code: str, reason: str) -> VerificationConflict:
    """The verifier's body declares a conflict of interest with the enterprise of this credit
    code (a verifier sees no enterprise list: it names its client by the public code).
    Declaring again keeps the first declaration."""
    require_role(actor, Role.VERIFIER)
    code = validate_credit_code(credit_code)
    reason = text(reason, "reason", max_length=2000)
    enterprise = await Enterprise.get_or_none(credit_code=code)
    if enterprise is None or actor.verification_body_id is None:
        raise not_found("Enterprise", "creditCode")
    body_id = actor.verification_body_id
    try:
        async with in_transaction():
            earlier = await VerificationConflict.get_or_none(body_id=body_id, enterprise_id=enterprise.id)
            if earlier is not None:
                return earlier
            conflict = await VerificationConflict.create(
                body_id=body_id,
                enterprise_id=enterprise.id,
                reason=reason,
                declared_by_id=actor.user_id,
                declared_at=datetime.now(UTC),
            )
            await audit.record(
                actor,
                "verification_body.conflict_declared",
                conflict,
                reason=reason,
                data={"bodyId": body_id, "enterpriseId": enterprise.id},
            )
    except IntegrityError:  # declared twice at once: the other one stands
        return await VerificationConflict.get(body_id=body_id, enterprise_id=enterprise.id)
    return conflict
