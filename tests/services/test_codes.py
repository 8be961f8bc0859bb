"""National codes: unified social credit code (GB 32100), region (GB/T 2260), industry (GB/T 4754)."""

from __future__ import annotations

import pytest

from services.codes import (
    credit_code_check_char,
    make_credit_code,
    organisation_check_digit,
    validate_credit_code,
    validate_industry_code,
    validate_region_code,
    validate_region_prefix,
)
from services.errors import ErrorCode
from tests.services.cycle import fails_with

# Published codes of real companies (Hangzhou, Shenzhen, Beijing registrations).
REAL_CODES = ["91330100716105852F", "9144030071526726XG", "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_credit_codes_are_accepted(code: str) -> None:
    assert validate_credit_code(code) == code


def test_a_credit_code_is_trimmed_and_upper_cased() -> None:
    assert validate_credit_code("  9144030071526726xg ") == "9144030071526726XG"


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91330100716105852", "18 characters"),
        ("91330100716105852FF", "18 characters"),
        ("", "18 characters"),
        ("91330100716105852I", "no I, O, S, V, Z"),
        ("9133010071610585OF", "no I, O, S, V, Z"),
        ("9133010071610S852F", "no I, O, S, V, Z"),
        ("9133010071610V852F", "no I, O, S, V, Z"),
        ("9133010071610Z852F", "no I, O, S, V, Z"),
        ("91A30100716105852F", "characters 3-8"),
        ("91330100716105853F", "character 17"),
        ("91330100716105852G", "character 18"),
        ("9144030071526726X0", "character 18"),
    ],
)
def test_a_malformed_credit_code_is_refused_with_the_reason(code: str, why: str) -> None:
    with fails_with(ErrorCode.INVALID_CREDIT_CODE, "creditCode") as error:
        validate_credit_code(code)
    assert why in error.value.message


def test_a_single_changed_character_breaks_a_real_code() -> None:
    # Changing the organisation code body invalidates the check digit of character 17.
    with fails_with(ErrorCode.INVALID_CREDIT_CODE):
        validate_credit_code("91330100716105952F")


def test_the_error_names_the_field_it_was_given() -> None:
    with fails_with(ErrorCode.INVALID_CREDIT_CODE, "input.creditCode"):
        validate_credit_code("123", field="input.creditCode")


def test_check_digits_of_a_published_code_are_recomputed() -> None:
    # 91330100716105852F: organisation code 71610585-2, check character F.
    assert organisation_check_digit("71610585") == "2"
    assert credit_code_check_char("91330100716105852") == "F"
    # A remainder of 10 is written X (Tencent's organisation code 71526726-X).
    assert organisation_check_digit("71526726") == "X"


def test_made_credit_codes_validate_and_carry_the_region() -> None:
    code = make_credit_code("440113", "MA000123")
    assert validate_credit_code(code) == code
    assert code[2:8] == "440113"


@pytest.mark.parametrize("code", ["440113", "110000", "650100", " 330100 "])
def test_a_six_digit_code_of_a_known_province_is_a_region(code: str) -> None:
    assert validate_region_code(code) == code.strip()


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("4401", "6-digit"),
        ("4401133", "6-digit"),
        ("44011A", "6-digit"),
        ("", "6-digit"),
        ("990000", "province"),
        ("000000", "province"),
        ("201000", "province"),
    ],
)
def test_other_region_codes_are_refused(code: str, why: str) -> None:
    with fails_with(ErrorCode.INVALID_REGION_CODE, "regionCode") as error:
        validate_region_code(code)
    assert why in error.value.message


@pytest.mark.parametrize("prefix", ["", "44", "4401", "440113", "11"])
def test_region_prefixes_are_national_province_city_or_county(prefix: str) -> None:
    assert validate_region_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["4", "440", "44011", "4401130", "99", "00", "4a"])
def test_other_region_prefixes_are_refused(prefix: str) -> None:
    with fails_with(ErrorCode.INVALID_REGION_CODE, "regionPrefix"):
        validate_region_prefix(prefix)


@pytest.mark.parametrize("code", ["44", "441", "4411", "01", "97", "2511"])
def test_industry_codes_have_two_to_four_digits_in_a_known_division(code: str) -> None:
    assert validate_industry_code(code) == code


@pytest.mark.parametrize("code", ["4", "44111", "00", "98", "9911", "D441", "44.1", ""])
def test_other_industry_codes_are_refused(code: str) -> None:
    with fails_with(ErrorCode.INVALID_INDUSTRY_CODE, "industryCode"):
        validate_industry_code(code)
