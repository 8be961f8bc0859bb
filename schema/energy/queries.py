from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from models import EnergySource
from schema.context import actor_of
from schema.energy.types import (
    Benchmark,
    EmissionFactor,
    EmissionFactorFilter,
    EnergyRecord,
    EnergyRecordFilter,
    EnergyTypeInfo,
)
from schema.errors import CodedErrors, parse_id
from schema.limits import max_items
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.energy import effective, reference_data
from services.energy.records import RecordFilter, records
from services.energy.reference_data import MAX_PRODUCTS


@strawberry.type
class EnergyQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description=(
            "The sources, the one whose figure counts first: when several sent a figure for the same "
            "enterprise, month and energy type, statistics count the first one's only (within a source, "
            "a monthly record supersedes its days). Set by setSourcePrecedence; the default, MANUAL, "
            "IMPORT, PLATFORM, IOT, puts the reported figures before the meters (docs/architecture.md)."
        ),
    )
    async def source_precedence(self) -> list[EnergySource]:
        return await effective.precedence()

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Every energy type, by code.",
        graphql_type=list[EnergyTypeInfo],
    )
    async def energy_types(self) -> list[models.EnergyType]:
        return await reference_data.energy_types()

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description=(
            "Emission factor versions (reference data, the same for everyone), by energy type, region "
            "prefix, effective year and version."
        ),
        graphql_type=list[EmissionFactor],
        extensions=[CodedErrors()],
    )
    async def emission_factors(
        self,
        filter: Annotated[
            EmissionFactorFilter | None, strawberry.argument(description="Which versions to list.")
        ] = None,
    ) -> list[models.EmissionFactor]:
        where = filter or EmissionFactorFilter()
        return await reference_data.factor_versions(
            where.energy_types,
            where.region_prefix,
            where.effective_year,
            effective_from=where.effective_from,
            current_only=where.current_only,
        )

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description=(
            "Allocation benchmarks (reference data, the same for everyone) by product and compliance year, "
            "with their sources and the years for which none was published or confirmed."
        ),
        graphql_type=list[Benchmark],
    )
    async def benchmarks(
        self,
        products: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Product codes; all when omitted.", directives=max_items(MAX_PRODUCTS)
            ),
        ] = None,
    ) -> list[models.Benchmark]:
        return await reference_data.benchmarks(products or None)

    @strawberry.field(
        extensions=[CodedErrors()],
        permission_classes=AUTHENTICATED,
        description=(
            "Energy records in your scope, oldest first: an enterprise user sees its own, a regulator its "
            "region. A bad period in the filter is a top-level error with code INVALID_PERIOD."
        ),
        graphql_type=Connection[EnergyRecord],
    )
    async def energy_records(
        self,
        info: Info,
        filter: Annotated[
            EnergyRecordFilter | None, strawberry.argument(description="Which records to list.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.EnergyRecord]:
        where = None
        if filter is not None:
            where = RecordFilter(
                enterprise_id=(
                    parse_id(filter.enterprise_id, "enterpriseId", "Enterprise")
                    if filter.enterprise_id is not None
                    else None
                ),
                from_period=filter.from_period,
                to_period=filter.to_period,
                energy_types=filter.energy_types,
                source=filter.source,
                missing_factor=filter.missing_factor,
            )
        query = records(actor_of(info), where)
        return await paginate(query, first, after)
