"""Expected errors: one exception type, one table of stable codes.

Clients switch on `code`; `message` is for people and may change. Never rename
or reuse a code.
"""

from __future__ import annotations

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
    """An expected failure. Raising it inside a transaction rolls the transaction back."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        field: str | None = None,
        *,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # For TOO_MANY_ATTEMPTS: when the client may try again
        self.retry_after_seconds = retry_after_seconds

    def __repr__(self) -> str:
        return f"ServiceError({self.code}, {self.message!r}, field={self.field!r})"

    def parts(self) -> list[ServiceError]:
        """The errors to report: this one, or one for each bad line it stands for."""
        return [self]


def not_found(what: str, field: str | None = None) -> ServiceError:
    """Used for both missing rows and rows outside the caller's scope, so scope leaks nothing."""
    return ServiceError(ErrorCode.NOT_FOUND, f"{what} not found", field)


def permission_denied(message: str = "You may not do this") -> ServiceError:
    return ServiceError(ErrorCode.PERMISSION_DENIED, message)
