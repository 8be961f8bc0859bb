"""Allocation plans: preview, save a draft, commit it into the year's initial allowances,
supersede it explicitly, and issue the plan's compliance notices in one call."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Unpack

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import (
    AllocationLine,
    AllocationPlan,
    Allowance,
    Enterprise,
    Message,
    MessageKind,
    Notice,
    PlanStatus,
    Role,
)
from services import audit
from services.access import Actor, require_role
from services.allocation.rules import Allocation, AllocationRequest, compute
from services.compliance import inbox, notices
from services.compliance.documents import FileStore, Upload
from services.errors import ErrorCode, ServiceError, not_found
from services.i18n.render import Term
from services.live import events
from services.values import Raw, text


def _record(request: AllocationRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's scope and parameters as JSON, for the audit trail and the saved plan."""
    return (
        {k: v for k, v in asdict(request["scope"]).items() if v is not None},
        {
            k: (str(v) if isinstance(v, Decimal) else v)
            for k, v in asdict(request["parameters"]).items()
            if v is not None
        },
    )


async def preview(actor: Actor, **request: Unpack[AllocationRequest]) -> Allocation:
    """Compute an allocation without saving it; the preview itself is audited."""
    allocation = await compute(actor, **request)
    scope_data, parameter_data = _record(request)
    await audit.record(
        actor,
        "allocation.previewed",
        audit.Ref("User", actor.user_id),
        data={
            "year": request["year"],
            "rule": request["rule"].value,
            "total": allocation.total,
            "scope": scope_data,
            "parameters": parameter_data,
        },
    )
    return allocation


async def create_plan(actor: Actor, **request: Unpack[AllocationRequest]) -> AllocationPlan:
    """Compute and save a DRAFT; nothing reaches the allowances until it is committed.

    Refused, like a commit, once notices for that year are issued to any of its enterprises:
    such a draft could never be committed."""
    year, rule = request["year"], request["rule"]
    allocation = await compute(actor, **request)
    if await Notice.filter(year=year, enterprise_id__in=list(allocation.amounts)).exists():
        raise ServiceError(
            ErrorCode.PLAN_YEAR_LOCKED,
            "notices for {year} are issued; its allowances can no longer change",
            "year",
            params={"year": year},
        )
    scope_data, parameter_data = _record(request)
    async with in_transaction():
        plan = await AllocationPlan.create(
            year=year,
            rule=rule,
            total=allocation.total,
            allocated=allocation.allocated,
            scale_factor=allocation.scale_factor,
            scope=scope_data,
            parameters={**parameter_data, "baseYears": allocation.base_years},
            manual=[{"enterpriseId": i, "reason": r} for i, r in sorted(allocation.manual.items())],
            created_by_id=actor.user_id,
        )
        await AllocationLine.bulk_create(
            [
                AllocationLine(
                    plan_id=plan.id, enterprise_id=i, amount=amount, basis=allocation.bases.get(i, Decimal(0))
                )
                for i, amount in sorted(allocation.amounts.items())
            ],
            batch_size=1000,
        )
        await audit.record(actor, "allocation.plan_created", plan, data={"year": year, "rule": rule.value})
    return plan


def plans_for(actor: Actor) -> QuerySet[AllocationPlan]:
    """Plans whose enterprises the actor can see: regulators and admins only."""
    if actor.role in (Role.ENTERPRISE, Role.VERIFIER):
        return AllocationPlan.filter(id__lt=0)
    if actor.role == Role.ADMIN or not actor.region_prefix:
        return AllocationPlan.all()
    # A plan belongs to a region when all its lines do; a plan reaching outside is not shown.
    outside = AllocationLine.exclude(enterprise__region_code__startswith=actor.region_prefix).values(
        "plan_id"
    )
    return AllocationPlan.filter(created_by__region_prefix__startswith=actor.region_prefix).exclude(
        id__in=Subquery(outside)
    )


async def get_plan(
    actor: Actor, plan_id: int, *, for_update: bool = False, field: str = "planId"
) -> AllocationPlan:
    query = plans_for(actor).filter(id=plan_id)
    plan = await (query.select_for_update() if for_update else query).first()
    if plan is None:
        raise not_found("Allocation plan", field)
    return plan


