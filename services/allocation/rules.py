"""Allocation rules (初始配额分配): who gets how many whole allowances.

Every rule reduces to a basis per enterprise (average emissions, benchmark
allowance, energy in tce, 1 for EQUAL, the amount for DIRECT) and, when a total
is to be shared, the largest-remainder method: whole tonnes summing exactly to
the total, ties broken by enterprise id so the result never depends on order.
Bases are computed in the database; only one number per enterprise reaches Python.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from tortoise import Tortoise
from tortoise.functions import Count, Sum

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
from services.energy.tce import coefficient_for, coefficient_table
from services.enterprises import EnterpriseFilter, matching
from services.errors import ErrorCode, ServiceError
from services.rows import RowError
from services.sql import Binder
from services.values import MAX_ID, whole_tonnes
from services.values import ratio as parse_ratio
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
    """Whole shares of `total` proportional to `weights`, summing exactly to `total`.

    In exact integers: Decimal sums and quotients round at 28 digits, which made the result
    depend on the order of the weights and could rank a larger weight's remainder lower."""
    positive, _ = _as_integers({k: w for k, w in weights.items() if w > 0})
    weight_sum = sum(positive.values())
    if total == 0 or weight_sum == 0:
        return dict.fromkeys(weights, 0)
    shares: dict[int, int] = {}
    remainders: dict[int, int] = {}  # of total * w / weight_sum, in units of 1 / weight_sum
    for k, w in positive.items():
        shares[k], remainders[k] = divmod(total * w, weight_sum)
    left = total - sum(shares.values())
    # Largest remainder first; equal remainders go to the lower enterprise id.
    for k in sorted(remainders, key=lambda k: (-remainders[k], k))[:left]:
        shares[k] += 1
    return {k: shares.get(k, 0) for k in weights}


def _as_integers(weights: dict[int, Decimal]) -> tuple[dict[int, int], int]:
    """The weights as integers over one common denominator, exactly: (numerators, denominator)."""
    ratios = {k: w.as_integer_ratio() for k, w in weights.items()}
    unit = math.lcm(*(d for _, d in ratios.values()))
    return {k: n * (unit // d) for k, (n, d) in ratios.items()}, unit


async def enterprises_in(actor: Actor, scope: Scope) -> list[int]:
    where = EnterpriseFilter(
        region_prefix=scope.region_prefix, industry_code=scope.industry_code, sector=scope.sector
    )
    query = Enterprise.filter(enterprise_scope(actor), matching(where))
    if scope.enterprise_ids is not None:
        # An id beyond the INTEGER column is unknown, not a database error on PostgreSQL.
        wanted = sorted({i for i in scope.enterprise_ids if 0 < i <= MAX_ID})
        ids = sorted(
            await _per_chunk(wanted, lambda chunk: query.filter(id__in=chunk).values_list("id", flat=True))
        )
    else:
        ids = sorted(await query.values_list("id", flat=True))
    if scope.enterprise_ids is not None and (unknown := set(scope.enterprise_ids) - set(ids)):
        raise ServiceError(
            ErrorCode.NOT_FOUND, f"enterprises not found: {sorted(unknown)[:10]}", "enterpriseIds"
        )
    if not ids:
        raise ServiceError(ErrorCode.EMPTY_SCOPE, "no enterprise in this scope", "scope")
    return ids


async def _per_chunk(ids: list[int], fetch: Callable[[list[int]], Awaitable[Any]]) -> list[Any]:
    """fetch(chunk) for chunks of LOOKUP_CHUNK ids, results concatenated: a scope of more than
    32,767 enterprises would exceed the drivers' bind-parameter limit in a single IN (...)."""
    rows: list[Any] = []
    for start in range(0, len(ids), LOOKUP_CHUNK):
        rows += await fetch(ids[start : start + LOOKUP_CHUNK])
    return rows


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
    if tonnes and not any(w > 0 for w in weights.values()):  # a total shared by nothing would vanish
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, "every basis in scope is zero: nothing to share by", "baseYears"
        )
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
        found = await _per_chunk(ids, lambda chunk: model.filter(enterprise_id__in=chunk, year__in=years).limit(1).values_list("id", flat=True))  # fmt: skip
        if not found:
            raise ServiceError(ErrorCode.NO_BASE_YEAR_DATA, f"no data in base years {years}", "baseYears")
        return years
    years = await _per_chunk(
        ids,
        lambda chunk: (
            model.filter(enterprise_id__in=chunk, year__lt=year)
            .distinct()
            .order_by("-year")
            .limit(DEFAULT_BASE_YEARS)
            .values_list("year", flat=True)
        ),
    )
    years = sorted(set(years))[-DEFAULT_BASE_YEARS:]
    if not years:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, f"no historical data before {year} in scope", "baseYears"
        )
    return years


