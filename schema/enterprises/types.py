from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.enums import Sector
from schema.scalars import Tonnes


@strawberry.type(description="An enterprise's initial allowance for one year (初始配额).")
class Allowance:
    year: int = strawberry.field(description="Compliance year.")
    amount: Tonnes = strawberry.field(description="Initial allowance in whole tonnes of CO2.")
    updated_at: datetime = strawberry.field(description="When it was last set.")

    @strawberry.field(description="The enterprise the allowance belongs to.", graphql_type="Enterprise")
    async def enterprise(self, root: strawberry.Parent[models.Allowance], info: Info) -> models.Enterprise:
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)


@strawberry.type(description="A covered enterprise (控排企业).")
class Enterprise:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    name: str = strawberry.field(description="Registered name.")
    credit_code: str = strawberry.field(
        description="Unified social credit code (统一社会信用代码, GB 32100)."
    )
    region_code: str = strawberry.field(description="6-digit GB/T 2260 administrative division code.")
    industry_code: str = strawberry.field(description="GB/T 4754 industry code, e.g. 4411 thermal power.")
    sector: Sector = strawberry.field(description="National ETS sector.")
    created_at: datetime = strawberry.field(description="When the enterprise was registered.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="The initial allowance for a year, if set.", graphql_type=Allowance | None)
    async def allowance(
        self,
        root: strawberry.Parent[models.Enterprise],
        info: Info,
        year: Annotated[int, strawberry.argument(description="Compliance year.")],
    ) -> models.Allowance | None:
        return await info.context.loaders.allowance_by_enterprise_year.load((root.id, year))
