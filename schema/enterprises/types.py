from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.enums import Sector
from schema.errors import Payload
from schema.history.types import RowError
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


@strawberry.input(
    description="One enterprise of a bulk register, as in a row of POST /import/enterprises.csv."
)
class EnterpriseRowInput:
    credit_code: str = strawberry.field(
        description="18-character unified social credit code: the key of the upsert."
    )
    name: str = strawberry.field(description="Registered name.")
    region_code: str = strawberry.field(
        description="6-digit GB/T 2260 region code (a regulator: in its region)."
    )
    industry_code: str = strawberry.field(description="GB/T 4754 industry code.")
    sector: Sector = strawberry.field(description="ETS sector.")
    username: str | None = strawberry.field(
        default=None,
        description="An enterprise user account to create for it, with a one-time password (optional).",
    )


@strawberry.type(description="An enterprise user created by an import. The password is shown this once.")
class CreatedAccount:
    line: int = strawberry.field(description="The row that asked for it.")
    credit_code: str = strawberry.field(description="The enterprise it belongs to.")
    username: str = strawberry.field(description="Its sign-in name.")
    one_time_password: str = strawberry.field(
        description="Its one-time password, never stored in clear: hand it over; it must be changed at first sign-in."
    )


@strawberry.type(
    description=(
        "Result of importEnterprises. With any bad row and partial false, nothing is written and no "
        "account is created: rowErrors says which rows and `errors` carries one INVALID_ROW summary."
    )
)
class ImportEnterprisesPayload(Payload):
    written: int | None = strawberry.field(
        default=None,
        description="Rows accepted (registered, updated or unchanged); null when refused outright.",
    )
    error_count: int | None = strawberry.field(
        default=None, description="How many rows were bad (rowErrors lists at most 1,000)."
    )
    row_errors: list[RowError] = strawberry.field(
        default_factory=list, description="The bad rows, in order, with their positions and reasons."
    )
    created: int | None = strawberry.field(
        default=None, description="Enterprises registered; null when the call was refused outright."
    )
    updated: int | None = strawberry.field(
        default=None, description="Known enterprises whose data changed; null when refused outright."
    )
    accounts: list[CreatedAccount] = strawberry.field(
        default_factory=list, description="Enterprise users created, with their one-time passwords."
    )
