"""Validation of the national codes an enterprise carries.

- Unified social credit code, GB 32100-2015: 18 characters; positions 9-17 are
  the organisation code of GB 11714 with its own check digit; position 18 is a
  mod-31 check character.
- Administrative division code, GB/T 2260: 6 digits, the first two a province.
- Industry code, GB/T 4754-2017: 2 to 4 digits, the first two a division 01-97.
"""

from __future__ import annotations

import re

from services.errors import ErrorCode, ServiceError
from services.i18n.render import Term

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB/T 2260 province-level codes (with names for error messages and demo data).
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def organisation_check_digit(body: str) -> str:
    """GB 11714 check digit for the 8-character organisation code body."""
    total = sum(_org_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def credit_code_check_char(first17: str) -> str:
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str, field: str = "creditCode") -> str:
    code = value.strip().upper()

    def bad(why: str) -> ServiceError:
        return ServiceError(
            ErrorCode.INVALID_CREDIT_CODE,
            "{value!r} is not a unified social credit code: {why}",
            field,
            params={"value": value, "why": Term(why)},
        )

    if len(code) != 18:
        raise bad("it must have 18 characters")
    if any(c not in _USCC_CHARSET for c in code):
        raise bad("it may use only digits and the letters of GB 32100 (no I, O, S, V, Z)")
    if not code[2:8].isdigit():
        raise bad("characters 3-8 must be the registration region code")
    org_body, org_check = code[8:16], code[16]
    if organisation_check_digit(org_body) != org_check:
        raise bad("the organisation code check digit (character 17) does not match")
    if credit_code_check_char(code[:17]) != code[17]:
        raise bad("the check character (character 18) does not match")
    return code


def validate_region_code(value: str, field: str = "regionCode") -> str:
    code = value.strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ServiceError(
            ErrorCode.INVALID_REGION_CODE,
            "{value!r} is not a 6-digit GB/T 2260 region code",
            field,
            params={"value": value},
        )
    if code[:2] not in PROVINCES:
        raise ServiceError(
            ErrorCode.INVALID_REGION_CODE,
            "{value!r} does not start with a province code",
            field,
            params={"value": value},
        )
    return code


def validate_region_prefix(value: str, field: str = "regionPrefix") -> str:
    """A scope prefix: "" (national), a province (2 digits), a city (4) or a county (6)."""
    prefix = value.strip()
    if prefix and (len(prefix) not in (2, 4, 6) or not prefix.isdigit() or prefix[:2] not in PROVINCES):
        raise ServiceError(
            ErrorCode.INVALID_REGION_CODE,
            "{value!r} is not a region prefix: use '' (national), 2, 4 or 6 digits of a GB/T 2260 code",
            field,
            params={"value": value},
        )
    return prefix


def validate_industry_code(value: str, field: str = "industryCode") -> str:
    code = value.strip()
    if not re.fullmatch(r"\d{2,4}", code) or not 1 <= int(code[:2]) <= 97:
        raise ServiceError(
            ErrorCode.INVALID_INDUSTRY_CODE,
            "{value!r} is not a GB/T 4754 industry code (2-4 digits, division 01-97, e.g. 4411)",
            field,
            params={"value": value},
        )
    return code


def make_credit_code(region_code: str, organisation_body: str, prefix: str = "91") -> str:
    """A well-formed credit code from its parts (demo data and tests build codes this way)."""
    first17 = prefix + region_code + organisation_body + organisation_check_digit(organisation_body)
    return first17 + credit_code_check_char(first17)
