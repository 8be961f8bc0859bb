"""Whole allowances from exact bases: the largest-remainder split and the benchmark cap.

Pure arithmetic, no database: the rules hand over one Decimal basis per enterprise and
get whole tonnes back. Everything runs in exact integers or Fractions, so a result never
depends on the order of its input or on rounding noise.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def largest_remainder(total: int, weights: dict[int, Decimal]) -> dict[int, int]:
    """Whole shares of `total` proportional to `weights`, summing exactly to `total`.

    In exact integers: Decimal sums and quotients round at 28 digits, which made the result
    depend on the order of the weights and could rank a larger weight's remainder lower."""
    positive, _ = as_integers({k: w for k, w in weights.items() if w > 0})
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


def as_integers(weights: dict[int, Decimal]) -> tuple[dict[int, int], int]:
    """The weights as integers over one common denominator, exactly: (numerators, denominator)."""
    ratios = {k: w.as_integer_ratio() for k, w in weights.items()}
    unit = math.lcm(*(d for _, d in ratios.values()))
    return {k: n * (unit // d) for k, (n, d) in ratios.items()}, unit


def rounded(amounts: dict[int, Decimal], floors: dict[int, int]) -> dict[int, int]:
    """Each amount rounded half up to whole tonnes, or its floor if that is higher."""
    return {i: max(int(a.to_integral_value(ROUND_HALF_UP)), floors.get(i, 0)) for i, a in amounts.items()}


def capped(raw: dict[int, Decimal], floors: dict[int, int], total: int) -> tuple[dict[int, int], Decimal]:
    """Whole amounts for the bases `raw`, each at least its floor, within `total`; and the
    uniform factor the bases were scaled by (1 when they fit).

    Bases that fit are rounded half up and the rest of the total stays unallocated; bases that
    do not are scaled down and the total is split exactly by largest remainder. The caller
    refuses a total below the sum of the floors."""
    scale = scale_to_fit(raw, floors, total)
    targets = {i: max(b * scale, Decimal(floors.get(i, 0))) for i, b in raw.items()}
    if sum(targets.values(), Decimal(0)) <= total and scale == 1:
        amounts = rounded(targets, floors)
        if sum(amounts.values()) > total:  # rounding up at the edge: share the total instead
            amounts = largest_remainder(total, targets)
    else:
        amounts = largest_remainder(total, targets)
    return amounts, scale


def scale_to_fit(raw: dict[int, Decimal], floors: dict[int, int], total: int) -> Decimal:
    """The largest uniform factor s <= 1, to 12 decimals rounded down, with
    sum(max(s * raw, floor)) <= total (1 when already within).

    That sum is piecewise linear in s: an enterprise stays on its floor until s reaches
    floor / raw and grows with s after. Walking those breakpoints in order finds s exactly in
    O(n log n); a bisection over the Decimal sum took a second for 10,000 enterprises."""
    weights, unit = as_integers(raw)  # raw[i] == weights[i] / unit, exactly
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
