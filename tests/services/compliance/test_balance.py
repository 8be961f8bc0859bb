"""The compliance balance: allowance + purchased + usable offsets - verified emissions."""

from __future__ import annotations

from decimal import Decimal

from services.compliance.applications import Balance, compute_balance

FIVE_PERCENT = Decimal("0.05")


def test_offsets_above_the_cap_count_only_up_to_the_cap() -> None:
    # Cap: 5 % of 1100 = 55; 1000 + 50 + 55 - 1100 = +5.
    assert compute_balance(
        allowance=1000, verified_emissions=1100, offsets=100, purchased=50, offset_cap_ratio=FIVE_PERCENT
    ) == Balance(offset_cap=55, usable_offsets=55, balance=5, offsets_over_cap=True)


def test_the_cap_is_rounded_down_to_whole_allowances() -> None:
    # 5 % of 1119 is 55.95: only 55 offsets may be used; 900 + 0 + 55 - 1119 = -164.
    assert compute_balance(
        allowance=900, verified_emissions=1119, offsets=60, purchased=0, offset_cap_ratio=FIVE_PERCENT
    ) == Balance(offset_cap=55, usable_offsets=55, balance=-164, offsets_over_cap=True)


def test_offsets_within_the_cap_all_count() -> None:
    # Cap 100; 40 offsets usable; 950 + 20 + 40 - 2000 = -990, a shortfall.
    assert compute_balance(
        allowance=950, verified_emissions=2000, offsets=40, purchased=20, offset_cap_ratio=FIVE_PERCENT
    ) == Balance(offset_cap=100, usable_offsets=40, balance=-990, offsets_over_cap=False)


def test_offsets_exactly_at_the_cap_are_not_over_it() -> None:
    result = compute_balance(
        allowance=0, verified_emissions=1000, offsets=50, purchased=950, offset_cap_ratio=FIVE_PERCENT
    )
    assert (result.usable_offsets, result.balance, result.offsets_over_cap) == (50, 0, False)


def test_without_offsets_the_balance_is_allowance_plus_purchases_minus_emissions() -> None:
    assert compute_balance(
        allowance=1200, verified_emissions=1000, offsets=0, purchased=0, offset_cap_ratio=FIVE_PERCENT
    ) == Balance(offset_cap=50, usable_offsets=0, balance=200, offsets_over_cap=False)


def test_a_zero_cap_ratio_makes_every_offset_unusable() -> None:
    result = compute_balance(
        allowance=1000, verified_emissions=1000, offsets=10, purchased=0, offset_cap_ratio=Decimal("0")
    )
    assert (result.offset_cap, result.usable_offsets, result.balance, result.offsets_over_cap) == (
        0,
        0,
        0,
        True,
    )


def test_a_ratio_with_four_decimals_is_applied_exactly() -> None:
    # 0.29 × 100000 = 29000 exactly; in floats it is 28999.999999999996, which floors to 28999.
    result = compute_balance(
        allowance=0, verified_emissions=100_000, offsets=50_000, purchased=0, offset_cap_ratio=Decimal("0.29")
    )
    assert result.offset_cap == 29_000
