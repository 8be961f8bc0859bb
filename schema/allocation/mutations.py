from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

import models
from schema.allocation.types import AllocationPlan, AllocationPreview, AllocationRule
from schema.compliance.types import Notice
from schema.context import actor_of
from schema.enums import Sector
from schema.errors import Payload, mutation, parse_id
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from schema.scalars import Quantity, Ratio, Tonnes
from services.access import Actor
from services.allocation import direct, plans, rules
from services.allocation.trend import MAX_YEARS
from services.compliance import documents
from services.errors import ErrorCode, ServiceError
from services.tables import Limits
from services.values import Raw

# Lists of input objects are converted by graphql-core and strawberry on the event loop, before
# any resolver runs and without a pause: 50,000 direct lines held it for seconds. Larger tables
# go as a file (directCsv), which the service reads with pauses (bench/health_under_load.py).
MAX_DIRECT_LINES = 5_000
MAX_LISTED_IDS = 10_000


@strawberry.input(description="Which enterprises to allocate to; all given conditions must hold.")
class AllocationScopeInput:
    region_prefix: str | None = strawberry.field(
        default=None, description="Region code prefix, e.g. 44 or 4401 (within your own region)."
    )
    industry_code: str | None = strawberry.field(default=None, description="GB/T 4754 code or its prefix.")
    sector: Sector | None = strawberry.field(default=None, description="ETS sector.")
    enterprise_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=f"Exactly these enterprises (at most {MAX_LISTED_IDS:,}).",
        directives=max_items(MAX_LISTED_IDS),
    )


@strawberry.input(description="One enterprise's amount in a DIRECT allocation.")
class DirectAmountInput:
    enterprise_id: strawberry.ID = strawberry.field(description="The enterprise.")
    amount: Raw = strawberry.field(graphql_type=Tonnes, description="Its allowance, in whole tCO2.")


@strawberry.input(
    description="What to allocate: the year, the total, the enterprises, the rule and its parameters."
)
class AllocationInput:
    year: int = strawberry.field(description="The allocation (compliance) year.")
    rule: AllocationRule = strawberry.field(description="How to split the total.")
    total: Raw | None = strawberry.field(
        default=None,
        graphql_type=Tonnes | None,
        description=(
            "Allowances to share. Optional for BENCHMARK (a cap: all are scaled down by one factor "
            "when exceeded), HISTORICAL_EMISSIONS (then the average emissions, less reductionRate) and "
            "DIRECT (then the sum; when given it must equal the sum)."
        ),
    )
    scope: AllocationScopeInput | None = strawberry.field(
        default=None, description="Which enterprises (default: every enterprise in your region)."
    )
    base_years: list[int] | None = strawberry.field(
        default=None,
        directives=max_items(MAX_YEARS),
        description="Years whose data the rule reads (default: the last 3 with data before `year`).",
    )
    reduction_rate: Raw | None = strawberry.field(
        default=None,
        graphql_type=Ratio | None,
        description="HISTORICAL_EMISSIONS without a total: reduce the sum by this share.",
    )
    correction_factor: Raw | None = strawberry.field(
        default=None,
        graphql_type=Quantity | None,
        description="BENCHMARK: multiplies every benchmark allowance (default 1).",
    )
    floor_ratio: Raw | None = strawberry.field(
        default=None,
        graphql_type=Ratio | None,
        description="BENCHMARK: nobody gets less than this share of its verified emissions (e.g. 0.8).",
    )
    direct: list[DirectAmountInput] | None = strawberry.field(
        default=None,
        description=(
            f"DIRECT: amounts per enterprise (at most {MAX_DIRECT_LINES:,}; up to {rules.MAX_DIRECT:,} "
            "as `directCsv`)."
        ),
        directives=max_items(MAX_DIRECT_LINES),
    )
    direct_csv: documents.Upload | None = strawberry.field(
        default=None,
        graphql_type=Upload | None,
        description=(
            "DIRECT: amounts as a CSV file (UTF-8 or GB18030) or an .xlsx workbook (its first sheet), one "
            "`credit_code,amount` a row (a header row is optional); bad rows are reported with their numbers. "
            "Combined with `direct` when both are given."
        ),
    )


@strawberry.type(description="Result of createAllocationPlan and commitAllocationPlan.")
class AllocationPlanPayload(Payload):
    plan: models.AllocationPlan | None = strawberry.field(
        default=None, graphql_type=AllocationPlan | None, description="The plan, on success."
    )


@strawberry.type(description="Result of issueNoticesForPlan.")
class IssueNoticesPayload(Payload):
    issued: int | None = strawberry.field(
        default=None, description="How many notices this call issued (0 when all were issued before)."
    )
    notices: list[models.Notice] = strawberry.field(
        default_factory=list,
        graphql_type=list[Notice],
        description="The notices this call issued, by enterprise id.",
    )


def _ids(values: list[strawberry.ID], field: str) -> tuple[int, ...]:
    if len(values) > rules.MAX_DIRECT:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS,
            "at most {MAX_DIRECT} enterprises",
            field,
            params={"MAX_DIRECT": rules.MAX_DIRECT},
        )
    return tuple(parse_id(value, field, "Enterprise") for value in values)


