"""Properties of the allocation, checked on generated inputs (hypothesis): the shares sum exactly
to the total, are never negative, do not depend on the order of the input, and a larger basis
never gets less; the tonnes left over go to the largest remainders, ties to the lower id; the
benchmark cap is never exceeded."""

from __future__ import annotations

import itertools
import math
import os
import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import AllocationRule, Enterprise, HistoricalEmission, HistoricalEnergy, HistoricalOutput, Sector
from services.access import Actor
from services.allocation.rules import Allocation, Parameters, Scope, compute
from services.allocation.shares import capped, largest_remainder, rounded, scale_to_fit
from services.codes import make_credit_code
from tests.conftest import World

# Moderate by default so the module stays fast; CCMS_HYPOTHESIS_EXAMPLES=200 hunts longer.
EXAMPLES = int(os.environ.get("CCMS_HYPOTHESIS_EXAMPLES", "12"))
PURE = settings(max_examples=max(300, EXAMPLES * 10), deadline=None, database=None)
WITH_DB = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Decimals as the database hands them over: whole tonnes, fixed decimals, floats printed back.
basis = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(Decimal),
    st.decimals(min_value=0, max_value=10**9, places=6),
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False).map(
        lambda f: Decimal(str(f))
    ),
    st.decimals(min_value=0, max_value=10**15, allow_nan=False, allow_infinity=False),
)
weights_st = st.dictionaries(st.integers(min_value=1, max_value=10**6), basis, max_size=40)
# A few distinct values among many ids: equal remainders, and so ties, are the rule here.
tied_weights = st.dictionaries(
    st.integers(min_value=1, max_value=60),
    st.sampled_from([Decimal(0), Decimal(1), Decimal("2.5"), Decimal(3), Decimal("0.000001")]),
    max_size=40,
)
totals = st.integers(min_value=0, max_value=10**12)


# ---------------------------------------------------------------- largest_remainder


@PURE
@given(total=totals, weights=weights_st)
def test_shares_sum_to_the_total_and_stay_within_a_tonne_of_the_exact_quota(
    total: int, weights: dict[int, Decimal]
) -> None:
    shares = largest_remainder(total, weights)
    assert shares.keys() == weights.keys()
    assert all(s >= 0 for s in shares.values())
    weight_sum = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if weight_sum == 0:
        assert set(shares.values()) <= {0}
        return
    assert sum(shares.values()) == total
    for k, w in weights.items():
        assert abs(shares[k] - total * Fraction(w) / weight_sum) < 1


@PURE
@given(total=totals, weights=weights_st, seed=st.randoms(use_true_random=False))
def test_shares_do_not_depend_on_the_order_of_the_weights(
    total: int, weights: dict[int, Decimal], seed: random.Random
) -> None:
    items = list(weights.items())
    seed.shuffle(items)
    assert largest_remainder(total, dict(items)) == largest_remainder(total, weights)


@PURE
@given(total=totals, weights=weights_st)
def test_a_larger_weight_never_gets_less(total: int, weights: dict[int, Decimal]) -> None:
    shares = largest_remainder(total, weights)
    ranked = sorted(weights, key=lambda k: weights[k])
    for smaller, larger in itertools.pairwise(ranked):
        if weights[larger] > weights[smaller]:
            assert shares[larger] >= shares[smaller], (smaller, larger)


@PURE
@given(
    total=st.integers(min_value=0, max_value=10**6),
    ids=st.sets(st.integers(1, 10**6), min_size=1, max_size=30),
)
def test_equal_weights_differ_by_at_most_one_tonne_and_the_lower_ids_get_it(
    total: int, ids: set[int]
) -> None:
    shares = largest_remainder(total, dict.fromkeys(ids, Decimal(1)))
    ordered = [shares[i] for i in sorted(ids)]
    assert ordered == sorted(ordered, reverse=True)
    assert max(ordered) - min(ordered) <= 1


@PURE
@given(total=totals, weights=st.one_of(weights_st, tied_weights))
def test_the_tonnes_left_over_go_to_the_largest_remainders_and_ties_to_the_lower_id(
    total: int, weights: dict[int, Decimal]
) -> None:
    """The documented rule, computed independently in Fractions: each gets the whole part of its
    exact quota, and one more tonne goes to each of the largest remainders, equal ones by id."""
    weight_sum = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if weight_sum == 0:
        return
    quotas = {k: total * Fraction(w) / weight_sum for k, w in weights.items()}
    expected = {k: math.floor(q) for k, q in quotas.items()}
    left = total - sum(expected.values())
    for k in sorted(quotas, key=lambda k: (expected[k] - quotas[k], k))[:left]:
        expected[k] += 1
    assert largest_remainder(total, weights) == expected


benchmark_pairs = st.dictionaries(
    st.integers(1, 10**6),
    st.tuples(basis, st.integers(min_value=0, max_value=10**9)),
    min_size=1,
    max_size=30,
)


