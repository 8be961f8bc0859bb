"""Allocation plans (初始配额分配) as GraphQL types: previews, plans and their lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

import models
from models.enums import AllocationRule, PlanStatus
from schema.enterprises.types import Enterprise
from schema.enums import Sector
from schema.errors import Payload
from schema.pagination import After, Connection, Edge, First, paginate
from schema.scalars import Quantity, Ratio, Tonnes
from services.allocation.rules import Allocation

strawberry.enum(
    AllocationRule,
    description=(
        "How a total is split. HISTORICAL_EMISSIONS (grandfathering): by average verified emissions "
        "over the base years; BENCHMARK: output × benchmark × correction factor; ENERGY_PROPORTIONAL: "
        "by energy use in tce over the base years; EQUAL: the same for all; DIRECT: amounts entered "
        "per enterprise."
    ),
)
strawberry.enum(
    PlanStatus,
    description=(
        "DRAFT: saved, changes nothing yet; COMMITTED: its amounts are the year's initial allowances; "
        "SUPERSEDED: replaced by a later committed plan."
    ),
)


ZERO = Decimal(0)
# A plan stores bases with 6 decimals: a preview shows them as the plan would keep them (an
# energy basis summed in floating point would otherwise show 122.89999999999999).
BASIS_PLACES = Decimal("0.000001")


@dataclass(slots=True)
class LineRow:
    """A line of a preview or a plan, with its enterprise once loaded."""

    enterprise_id: int
    amount: int
    basis: Decimal
    enterprise: models.Enterprise | None = None


@dataclass(slots=True)
class ManualRow:
    enterprise_id: int
    reason: str
    enterprise: models.Enterprise | None = None


Row = TypeVar("Row", LineRow, ManualRow)


def _selects(selections: list[Selection], name: str) -> bool:
    """Whether the field `name` is asked for anywhere below (in fields, fragments, connections)."""
    return any(
        (isinstance(selection, SelectedField) and selection.name == name)
        or _selects(selection.selections, name)
        for selection in selections
    )


async def with_enterprises(info: Info, rows: list[Row]) -> list[Row]:
    """Attach each row's enterprise, all through one batch of the scoped DataLoader, and only
    when the query asks for them. A preview may hold 10,000 lines: a resolver awaited per line
    would cost more than the allocation itself."""
    if rows and any(_selects(field.selections, "enterprise") for field in info.selected_fields):
        enterprises = await info.context.loaders.enterprise_by_id.load_many([r.enterprise_id for r in rows])
        for row, enterprise in zip(rows, enterprises, strict=True):
            row.enterprise = enterprise
    return rows


@strawberry.type(description="One enterprise's allowance in a preview or a plan.")
class AllocationLine:
    enterprise: Enterprise = strawberry.field(description="The enterprise.")
    amount: Tonnes = strawberry.field(description="The allowance, in whole tCO2.")
    basis: Quantity = strawberry.field(
        description=(
            "What the rule shared by: average tCO2 (HISTORICAL_EMISSIONS), the benchmark allowance "
            "before scaling (BENCHMARK), average tce (ENERGY_PROPORTIONAL), 1 (EQUAL) or the amount (DIRECT)."
        )
    )


@strawberry.type(description="An enterprise the rule could not allocate to: it needs an amount entered.")
class ManualEntry:
    enterprise: Enterprise = strawberry.field(description="The enterprise.")
    reason: str = strawberry.field(description="What data the rule lacked, e.g. no output in the base year.")


@strawberry.type(description="Which enterprises a plan covers, as it was asked for.")
class AllocationScope:
    region_prefix: str | None = strawberry.field(description="Region code prefix.")
    industry_code: str | None = strawberry.field(description="GB/T 4754 code or its prefix.")
    sector: Sector | None = strawberry.field(description="ETS sector.")
    enterprise_ids: list[strawberry.ID] | None = strawberry.field(description="Explicit enterprises.")


@strawberry.type(
    description=(
        "previewAllocation's result: each enterprise's allowance, computed and not saved. On an "
        "error every other field is null or empty."
    )
)
class AllocationPreview(Payload):
    year: int | None = strawberry.field(default=None, description="The allocation year.")
    rule: AllocationRule | None = strawberry.field(default=None, description="The rule applied.")
    total: int | None = strawberry.field(
        default=None,
        graphql_type=Tonnes | None,
        description=(
            "The total shared; for BENCHMARK the cap given (null when none was), for DIRECT the sum, "
            "for HISTORICAL_EMISSIONS without a total the reduced sum of the bases."
        ),
    )
    allocated: int | None = strawberry.field(
        default=None,
        graphql_type=Tonnes | None,
        description="Sum of the lines: equals total except for an unscaled BENCHMARK.",
    )
    scale_factor: Decimal | None = strawberry.field(
        default=None,
        graphql_type=Quantity | None,
        description="BENCHMARK: the uniform factor applied to fit the total (1 when unscaled).",
    )
    base_years: list[int] = strawberry.field(
        default_factory=list, description="The base years the rule read (BENCHMARK: the one year used)."
    )
    allocation: strawberry.Private[Allocation | None] = None

    @strawberry.field(
        description="One line per enterprise allocated, by enterprise id.", graphql_type=list[AllocationLine]
    )
    async def lines(self, info: Info) -> list[LineRow]:
        if self.allocation is None:
            return []
        bases = self.allocation.bases
        rows = [
            LineRow(i, amount, bases.get(i, ZERO).quantize(BASIS_PLACES))
            for i, amount in sorted(self.allocation.amounts.items())
        ]
        return await with_enterprises(info, rows)

    @strawberry.field(
        description="Enterprises without the data the rule needs, by enterprise id.",
        graphql_type=list[ManualEntry],
    )
    async def manual(self, info: Info) -> list[ManualRow]:
        if self.allocation is None:
            return []
        rows = [ManualRow(i, reason) for i, reason in sorted(self.allocation.manual.items())]
        return await with_enterprises(info, rows)

    @classmethod
    def of(cls, allocation: Allocation) -> AllocationPreview:
        return cls(
            year=allocation.year,
            rule=allocation.rule,
            total=allocation.total,
            allocated=allocation.allocated,
            scale_factor=allocation.scale_factor,
            base_years=list(allocation.base_years),
            allocation=allocation,
        )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@strawberry.type(description="A saved allocation plan: the rule, its parameters, and the allowances.")
class AllocationPlan:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    year: int = strawberry.field(description="The allocation year.")
    rule: AllocationRule = strawberry.field(description="The rule applied.")
    status: PlanStatus = strawberry.field(description="DRAFT, COMMITTED or SUPERSEDED.")
    total: Tonnes | None = strawberry.field(description="The total shared (see AllocationPreview.total).")
    allocated: Tonnes = strawberry.field(description="Sum of the lines.")
    scale_factor: Quantity | None = strawberry.field(
        description="BENCHMARK: the uniform factor applied to fit the total (1 when unscaled)."
    )
    created_at: datetime = strawberry.field(description="When the draft was saved.")
    committed_at: datetime | None = strawberry.field(description="When it was committed.")

    @strawberry.field(description="The scope it was computed for.")
    def scope(self, root: strawberry.Parent[models.AllocationPlan]) -> AllocationScope:
        scope = root.scope or {}
        ids = scope.get("enterprise_ids")
        return AllocationScope(
            region_prefix=scope.get("region_prefix"),
            industry_code=scope.get("industry_code"),
            sector=models.Sector(scope["sector"]) if scope.get("sector") else None,
            enterprise_ids=None if ids is None else [strawberry.ID(str(i)) for i in ids],
        )

    @strawberry.field(description="The base years the rule read.")
    def base_years(self, root: strawberry.Parent[models.AllocationPlan]) -> list[int]:
        return list((root.parameters or {}).get("baseYears") or [])

    @strawberry.field(
        description="HISTORICAL_EMISSIONS without a total: the reduction applied.", graphql_type=Ratio | None
    )
    def reduction_rate(self, root: strawberry.Parent[models.AllocationPlan]) -> Decimal | None:
        return _decimal((root.parameters or {}).get("reduction_rate"))

    @strawberry.field(
        description="BENCHMARK: the correction factor given (null: none, i.e. 1).",
        graphql_type=Quantity | None,
    )
    def correction_factor(self, root: strawberry.Parent[models.AllocationPlan]) -> Decimal | None:
        return _decimal((root.parameters or {}).get("correction_factor"))

    @strawberry.field(
        description="BENCHMARK: the floor, as a share of verified emissions.", graphql_type=Ratio | None
    )
    def floor_ratio(self, root: strawberry.Parent[models.AllocationPlan]) -> Decimal | None:
        return _decimal((root.parameters or {}).get("floor_ratio"))

    @strawberry.field(description="Username of the regulator who saved it.")
    async def created_by(self, root: strawberry.Parent[models.AllocationPlan], info: Info) -> str | None:
        return await info.context.loaders.username_by_id.load(root.created_by_id)

    @strawberry.field(description="The plan that replaced it, when SUPERSEDED.")
    def superseded_by_id(self, root: strawberry.Parent[models.AllocationPlan]) -> strawberry.ID | None:
        return None if root.superseded_by_id is None else strawberry.ID(str(root.superseded_by_id))

    @strawberry.field(
        description="The allowances, by enterprise id, a page at a time.",
        graphql_type=Connection[AllocationLine],
    )
    async def lines(
        self,
        root: strawberry.Parent[models.AllocationPlan],
        info: Info,
        first: First = None,
        after: After = None,
    ) -> Connection[LineRow]:
        page = await paginate(models.AllocationLine.filter(plan_id=root.id), first, after)
        rows = [LineRow(e.node.enterprise_id, e.node.amount, e.node.basis) for e in page.edges]
        rows = await with_enterprises(info, rows)
        edges = [Edge(cursor=e.cursor, node=row) for e, row in zip(page.edges, rows, strict=True)]
        return Connection(edges=edges, page_info=page.page_info, count=page.count)

    @strawberry.field(
        description="Enterprises the rule could not allocate to, by enterprise id.",
        graphql_type=list[ManualEntry],
    )
    async def manual(self, root: strawberry.Parent[models.AllocationPlan], info: Info) -> list[ManualRow]:
        rows = [ManualRow(entry["enterpriseId"], entry["reason"]) for entry in root.manual or []]
        return await with_enterprises(info, rows)
