"""The history the rules read: base years, and one basis per enterprise computed in SQL.

Only one number per enterprise reaches Python, never the historical rows. Lists of ids go
in chunks of LOOKUP_CHUNK: a scope of more than 32,767 enterprises would exceed the drivers'
bind-parameter limit in a single IN (...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from tortoise import Tortoise
from tortoise.functions import Count, Sum
from tortoise.models import Model

from models import Benchmark, HistoricalEmission, HistoricalEnergy, HistoricalOutput
from services.energy.tce import coefficient_for, coefficient_table
from services.errors import ErrorCode, ServiceError
from services.sql import Binder

LOOKUP_CHUNK = 10_000  # ids or credit codes per query: well inside every driver's bind-parameter limit
DEFAULT_BASE_YEARS = 3

Key = TypeVar("Key", int, str)


async def per_chunk(keys: list[Key], fetch: Callable[[list[Key]], Awaitable[Iterable[Any]]]) -> list[Any]:
    """fetch(chunk) for chunks of LOOKUP_CHUNK keys, results concatenated."""
    rows: list[Any] = []
    for start in range(0, len(keys), LOOKUP_CHUNK):
        rows += await fetch(keys[start : start + LOOKUP_CHUNK])
    return rows


async def base_years(
    ids: list[int], year: int, given: tuple[int, ...] | None, model: type[Model]
) -> list[int]:
    """The given base years, or the last DEFAULT_BASE_YEARS before `year` with any data in scope."""
    if given:
        years = sorted(set(given))
        if any(y >= year for y in years):
            raise ServiceError(
                ErrorCode.INVALID_YEAR, "base years must be before the plan's year", "baseYears"
            )
        found = await per_chunk(ids, lambda chunk: model.filter(enterprise_id__in=chunk, year__in=years).limit(1).values_list("id", flat=True))  # fmt: skip
        if not found:
            raise ServiceError(
                ErrorCode.NO_BASE_YEAR_DATA,
                "no data in base years {years}",
                "baseYears",
                params={"years": years},
            )
        return years
    recent: list[int] = await per_chunk(
        ids,
        lambda chunk: (
            model.filter(enterprise_id__in=chunk, year__lt=year)
            .distinct()
            .order_by("-year")
            .limit(DEFAULT_BASE_YEARS)
            .values_list("year", flat=True)
        ),
    )
    years = sorted(set(recent))[-DEFAULT_BASE_YEARS:]
    if not years:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA,
            "no historical data before {year} in scope",
            "baseYears",
            params={"year": year},
        )
    return years


async def average_emissions(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    """Average verified emissions over the base years in which each enterprise reported."""
    # Sum and count, not Avg: Avg comes back through the BIGINT column's type, cut to whole tonnes.
    rows = await per_chunk(
        ids,
        lambda chunk: (
            HistoricalEmission.filter(enterprise_id__in=chunk, year__in=years)
            .annotate(total=Sum("verified_emissions"), reported=Count("id"))
            .group_by("enterprise_id")
            .values_list("enterprise_id", "total", "reported")
        ),
    )
    found = {enterprise_id: Decimal(int(total)) / reported for enterprise_id, total, reported in rows}
    return {i: found.get(i) for i in ids}


async def average_energy_tce(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    """Average over base years of energy use in tce, summed in SQL with each year's coefficients.

    Summed as whole micro-tce per row: a sum of doubles depends on the order the rows are read,
    and so did the shares of enterprises with equal energy use (the tie went to rounding noise,
    not to the lower id). PostgreSQL multiplies in NUMERIC, exactly."""
    table = await coefficient_table()
    types: list[str] = sorted(
        set(
            await per_chunk(
                ids,
                lambda chunk: (
                    HistoricalEnergy.filter(enterprise_id__in=chunk, year__in=years)
                    .distinct()
                    .values_list("energy_type_id", flat=True)
                ),
            )
        )
    )
    coefficients = {(t, y): coefficient_for(table, t, y) for t in types for y in years}
    if missing := [f"{t}@{y}" for (t, y), c in coefficients.items() if c is None]:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA,
            "no tce coefficient for {missing}",
            "rule",
            params={"missing": ", ".join(missing)},
        )
    pairs = [(t, y, c) for (t, y), c in coefficients.items() if c is not None]
    connection = Tortoise.get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"

    async def fetch(chunk: list[int]) -> list[dict[str, Any]]:
        mark = Binder(postgres)
        cases = []
        for energy_type, year, coefficient in pairs:
            when = f"WHEN energy_type_id = {mark(energy_type)} AND year = {mark(year)}"
            if postgres:
                cases.append(f"{when} THEN CAST({mark(coefficient)} AS NUMERIC)")
            else:
                cases.append(f"{when} THEN CAST({mark(float(coefficient))} AS REAL)")
        id_list = ", ".join(mark(i) for i in chunk)
        year_list = ", ".join(mark(y) for y in years)
        micro = f"ROUND(quantity * (CASE {' '.join(cases)} ELSE 0 END) * 1000000)"
        sql = (
            f"SELECT enterprise_id, SUM({micro if postgres else f'CAST({micro} AS INTEGER)'}) AS micro, "
            f"COUNT(DISTINCT year) AS reported FROM historical_energy "
            f"WHERE enterprise_id IN ({id_list}) AND year IN ({year_list}) GROUP BY enterprise_id"
        )
        rows: list[dict[str, Any]] = await connection.execute_query_dict(sql, mark.params)
        return rows

    rows = await per_chunk(ids, fetch) if pairs else []
    found = {row["enterprise_id"]: Decimal(int(row["micro"])) / 1_000_000 / row["reported"] for row in rows}
    return {i: found.get(i) for i in ids}


async def benchmark_allowances(
    ids: list[int], year: int, base: int, correction: Decimal
) -> dict[int, Decimal]:
    """Per enterprise with output in `base`: the sum over its products of output x benchmark x
    correction, with each product's benchmark of the latest compliance year not after `year`.
    A benchmark never answers a year before its own, and a row saying no figure was published
    (or confirmed) for a year stops an earlier figure from standing in for it."""
    benchmarks: dict[str, Decimal | None] = {}
    gaps: dict[str, str] = {}
    for product, since, value, source in (
        await Benchmark.filter(compliance_year__lte=year)
        .order_by("compliance_year")
        .values_list("product_id", "compliance_year", "value", "source")
    ):
        benchmarks[product] = None if value is None else Decimal(str(value))  # later years overwrite
        gaps[product] = f"{product} from {since}: {source}"
    outputs = await per_chunk(
        ids,
        lambda chunk: HistoricalOutput.filter(enterprise_id__in=chunk, year=base).values_list(
            "enterprise_id", "product_id", "quantity"
        ),
    )
    found: dict[str, Decimal] = {p: v for p, v in benchmarks.items() if v is not None}
    if unknown := sorted({p for _, p, _ in outputs if p not in found}):
        why = "; ".join(gaps[p] for p in unknown if p in gaps)
        raise ServiceError(
            ErrorCode.NO_BENCHMARK,
            "no benchmark for {products} in {year}{why}",
            "rule",
            params={"products": ", ".join(unknown), "year": year, "why": f" ({why})" if why else ""},
        )
    allowances: dict[int, Decimal] = {}
    for enterprise_id, product, quantity in outputs:
        allowances[enterprise_id] = (
            allowances.get(enterprise_id, Decimal(0)) + Decimal(str(quantity)) * found[product] * correction
        )
    return allowances


async def verified_emissions(ids: list[int], year: int) -> dict[int, int]:
    """Verified emissions in `year`, of the enterprises that reported them."""
    return dict(
        await per_chunk(
            ids,
            lambda chunk: HistoricalEmission.filter(enterprise_id__in=chunk, year=year).values_list(
                "enterprise_id", "verified_emissions"
            ),
        )
    )
