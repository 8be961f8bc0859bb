"""The trend of total annual emissions (年度碳排放总量变化趋势) and its linear forecast.

Sums run in the database; only the per-year series (a few dozen points) is
fitted here, by ordinary least squares with a 95 % prediction interval whose
Student-t quantile is exact for every degree of freedom (services/allocation/student_t.py).

Each year carries its coverage: how many enterprises of the scope reported, and their
share of it. A year reported by only a few (one installation of hundreds) is a total of
something else, so years below a coverage threshold (default 80 %) are shown but left out
of the fit, and the trend names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from tortoise.functions import Count, Sum

from models import HistoricalEmission, HistoricalEnergy
from services.access import Actor, enterprise_scope
from services.allocation.student_t import t_quantile
from services.energy.tce import coefficient_for, coefficient_table
from services.enterprises import EnterpriseFilter, enterprises_for, matching
from services.errors import ErrorCode, ServiceError

MAX_YEARS = 100
DEFAULT_MIN_COVERAGE = 0.8
CONFIDENCE = 0.95


@dataclass(frozen=True)
class YearPoint:
    year: int
    emissions: int | None
    enterprises: int
    energy_tce: Decimal
    energy_by_type: dict[str, Decimal]
    change: int | None  # year-over-year change of emissions
    change_ratio: float | None
    coverage: float | None = None  # enterprises / the scope's enterprises; None for an empty scope
    in_fit: bool = False


@dataclass(frozen=True)
class Fit:
    slope: float | None = None
    intercept: float | None = None
    r_squared: float | None = None
    forecast_year: int | None = None
    forecast: float | None = None
    lower: float | None = None
    upper: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Trend:
    points: list[YearPoint]
    fit: Fit
    missing_coefficients: list[str] = field(default_factory=list)
    scope_enterprises: int = 0
    min_coverage: float = DEFAULT_MIN_COVERAGE
    excluded_years: list[int] = field(default_factory=list)
    coverage_note: str | None = None


def fit_line(xs: list[int], ys: list[float]) -> Fit:
    """Least squares y = a + b x; forecast for the year after the last, with a 95 % prediction interval."""
    n = len(xs)
    if n < 2:
        return Fit(note="a trend needs emissions in at least two years")
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    # Residuals around the centred line: years near 2000 would otherwise cancel digits away.
    sse = sum((y - (mean_y + slope * (x - mean_x))) ** 2 for x, y in zip(xs, ys, strict=True))
    sst = sum((y - mean_y) ** 2 for y in ys)
    r_squared = 1.0 if sst == 0 else 1 - sse / sst
    x0 = max(xs) + 1
    forecast = mean_y + slope * (x0 - mean_x)
    if n < 3:
        return Fit(
            slope, intercept, r_squared, x0, forecast, note="a prediction interval needs at least three years"
        )
    s = math.sqrt(sse / (n - 2))
    half = t_quantile(1 - (1 - CONFIDENCE) / 2, n - 2) * s * math.sqrt(1 + 1 / n + (x0 - mean_x) ** 2 / sxx)
    return Fit(slope, intercept, r_squared, x0, forecast, forecast - half, forecast + half)


async def emission_trend(
    actor: Actor,
    from_year: int,
    to_year: int,
    where: EnterpriseFilter | None = None,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> Trend:
    if from_year > to_year or to_year - from_year >= MAX_YEARS:
        raise ServiceError(
            ErrorCode.INVALID_YEAR,
            "give fromYear <= toYear, at most {MAX_YEARS} years",
            "fromYear",
            params={"MAX_YEARS": MAX_YEARS},
        )
    if not 0 <= min_coverage <= 1:  # NaN fails both comparisons
        raise ServiceError(
            ErrorCode.INVALID_THRESHOLD, "minCoverage is a share between 0 and 1", "minCoverage"
        )
    in_scope = await enterprises_for(actor, where).count()
    scope = enterprise_scope(actor, "enterprise")
    filters = matching(where, "enterprise")
    emissions = {
        row["year"]: row
        for row in await HistoricalEmission.filter(scope, year__gte=from_year, year__lte=to_year)
        .filter(filters)
        .annotate(total=Sum("verified_emissions"), enterprises=Count("enterprise_id", distinct=True))
        .group_by("year")
        .values("year", "total", "enterprises")
    }
    energy: dict[int, dict[str, Decimal]] = {}
    for row in (
        await HistoricalEnergy.filter(scope, year__gte=from_year, year__lte=to_year)
        .filter(filters)
        .annotate(total=Sum("quantity"))
        .group_by("year", "energy_type_id")
        .values("year", "energy_type_id", "total")
    ):
        energy.setdefault(row["year"], {})[row["energy_type_id"]] = Decimal(str(row["total"]))
    coefficients = await coefficient_table()
    missing: set[str] = set()
    points: list[YearPoint] = []
    previous: int | None = None
    for year in range(from_year, to_year + 1):
        reported = emissions.get(year)
        total = int(reported["total"]) if reported and reported["total"] is not None else None
        by_type = energy.get(year, {})
        tce = Decimal(0)
        for code, quantity in by_type.items():
            coefficient = coefficient_for(coefficients, code, year)
            if coefficient is None:
                missing.add(f"{code}@{year}")
            else:
                tce += quantity * coefficient
        change = total - previous if total is not None and previous is not None else None
        ratio = change / previous if change is not None and previous else None
        reporting = reported["enterprises"] if reported else 0
        coverage = reporting / in_scope if in_scope else None
        in_fit = total is not None and coverage is not None and coverage >= min_coverage
        points.append(YearPoint(year, total, reporting, tce, by_type, change, ratio, coverage, in_fit))
        previous = total  # after a year without data there is no year-over-year change
    fitted = [p for p in points if p.in_fit]
    fit = fit_line([p.year for p in fitted], [float(p.emissions or 0) for p in fitted])
    excluded = [p for p in points if p.emissions is not None and not p.in_fit]
    note = None
    if excluded:
        years = ", ".join(f"{p.year} ({p.enterprises} of {in_scope} enterprises)" for p in excluded)
        note = f"left out of the fit, below {min_coverage:.0%} of the scope reporting: {years}"
    return Trend(points, fit, sorted(missing), in_scope, min_coverage, [p.year for p in excluded], note)
