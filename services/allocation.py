"""Allocation rules (初始配额分配): who gets how many whole allowances.

Every rule reduces to a basis per enterprise (average emissions, benchmark
allowance, energy in tce, 1 for EQUAL, the amount for DIRECT) and, when a total
is to be shared, the largest-remainder method: whole tonnes summing exactly to
the total, ties broken by enterprise id so the result never depends on order.
Bases are computed in the database; only one number per enterprise reaches Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from tortoise import Tortoise
from tortoise.functions import Avg

from models import (
    AllocationRule,
    Benchmark,
    Enterprise,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    Role,
)
from services.access import Actor, enterprise_scope, require_role
from services.errors import ErrorCode, ServiceError
from services.trend import coefficient_for, coefficient_table
from services.values import ratio as parse_ratio
from services.values import whole_tonnes
from services.values import year as valid_year

MAX_DIRECT = 100_000
DEFAULT_BASE_YEARS = 3


@dataclass(frozen=True)
class Scope:
    region_prefix: str | None = None
    industry_code: str | None = None
    sector: str | None = None
    enterprise_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Parameters:
    base_years: tuple[int, ...] | None = None
    reduction_rate: object | None = None
    correction_factor: object | None = None
    floor_ratio: object | None = None
    direct: tuple[tuple[int, object], ...] | None = None


@dataclass
class Allocation:
    """A computed allocation (a preview, or a plan's content)."""

    year: int
    rule: AllocationRule
    total: int | None
    amounts: dict[int, int]
    bases: dict[int, Decimal]
    manual: dict[int, str]  # enterprise id -> why the rule could not allocate
    base_years: list[int] = field(default_factory=list)
    scale_factor: Decimal | None = None

    @property
    def allocated(self) -> int:
        return sum(self.amounts.values())


def largest_remainder(total: int, weights: dict[int, Decimal]) -> dict[int, int]:
    """Whole shares of `total` proportional to `weights`, summing exactly to `total`."""
    positive = {k: w for k, w in weights.items() if w > 0}
    weight_sum = sum(positive.values(), Decimal(0))
    if total == 0 or weight_sum == 0:
        return dict.fromkeys(weights, 0)
    quotas = {k: Decimal(total) * w / weight_sum for k, w in positive.items()}
    shares = {k: int(q) for k, q in quotas.items()}  # floor, quotas are >= 0
    left = total - sum(shares.values())
    # Largest remainder first; equal remainders go to the lower enterprise id.
    for k in sorted(quotas, key=lambda k: (-(quotas[k] - shares[k]), k))[:left]:
        shares[k] += 1
    return {k: shares.get(k, 0) for k in weights}


async def enterprises_in(actor: Actor, scope: Scope) -> list[int]:
    query = Enterprise.filter(enterprise_scope(actor))
    if scope.region_prefix:
        query = query.filter(region_code__startswith=scope.region_prefix)
    if scope.industry_code:
        query = query.filter(industry_code__startswith=scope.industry_code)
    if scope.sector:
        query = query.filter(sector=scope.sector)
    if scope.enterprise_ids is not None:
        query = query.filter(id__in=list(scope.enterprise_ids))
    ids = sorted(await query.values_list("id", flat=True))
    if scope.enterprise_ids is not None and (unknown := set(scope.enterprise_ids) - set(ids)):
        raise ServiceError(
            ErrorCode.NOT_FOUND, f"enterprises not found: {sorted(unknown)[:10]}", "enterpriseIds"
        )
    if not ids:
        raise ServiceError(ErrorCode.EMPTY_SCOPE, "no enterprise in this scope", "scope")
    return ids


async def compute(
    actor: Actor,
    *,
    year: int,
    rule: AllocationRule,
    scope: Scope,
    total: object | None,
    parameters: Parameters,
) -> Allocation:
    """Run a rule; nothing is saved."""
    require_role(actor, Role.REGULATOR)
    valid_year(year)
    tonnes = whole_tonnes(total, "total") if total is not None else None
    ids = await enterprises_in(actor, scope)
    if rule == AllocationRule.DIRECT:
        return _direct(year, ids, tonnes, parameters)
    if rule == AllocationRule.EQUAL:
        if tonnes is None:
            raise ServiceError(ErrorCode.TOTAL_REQUIRED, "EQUAL shares a total: give one", "total")
        ones = dict.fromkeys(ids, Decimal(1))
        return Allocation(year, rule, tonnes, largest_remainder(tonnes, ones), ones, {})
    if rule == AllocationRule.BENCHMARK:
        return await _benchmark(year, ids, tonnes, parameters)
    base_years = await _base_years(
        ids,
        year,
        parameters,
        HistoricalEmission if rule == AllocationRule.HISTORICAL_EMISSIONS else HistoricalEnergy,
    )
    if rule == AllocationRule.HISTORICAL_EMISSIONS:
        bases = await _average_emissions(ids, base_years)
        reason = "no verified emissions in the base years"
    else:
        bases = await _average_energy_tce(ids, base_years)
        reason = "no energy data in the base years"
    manual = {i: reason for i in ids if bases.get(i) is None}
    weights = {i: b for i, b in bases.items() if b is not None}
    if tonnes is None:
        if rule != AllocationRule.HISTORICAL_EMISSIONS:
            raise ServiceError(ErrorCode.TOTAL_REQUIRED, f"{rule.value} shares a total: give one", "total")
        rate = parse_ratio(parameters.reduction_rate or 0, "reductionRate")
        tonnes = int(sum(weights.values(), Decimal(0)) * (1 - rate))
    elif parameters.reduction_rate is not None:
        raise ServiceError(
            ErrorCode.INVALID_RATIO, "reductionRate applies only when no total is given", "reductionRate"
        )
    return Allocation(year, rule, tonnes, largest_remainder(tonnes, weights), weights, manual, base_years)


def _direct(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    entries = parameters.direct or ()
    if len(entries) > MAX_DIRECT:
        raise ServiceError(ErrorCode.TOO_MANY_ITEMS, f"at most {MAX_DIRECT} entries", "direct")
    amounts: dict[int, int] = {}
    for position, (enterprise_id, amount) in enumerate(entries, start=1):
        if enterprise_id in amounts:
            raise ServiceError(
                ErrorCode.DUPLICATE_ENTERPRISE,
                f"entry {position}: enterprise {enterprise_id} appears twice",
                "direct",
            )
        amounts[enterprise_id] = whole_tonnes(amount, f"direct[{position}].amount")
    if outside := set(amounts) - set(ids):
        raise ServiceError(ErrorCode.NOT_FOUND, f"enterprises not in scope: {sorted(outside)[:10]}", "direct")
    allocated = sum(amounts.values())
    if total is not None and total != allocated:
        raise ServiceError(ErrorCode.TOTAL_MISMATCH, f"the amounts sum to {allocated}, not {total}", "total")
    manual = {i: "no amount entered" for i in ids if i not in amounts}
    return Allocation(
        year, AllocationRule.DIRECT, allocated, amounts, {k: Decimal(v) for k, v in amounts.items()}, manual
    )


async def _base_years(ids: list[int], year: int, parameters: Parameters, model: type) -> list[int]:
    """The given base years, or the last DEFAULT_BASE_YEARS before `year` with any data in scope."""
    if parameters.base_years:
        years = sorted(set(parameters.base_years))
        if any(y >= year for y in years):
            raise ServiceError(
                ErrorCode.INVALID_YEAR, "base years must be before the plan's year", "baseYears"
            )
        if not await model.filter(enterprise_id__in=ids, year__in=years).exists():
            raise ServiceError(ErrorCode.NO_BASE_YEAR_DATA, f"no data in base years {years}", "baseYears")
        return years
    years = await (
        model.filter(enterprise_id__in=ids, year__lt=year)
        .distinct()
        .order_by("-year")
        .limit(DEFAULT_BASE_YEARS)
        .values_list("year", flat=True)
    )
    if not years:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, f"no historical data before {year} in scope", "baseYears"
        )
    return sorted(years)


async def _average_emissions(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    rows = (
        await HistoricalEmission.filter(enterprise_id__in=ids, year__in=years)
        .annotate(average=Avg("verified_emissions"))
        .group_by("enterprise_id")
        .values_list("enterprise_id", "average")
    )
    found = {enterprise_id: Decimal(str(average)) for enterprise_id, average in rows}
    return {i: found.get(i) for i in ids}


async def _average_energy_tce(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    """Average over base years of energy use in tce, summed in SQL with each year's coefficients."""
    table = await coefficient_table()
    types = sorted(
        set(await HistoricalEnergy.filter(year__in=years).distinct().values_list("energy_type_id", flat=True))
    )
    pairs = [(t, y, coefficient_for(table, t, y)) for t in types for y in years]
    if missing := [f"{t}@{y}" for t, y, c in pairs if c is None]:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, f"no tce coefficient for {', '.join(missing)}", "rule"
        )
    connection = Tortoise.get_connection("default")
    mark = _placeholders(connection.capabilities.dialect)
    params: list[object] = []
    cases = []
    for energy_type, year, coefficient in pairs:
        cases.append(
            f"WHEN energy_type_id = {mark(params, energy_type)} AND year = {mark(params, year)} "
            f"THEN CAST({mark(params, float(coefficient))} AS DOUBLE PRECISION)"
        )
    id_list = ", ".join(mark(params, i) for i in ids)
    year_list = ", ".join(mark(params, y) for y in years)
    sql = (
        f"SELECT enterprise_id, SUM(quantity * (CASE {' '.join(cases)} ELSE 0.0 END)) / COUNT(DISTINCT year) AS tce "
        f"FROM historical_energy WHERE enterprise_id IN ({id_list}) AND year IN ({year_list}) GROUP BY enterprise_id"
    )
    rows = await connection.execute_query_dict(sql, params) if cases else []
    found = {row["enterprise_id"]: Decimal(str(row["tce"])) for row in rows}
    return {i: found.get(i) for i in ids}


def _placeholders(dialect: str):
    """Bind values with the driver's placeholder style: $1.. on asyncpg, ? on SQLite."""

    def mark(params: list[object], value: object) -> str:
        params.append(value)
        return f"${len(params)}" if dialect == "postgres" else "?"

    return mark


async def _benchmark(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    """output x benchmark x correction, per product, from the latest base year with output data;
    scaled by one uniform factor when a total is given and exceeded; floored at a share of
    verified emissions when asked."""
    correction = (
        Decimal(str(parameters.correction_factor)) if parameters.correction_factor is not None else Decimal(1)
    )
    if not correction.is_finite() or correction <= 0:
        raise ServiceError(ErrorCode.INVALID_RATIO, "correctionFactor must be positive", "correctionFactor")
    floor_ratio = (
        parse_ratio(parameters.floor_ratio, "floorRatio") if parameters.floor_ratio is not None else None
    )
    base_years = await _base_years(ids, year, Parameters(base_years=parameters.base_years), HistoricalOutput)
    base = max(base_years)
    benchmarks: dict[str, Decimal] = {}
    for product, value in (
        await Benchmark.filter(effective_year__lte=year)
        .order_by("effective_year")
        .values_list("product_id", "value")
    ):
        benchmarks[product] = Decimal(str(value))  # later versions overwrite earlier ones
    outputs = await HistoricalOutput.filter(enterprise_id__in=ids, year=base).values_list(
        "enterprise_id", "product_id", "quantity"
    )
    if unknown := sorted({p for _, p, _ in outputs if p not in benchmarks}):
        raise ServiceError(ErrorCode.NO_BENCHMARK, f"no benchmark for {', '.join(unknown)} in {year}", "rule")
    raw: dict[int, Decimal] = {}
    for enterprise_id, product, quantity in outputs:
        raw[enterprise_id] = (
            raw.get(enterprise_id, Decimal(0)) + Decimal(str(quantity)) * benchmarks[product] * correction
        )
    manual = {i: f"no production output in {base}" for i in ids if i not in raw}
    floors: dict[int, int] = {}
    if floor_ratio is not None:
        verified = dict(
            await HistoricalEmission.filter(enterprise_id__in=list(raw), year=base).values_list(
                "enterprise_id", "verified_emissions"
            )
        )
        floors = {
            i: int((floor_ratio * verified[i]).to_integral_value(ROUND_CEILING)) for i in raw if i in verified
        }
    if total is None:
        amounts = {i: max(int(b.to_integral_value(ROUND_HALF_UP)), floors.get(i, 0)) for i, b in raw.items()}
        return Allocation(year, AllocationRule.BENCHMARK, None, amounts, raw, manual, [base], Decimal(1))
    if sum(floors.values()) > total:
        raise ServiceError(
            ErrorCode.TOTAL_BELOW_FLOOR,
            f"the floors alone need {sum(floors.values())} t, more than the total {total}",
            "total",
        )
    scale = _scale_to_fit(raw, floors, total)
    targets = {i: max(b * scale, Decimal(floors.get(i, 0))) for i, b in raw.items()}
    if sum(targets.values(), Decimal(0)) <= total and scale == 1:
        amounts = {
            i: max(int(t.to_integral_value(ROUND_HALF_UP)), floors.get(i, 0)) for i, t in targets.items()
        }
        if sum(amounts.values()) > total:  # rounding up at the edge: share the total instead
            amounts = largest_remainder(total, targets)
    else:
        amounts = largest_remainder(total, targets)
    return Allocation(year, AllocationRule.BENCHMARK, total, amounts, raw, manual, [base], scale)


def _scale_to_fit(raw: dict[int, Decimal], floors: dict[int, int], total: int) -> Decimal:
    """The uniform factor s <= 1 with sum(max(s * raw, floor)) = total (1 when already within)."""

    def size(s: Decimal) -> Decimal:
        return sum((max(b * s, Decimal(floors.get(i, 0))) for i, b in raw.items()), Decimal(0))

    if size(Decimal(1)) <= total:
        return Decimal(1)
    low, high = Decimal(0), Decimal(1)
    for _ in range(100):  # bisection: size() is monotonic in s
        middle = (low + high) / 2
        if size(middle) > total:
            high = middle
        else:
            low = middle
    return low.quantize(Decimal("1e-12"), rounding=ROUND_FLOOR)  # rounding down keeps it within the total
