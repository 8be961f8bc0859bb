"""Statistics (统计与分析) as GraphQL types: a connection of grouped rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

import models
from schema.energy.types import EnergySource
from schema.enterprises.types import Enterprise
from schema.enums import Sector, VerificationStatus
from schema.limits import max_items
from schema.pagination import PageInfo
from schema.scalars import Quantity, Ratio, Tonnes
from services.statistics.dimensions import MAX_ENERGY_TYPES, MAX_ENTERPRISE_IDS, StatisticsFilter
from services.statistics.dimensions import Dimension as StatisticsDimension
from services.statistics.discrepancies import Discrepancy, DiscrepancyPage
from services.statistics.page import Page, Row

strawberry.enum(
    StatisticsDimension,
    name="StatisticsDimension",
    description=(
        "What statistics rows are grouped by. YEAR: the year; QUARTER: year and quarter; MONTH: year "
        "and month; PROVINCE: the first 2 digits of the region code; CITY: the first 4; REGION: the "
        "whole 6-digit code; INDUSTRY: the GB/T 4754 industry code; SECTOR: the ETS sector; "
        "ENTERPRISE: the enterprise; ENERGY_TYPE: the energy type. Compliance figures are per "
        "compliance year, so a grouping with QUARTER, MONTH or ENERGY_TYPE has none."
    ),
)


@strawberry.input(
    description=(
        "Which data statistics add up; every given condition must hold. It narrows your scope, never "
        "widens it."
    )
)
class StatisticsFilterInput:
    from_: date | None = strawberry.field(
        default=None,
        name="from",
        description=(
            "First month included (the day is ignored). Compliance figures count the compliance years "
            "from this date's year."
        ),
    )
    to: date | None = strawberry.field(
        default=None,
        description=(
            "Last month included (the day is ignored), at most 100 years after `from`. Compliance "
            "figures count the compliance years up to this date's year."
        ),
    )
    region_prefix: str | None = strawberry.field(
        default=None, description="Region code prefix: 2, 4 or 6 digits (44, 4401, 440113)."
    )
    industry_code: str | None = strawberry.field(
        default=None, description="GB/T 4754 industry code or its prefix (1 to 4 digits), e.g. 44 or 4411."
    )
    sector: Sector | None = strawberry.field(default=None, description="ETS sector.")
    enterprise_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        directives=max_items(MAX_ENTERPRISE_IDS),
        description=f"Only these enterprises (at most {MAX_ENTERPRISE_IDS}); ids outside your scope match nothing.",
    )
    energy_types: list[str] | None = strawberry.field(
        default=None,
        directives=max_items(MAX_ENERGY_TYPES),
        description=(
            "Only these energy types (ELECTRICITY, NATURAL_GAS...). Restricts the energy figures only: "
            "compliance figures stay whole. An unknown code is an UNKNOWN_ENERGY_TYPE error."
        ),
    )

    def to_service(self) -> StatisticsFilter:
        ids = None
        if self.enterprise_ids is not None:
            # A malformed id is simply an enterprise that does not exist: it matches nothing.
            ids = [int(i) if str(i).isdigit() else 0 for i in self.enterprise_ids]
        return StatisticsFilter(
            from_=self.from_,
            to=self.to,
            region_prefix=self.region_prefix,
            industry_code=self.industry_code,
            sector=self.sector,
            enterprise_ids=ids,
            energy_types=self.energy_types,
        )


@strawberry.type(description="The use of one energy type within a statistics row.")
class EnergyUse:
    energy_type: str = strawberry.field(description="The energy type code, e.g. ELECTRICITY or DIESEL.")
    unit: str = strawberry.field(description="The type's canonical unit (MWh, 1e4Nm3, t, GJ).")
    quantity: Decimal = strawberry.field(graphql_type=Quantity, description="Quantity used, in `unit`.")
    tce: Decimal = strawberry.field(
        graphql_type=Quantity, description="The same in tonnes of standard coal equivalent."
    )
    emissions: Decimal = strawberry.field(
        graphql_type=Quantity,
        description="Emissions in tCO2 (records without an emission factor add nothing).",
    )


@strawberry.type(description="How many verifications stand in one status.")
class VerificationStatusCount:
    status: VerificationStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(
    description=(
        "One group of a statistics query: the keys asked for in groupBy (the others are null), its "
        "energy use and emissions, and, for groupings by year, place, industry, sector or enterprise "
        "only, its compliance figures."
    )
)
class StatisticsRow:
    year: int | None = strawberry.field(description="YEAR, QUARTER or MONTH: the year.")
    quarter: int | None = strawberry.field(description="QUARTER: 1 to 4.")
    month: int | None = strawberry.field(description="MONTH: 1 to 12.")
    province: str | None = strawberry.field(description="PROVINCE: the 2-digit province code (44).")
    city: str | None = strawberry.field(description="CITY: the 4-digit city code (4401).")
    region_code: str | None = strawberry.field(description="REGION: the 6-digit region code.")
    industry_code: str | None = strawberry.field(description="INDUSTRY: the GB/T 4754 industry code.")
    sector: Sector | None = strawberry.field(description="SECTOR: the ETS sector.")
    energy_type: str | None = strawberry.field(description="ENERGY_TYPE: the energy type code.")
    energy: list[EnergyUse] = strawberry.field(description="Energy use by type, ordered by type code.")
    energy_tce: Decimal = strawberry.field(
        graphql_type=Quantity, description="Energy use of every type in tonnes of standard coal equivalent."
    )
    emissions: Decimal = strawberry.field(
        graphql_type=Quantity, description="Emissions in tCO2 computed from the energy use."
    )
    records_missing_factor: int = strawberry.field(
        description=(
            "Energy records whose emissions could not be computed (no emission factor for their type, "
            "year and region): their emissions are missing from `emissions`. Only the records that "
            "count are counted: one value per enterprise, month and energy type (see "
            "`sourcePrecedence`)."
        )
    )
    completeness: Decimal | None = strawberry.field(
        graphql_type=Ratio | None,
        description=(
            "The share of the counted energy records that have emissions, to 4 decimals rounded down "
            "(1 only when none is missing): how much of the real total `emissions` is. Null without "
            "energy records."
        ),
    )
    allowances: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description="Initial allowances of the compliance years (null for QUARTER, MONTH, ENERGY_TYPE).",
    )
    verified_emissions: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description="Verified emissions of the approved applications; null when none was approved.",
    )
    surplus: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description=(
            "Σ balance over the approved applications, each by the application's own rule: "
            "allowance + purchased allowances + usable offsets (up to the notice's cap) − verified "
            "emissions. Negative is a net shortfall. Null when none was approved."
        ),
    )
    shortfalls: int | None = strawberry.field(
        description=(
            "Approved applications whose balance is negative (approved with an override reason). "
            "Null when none was approved."
        ),
    )
    notices_due: int | None = strawberry.field(
        description="Compliance notices issued for the years (null for QUARTER, MONTH, ENERGY_TYPE)."
    )
    notices_fulfilled: int | None = strawberry.field(description="Of those, how many are FULFILLED.")
    notices_overdue: int | None = strawberry.field(description="Of those, how many are OVERDUE.")
    compliance_rate: Decimal | None = strawberry.field(
        graphql_type=Ratio | None,
        description="noticesFulfilled ÷ noticesDue to 4 decimals (0.3 = 30 %); null where nothing is due.",
    )
    reported_emissions: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description="Σ the enterprises' latest reported emissions in the years' verifications (null for "
        "QUARTER, MONTH, ENERGY_TYPE).",
    )
    concluded_emissions: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description="Σ the verified emissions of the standing verification conclusions (the "
        "verifiers' figure, against reportedEmissions).",
    )
    verification_status_counts: list[VerificationStatusCount] | None = strawberry.field(
        description="How many of the years' verifications stand in each status (null for QUARTER, MONTH, "
        "ENERGY_TYPE)."
    )
    enterprise_id: strawberry.Private[int | None]

    @strawberry.field(description="ENTERPRISE: the enterprise.", graphql_type=Enterprise | None)
    async def enterprise(self, info: Info) -> models.Enterprise | None:
        if self.enterprise_id is None:
            return None
        return await info.context.loaders.enterprise_by_id.load(self.enterprise_id)

    @classmethod
    def of(cls, row: Row) -> StatisticsRow:
        return cls(
            year=row.year,
            quarter=row.quarter,
            month=row.month,
            province=row.province,
            city=row.city,
            region_code=row.region_code,
            industry_code=row.industry_code,
            sector=row.sector,
            energy_type=row.energy_type,
            energy=[
                EnergyUse(
                    energy_type=use.energy_type,
                    unit=use.unit,
                    quantity=use.quantity,
                    tce=use.tce,
                    emissions=use.emissions,
                )
                for use in row.energy
            ],
            energy_tce=row.energy_tce,
            emissions=row.emissions,
            records_missing_factor=row.records_missing_factor,
            completeness=row.completeness,
            allowances=row.allowances,
            verified_emissions=row.verified_emissions,
            surplus=row.surplus,
            shortfalls=row.shortfalls,
            notices_due=row.notices_due,
            notices_fulfilled=row.notices_fulfilled,
            notices_overdue=row.notices_overdue,
            compliance_rate=row.compliance_rate,
            reported_emissions=row.reported_emissions,
            concluded_emissions=row.concluded_emissions,
            verification_status_counts=None
            if row.verification_counts is None
            else [VerificationStatusCount(status=s, count=n) for s, n in row.verification_counts.items()],
            enterprise_id=row.enterprise_id,
        )


@strawberry.type(description="One statistics row with the cursor that points at it.")
class StatisticsEdge:
    cursor: str = strawberry.field(description="Opaque position of this row: pass as `after` to read on.")
    node: StatisticsRow = strawberry.field(description="The row.")


@strawberry.type(description="A page of statistics rows, ordered by the groupBy keys in their order.")
class StatisticsConnection:
    edges: list[StatisticsEdge] = strawberry.field(description="The rows of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")

    @classmethod
    def of(cls, page: Page) -> StatisticsConnection:
        edges = [StatisticsEdge(cursor=row.cursor, node=StatisticsRow.of(row)) for row in page.rows]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
        )


@strawberry.type(description="One source's figure for an enterprise-month and energy type.")
class SourceFigure:
    source: EnergySource = strawberry.field(description="The source.")
    quantity: Decimal = strawberry.field(
        graphql_type=Quantity,
        description="Its figure for the month in the type's canonical unit: its monthly record, else its days summed.",
    )
    records: int = strawberry.field(
        description="1 for a monthly record, else the number of day records summed."
    )
    effective: bool = strawberry.field(description="Whether this is the figure that counts in statistics.")


@strawberry.type(
    description=(
        "An enterprise-month and energy type whose sources disagree: some source's figure differs from "
        "the effective one by more than the share asked for."
    )
)
class SourceDiscrepancy:
    year: int = strawberry.field(description="The year.")
    month: int = strawberry.field(description="The month, 1 to 12.")
    energy_type: str = strawberry.field(description="The energy type code.")
    unit: str = strawberry.field(description="The type's canonical unit, of every quantity here.")
    effective_source: EnergySource = strawberry.field(
        description="The source whose figure counts (the first in sourcePrecedence that sent one)."
    )
    effective_quantity: Decimal = strawberry.field(
        graphql_type=Quantity, description="The figure that counts."
    )
    deviation: Decimal | None = strawberry.field(
        graphql_type=Quantity | None,
        description=(
            "The largest |figure − effective| ÷ effective, to 4 decimals (0.07 = 7 %); null when the "
            "effective figure is 0."
        ),
    )
    figures: list[SourceFigure] = strawberry.field(
        description="Every source's figure, in precedence order: the effective one first."
    )
    enterprise_id: strawberry.Private[int]

    @strawberry.field(description="The enterprise.", graphql_type=Enterprise | None)
    async def enterprise(self, info: Info) -> models.Enterprise | None:
        return await info.context.loaders.enterprise_by_id.load(self.enterprise_id)

    @classmethod
    def of(cls, row: Discrepancy) -> SourceDiscrepancy:
        return cls(
            year=row.year,
            month=row.month,
            energy_type=row.energy_type,
            unit=row.unit,
            effective_source=row.effective_source,
            effective_quantity=row.effective_quantity,
            deviation=row.deviation,
            figures=[
                SourceFigure(source=f.source, quantity=f.quantity, records=f.records, effective=f.effective)
                for f in row.figures
            ],
            enterprise_id=row.enterprise_id,
        )


@strawberry.type(description="One discrepancy with the cursor that points at it.")
class SourceDiscrepancyEdge:
    cursor: str = strawberry.field(description="Opaque position of this row: pass as `after` to read on.")
    node: SourceDiscrepancy = strawberry.field(description="The row.")


@strawberry.type(description="A page of discrepancies, ordered by year, month, enterprise and energy type.")
class SourceDiscrepancyConnection:
    edges: list[SourceDiscrepancyEdge] = strawberry.field(description="The rows of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")

    @classmethod
    def of(cls, page: DiscrepancyPage) -> SourceDiscrepancyConnection:
        edges = [
            SourceDiscrepancyEdge(cursor=row.cursor, node=SourceDiscrepancy.of(row)) for row in page.rows
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
        )