@PURE
@given(pairs=benchmark_pairs, where=st.fractions(min_value=0, max_value=2))
def test_capped_amounts_never_exceed_the_total_and_never_fall_below_a_floor(
    pairs: dict[int, tuple[Decimal, int]], where: Fraction
) -> None:
    """BENCHMARK with a total: whole amounts within the cap, each at least its floor; scaled down
    (scale < 1), they use the whole total; within it, each is its allowance rounded half up."""
    raw = {i: b for i, (b, _) in pairs.items()}
    floors = {i: f for i, (_, f) in pairs.items()}
    low = sum(floors.values())
    high = sum((max(Fraction(b), Fraction(floors[i])) for i, b in raw.items()), Fraction(0))
    total = int(low + (high - low) * where)  # from the floors alone to twice the unscaled sum
    amounts, scale = capped(raw, floors, total)
    assert amounts.keys() == raw.keys()
    assert sum(amounts.values()) <= total
    assert all(amounts[i] >= floors[i] for i in raw)
    assert scale == scale_to_fit(raw, floors, total)
    if scale < 1:
        assert sum(amounts.values()) == total
    else:
        assert sum(amounts.values()) == total or amounts == rounded(raw, floors)


@PURE
@given(
    pairs=st.dictionaries(
        st.integers(1, 10**6),
        st.tuples(basis, st.integers(min_value=0, max_value=10**9)),
        min_size=1,
        max_size=30,
    ),
    where=st.fractions(min_value=0, max_value=1),
)
def test_the_benchmark_scale_factor_is_the_largest_that_fits_the_total(
    pairs: dict[int, tuple[Decimal, int]], where: Fraction
) -> None:
    """BENCHMARK with a floor: s is the largest factor (to 12 decimals) with
    sum(max(s x basis, floor)) <= total, for any total between the floors and the unscaled sum."""
    raw = {i: b for i, (b, _) in pairs.items()}
    floors = {i: f for i, (_, f) in pairs.items()}

    def size(s: Fraction) -> Fraction:
        return sum((max(s * Fraction(b), Fraction(floors[i])) for i, b in raw.items()), Fraction(0))

    low, high = sum(floors.values()), size(Fraction(1))
    total = int(low + (high - low) * where)
    s = scale_to_fit(raw, floors, total)
    assert 0 <= s <= 1 and s == s.quantize(Decimal("1e-12"))
    assert size(Fraction(s)) <= total
    assert s == 1 or size(Fraction(s) + Fraction(1, 10**12)) > total


# ---------------------------------------------------------------- compute, on the database

YEARS = range(2020, 2025)
ENERGY = ("ELECTRICITY", "DIESEL", "NATURAL_GAS", "PURCHASED_HEAT")
PRODUCTS = ("POWER_COAL_GT300", "POWER_GAS", "HEAT_COAL")
quantity = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(Decimal),
    st.decimals(min_value=0, max_value=10**6, places=3),
)
enterprise_history = st.fixed_dictionaries(
    {
        "emissions": st.dictionaries(st.sampled_from(YEARS), st.integers(0, 10**8), max_size=5),
        "energy": st.dictionaries(
            st.tuples(st.sampled_from(YEARS), st.sampled_from(ENERGY)), quantity, max_size=8
        ),
        "output": st.dictionaries(
            st.tuples(st.sampled_from(YEARS), st.sampled_from(PRODUCTS)), quantity, max_size=4
        ),
    }
)
# Twins (the same history twice) make ties likely: a tie must go to the lower id, never to noise.
histories = st.lists(enterprise_history, min_size=1, max_size=6).flatmap(
    lambda hs: st.lists(st.sampled_from(hs), min_size=len(hs), max_size=len(hs) + 3)
)

_batch = iter(range(1, 10**6))


async def build(histories: list[dict[str, Any]], shuffle: random.Random) -> list[int]:
    """Enterprises with these histories, ids in list order; rows are written in a shuffled order."""
    n = next(_batch)
    await Enterprise.bulk_create(
        [
            Enterprise(
                name=f"P{n}-{i}",
                credit_code=make_credit_code("440113", f"{n:04d}{i:04d}"),
                region_code="440113",
                industry_code="4411",
                sector=Sector.POWER,
            )
            for i in range(len(histories))
        ]
    )
    ids = [e.id for e in await Enterprise.filter(name__startswith=f"P{n}-").order_by("id")]
    rows: list[Any] = []
    for enterprise_id, h in zip(ids, histories, strict=True):
        rows += [HistoricalEmission(enterprise_id=enterprise_id, year=y, verified_emissions=e) for y, e in h["emissions"].items()]  # fmt: skip
        rows += [HistoricalEnergy(enterprise_id=enterprise_id, year=y, energy_type_id=t, quantity=q) for (y, t), q in h["energy"].items()]  # fmt: skip
        rows += [HistoricalOutput(enterprise_id=enterprise_id, year=y, product_id=p, quantity=q) for (y, p), q in h["output"].items()]  # fmt: skip
    shuffle.shuffle(rows)
    for row in rows:  # one at a time: the table's physical order is the shuffled order
        await row.save()
    return ids


