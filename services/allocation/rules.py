"""Allocation rules (初始配额分配): who gets how many whole allowances.

Every rule reduces to a basis per enterprise (average emissions, benchmark
allowance, energy in tce, 1 for EQUAL, the amount for DIRECT) and, when a total
is to be shared, the largest-remainder method: whole tonnes summing exactly to
the total, ties broken by enterprise id so the result never depends on order.
Bases are computed in the database (basis.py); the arithmetic is pure (shares.py).

A rule is one async function of (year, enterprise ids, total, parameters) and one
row in RULES.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TypedDict, Unpack

from models import (
    AllocationRule,
    Enterprise,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    Role,
    Sector,
)
from services.access import Actor, enterprise_scope, require_role
from services.allocation import basis
from services.allocation.shares import capped, largest_remainder, rounded
from services.enterprises import EnterpriseFilter, matching
from services.errors import ErrorCode, ServiceError
from services.rows import YIELD_EVERY
from services.values import MAX_ID, Raw, whole_tonnes
from services.values import ratio as parse_ratio
from services.values import year as valid_year

MAX_DIRECT = 100_000


@dataclass(frozen=True)
class Scope:
    region_prefix: str | None = None
    industry_code: str | None = None
    sector: Sector | None = None
    enterprise_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Parameters:
    base_years: tuple[int, ...] | None = None
    reduction_rate: Raw | None = None
    correction_factor: Raw | None = None
    floor_ratio: Raw | None = None
    direct: tuple[tuple[int, Raw], ...] | None = None  # (enterprise id, amount)


class AllocationRequest(TypedDict):
    """What to allocate: the keyword arguments of compute, preview and create_plan, typed as one
    value so that a resolver can build it and pass it on whole."""

    year: int
    rule: AllocationRule
    scope: Scope
    total: Raw | None
    parameters: Parameters


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


# year, the enterprise ids in scope, the total in whole tonnes (None if not given), parameters
Rule = Callable[[int, list[int], int | None, Parameters], Awaitable[Allocation]]


async def enterprises_in(actor: Actor, scope: Scope) -> list[int]:
    where = EnterpriseFilter(
        region_prefix=scope.region_prefix, industry_code=scope.industry_code, sector=scope.sector
    )
    query = Enterprise.filter(enterprise_scope(actor), matching(where))
    ids: list[int]
    if scope.enterprise_ids is not None:
        # An id beyond the INTEGER column is unknown, not a database error on PostgreSQL.
        wanted = sorted({i for i in scope.enterprise_ids if 0 < i <= MAX_ID})
        ids = sorted(
            await basis.per_chunk(
                wanted, lambda chunk: query.filter(id__in=chunk).values_list("id", flat=True)
            )
        )
    else:
        ids = sorted(i for (i,) in await query.values_list("id"))
    if scope.enterprise_ids is not None and (unknown := set(scope.enterprise_ids) - set(ids)):
        raise ServiceError(
            ErrorCode.NOT_FOUND,
            "enterprises not found: {ids}",
            "enterpriseIds",
            params={"ids": sorted(unknown)[:10]},
        )
    if not ids:
        raise ServiceError(ErrorCode.EMPTY_SCOPE, "no enterprise in this scope", "scope")
    return ids


async def compute(actor: Actor, **request: Unpack[AllocationRequest]) -> Allocation:
    """Run the request's rule on the enterprises of its scope; nothing is saved."""
    require_role(actor, Role.REGULATOR)
    year = valid_year(request["year"])
    total = request["total"]
    tonnes = whole_tonnes(total, "total") if total is not None else None
    ids = await enterprises_in(actor, request["scope"])
    return await RULES[request["rule"]](year, ids, tonnes, request["parameters"])


async def historical_emissions(
    year: int, ids: list[int], total: int | None, parameters: Parameters
) -> Allocation:
    """Grandfathering: average verified emissions over the base years. Without a total, the
    sum of those averages less reductionRate, rounded down."""
    base_years = await basis.base_years(ids, year, parameters.base_years, HistoricalEmission)
    averages = await basis.average_emissions(ids, base_years)
    weights, manual = _known(averages, "no verified emissions in the base years")
    if total is None:
        rate = parse_ratio(parameters.reduction_rate or 0, "reductionRate")
        total = int(sum(weights.values(), Decimal(0)) * (1 - rate))
    else:
        _check_shared(total, weights, parameters)
    rule = AllocationRule.HISTORICAL_EMISSIONS
    return Allocation(year, rule, total, largest_remainder(total, weights), weights, manual, base_years)


async def energy_proportional(
    year: int, ids: list[int], total: int | None, parameters: Parameters
) -> Allocation:
    """A total shared by average energy use in tce over the base years."""
    base_years = await basis.base_years(ids, year, parameters.base_years, HistoricalEnergy)
    averages = await basis.average_energy_tce(ids, base_years)
    weights, manual = _known(averages, "no energy data in the base years")
    rule = AllocationRule.ENERGY_PROPORTIONAL
    if total is None:
        raise ServiceError(
            ErrorCode.TOTAL_REQUIRED,
            "{rule} shares a total: give one",
            "total",
            params={"rule": rule.value},
        )
    _check_shared(total, weights, parameters)
    return Allocation(year, rule, total, largest_remainder(total, weights), weights, manual, base_years)