async def _average_emissions(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    # Sum and count, not Avg: Avg comes back through the BIGINT column's type, cut to whole tonnes.
    rows = await _per_chunk(
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


async def _average_energy_tce(ids: list[int], years: list[int]) -> dict[int, Decimal | None]:
    """Average over base years of energy use in tce, summed in SQL with each year's coefficients.

    Summed as whole micro-tce per row: a sum of doubles depends on the order the rows are read,
    and so did the shares of enterprises with equal energy use (the tie went to rounding noise,
    not to the lower id). PostgreSQL multiplies in NUMERIC, exactly."""
    table = await coefficient_table()
    types = sorted(
        set(
            await _per_chunk(
                ids,
                lambda chunk: (
                    HistoricalEnergy.filter(enterprise_id__in=chunk, year__in=years)
                    .distinct()
                    .values_list("energy_type_id", flat=True)
                ),
            )
        )
    )
    pairs = [(t, y, coefficient_for(table, t, y)) for t in types for y in years]
    if missing := [f"{t}@{y}" for t, y, c in pairs if c is None]:
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, f"no tce coefficient for {', '.join(missing)}", "rule"
        )
    connection = Tortoise.get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"

    async def fetch(chunk: list[int]) -> list[dict]:
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
        return await connection.execute_query_dict(sql, mark.params)

    rows = await _per_chunk(ids, fetch) if pairs else []
    found = {row["enterprise_id"]: Decimal(int(row["micro"])) / 1_000_000 / row["reported"] for row in rows}
    return {i: found.get(i) for i in ids}


async def _benchmark(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    """output x benchmark x correction, per product, from the latest base year with output data;
    scaled by one uniform factor when a total is given and exceeded; floored at a share of
    verified emissions when asked."""
    try:
        correction = (
            Decimal(str(parameters.correction_factor).strip())
            if parameters.correction_factor is not None
            else Decimal(1)
        )
    except InvalidOperation:  # not a number at all
        correction = Decimal("NaN")
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
    outputs = await _per_chunk(
        ids,
        lambda chunk: HistoricalOutput.filter(enterprise_id__in=chunk, year=base).values_list(
            "enterprise_id", "product_id", "quantity"
        ),
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
            await _per_chunk(
                list(raw),
                lambda chunk: HistoricalEmission.filter(enterprise_id__in=chunk, year=base).values_list(
                    "enterprise_id", "verified_emissions"
                ),
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
    """The largest uniform factor s <= 1, to 12 decimals rounded down, with
    sum(max(s * raw, floor)) <= total (1 when already within).

    That sum is piecewise linear in s: an enterprise stays on its floor until s reaches
    floor / raw and grows with s after. Walking those breakpoints in order finds s exactly in
    O(n log n); a bisection over the Decimal sum took a second for 10,000 enterprises."""
    weights, unit = _as_integers(raw)  # raw[i] == weights[i] / unit, exactly
    if sum(max(w, floors.get(i, 0) * unit) for i, w in weights.items()) <= total * unit:
        return Decimal(1)
    growing = 0  # sum of the weights of enterprises past their floor
    fixed = 0  # sum of the floors (x unit) of enterprises on them
    # Breakpoint floor / weight, sorted by an integer key (exact to 40 digits, then exactly):
    # comparing Fractions alone made the sort the slowest step.
    breakpoints: list[tuple[int, Fraction, int, int]] = []
    for i, weight in weights.items():
        floor = floors.get(i, 0) * unit
        if floor == 0:
            growing += weight
        else:
            fixed += floor
            if weight > 0:  # a zero basis stays on its floor for good
                breakpoints.append((floor * 10**40 // weight, Fraction(floor, weight), weight, floor))
    target = total * unit  # fixed <= target: the caller refused totals below the floors
    for _, _, weight, floor in [*sorted(breakpoints), (0, Fraction(1), 0, 0)]:
        if floor >= weight or floor * growing + fixed * weight > target * weight:  # point >= 1, or past it
            break  # the answer lies before this breakpoint (at the latest at s = 1: the sum exceeds the total)
        growing, fixed = growing + weight, fixed - floor
    s = Fraction(target - fixed, growing)
    return Decimal(s.numerator * 10**12 // s.denominator).scaleb(-12)


# -- DIRECT tables uploaded as CSV ---------------------------------------------------------------

MAX_TABLE_ERRORS = 100
LOOKUP_CHUNK = 10_000  # credit codes per query: well inside every driver's bind-parameter limit


class DirectTableError(ServiceError):
    """Bad lines of an uploaded DIRECT table, each with its line number (at most 100)."""

    def __init__(self, lines: list[RowError]) -> None:
        super().__init__(lines[0].code, f"{len(lines)} bad line(s) in the DIRECT table", "directCsv")
        self.lines = lines

    def parts(self) -> list[ServiceError]:
        return [
            ServiceError(line.code, f"line {line.line}: {line.message}", self.field) for line in self.lines
        ]


async def direct_table(actor: Actor, data: bytes) -> tuple[tuple[int, int], ...]:
    """A DIRECT table as CSV, one `credit_code,amount` a line (a header line is optional),
    as (enterprise id, whole tonnes) entries for Parameters.direct.

    Credit codes are looked up within the actor's scope. Every bad line (malformed, bad
    amount, repeated or unknown enterprise) is reported with its number, and then no entry
    is returned: DirectTableError.
    """
    require_role(actor, Role.REGULATOR)
    errors: list[RowError] = []
    entries: list[tuple[int, str, int]] = []  # (line, credit code, amount)
    first_line: dict[str, int] = {}
    started = False
    for number, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        values = [value.strip() for value in next(csv.reader([line]))]
        if not started:
            started = True
            if values[0].lower() == "credit_code":
                continue
        if len(values) != 2 or not values[0]:
            errors.append(RowError(number, ErrorCode.INVALID_ROW, None, "expected credit_code,amount"))
            continue
        code = values[0].upper()
        try:
            amount = whole_tonnes(values[1], "amount")
        except ServiceError as error:
            errors.append(RowError(number, error.code, "amount", error.message))
            continue
        if (first := first_line.get(code)) is not None:
            errors.append(
                RowError(
                    number, ErrorCode.DUPLICATE_ENTERPRISE, "credit_code", f"{code} repeats line {first}"
                )
            )
            continue
        first_line[code] = number
        entries.append((number, code, amount))
        if len(entries) > MAX_DIRECT:
            raise ServiceError(ErrorCode.TOO_MANY_ITEMS, f"at most {MAX_DIRECT} lines", "directCsv")
    codes = list(first_line)
    ids: dict[str, int] = {}
    for start in range(0, len(codes), LOOKUP_CHUNK):
        ids.update(
            await Enterprise.filter(
                enterprise_scope(actor), credit_code__in=codes[start : start + LOOKUP_CHUNK]
            ).values_list("credit_code", "id")
        )
    errors += [
        RowError(number, ErrorCode.NOT_FOUND, "credit_code", f"no enterprise {code} in your scope")
        for number, code, _ in entries
        if code not in ids
    ]
    if errors:
        raise DirectTableError(sorted(errors, key=lambda e: e.line)[:MAX_TABLE_ERRORS])
    return tuple((ids[code], amount) for _, code, amount in entries)
