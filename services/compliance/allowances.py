"""Initial allowances (初始配额), entered per enterprise and year."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AllocationLine, Allowance, Notice, PlanStatus, Role
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.enterprises import get_enterprise
from services.errors import ErrorCode, ServiceError, not_found
from services.values import Raw, whole_tonnes
from services.values import year as valid_year


async def set_initial_allowance(actor: Actor, enterprise_id: int, year: int, amount: Raw) -> Allowance:
    """Set or correct the allowance; refused once a notice for that enterprise and year exists,
    because the notice has snapshotted it."""
    require_role(actor, Role.REGULATOR)
    tonnes = whole_tonnes(amount, "amount")
    valid_year(year)
    enterprise = await get_enterprise(actor, enterprise_id, "enterpriseId")
    async with in_transaction():
        # Lock order (allowance, then notice) matches issue_notice, so the two serialise.
        allowance = await Allowance.filter(enterprise_id=enterprise.id, year=year).select_for_update().first()
        if await AllocationLine.exists(
            enterprise_id=enterprise.id, plan__year=year, plan__status=PlanStatus.COMMITTED
        ):
            raise ServiceError(
                ErrorCode.ALLOWANCE_FROM_PLAN,
                "the {year} allowance comes from a committed allocation plan; supersede the plan to change it",
                "amount",
                params={"year": year},
            )
        if await Notice.exists(enterprise_id=enterprise.id, year=year):
            raise ServiceError(
                ErrorCode.ALLOWANCE_LOCKED,
                "a notice for {year} has been issued; its allowance can no longer change",
                "amount",
                params={"year": year},
            )
        before = allowance.amount if allowance else None
        if allowance is None:
            try:
                allowance = await Allowance.create(
                    enterprise_id=enterprise.id, year=year, amount=tonnes, updated_by_id=actor.user_id
                )
            except IntegrityError:
                # Another first allocation for this enterprise and year committed meanwhile
                # (there was no row to lock yet); this transaction is aborted and rolls back.
                raise ServiceError(
                    ErrorCode.CONCURRENT_MODIFICATION,
                    "the allowance changed meanwhile; reload and try again",
                    "amount",
                ) from None
        else:
            allowance.amount = tonnes
            allowance.updated_by_id = actor.user_id
            await allowance.save()
        await audit.record(
            actor, "allowance.set", allowance, data={"year": year, "before": before, "after": tonnes}
        )
    return allowance


async def get_allowance(actor: Actor, enterprise_id: int, year: int) -> Allowance:
    allowance = await Allowance.filter(
        enterprise_scope(actor, "enterprise"), enterprise_id=enterprise_id, year=year
    ).first()
    if allowance is None:
        raise not_found("Allowance")
    return allowance
