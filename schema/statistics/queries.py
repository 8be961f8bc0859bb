from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.context import actor_of
from schema.errors import CodedErrors
from schema.limits import max_items
from schema.pagination import DEFAULT_PAGE, After, First
from schema.permissions import AUTHENTICATED
from schema.scalars import Quantity
from schema.statistics.types import (
    SourceDiscrepancyConnection,
    StatisticsConnection,
    StatisticsDimension,
    StatisticsFilterInput,
)
from services.statistics.dimensions import StatisticsFilter
from services.statistics.discrepancies import DEFAULT_SHARE, discrepancies
from services.statistics.page import page
from services.values import Raw


@strawberry.type
class StatisticsQueries:
    @strawberry.field(
        extensions=[CodedErrors()],
        permission_classes=AUTHENTICATED,
        description=(
            "Energy use, emissions and compliance figures (统计与分析) of the enterprises in your scope, "
            "one row per group of the groupBy keys, ordered by those keys in their order. Energy comes "
            "from the monthly and yearly aggregates; compliance figures (allowances, notices, approved "
            "applications) count compliance years and are null when grouping by QUARTER, MONTH or "
            "ENERGY_TYPE. A group appears when it has energy or compliance data. An enterprise user "
            "sees its own enterprise only, a regulator its region only. Bad input is a top-level error "
            "with a code: INVALID_GROUP_BY, INVALID_DATE_RANGE, INVALID_REGION_CODE, "
            "INVALID_INDUSTRY_CODE, UNKNOWN_ENERGY_TYPE, TOO_MANY_ITEMS, INVALID_PAGINATION or "
            "INVALID_CURSOR."
        ),
    )
    async def statistics(
        self,
        info: Info,
        group_by: Annotated[
            list[StatisticsDimension],
            strawberry.argument(
                description="The keys of a row, in order; at least one, each at most once.",
                directives=max_items(len(StatisticsDimension)),
            ),
        ],
        filter: Annotated[
            StatisticsFilterInput | None, strawberry.argument(description="Which data to add up.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> StatisticsConnection:
        where = filter.to_service() if filter else StatisticsFilter()
        size = DEFAULT_PAGE if first is None else first
        return StatisticsConnection.of(await page(actor_of(info), group_by, where, size, after))

    @strawberry.field(
        extensions=[CodedErrors()],
        permission_classes=AUTHENTICATED,
        description=(
            "Enterprise-months and energy types where the sources disagree: some source's figure for "
            "the month (its monthly record, else its days summed) differs from the one that counts by "
            "more than `share` of it. Only one figure per enterprise, month and type counts in "
            "statistics (the first source in sourcePrecedence); this lists the others beside it. "
            "Scoped and filtered like statistics. Bad input is a top-level error with a code: "
            "INVALID_DISCREPANCY_SHARE, INVALID_DATE_RANGE, INVALID_REGION_CODE, INVALID_INDUSTRY_CODE, "
            "UNKNOWN_ENERGY_TYPE, TOO_MANY_ITEMS, INVALID_PAGINATION or INVALID_CURSOR."
        ),
    )
    async def source_discrepancies(
        self,
        info: Info,
        filter: Annotated[
            StatisticsFilterInput | None,
            strawberry.argument(description="Which enterprise-months to compare."),
        ] = None,
        share: Annotated[
            Raw | None,
            strawberry.argument(
                graphql_type=Quantity | None,
                description=(
                    f"Listed when a figure differs from the effective one by more than this share of it: "
                    f"0 to 10, at most 4 decimals (default {DEFAULT_SHARE} = 5 %)."
                ),
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> SourceDiscrepancyConnection:
        where = filter.to_service() if filter else StatisticsFilter()
        size = DEFAULT_PAGE if first is None else first
        result = await discrepancies(
            actor_of(info), where, share=DEFAULT_SHARE if share is None else share, first=size, after=after
        )
        return SourceDiscrepancyConnection.of(result)
