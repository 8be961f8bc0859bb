"""Parsing of client values: tonnes, ratios, years, instants and text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from services.errors import ErrorCode
from services.values import MAX_TONNES, Raw, aware, ratio, text, whole_tonnes, year
from tests.services.cycle import fails_with


@pytest.mark.parametrize("value", [5, "5", "5.0", " 5 ", Decimal("5.00"), 5.0, "5e0"])
def test_whole_tonnes_accept_five_in_any_spelling(value: Raw) -> None:
    assert whole_tonnes(value, "offsets") == 5


def test_zero_and_the_largest_plausible_amount_are_whole_tonnes() -> None:
    assert whole_tonnes(0, "offsets") == 0
    assert whole_tonnes(MAX_TONNES, "offsets") == MAX_TONNES


@pytest.mark.parametrize("value", [-1, "-1", "-0.5"])
def test_negative_tonnes_are_refused_naming_the_field(value: Raw) -> None:
    with fails_with(ErrorCode.NEGATIVE_QUANTITY, "offsets") as error:
        whole_tonnes(value, "offsets")
    assert "offsets" in error.value.message


@pytest.mark.parametrize(
    "value",
    [1.5, "1.5", "abc", "", None, "NaN", "Infinity", "-Infinity", "sNaN", True, False, MAX_TONNES + 1],
)
def test_fractions_words_non_finite_numbers_and_booleans_are_not_tonnes(value: Any) -> None:
    # Any: the scalars hand over whatever a GraphQL variable held, None included.
    with fails_with(ErrorCode.INVALID_QUANTITY, "verifiedEmissions") as error:
        whole_tonnes(value, "verifiedEmissions")
    assert "verifiedEmissions" in error.value.message


@pytest.mark.parametrize(("value", "expected"), [("0.05", "0.05"), (0, "0"), (1, "1"), ("0.1234", "0.1234")])
def test_ratios_between_zero_and_one_with_four_decimals(value: Raw, expected: str) -> None:
    assert ratio(value, "offsetCapRatio") == Decimal(expected)


@pytest.mark.parametrize("value", ["-0.01", "1.0001", "2", "0.00001", "abc", "NaN", "Infinity", None])
def test_other_ratios_are_refused(value: Any) -> None:
    # Any: the scalars hand over whatever a GraphQL variable held, None included.
    with fails_with(ErrorCode.INVALID_RATIO, "offsetCapRatio"):
        ratio(value, "offsetCapRatio")


@pytest.mark.parametrize("value", [2000, 2025, 2100])
def test_years_of_this_century(value: int) -> None:
    assert year(value) == value


@pytest.mark.parametrize("value", [1999, 2101, 0])
def test_years_out_of_range_are_refused(value: int) -> None:
    with fails_with(ErrorCode.INVALID_YEAR, "year"):
        year(value)


@pytest.mark.parametrize("tz", [UTC, timezone(timedelta(hours=8))])
def test_instants_with_an_offset_are_accepted(tz: timezone) -> None:
    moment = datetime(2026, 12, 31, 23, 59, tzinfo=tz)
    assert aware(moment, "deadline") is moment


def test_an_instant_past_the_year_9999_in_utc_is_refused() -> None:
    moment = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12)))
    with fails_with(ErrorCode.INVALID_DATETIME, "expiresAt"):
        aware(moment, "expiresAt")


def test_a_time_without_an_offset_is_ambiguous() -> None:
    with fails_with(ErrorCode.INVALID_DATETIME, "deadline") as error:
        aware(datetime(2026, 12, 31, 23, 59), "deadline")  # naive on purpose
    assert "+08:00" in error.value.message


def test_text_is_trimmed_required_and_bounded() -> None:
    assert text("  title  ", "title", max_length=5) == "title"
    assert text(None, "body", max_length=5, required=False) == ""
    with fails_with(ErrorCode.REQUIRED, "title"):
        text("   ", "title", max_length=5)
    with fails_with(ErrorCode.TOO_LONG, "title"):
        text("x" * 6, "title", max_length=5)
