"""Historical data (历史数据集) and the trend of total annual emissions, as GraphQL types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from schema.enums import Sector
from schema.errors import ErrorCode, Payload, UserError
from schema.scalars import Quantity, Tonnes
from services.allocation import history, trend
from services.allocation.history import RowKind as HistoryKind
from services.errors import ServiceError
from services.rows import ImportResult
from services.values import Raw

strawberry.enum(
    HistoryKind,
    name="HistoryKind",
    description=(
        "What a historical row records. ENERGY: energy use of one type; EMISSIONS: verified "
        "emissions (whole tCO2); OUTPUT: production output of one product."
    ),
)


@strawberry.input(description="One row of historical data, as in a line of the CSV import.")
class HistoricalRowInput:
    credit_code: str = strawberry.field(description="The enterprise's unified social credit code.")
    year: int = strawberry.field(description="The year the row describes (1990 to 2100).")
    kind: HistoryKind = strawberry.field(description="ENERGY, EMISSIONS or OUTPUT.")
    item: str = strawberry.field(
        default="",
        description=(
            "ENERGY: the energy type (ELECTRICITY, NATURAL_GAS, DIESEL...); OUTPUT: the product "
            "(POWER_COAL_GT300, HEAT_COAL, CLINKER...); EMISSIONS: empty."
        ),
    )
    quantity: Raw = strawberry.field(
        graphql_type=Quantity,
        description="A number >= 0, as a string or a number; emissions in whole tonnes.",
    )
    unit: str = strawberry.field(
        default="",
        description=(
            "ENERGY: any unit of the type's dimension (kWh, MWh, m3, 10^4Nm3, t, kg, GJ...), converted "
            "on import; OUTPUT: the product's unit; EMISSIONS: t or empty."
        ),
    )


@strawberry.type(description="A row that was refused, and why.")
class RowError:
    line: int = strawberry.field(description="Its position: 1 for the first row given (or CSV line).")
    code: ErrorCode = strawberry.field(description="Stable machine-readable code.")
    field: str | None = strawberry.field(description="The row field at fault (camelCase), when one is.")
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def of(cls, error: history.RowError, language: str) -> RowError:
        head, *rest = (error.field or "").split("_")  # credit_code -> creditCode
        field = head + "".join(part.title() for part in rest) if error.field else None
        return cls(line=error.line, code=error.code, field=field, message=error.in_language(language))


def imported(result: ImportResult, partial: bool, language: str) -> dict[str, Any]:
    """The fields every import payload shares: counts, bad rows, and without `partial` one
    INVALID_ROW summary saying that nothing was written."""
    errors = []
    if result.error_count and not partial:
        summary = ServiceError(
            ErrorCode.INVALID_ROW,
            "{count} bad row(s); nothing was written (see rowErrors)",
            "rows",
            params={"count": result.error_count},
        )
        errors.append(UserError.of(summary, language))
    return {
        "written": result.written,
        "error_count": result.error_count,
        "row_errors": [RowError.of(e, language) for e in result.errors],
        "errors": errors,
    }


@strawberry.type(
    description=(
        "Result of importHistoricalData. With any bad row and partial false, nothing is written: "
        "rowErrors says which rows and `errors` carries one INVALID_ROW summary."
    )
)
class ImportHistoricalDataPayload(Payload):
    written: int | None = strawberry.field(
        default=None, description="Rows inserted or updated; null when the call was refused outright."
    )
    error_count: int | None = strawberry.field(
        default=None, description="How many rows were bad (rowErrors lists at most 1,000)."
    )
    row_errors: list[RowError] = strawberry.field(
        default_factory=list, description="The bad rows, in order, with their positions and reasons."
    )


@strawberry.input(description="Which enterprises a trend adds up; all given conditions must hold.")
class TrendFilter:
    region_prefix: str | None = strawberry.field(
        default=None, description="Region code prefix, e.g. 44 or 4401 (within your own scope)."
    )
    industry_code: str | None = strawberry.field(default=None, description="GB/T 4754 code or its prefix.")
    sector: Sector | None = strawberry.field(default=None, description="ETS sector.")


@strawberry.type(description="Energy use of one type in a year, summed over the enterprises.")
class EnergyAmount:
    energy_type: str = strawberry.field(description="The energy type code, e.g. DIESEL or ELECTRICITY.")
    quantity: Decimal = strawberry.field(
        graphql_type=Quantity, description="In the type's canonical unit (MWh, 10^4 Nm3, t, GJ)."
    )


@strawberry.type(description="One year of the trend: totals over the enterprises in scope.")
class TrendPoint:
    year: int = strawberry.field(description="The year.")
    emissions: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description="Total verified emissions in tCO2; null when no enterprise reported that year.",
    )
    enterprises: int = strawberry.field(description="How many enterprises reported verified emissions.")
    energy_tce: Decimal = strawberry.field(
        graphql_type=Quantity,
        description=(
            "Total energy use in tonnes of standard coal equivalent (GB/T 2589 coefficients, "
            "versioned), as an exact decimal string."
        ),
    )
    energy_by_type: list[EnergyAmount] = strawberry.field(
        description="Total energy use per energy type, by type code."
    )
    change: int | None = strawberry.field(
        graphql_type=Tonnes | None,
        description=(
            "Emissions minus those of the year before (may be negative); null when either year has no data."
        ),
    )
    change_ratio: float | None = strawberry.field(
        description="change divided by the previous year's emissions (0.05 = +5 %)."
    )
    coverage: float | None = strawberry.field(
        description=(
            "enterprises divided by the enterprises in the trend's scope (scopeEnterprises), 0 to 1; null "
            "when the scope is empty."
        )
    )
    in_fit: bool = strawberry.field(
        description="Whether the year is in the fitted line: it has emissions and coverage >= minCoverage."
    )

    @classmethod
    def of(cls, point: trend.YearPoint) -> TrendPoint:
        return cls(
            year=point.year,
            emissions=point.emissions,
            enterprises=point.enterprises,
            energy_tce=point.energy_tce,
            energy_by_type=[
                EnergyAmount(energy_type=code, quantity=quantity)
                for code, quantity in sorted(point.energy_by_type.items())
            ],
            change=point.change,
            change_ratio=point.change_ratio,
            coverage=point.coverage,
            in_fit=point.in_fit,
        )


@strawberry.type(
    description=(
        "The trend of total annual emissions (年度碳排放总量变化趋势): per-year totals and a "
        "least-squares line emissions = intercept + slope × year, with next year's forecast."
    )
)
class EmissionTrend:
    points: list[TrendPoint] = strawberry.field(description="Every year asked for, oldest first.")
    slope: float | None = strawberry.field(description="tCO2 per year; null with fewer than two years.")
    intercept: float | None = strawberry.field(description="The line's value at year 0, in tCO2.")
    r_squared: float | None = strawberry.field(description="Goodness of fit, 0 to 1 (1: a perfect line).")
    forecast_year: int | None = strawberry.field(description="The year after the last with data.")
    forecast: float | None = strawberry.field(description="The line's value in forecastYear, in tCO2.")
    forecast_lower: float | None = strawberry.field(
        description=(
            "Lower end of the 95 % prediction interval, with the exact Student-t quantile (needs three "
            "fitted years)."
        )
    )
    forecast_upper: float | None = strawberry.field(
        description="Upper end of the 95 % prediction interval (needs three years of data)."
    )
    note: str | None = strawberry.field(description="Why the forecast or its interval is missing, if it is.")
    missing_coefficients: list[str] = strawberry.field(
        description=(
            "Energy types without a tce coefficient, as TYPE@YEAR: left out of energyTce, "
            "still shown in energyByType."
        )
    )
    scope_enterprises: int = strawberry.field(
        description="The enterprises in your scope matching the filter: the denominator of each point's coverage."
    )
    min_coverage: float = strawberry.field(description="The coverage threshold the fit used.")
    excluded_years: list[int] = strawberry.field(
        description="Years with emissions left out of the fit because their coverage is below minCoverage."
    )
    coverage_note: str | None = strawberry.field(
        description="Names the years left out of the fit and their coverage; null when none was."
    )

    @classmethod
    def of(cls, result: trend.Trend) -> EmissionTrend:
        fit = result.fit
        return cls(
            points=[TrendPoint.of(p) for p in result.points],
            slope=fit.slope,
            intercept=fit.intercept,
            r_squared=fit.r_squared,
            forecast_year=fit.forecast_year,
            forecast=fit.forecast,
            forecast_lower=fit.lower,
            forecast_upper=fit.upper,
            note=fit.note,
            missing_coefficients=result.missing_coefficients,
            scope_enterprises=result.scope_enterprises,
            min_coverage=result.min_coverage,
            excluded_years=result.excluded_years,
            coverage_note=result.coverage_note,
        )
