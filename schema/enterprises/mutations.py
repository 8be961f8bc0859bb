from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enterprises.types import Allowance, Enterprise
from schema.enums import Sector
from schema.errors import Payload, mutation, parse_id
from schema.permissions import AUTHENTICATED
from schema.scalars import Tonnes
from services import enterprises
from services.compliance import allowances
from services.values import Raw


@strawberry.input(description="A new enterprise. Codes are validated (check characters included).")
class CreateEnterpriseInput:
    name: str = strawberry.field(description="Registered name.")
    credit_code: str = strawberry.field(description="18-character unified social credit code.")
    region_code: str = strawberry.field(description="6-digit GB/T 2260 region code.")
    industry_code: str = strawberry.field(description="GB/T 4754 industry code.")
    sector: Sector = strawberry.field(description="ETS sector.")


@strawberry.input(description="Changes to an enterprise; omitted fields stay as they are.")
class UpdateEnterpriseInput:
    id: strawberry.ID = strawberry.field(description="The enterprise to change.")
    name: str | None = strawberry.field(default=None, description="Registered name.")
    credit_code: str | None = strawberry.field(default=None, description="Unified social credit code.")
    region_code: str | None = strawberry.field(default=None, description="GB/T 2260 region code.")
    industry_code: str | None = strawberry.field(default=None, description="GB/T 4754 industry code.")
    sector: Sector | None = strawberry.field(default=None, description="ETS sector.")


@strawberry.type(description="Result of an enterprise mutation.")
class EnterprisePayload(Payload):
    enterprise: models.Enterprise | None = strawberry.field(
        default=None, graphql_type=Enterprise | None, description="The enterprise, on success."
    )


@strawberry.type(description="Result of setInitialAllowance.")
class AllowancePayload(Payload):
    allowance: models.Allowance | None = strawberry.field(
        default=None, graphql_type=Allowance | None, description="The allowance, on success."
    )


@strawberry.type
class EnterpriseMutations:
    @mutation(permission_classes=AUTHENTICATED, description="Register an enterprise (admin).")
    async def create_enterprise(
        self,
        info: Info,
        input: Annotated[CreateEnterpriseInput, strawberry.argument(description="The enterprise.")],
    ) -> EnterprisePayload:
        enterprise = await enterprises.create_enterprise(actor_of(info), **vars(input))
        return EnterprisePayload(enterprise=enterprise)

    @mutation(permission_classes=AUTHENTICATED, description="Correct an enterprise's data (admin).")
    async def update_enterprise(
        self,
        info: Info,
        input: Annotated[UpdateEnterpriseInput, strawberry.argument(description="The changes.")],
    ) -> EnterprisePayload:
        changes = {k: v for k, v in vars(input).items() if k != "id"}
        enterprise = await enterprises.update_enterprise(
            actor_of(info), parse_id(input.id, "id", "Enterprise"), **changes
        )
        return EnterprisePayload(enterprise=enterprise)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Set an enterprise's initial allowance for a year (regulator in scope). "
        "Editable until a notice for that enterprise and year is issued (then ALLOWANCE_LOCKED).",
    )
    async def set_initial_allowance(
        self,
        info: Info,
        enterprise_id: Annotated[strawberry.ID, strawberry.argument(description="The enterprise.")],
        year: Annotated[int, strawberry.argument(description="Compliance year (2000-2100).")],
        amount: Annotated[
            Raw, strawberry.argument(description="Initial allowance in whole tonnes.", graphql_type=Tonnes)
        ],
    ) -> AllowancePayload:
        allowance = await allowances.set_initial_allowance(
            actor_of(info), parse_id(enterprise_id, "enterpriseId", "Enterprise"), year, amount
        )
        return AllowancePayload(allowance=allowance)
