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
            "with a linear trend and next year's forecast. A bad year range is a top-level error "
            "with code INVALID_YEAR."
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
    ) -> EmissionTrend:
        where = EnterpriseFilter(**vars(filter)) if filter else None
        result = await trend.emission_trend(actor_of(info), from_year, to_year, where)
        return EmissionTrend.of(result)
