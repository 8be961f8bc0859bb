from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.context import actor_of
from schema.errors import CodedErrors
from schema.limits import max_items
from schema.pagination import DEFAULT_PAGE, After, First
from schema.permissions import AUTHENTICATED
from schema.statistics.types import StatisticsConnection, StatisticsDimension, StatisticsFilterInput
from services.statistics.dimensions import StatisticsFilter
from services.statistics.page import page


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
