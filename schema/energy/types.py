"""Energy records, energy types and emission factors, as GraphQL types."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

import models
from models.enums import EnergySource, ReferenceStatus
from schema.enterprises.types import Enterprise
from schema.errors import Payload
from schema.history.types import RowError
from schema.limits import max_items
from schema.scalars import Quantity
from services.energy.factors import millionths
from services.statistics.dimensions import MAX_ENERGY_TYPES
from services.values import Raw

strawberry.enum(
    EnergySource,
    name="EnergySource",
    description=(
        "Where a record came from: MANUAL (typed in), IMPORT (a file), IOT (a meter gateway), PLATFORM "
        "(another platform). Part of a record's key: each source keeps its own figure."
    ),
)


strawberry.enum(
    ReferenceStatus,
    name="ReferenceStatus",
    description=(
        "Whether a reference row carries an official value. PUBLISHED: it does, with its source. "
        "NONE_PUBLISHED: no official value exists for the period. NOT_FOUND: a value may exist but could "
        "not be confirmed from its source. A row without a value still takes effect from its date: records "
        "(or plans) of its period get none, rather than a figure of another period."
    ),
)


def _micro(value: int | None) -> Decimal | None:
    return None if value is None else millionths(value)


@strawberry.type(name="EnergyType", description="An energy carrier and the unit its quantities are kept in.")
class EnergyTypeInfo:
    code: str = strawberry.field(description="Stable code, e.g. ELECTRICITY, NATURAL_GAS, DIESEL.")
    name: str = strawberry.field(description="Name in Chinese and English.")
    canonical_unit: str = strawberry.field(description="The unit quantities are converted to and summed in.")
    emits: bool = strawberry.field(
        description="False for water: its use is collected, but it has emissions only where a factor is set."
    )


@strawberry.type(
    description=(
        "An emission factor version: tCO2 per canonical unit of an energy type from an effective date, "
        "nationally or for a region prefix. Corrections add versions; nothing is edited."
    )
)
class EmissionFactor:
    id: strawberry.ID = strawberry.field(description="Opaque identifier; records name the version they used.")
    effective_from: date = strawberry.field(
        description=(
            "Applies to records whose period starts on or after this day: a monthly record by its month's "
            "first day, a daily one by its day. Never to an earlier period."
        )
    )
    region_prefix: str = strawberry.field(description='"" national, or a region code prefix (44, 4401...).')
    version: int = strawberry.field(description="1 for the first value of this type, date and region.")
    status: ReferenceStatus = strawberry.field(
        description="PUBLISHED, or why there is no value for the period (its records get no emissions)."
    )
    value: Quantity | None = strawberry.field(
        description="tCO2 per canonical unit, up to 10 decimals; null when status is not PUBLISHED."
    )
    unit: str = strawberry.field(description="e.g. tCO2/MWh.")
    net_calorific_value: Quantity | None = strawberry.field(description="GJ per canonical unit (fuels).")
    carbon_content: Quantity | None = strawberry.field(description="tC per GJ (fuels).")
    oxidation_rate: Quantity | None = strawberry.field(description="Fraction oxidised, 0 to 1 (fuels).")
    source: str = strawberry.field(description="Where the value comes from.")
    created_at: datetime = strawberry.field(description="When this version was added.")
    applied_at: datetime | None = strawberry.field(
        description="When the records it applies to were recomputed; null while that job is pending."
    )

    @strawberry.field(description="The energy type's code.")
    def energy_type(self, root: strawberry.Parent[models.EmissionFactor]) -> str:
        return root.energy_type_id

    @strawberry.field(
        description="The year of effectiveFrom.",
        deprecation_reason="Factors take effect from a date: use effectiveFrom.",
    )
    def effective_year(self, root: strawberry.Parent[models.EmissionFactor]) -> int:
        return root.effective_from.year


@strawberry.type(
    description=(
        "An allocation benchmark (基准值): tCO2 per unit of a product, for plans of its compliance year and "
        "later until the next, never for an earlier year."
    )
)
class Benchmark:
    compliance_year: int = strawberry.field(
        description="The first compliance year (plan year) it applies to."
    )
    status: ReferenceStatus = strawberry.field(
        description="PUBLISHED, or why there is no figure for the year (plans of that year get none)."
    )
    value: Quantity | None = strawberry.field(
        description="tCO2 per product unit; null when status is not PUBLISHED."
    )
    source: str = strawberry.field(description="Where the figure comes from: document, table, unit.")

    @strawberry.field(description="The product's code, e.g. POWER_GAS.")
    def product(self, root: strawberry.Parent[models.Benchmark]) -> str:
        return root.product_id


@strawberry.type(
    description="One enterprise's use of one energy type in a month or on a day, from one source."
)
class EnergyRecord:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    source: EnergySource = strawberry.field(description="Where it came from.")
    quantity: Quantity = strawberry.field(description="The quantity as sent, in `unit`.")
    unit: str = strawberry.field(description="The unit it was sent in.")
    updated_at: datetime = strawberry.field(description="When it was last written.")

    @strawberry.field(description='"2024-03" for a month, "2024-03-15" for a day.')
    def period(self, root: strawberry.Parent[models.EnergyRecord]) -> str:
        month = f"{root.year:04d}-{root.month:02d}"
        return f"{month}-{root.day:02d}" if root.day else month

    @strawberry.field(description="The energy type's code.")
    def energy_type(self, root: strawberry.Parent[models.EnergyRecord]) -> str:
        return root.energy_type_id

    @strawberry.field(description="The quantity in the type's canonical unit.", graphql_type=Quantity)
    def canonical_quantity(self, root: strawberry.Parent[models.EnergyRecord]) -> Decimal:
        return millionths(root.amount)

    @strawberry.field(
        description="Tonnes of standard coal equivalent; null without a coefficient.",
        graphql_type=Quantity | None,
    )
    def tce(self, root: strawberry.Parent[models.EnergyRecord]) -> Decimal | None:
        return _micro(root.tce)

    @strawberry.field(
        description="tCO2; null when no emission factor applies (see factor): it is counted as missing.",
        graphql_type=Quantity | None,
    )
    def emissions(self, root: strawberry.Parent[models.EnergyRecord]) -> Decimal | None:
        return _micro(root.emissions)

    @strawberry.field(
        description="The factor version its emissions were computed with.", graphql_type=EmissionFactor | None
    )
    async def factor(
        self, root: strawberry.Parent[models.EnergyRecord], info: Info
    ) -> models.EmissionFactor | None:
        if root.factor_id is None:
            return None
        return await info.context.loaders.factor_by_id.load(root.factor_id)

    @strawberry.field(description="The enterprise.", graphql_type=Enterprise)
    async def enterprise(self, root: strawberry.Parent[models.EnergyRecord], info: Info) -> models.Enterprise:
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)


@strawberry.input(description="One energy record, as in a line of the CSV import.")
class EnergyRecordInput:
    credit_code: str = strawberry.field(description="The enterprise's unified social credit code.")
    period: str = strawberry.field(description='"2024-03" for a month, "2024-03-15" for a day.')
    energy_type: str = strawberry.field(description="ELECTRICITY, NATURAL_GAS, DIESEL... (see energyTypes).")
    quantity: Raw = strawberry.field(graphql_type=Quantity, description="A number >= 0, in `unit`.")
    unit: str = strawberry.field(
        description="Any unit of the type's dimension (kWh, MWh, 万kWh, m3, 10^4Nm3, t, kg, GJ...); converted."
    )
    source: EnergySource | None = strawberry.field(default=None, description="Default MANUAL.")


@strawberry.type(
    description=(
        "Result of importEnergyRecords. With any bad row and partial false nothing is written: rowErrors "
        "says which rows and `errors` carries one INVALID_ROW summary."
    )
)
class ImportEnergyRecordsPayload(Payload):
    written: int | None = strawberry.field(
        default=None, description="Records inserted or updated; null when the call was refused outright."
    )
    error_count: int | None = strawberry.field(
        default=None, description="How many rows were bad (rowErrors lists at most 1,000)."
    )
    row_errors: list[RowError] = strawberry.field(
        default_factory=list, description="The bad rows, in order, with their positions and reasons."
    )
    missing_factors: int | None = strawberry.field(
        default=None, description="Records written without emissions because no emission factor applies."
    )
    row_warnings: list[RowError] = strawberry.field(
        default_factory=list, description="FACTOR_MISSING for each such record (at most 1,000)."
    )


@strawberry.input(
    description="A new emission factor version. Give the value, or the three fuel parameters, or both."
)
class EmissionFactorInput:
    energy_type: str = strawberry.field(description="The energy type's code.")
    effective_from: date | None = strawberry.field(
        default=None,
        description=(
            "The first day it applies to (1990-01-01 to 2100-12-31): records whose period starts on or after it."
        ),
    )
    effective_year: int | None = strawberry.field(
        default=None,
        description="The same as effectiveFrom on 1 January of this year (1990 to 2100).",
        deprecation_reason="Factors take effect from a date: use effectiveFrom.",
    )
    status: ReferenceStatus = strawberry.field(
        default=ReferenceStatus.PUBLISHED,
        description=(
            "PUBLISHED (the default) with a value; NONE_PUBLISHED or NOT_FOUND, without value or parameters, "
            "to say that from effectiveFrom on there is none (its records get no emissions)."
        ),
    )
    value: Raw | None = strawberry.field(
        default=None,
        graphql_type=Quantity | None,
        description=(
            "tCO2 per canonical unit, at most 10 decimals. With the parameters the stored value is always "
            "their derivation to 10 decimals; a value given with them only checks it."
        ),
    )
    region_prefix: str = strawberry.field(
        default="", description='"" national, or 2, 4 or 6 digits of a region code.'
    )
    unit: str | None = strawberry.field(
        default=None, description="Optional check: must be tCO2/<the type's canonical unit>."
    )
    net_calorific_value: Raw | None = strawberry.field(
        default=None, graphql_type=Quantity | None, description="GJ per canonical unit."
    )
    carbon_content: Raw | None = strawberry.field(
        default=None, graphql_type=Quantity | None, description="tC per GJ."
    )
    oxidation_rate: Raw | None = strawberry.field(
        default=None, graphql_type=Quantity | None, description="0 to 1."
    )
    source: str = strawberry.field(description="Where the value comes from (a document number...).")


@strawberry.type(description="Result of setEmissionFactor.")
class SetEmissionFactorPayload(Payload):
    factor: models.EmissionFactor | None = strawberry.field(
        default=None, graphql_type=EmissionFactor | None, description="The new version."
    )


@strawberry.type(description="Result of addEnergyType.")
class AddEnergyTypePayload(Payload):
    energy_type: models.EnergyType | None = strawberry.field(
        default=None, graphql_type=EnergyTypeInfo | None, description="The new type."
    )


@strawberry.input(description="Which factor versions to list; all given conditions must hold.")
class EmissionFactorFilter:
    energy_types: list[str] | None = strawberry.field(
        default=None, description="Energy type codes.", directives=max_items(MAX_ENERGY_TYPES)
    )
    region_prefix: str | None = strawberry.field(
        default=None, description='Exactly this prefix ("" national).'
    )
    effective_year: int | None = strawberry.field(
        default=None, description="Versions taking effect in this year."
    )
    effective_from: date | None = strawberry.field(
        default=None, description="Versions taking effect on exactly this day."
    )
    current_only: bool = strawberry.field(
        default=False, description="Only the latest version of each type, effective date and region."
    )


@strawberry.input(description="Which energy records to list; all given conditions must hold.")
class EnergyRecordFilter:
    enterprise_id: strawberry.ID | None = strawberry.field(default=None, description="One enterprise.")
    from_period: str | None = strawberry.field(default=None, description='From this month, e.g. "2024-01".')
    to_period: str | None = strawberry.field(default=None, description='To this month, e.g. "2024-12".')
    energy_types: list[str] | None = strawberry.field(
        default=None, description="Energy type codes.", directives=max_items(MAX_ENERGY_TYPES)
    )
    source: EnergySource | None = strawberry.field(default=None, description="One source.")
    missing_factor: bool | None = strawberry.field(
        default=None,
        description="true: only records without emissions (no factor applies); false: only with.",
    )


@strawberry.type(description="Result of setSourcePrecedence.")
class SetSourcePrecedencePayload(Payload):
    order: list[EnergySource] | None = strawberry.field(
        default=None, description="The sources as now ranked, the one whose figure counts first."
    )
