"""Expected errors: one exception type, one table of stable codes.

Clients switch on `code`; `message` is for people and may change. Never rename
or reuse a code. A new code needs its message in `services/i18n/zh_cn.py` and `en.py`
(ERRORS, one line each) and in the console's `web/src/i18n/errors.*.ts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ErrorCode(StrEnum):
    # Identity and access
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    INVALID_USERNAME = "INVALID_USERNAME"
    DUPLICATE_USERNAME = "DUPLICATE_USERNAME"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_ROLE_SCOPE = "INVALID_ROLE_SCOPE"
    # Reference codes
    INVALID_CREDIT_CODE = "INVALID_CREDIT_CODE"
    DUPLICATE_CREDIT_CODE = "DUPLICATE_CREDIT_CODE"
    INVALID_REGION_CODE = "INVALID_REGION_CODE"
    INVALID_INDUSTRY_CODE = "INVALID_INDUSTRY_CODE"
    # Values
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    NEGATIVE_QUANTITY = "NEGATIVE_QUANTITY"
    INVALID_YEAR = "INVALID_YEAR"
    INVALID_RATIO = "INVALID_RATIO"
    INVALID_DATETIME = "INVALID_DATETIME"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    # Workflow
    ALLOWANCE_NOT_SET = "ALLOWANCE_NOT_SET"
    ALLOWANCE_LOCKED = "ALLOWANCE_LOCKED"
    NOTICE_ALREADY_ISSUED = "NOTICE_ALREADY_ISSUED"
    DEADLINE_IN_PAST = "DEADLINE_IN_PAST"
    DEADLINE_NOT_LATER = "DEADLINE_NOT_LATER"
    DEADLINE_PASSED = "DEADLINE_PASSED"
    INVALID_ACK_WINDOW = "INVALID_ACK_WINDOW"
    NOTICE_NOT_ACKNOWLEDGED = "NOTICE_NOT_ACKNOWLEDGED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    REASON_REQUIRED = "REASON_REQUIRED"
    SHORTFALL_OVERRIDE_REQUIRED = "SHORTFALL_OVERRIDE_REQUIRED"
    APPLICATION_ALREADY_DECIDED = "APPLICATION_ALREADY_DECIDED"
    CONCURRENT_MODIFICATION = "CONCURRENT_MODIFICATION"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ALARM_ALREADY_RESOLVED = "ALARM_ALREADY_RESOLVED"
    # Energy and history
    UNKNOWN_UNIT = "UNKNOWN_UNIT"
    INCOMPATIBLE_UNIT = "INCOMPATIBLE_UNIT"
    UNKNOWN_ENERGY_TYPE = "UNKNOWN_ENERGY_TYPE"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    DUPLICATE_ROW = "DUPLICATE_ROW"
    INVALID_ROW = "INVALID_ROW"
    # Uploaded files: the message names the encoding, or what is wrong with the workbook
    UNDECODABLE_FILE = "UNDECODABLE_FILE"
    UNSUPPORTED_CHARSET = "UNSUPPORTED_CHARSET"
    INVALID_SPREADSHEET = "INVALID_SPREADSHEET"
    # Allocation
    NO_BASE_YEAR_DATA = "NO_BASE_YEAR_DATA"
    NO_BENCHMARK = "NO_BENCHMARK"
    DUPLICATE_ENTERPRISE = "DUPLICATE_ENTERPRISE"
    PLAN_YEAR_LOCKED = "PLAN_YEAR_LOCKED"
    PLAN_NOT_DRAFT = "PLAN_NOT_DRAFT"
    PLAN_NOT_COMMITTED = "PLAN_NOT_COMMITTED"
    PLAN_EXISTS = "PLAN_EXISTS"
    PLAN_SCOPE_SMALLER = "PLAN_SCOPE_SMALLER"
    ALLOWANCE_FROM_PLAN = "ALLOWANCE_FROM_PLAN"
    TOTAL_BELOW_FLOOR = "TOTAL_BELOW_FLOOR"
    TOTAL_REQUIRED = "TOTAL_REQUIRED"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    EMPTY_SCOPE = "EMPTY_SCOPE"
    # Energy data, emission factors and statistics
    INVALID_PERIOD = "INVALID_PERIOD"
    INVALID_SOURCE = "INVALID_SOURCE"
    INVALID_SOURCE_ORDER = "INVALID_SOURCE_ORDER"  # setSourcePrecedence: each source exactly once
    FACTOR_MISSING = "FACTOR_MISSING"
    FACTOR_PARAMETERS_MISMATCH = "FACTOR_PARAMETERS_MISMATCH"
    INVALID_GROUP_BY = "INVALID_GROUP_BY"
    INVALID_DATE_RANGE = "INVALID_DATE_RANGE"
    INVALID_CURSOR = "INVALID_CURSOR"  # the same codes connections give as top-level errors
    INVALID_PAGINATION = "INVALID_PAGINATION"
    TOKEN_ALREADY_REVOKED = "TOKEN_ALREADY_REVOKED"
    INVALID_BODY = "INVALID_BODY"
    INVALID_SECTOR = "INVALID_SECTOR"
    UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"
    DUPLICATE_ENERGY_TYPE = "DUPLICATE_ENERGY_TYPE"
    INVALID_ENERGY_TYPE_CODE = "INVALID_ENERGY_TYPE_CODE"
    # Reference data that takes effect from a date
    INVALID_DATE = "INVALID_DATE"
    INVALID_THRESHOLD = "INVALID_THRESHOLD"
    INVALID_DISCREPANCY_SHARE = "INVALID_DISCREPANCY_SHARE"  # sourceDiscrepancies: a share from 0 to 10
    # Documents
    DOCUMENT_REQUIRED = "DOCUMENT_REQUIRED"
    DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
    DOCUMENT_TYPE_NOT_ALLOWED = "DOCUMENT_TYPE_NOT_ALLOWED"
    # Sign-in and the account lifecycle
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"  # with retryAfterSeconds
    TOO_MANY_LOGINS = "TOO_MANY_LOGINS"  # more than one login field in one request
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"  # a reset password must be replaced first
    USER_ALREADY_ACTIVE = "USER_ALREADY_ACTIVE"
    USER_ALREADY_INACTIVE = "USER_ALREADY_INACTIVE"
    OWN_ACCOUNT = "OWN_ACCOUNT"  # an administrator may not deactivate or demote themselves
    PASSWORD_UNCHANGED = "PASSWORD_UNCHANGED"
    # The request itself
    INVALID_CHARACTER = "INVALID_CHARACTER"  # a NUL byte in a string: no database can store it
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # the database does not answer; retry later
    # Third-party verification
    VERIFICATION_BODY_INACTIVE = "VERIFICATION_BODY_INACTIVE"
    SECTOR_NOT_ACCREDITED = "SECTOR_NOT_ACCREDITED"
    CONFLICT_OF_INTEREST = "CONFLICT_OF_INTEREST"  # the body declared a conflict with the enterprise
    CONSECUTIVE_YEARS_EXCEEDED = "CONSECUTIVE_YEARS_EXCEEDED"  # the rotation rule
    VERIFICATION_ALREADY_CONCLUDED = "VERIFICATION_ALREADY_CONCLUDED"
    FINDING_ALREADY_ANSWERED = "FINDING_ALREADY_ANSWERED"
    VERIFICATION_REQUIRED = "VERIFICATION_REQUIRED"  # the notice needs a verifier's conclusion
    VERIFIED_EMISSIONS_MISMATCH = "VERIFIED_EMISSIONS_MISMATCH"  # not the conclusion's figure


class ServiceError(Exception):
    """An expected failure. Raising it inside a transaction rolls the transaction back.

    `message` is English; with `params` it is a template (`"at most {limit} ids"`), which is
    how its translation in `services/i18n/zh_cn.py` (MESSAGES) is found and filled. Without a
    message the code's catalog message is used. `message` reads the English text;
    `in_language` renders it for a reader.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str = "",
        field: str | None = None,
        *,
        retry_after_seconds: int | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.source = message
        self.params: Mapping[str, object] = params or {}
        self.field = field
        # For TOO_MANY_ATTEMPTS: when the client may try again
        self.retry_after_seconds = retry_after_seconds

    @property
    def message(self) -> str:
        return self.in_language("en")

    def in_language(self, language: str) -> str:
        # Imported here: the catalogs are keyed by ErrorCode, so they import this module.
        from services.i18n.languages import EN, supported
        from services.i18n.render import error_text

        return error_text(self.code, self.source, self.params, supported(language) or EN)

    def __repr__(self) -> str:
        return f"ServiceError({self.code}, {self.message!r}, field={self.field!r})"

    def parts(self) -> list[ServiceError]:
        """The errors to report: this one, or one for each bad line it stands for."""
        return [self]


def not_found(what: str, field: str | None = None) -> ServiceError:
    """Used for both missing rows and rows outside the caller's scope, so scope leaks nothing.
    `what` is an English noun the catalogs' TERMS translate ("Notice" -> 履约通知书)."""
    from services.i18n.render import Term

    return ServiceError(ErrorCode.NOT_FOUND, "{what} not found", field, params={"what": Term(what)})


def permission_denied(message: str = "You may not do this") -> ServiceError:
    return ServiceError(ErrorCode.PERMISSION_DENIED, message)
