from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core import metrics
from models import EnergySource
from schema.context import actor_of, language_of
from schema.energy.types import (
    AddEnergyTypePayload,
    EmissionFactorInput,
    EnergyRecordInput,
    ImportEnergyRecordsPayload,
    SetEmissionFactorPayload,
    SetSourcePrecedencePayload,
)
from schema.errors import mutation
from schema.history.types import RowError, imported
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from services.energy import effective, factors, ingest, reference_data
from services.values import Raw


def _raw(row: EnergyRecordInput) -> dict[str, str]:
    """A row as a CSV line would give it: the service validates every value, with its line."""
    return {
        "credit_code": row.credit_code,
        "period": row.period,
        "energy_type": row.energy_type,
        "quantity": str(row.quantity),
        "unit": row.unit,
        "source": row.source.value if row.source else "",
    }


def _text(value: Raw | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class EnergyMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Import energy records (at most 1,000 rows; POST a CSV to /import/energy.csv or JSON to "
            "/ingest/energy for more). Each is converted to its canonical unit, tce and emissions with "
            "the factor the server picks; re-sending a record (same enterprise, period, type and "
            "source) updates it. Regulators import for their region, enterprise users for their own."
        ),
    )
    async def import_energy_records(
        self,
        info: Info,
        rows: Annotated[
            list[EnergyRecordInput],
            strawberry.argument(
                description="The rows, in order.", directives=max_items(ingest.MAX_ROWS_PER_CALL)
            ),
        ],
        partial: Annotated[
            bool,
            strawberry.argument(description="Write the good rows even if some are bad (default: none)."),
        ] = False,
    ) -> ImportEnergyRecordsPayload:
        # One row beyond the cap is enough for the service to refuse the call.
        raw = [_raw(row) for row in rows[: ingest.MAX_ROWS_PER_CALL + 1]]
        result = await ingest.import_rows(actor_of(info), raw, partial=partial)
        metrics.ROWS_INGESTED.labels("energy_graphql").inc(result.written)
        return ImportEnergyRecordsPayload(
            **imported(result, partial, language_of(info)),
            missing_factors=result.missing_factors,
            row_warnings=[RowError.of(e, language_of(info)) for e in result.warnings],
        )

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Add an emission factor version (administrators and national regulators). The records it "
            "applies to are recomputed by a background job (see appliedAt), and the audit trail records both."
        ),
    )
    async def set_emission_factor(
        self,
        info: Info,
        input: Annotated[EmissionFactorInput, strawberry.argument(description="The new version.")],
    ) -> SetEmissionFactorPayload:
        factor = await factors.set_factor(
            actor_of(info),
            factors.FactorInput(
                energy_type=input.energy_type,
                effective_from=input.effective_from,
                effective_year=input.effective_year,
                status=input.status,
                value=_text(input.value),
                region_prefix=input.region_prefix,
                unit=input.unit,
                net_calorific_value=_text(input.net_calorific_value),
                carbon_content=_text(input.carbon_content),
                oxidation_rate=_text(input.oxidation_rate),
                source=input.source,
            ),
        )
        return SetEmissionFactorPayload(factor=factor)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Add an energy type (administrators and national regulators).",
    )
    async def add_energy_type(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="e.g. COKE_OVEN_GAS.")],
        name: Annotated[str, strawberry.argument(description="Name in Chinese and English.")],
        canonical_unit: Annotated[
            str,
            strawberry.argument(
                description="A known unit (MWh, 1e4Nm3, t, GJ...): quantities are kept in it."
            ),
        ],
        emits: Annotated[
            bool, strawberry.argument(description="False if its use emits nothing unless a factor is set.")
        ] = True,
    ) -> AddEnergyTypePayload:
        created = await reference_data.add_energy_type(
            actor_of(info), code, name, canonical_unit, emits=emits
        )
        return AddEnergyTypePayload(energy_type=created)

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Rank the sources (administrators and national regulators): for an enterprise, month and "
            "energy type sent by several, the first one's figure counts in statistics and the export. "
            "Name every source exactly once (INVALID_SOURCE_ORDER). The months with several sources are "
            "rebuilt by a background job; the change is audited."
        ),
    )
    async def set_source_precedence(
        self,
        info: Info,
        order: Annotated[
            list[EnergySource],
            strawberry.argument(
                description="Every source once, the one that counts first.",
                directives=max_items(len(EnergySource)),
            ),
        ],
    ) -> SetSourcePrecedencePayload:
        ranked = await effective.set_precedence(actor_of(info), order)
        return SetSourcePrecedencePayload(order=ranked)
