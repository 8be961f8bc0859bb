from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of, language_of
from schema.enterprises.types import (
    Allowance,
    CreatedAccount,
    Enterprise,
    EnterpriseRowInput,
    ImportEnterprisesPayload,
)
from schema.enums import Sector
from schema.errors import Payload, mutation, parse_id
from schema.history.types import imported
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from schema.scalars import Tonnes
from services import enterprises, register
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


def _raw(row: EnterpriseRowInput) -> dict[str, str]:
    """A row as a CSV line would give it: the service validates every value, with its line."""
    return {
        "credit_code": row.credit_code,
        "name": row.name,
        "region_code": row.region_code,
        "industry_code": row.industry_code,
        "sector": row.sector.value,
        "username": row.username or "",
    }


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

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Register or update enterprises by credit code, with optional enterprise user accounts (at "
            "most 1,000 rows; upload a CSV or .xlsx file to POST /import/enterprises.csv for more). "
            "Administrators anywhere, regulators in their region."
        ),
    )
    async def import_enterprises(
        self,
        info: Info,
        rows: Annotated[
            list[EnterpriseRowInput],
            strawberry.argument(
                description="The rows, in order.", directives=max_items(register.MAX_ROWS_PER_CALL)
            ),
        ],
        partial: Annotated[
            bool,
            strawberry.argument(description="Write the good rows even if some are bad (default: none)."),
        ] = False,
    ) -> ImportEnterprisesPayload:
        raw = [_raw(row) for row in rows]
        result = await register.import_rows(actor_of(info), raw, partial=partial)
        return ImportEnterprisesPayload(
            **imported(result.rows, partial, language_of(info)),
            created=result.created,
            updated=result.updated,
            accounts=[
                CreatedAccount(
                    line=a.line, credit_code=a.credit_code, username=a.username, one_time_password=a.password
                )
                for a in result.accounts
            ],
        )