def _known(bases: dict[int, Decimal | None], reason: str) -> tuple[dict[int, Decimal], dict[int, str]]:
    """The bases that exist, and the enterprises without one (for manual input) with the reason."""
    return {i: b for i, b in bases.items() if b is not None}, {
        i: reason for i, b in bases.items() if b is None
    }


def _check_shared(total: int, weights: dict[int, Decimal], parameters: Parameters) -> None:
    if total and not any(w > 0 for w in weights.values()):  # a total shared by nothing would vanish
        raise ServiceError(
            ErrorCode.NO_BASE_YEAR_DATA, "every basis in scope is zero: nothing to share by", "baseYears"
        )
    if parameters.reduction_rate is not None:
        raise ServiceError(
            ErrorCode.INVALID_RATIO, "reductionRate applies only when no total is given", "reductionRate"
        )


async def benchmark(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    """output x benchmark x correction, per product, from the latest base year with output data;
    scaled by one uniform factor when a total is given and exceeded; floored at a share of
    verified emissions when asked."""
    correction = _correction(parameters.correction_factor)
    floor_ratio = (
        parse_ratio(parameters.floor_ratio, "floorRatio") if parameters.floor_ratio is not None else None
    )
    base = max(await basis.base_years(ids, year, parameters.base_years, HistoricalOutput))
    raw = await basis.benchmark_allowances(ids, year, base, correction)
    manual = {i: f"no production output in {base}" for i in ids if i not in raw}
    floors: dict[int, int] = {}
    if floor_ratio is not None:
        verified = await basis.verified_emissions(list(raw), base)
        floors = {
            i: int((floor_ratio * verified[i]).to_integral_value(ROUND_CEILING)) for i in raw if i in verified
        }
    rule = AllocationRule.BENCHMARK
    if total is None:
        return Allocation(year, rule, None, rounded(raw, floors), raw, manual, [base], Decimal(1))
    if sum(floors.values()) > total:
        raise ServiceError(
            ErrorCode.TOTAL_BELOW_FLOOR,
            "the floors alone need {floors} t, more than the total {total}",
            "total",
            params={"floors": sum(floors.values()), "total": total},
        )
    amounts, scale = capped(raw, floors, total)
    return Allocation(year, rule, total, amounts, raw, manual, [base], scale)


def _correction(value: Raw | None) -> Decimal:
    """correctionFactor: any positive number, 1 when not given."""
    try:
        correction = Decimal(str(value).strip()) if value is not None else Decimal(1)
    except InvalidOperation:  # not a number at all
        correction = Decimal("NaN")
    if not correction.is_finite() or correction <= 0:
        raise ServiceError(ErrorCode.INVALID_RATIO, "correctionFactor must be positive", "correctionFactor")
    return correction


async def equal(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    """A total shared equally (to within a tonne: the lower ids get the tonnes left over)."""
    if total is None:
        raise ServiceError(ErrorCode.TOTAL_REQUIRED, "EQUAL shares a total: give one", "total")
    ones = dict.fromkeys(ids, Decimal(1))
    return Allocation(year, AllocationRule.EQUAL, total, largest_remainder(total, ones), ones, {})


async def direct(year: int, ids: list[int], total: int | None, parameters: Parameters) -> Allocation:
    """The amounts entered per enterprise; a total, when given, must equal their sum."""
    entries = parameters.direct or ()
    if len(entries) > MAX_DIRECT:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS,
            "at most {MAX_DIRECT} entries",
            "direct",
            params={"MAX_DIRECT": MAX_DIRECT},
        )
    amounts: dict[int, int] = {}
    for position, (enterprise_id, amount) in enumerate(entries, start=1):
        if enterprise_id in amounts:
            raise ServiceError(
                ErrorCode.DUPLICATE_ENTERPRISE,
                "entry {position}: enterprise {enterprise_id} appears twice",
                "direct",
                params={"position": position, "enterprise_id": enterprise_id},
            )
        amounts[enterprise_id] = whole_tonnes(amount, f"direct[{position}].amount")
        if position % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # 100,000 lines are seconds of parsing: let other requests in
    if outside := set(amounts) - set(ids):
        raise ServiceError(
            ErrorCode.NOT_FOUND,
            "enterprises not in scope: {ids}",
            "direct",
            params={"ids": sorted(outside)[:10]},
        )
    allocated = sum(amounts.values())
    if total is not None and total != allocated:
        raise ServiceError(
            ErrorCode.TOTAL_MISMATCH,
            "the amounts sum to {allocated}, not {total}",
            "total",
            params={"allocated": allocated, "total": total},
        )
    manual = {i: "no amount entered" for i in ids if i not in amounts}
    bases = {k: Decimal(v) for k, v in amounts.items()}
    return Allocation(year, AllocationRule.DIRECT, allocated, amounts, bases, manual)


RULES: dict[AllocationRule, Rule] = {
    AllocationRule.HISTORICAL_EMISSIONS: historical_emissions,
    AllocationRule.ENERGY_PROPORTIONAL: energy_proportional,
    AllocationRule.BENCHMARK: benchmark,
    AllocationRule.EQUAL: equal,
    AllocationRule.DIRECT: direct,
}
