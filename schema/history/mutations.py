from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core import metrics
from schema.context import actor_of, language_of
from schema.errors import mutation
from schema.history.types import HistoricalRowInput, ImportHistoricalDataPayload, imported
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from services.allocation import history


def _raw(row: HistoricalRowInput) -> dict[str, str]:
    """A row as a CSV line would give it: the service validates every value, with its line."""
    return {
        "credit_code": row.credit_code,
        "year": str(row.year),
        "kind": row.kind.value,
        "item": row.item,
        "quantity": str(row.quantity),
        "unit": row.unit,
    }


@strawberry.type
class HistoryMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Import historical energy use, verified emissions and output (at most 1,000 rows; upload "
            "a CSV to POST /import/history.csv for more). Re-importing a row updates it. Regulators "
            "import for their region, enterprise users for their own enterprise."
        ),
    )
    async def import_historical_data(
        self,
        info: Info,
        rows: Annotated[
            list[HistoricalRowInput],
            strawberry.argument(
                description="The rows, in order.", directives=max_items(history.MAX_ROWS_PER_CALL)
            ),
        ],
        partial: Annotated[
            bool,
            strawberry.argument(description="Write the good rows even if some are bad (default: none)."),
        ] = False,
    ) -> ImportHistoricalDataPayload:
        # One row beyond the cap is enough for the service to refuse the call.
        raw = [_raw(row) for row in rows[: history.MAX_ROWS_PER_CALL + 1]]
        result = await history.import_rows(actor_of(info), raw, partial=partial)
        metrics.ROWS_INGESTED.labels("history_graphql").inc(result.written)
        return ImportHistoricalDataPayload(**imported(result, partial, language_of(info)))
