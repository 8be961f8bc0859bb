from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.context import actor_of
from schema.errors import CodedErrors
from schema.history.types import EmissionTrend, TrendFilter
from schema.permissions import AUTHENTICATED
from services.allocation import trend
from services.enterprises import EnterpriseFilter


@strawberry.type
class HistoryQueries:
    @strawberry.field(
        extensions=[CodedErrors()],
        permission_classes=AUTHENTICATED,
        description=(
            "Total verified emissions and energy use per year over the enterprises in your scope, "
            "with each year's coverage of the scope, a linear trend over the years covered well enough and "
            "next year's forecast. A bad year range is a top-level error with code INVALID_YEAR, a bad "
            "minCoverage one with INVALID_THRESHOLD."
        ),
    )
    async def emission_trend(
        self,
        info: Info,
        from_year: Annotated[int, strawberry.argument(description="First year, inclusive.")],
        to_year: Annotated[int, strawberry.argument(description="Last year, inclusive (at most 100 years).")],
        filter: Annotated[
            TrendFilter | None, strawberry.argument(description="Which enterprises to add up.")
        ] = None,
        min_coverage: Annotated[
            float,
            strawberry.argument(
                description=(
                    "Years whose reporting enterprises are a smaller share of the scope are left out of the "
                    "fit (still listed, with a note). 0 to 1; 0 fits every year with data."
                )
            ),
        ] = trend.DEFAULT_MIN_COVERAGE,
    ) -> EmissionTrend:
        where = EnterpriseFilter(**vars(filter)) if filter else None
        result = await trend.emission_trend(actor_of(info), from_year, to_year, where, min_coverage)
        return EmissionTrend.of(result)