async def allocate(
    actor: Actor, rule: AllocationRule, ids: list[int], total: int | None, **p: Any
) -> Allocation | str:
    """The allocation, or the error code it fails with (a failure must be as deterministic)."""
    from services.errors import ServiceError

    try:
        return await compute(
            actor, year=2025, rule=rule, scope=Scope(enterprise_ids=tuple(ids)), total=total, parameters=Parameters(**p)
        )  # fmt: skip
    except ServiceError as error:
        return error.code.value


def by_position(result: Allocation | str, ids: list[int]) -> Any:
    if isinstance(result, str):
        return result
    return ([result.amounts.get(i) for i in ids], [i in result.manual for i in ids], result.total)


RULES = st.sampled_from(
    [AllocationRule.HISTORICAL_EMISSIONS, AllocationRule.ENERGY_PROPORTIONAL, AllocationRule.EQUAL, AllocationRule.BENCHMARK]
)  # fmt: skip


@WITH_DB
@given(
    rule=RULES,
    histories=histories,
    total=st.integers(min_value=0, max_value=10**9),
    order=st.randoms(use_true_random=False),
)
async def test_an_allocation_sums_to_its_total_is_never_negative_and_ignores_row_order(
    world: World, rule: AllocationRule, histories: list[dict[str, Any]], total: int, order: random.Random
) -> None:
    regulator = await regulator_for(world)
    first = await build(histories, order)
    second = await build(histories, order)  # the same histories, written in another order
    result = await allocate(regulator, rule, first, total)
    assert by_position(result, first) == by_position(await allocate(regulator, rule, second, total), second)
    assert by_position(result, first) == by_position(await allocate(regulator, rule, first, total), first)
    if isinstance(result, str):
        return
    assert all(a >= 0 for a in result.amounts.values())
    assert not result.amounts.keys() & result.manual.keys()
    assert result.amounts.keys() | result.manual.keys() == set(first)
    if rule != AllocationRule.BENCHMARK or (result.scale_factor or 1) < 1:
        assert result.allocated == total
    else:  # within the total: the benchmark amounts themselves
        assert result.allocated <= total
    if rule != AllocationRule.BENCHMARK:
        for a in result.amounts:
            for b in result.amounts:
                if result.bases[a] > result.bases[b]:
                    assert result.amounts[a] >= result.amounts[b]


@WITH_DB
@given(histories=histories, rate=st.sampled_from([None, "0", "0.05", "0.5", "1"]))
async def test_grandfathering_without_a_total_gives_more_history_at_least_as_much(
    world: World, histories: list[dict[str, Any]], rate: str | None
) -> None:
    regulator = await regulator_for(world)
    ids = await build(histories, random.Random(0))
    result = await allocate(regulator, AllocationRule.HISTORICAL_EMISSIONS, ids, None, reduction_rate=rate)
    if isinstance(result, str):
        assert result == "NO_BASE_YEAR_DATA"
        assert not any(h["emissions"] for h in histories)
        return
    assert result.allocated == result.total == int(sum(result.bases.values()) * (1 - Decimal(rate or 0)))
    ranked = sorted(result.amounts, key=lambda i: result.bases[i])
    for smaller, larger in itertools.pairwise(ranked):
        if result.bases[larger] > result.bases[smaller]:
            assert result.amounts[larger] >= result.amounts[smaller]


@WITH_DB
@given(
    amounts=st.lists(st.integers(0, 10**9), min_size=1, max_size=12), order=st.randoms(use_true_random=False)
)
async def test_direct_amounts_come_out_as_entered_in_any_order(
    world: World, amounts: list[int], order: random.Random
) -> None:
    regulator = await regulator_for(world)
    ids = await build([{"emissions": {}, "energy": {}, "output": {}}] * (len(amounts) + 1), order)
    entries = list(zip(ids, amounts, strict=False))
    shuffled = entries[:]
    order.shuffle(shuffled)
    first = await allocate(regulator, AllocationRule.DIRECT, ids, sum(amounts), direct=tuple(entries))
    second = await allocate(regulator, AllocationRule.DIRECT, ids, None, direct=tuple(shuffled))
    assert not isinstance(first, str) and not isinstance(second, str)
    assert first.amounts == second.amounts == dict(entries)
    assert first.allocated == second.allocated == sum(amounts)
    assert first.manual == second.manual == {ids[-1]: "no amount entered"}


_regulators: dict[int, Actor] = {}


async def regulator_for(world: World) -> Actor:
    """One regulator per test (the examples of a test share its database until it ends)."""
    from models import User

    actor = _regulators.get(id(world))
    if actor is None or not await User.exists(id=actor.user_id):
        actor = _regulators[id(world)] = await world.regulator("44")
    return actor
