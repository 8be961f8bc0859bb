from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.allocation.types import AllocationPlan, PlanStatus
from schema.context import actor_of
from schema.errors import parse_id
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.allocation import plans
from services.errors import ServiceError


@strawberry.type
class AllocationQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One allocation plan of your region, or null (regulators and admins).",
        graphql_type=AllocationPlan | None,
    )
    async def allocation_plan(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The plan.")]
    ) -> models.AllocationPlan | None:
        try:
            return await plans.get_plan(actor_of(info), parse_id(id, "id", "Allocation plan"))
        except ServiceError:
            return None

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Allocation plans of your region, newest first (enterprise users see none).",
        graphql_type=Connection[AllocationPlan],
    )
    async def allocation_plans(
        self,
        info: Info,
        year: Annotated[int | None, strawberry.argument(description="Only plans for this year.")] = None,
        status: Annotated[
            PlanStatus | None, strawberry.argument(description="Only plans in this status.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.AllocationPlan]:
        query = plans.plans_for(actor_of(info))
        if year is not None:
            query = query.filter(year=year)
        if status is not None:
            query = query.filter(status=status)
        return await paginate(query, first, after, newest_first=True)
