from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enterprises.types import Allowance, Enterprise
from schema.enums import Sector
from schema.errors import parse_id
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services import enterprises
from services.errors import ServiceError


@strawberry.input(description="Narrow a list of enterprises; all given conditions must hold.")
class EnterpriseFilter:
    region_prefix: str | None = strawberry.field(
        default=None, description="Region code prefix, e.g. 44 or 4401."
    )
    industry_code: str | None = strawberry.field(default=None, description="GB/T 4754 code or its prefix.")
    sector: Sector | None = strawberry.field(default=None, description="ETS sector.")
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the name."
    )


@strawberry.type
class EnterpriseQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One enterprise in your scope, or null.",
        graphql_type=Enterprise | None,
    )
    async def enterprise(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The enterprise.")]
    ) -> models.Enterprise | None:
        try:
            return await info.context.loaders.enterprise_by_id.load(parse_id(id, "id", "Enterprise"))
        except ServiceError:
            return None

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Enterprises in your scope, oldest first.",
        graphql_type=Connection[Enterprise],
    )
    async def enterprises(
        self,
        info: Info,
        filter: Annotated[
            EnterpriseFilter | None, strawberry.argument(description="Conditions to narrow the list.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.Enterprise]:
        where = enterprises.EnterpriseFilter(**vars(filter)) if filter else None
        return await paginate(enterprises.enterprises_for(actor_of(info), where), first, after)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="An enterprise's allowance for a year, or null.",
        graphql_type=Allowance | None,
    )
    async def allowance(
        self,
        info: Info,
        enterprise_id: Annotated[strawberry.ID, strawberry.argument(description="The enterprise.")],
        year: Annotated[int, strawberry.argument(description="Compliance year.")],
    ) -> models.Allowance | None:
        try:
            key = (parse_id(enterprise_id, "enterpriseId", "Enterprise"), year)
        except ServiceError:
            return None
        return await info.context.loaders.allowance_by_enterprise_year.load(key)
