"""The Student-t quantile for any degrees of freedom, without SciPy.

The upper tail of t with ν degrees of freedom is P(T > t) = I_x(ν/2, 1/2) / 2 with
x = ν / (ν + t²), where I is the regularized incomplete beta function. I is evaluated by its
continued fraction (modified Lentz), on whichever side of the symmetry
I_x(a, b) = 1 - I_{1-x}(b, a) converges fast, with x and 1 - x both computed directly so that
neither loses digits to cancellation. The quantile is the t whose tail equals the asked
probability, found by bisection: the tail falls strictly with t, so bisection cannot fail, and
it runs until the interval stops shrinking, which leaves t correct to the last bits a double
holds.
"""

from __future__ import annotations

import math

_EPSILON = 1e-16
_TINY = 1e-300
_MAX_TERMS = 10_000


def _continued_fraction(a: float, b: float, x: float, y: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), y = 1 - x given exactly."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")  # pragma: no cover


def _log_gamma_half_ratio(a: float) -> float:
    """ln Γ(a + 1/2) - ln Γ(a). Two lgammas of a large a cancel most of their digits (at a = 5e8,
    seven), so from a = 30 on the asymptotic series is used, exact to the last bit there."""
    if a < 30:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    return 0.5 * math.log(a) - 1 / (8 * a) + 1 / (192 * a**3) - 1 / (640 * a**5) + 17 / (14336 * a**7)


def _log_beta(a: float, b: float) -> float:
    """ln B(a, b); Student's t always has one argument 1/2, where the ratio above keeps every digit."""
    if b == 0.5:
        return math.lgamma(0.5) - _log_gamma_half_ratio(a)
    if a == 0.5:
        return math.lgamma(0.5) - _log_gamma_half_ratio(b)
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def regularized_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1; pass y = 1 - x when x is close to 1."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)  # the log of whichever is near 1 via log1p
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    front = math.exp(a * log_x + b * log_y - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x, y) / a
    return 1.0 - front * _continued_fraction(b, a, y, x) / b


def upper_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0."""
    square = t * t
    return 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + square), square / (df + square))


def t_quantile(probability: float, df: float) -> float:
    """The t with P(T <= t) = probability, for 0.5 <= probability < 1 and df > 0 degrees of freedom."""
    if not 0.5 <= probability < 1.0 or not df > 0:
        raise ValueError("t_quantile needs 0.5 <= probability < 1 and df > 0")
    tail = 1.0 - probability
    if tail == 0.5:
        return 0.0
    low, high = 0.0, 1.0
    while upper_tail(high, df) > tail:  # the tail halves at least every doubling far out
        low, high = high, high * 2.0
    while True:
        middle = (low + high) / 2.0
        if middle in (low, high):  # adjacent doubles: as close as a float gets
            return high if abs(upper_tail(high, df) - tail) < abs(upper_tail(low, df) - tail) else low
        if upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