async def _request(actor: Actor, input: AllocationInput, info: Info) -> rules.AllocationRequest:
    """The service's request, from the input; the services check every value."""
    scope = input.scope or AllocationScopeInput()
    entries: tuple[tuple[int, Raw], ...] | None = None
    if input.direct is not None:
        ids = _ids([entry.enterprise_id for entry in input.direct], "direct")
        entries = tuple(zip(ids, [entry.amount for entry in input.direct], strict=True))
    if input.direct_csv is not None:
        settings = info.context.settings
        table = await direct.direct_table(
            actor,
            await input.direct_csv.read(),
            content_type=getattr(input.direct_csv, "content_type", None),  # starlette UploadFile has one
            limits=Limits(settings.xlsx_max_bytes, settings.xlsx_max_unpacked_bytes),
        )
        entries = (entries or ()) + table
    return rules.AllocationRequest(
        year=input.year,
        rule=input.rule,
        total=input.total,
        scope=rules.Scope(
            region_prefix=scope.region_prefix,
            industry_code=scope.industry_code,
            sector=scope.sector,
            enterprise_ids=None
            if scope.enterprise_ids is None
            else _ids(scope.enterprise_ids, "enterpriseIds"),
        ),
        parameters=rules.Parameters(
            base_years=None if input.base_years is None else tuple(input.base_years),
            reduction_rate=input.reduction_rate,
            correction_factor=input.correction_factor,
            floor_ratio=input.floor_ratio,
            direct=entries,
        ),
    )


InputArgument = Annotated[AllocationInput, strawberry.argument(description="What to allocate.")]


@strawberry.type
class AllocationMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Compute each enterprise's allowance by a rule, without saving it (regulators; the preview "
            "is audited)."
        ),
    )
    async def preview_allocation(self, info: Info, input: InputArgument) -> AllocationPreview:
        actor = actor_of(info)
        result = await plans.preview(actor, **await _request(actor, input, info))
        return AllocationPreview.of(result)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Compute and save a DRAFT plan; nothing changes until it is committed (regulators).",
    )
    async def create_allocation_plan(self, info: Info, input: InputArgument) -> AllocationPlanPayload:
        actor = actor_of(info)
        plan = await plans.create_plan(actor, **await _request(actor, input, info))
        return AllocationPlanPayload(plan=plan)

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Write a DRAFT plan's amounts as the year's initial allowances, freeze it and send each "
            "enterprise an ALLOWANCE message. Refused once the year's notices are issued; replacing a "
            "committed plan for the same enterprises needs supersede and a reason."
        ),
    )
    async def commit_allocation_plan(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The DRAFT plan.")],
        supersede: Annotated[
            bool, strawberry.argument(description="Replace committed plans covering the same enterprises.")
        ] = False,
        reason: Annotated[
            str | None, strawberry.argument(description="Why; required to supersede, and audited.")
        ] = None,
    ) -> AllocationPlanPayload:
        plan = await plans.commit_plan(
            actor_of(info), parse_id(id, "id", "Allocation plan"), supersede=supersede, reason=reason
        )
        return AllocationPlanPayload(plan=plan)

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Issue a committed plan's compliance notices, one per enterprise, through the same workflow "
            "as issueNotice and with one uploaded document. Enterprises already notified for the year "
            "are skipped, so calling it again issues nothing twice."
        ),
    )
    async def issue_notices_for_plan(
        self,
        info: Info,
        plan_id: Annotated[strawberry.ID, strawberry.argument(description="The COMMITTED plan.")],
        deadline: Annotated[
            datetime, strawberry.argument(description="Last instant to apply, with a UTC offset.")
        ],
        ack_window_hours: Annotated[
            int, strawberry.argument(description="Hours allowed to acknowledge receipt (e.g. 48, 72, 240).")
        ],
        title: Annotated[str, strawberry.argument(description="Title of every notice.")],
        body: Annotated[str, strawberry.argument(description="Text of every notice.")] = "",
        document: Annotated[
            documents.Upload | None,
            strawberry.argument(
                description="The official document: PDF, PNG or JPEG (multipart upload). Required "
                "(DOCUMENT_REQUIRED) unless every notice of the plan is already issued, as on a retry.",
                graphql_type=Upload | None,
            ),
        ] = None,
        offset_cap_ratio: Annotated[
            Raw,
            strawberry.argument(
                description="Largest share of verified emissions offsets may cover.", graphql_type=Ratio
            ),
        ] = "0.05",
        allow_banking: Annotated[
            bool, strawberry.argument(description="Whether a surplus may carry over.")
        ] = False,
        require_verification: Annotated[
            bool,
            strawberry.argument(
                description="Whether applications need a verifier's conclusion for the enterprise-year."
            ),
        ] = True,
    ) -> IssueNoticesPayload:
        issued = await plans.issue_notices_for_plan(
            actor_of(info),
            info.context.files,
            parse_id(plan_id, "planId", "Allocation plan"),
            deadline=deadline,
            ack_window_hours=ack_window_hours,
            title=title,
            body=body,
            document=document,
            offset_cap_ratio=offset_cap_ratio,
            allow_banking=allow_banking,
            require_verification=require_verification,
        )
        return IssueNoticesPayload(issued=len(issued), notices=issued)