async def commit_plan(
    actor: Actor, plan_id: int, *, supersede: bool = False, reason: str | None = None
) -> AllocationPlan:
    """Write the plan's amounts as the year's initial allowances and freeze it.

    Refused once any notice for those enterprises and that year is issued. A committed
    plan covering any of the same enterprises is replaced only with `supersede` and a reason.
    """
    require_role(actor, Role.REGULATOR)
    if supersede:
        reason = text(reason, "reason", max_length=2000)
    now = datetime.now(UTC)
    async with in_transaction():
        plan = await get_plan(actor, plan_id, for_update=True, field="id")
        if plan.status != PlanStatus.DRAFT:
            raise ServiceError(
                ErrorCode.PLAN_NOT_DRAFT,
                "plan {id} is {status}",
                "id",
                params={"id": plan.id, "status": Term(plan.status.value)},
            )
        lines = await AllocationLine.filter(plan_id=plan.id).values_list("enterprise_id", "amount")
        ids = [i for i, _ in lines]
        if await Notice.filter(year=plan.year, enterprise_id__in=ids).exists():
            raise ServiceError(
                ErrorCode.PLAN_YEAR_LOCKED,
                "notices for {year} are issued; its allowances can no longer change",
                "id",
                params={"year": plan.year},
            )
        overlapping = [
            plan_id
            for (plan_id,) in await AllocationPlan.filter(
                year=plan.year,
                status=PlanStatus.COMMITTED,
                id__in=Subquery(AllocationLine.filter(enterprise_id__in=ids).values("plan_id")),
            ).values_list("id")
        ]
        if overlapping and not supersede:
            raise ServiceError(
                ErrorCode.PLAN_EXISTS,
                "committed plan(s) {plans} already allocate {year}; commit with supersede and a reason",
                "supersede",
                params={"plans": list(overlapping), "year": plan.year},
            )
        # A replacement covers everyone the old plans did: a smaller one would leave their
        # allowances in place under a plan marked SUPERSEDED, outside any committed plan.
        left_out = (
            await AllocationLine.filter(plan_id__in=list(overlapping))
            .exclude(enterprise_id__in=ids)
            .values_list("enterprise_id", flat=True)
        )
        if left_out:
            raise ServiceError(
                ErrorCode.PLAN_SCOPE_SMALLER,
                "the plan leaves out enterprises {ids} of the plan(s) it would supersede",
                "supersede",
                params={"ids": sorted(set(left_out))[:10]},
            )
        for old_id in overlapping:
            await AllocationPlan.filter(id=old_id).update(
                status=PlanStatus.SUPERSEDED, superseded_by_id=plan.id
            )
            await audit.record(
                actor,
                "allocation.plan_superseded",
                audit.Ref("AllocationPlan", old_id),
                reason=reason,
                data={"by": plan.id},
            )
        await Allowance.bulk_create(
            [
                Allowance(enterprise_id=i, year=plan.year, amount=amount, updated_by_id=actor.user_id)
                for i, amount in lines
            ],
            on_conflict=["enterprise_id", "year"],
            update_fields=["amount", "updated_by_id", "updated_at"],
            batch_size=1000,
        )
        await Message.bulk_create(
            [
                Message(
                    enterprise_id=i,
                    kind=MessageKind.ALLOWANCE,
                    created_at=now,
                    **inbox.Text(
                        "plan_allowance", {"year": plan.year, "amount": amount, "plan": plan.id}
                    ).columns(),
                )
                for i, amount in lines
            ],
            batch_size=1000,
        )
        await AllocationPlan.filter(id=plan.id).update(status=PlanStatus.COMMITTED, committed_at=now)
        await plan.refresh_from_db()
        messages = await Message.filter(
            kind=MessageKind.ALLOWANCE, created_at=now, enterprise_id__in=ids
        ).values_list("id", "enterprise_id")
        await audit.record(
            actor,
            "allocation.plan_committed",
            plan,
            reason=reason,
            data={"enterprises": len(lines), "allocated": plan.allocated},
        )
    regions = dict(await Enterprise.filter(id__in=ids).values_list("id", "region_code"))
    await events.publish(
        events.Event(events.EventType.PLAN_COMMITTED, data={"planId": plan.id, "year": plan.year}),
        *(
            events.message_created(
                Message(id=message_id, enterprise_id=enterprise_id), regions[enterprise_id]
            )
            for message_id, enterprise_id in messages
        ),
    )
    return plan


async def issue_notices_for_plan(
    actor: Actor,
    files: FileStore,
    plan_id: int,
    *,
    deadline: datetime,
    ack_window_hours: int,
    title: str,
    body: str,
    document: Upload | None,
    offset_cap_ratio: Raw = notices.DEFAULT_OFFSET_CAP,
    allow_banking: bool = False,
    require_verification: bool = True,
) -> list[Notice]:
    """Issue every enterprise of a committed plan its notice, through the same workflow as
    issueNotice. Enterprises that already have their notice for the year are skipped, so
    calling this twice issues nothing twice. Returns the notices this call issued."""
    require_role(actor, Role.REGULATOR)
    plan = await get_plan(actor, plan_id)
    if plan.status != PlanStatus.COMMITTED:
        raise ServiceError(
            ErrorCode.PLAN_NOT_COMMITTED, "only a committed plan's notices can be issued", "planId"
        )
    ids = [
        i
        for (i,) in await AllocationLine.filter(plan_id=plan.id)
        .order_by("enterprise_id")
        .values_list("enterprise_id")
    ]
    done = {
        i for (i,) in await Notice.filter(year=plan.year, enterprise_id__in=ids).values_list("enterprise_id")
    }
    if all(i in done for i in ids):  # a retry after everything was issued needs no document
        await audit.record(actor, "allocation.notices_issued", plan, data={"issued": 0})
        return []
    incoming = await files.accept(document, "document")
    request = notices.NoticeRequest(
        year=plan.year,
        deadline=deadline,
        ack_window_hours=ack_window_hours,
        title=title,
        body=body,
        offset_cap_ratio=offset_cap_ratio,
        allow_banking=allow_banking,
        require_verification=require_verification,
    )
    issued = []
    for enterprise_id in ids:
        if enterprise_id in done:
            continue
        try:
            issued.append(
                await notices.issue_accepted(actor, files, incoming, request, enterprise_id=enterprise_id)
            )
        except ServiceError as error:
            if error.code != ErrorCode.NOTICE_ALREADY_ISSUED:  # a concurrent call got there first
                raise
    await audit.record(actor, "allocation.notices_issued", plan, data={"issued": len(issued)})
    return issued
