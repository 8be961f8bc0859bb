"""Stored enumerations. Values are persisted as text, so never rename a member."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    REGULATOR = "REGULATOR"
    ENTERPRISE = "ENTERPRISE"
    VERIFIER = "VERIFIER"  # a third-party verification body's staff (第三方核查机构)


class Sector(StrEnum):
    """The national ETS sectors."""

    POWER = "POWER"
    STEEL = "STEEL"
    CEMENT = "CEMENT"
    ALUMINIUM = "ALUMINIUM"
    PETROCHEMICAL = "PETROCHEMICAL"
    CHEMICAL = "CHEMICAL"
    PAPER = "PAPER"
    AVIATION = "AVIATION"


class NoticeStatus(StrEnum):
    ISSUED = "ISSUED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    UNDER_REVIEW = "UNDER_REVIEW"
    REJECTED = "REJECTED"
    FULFILLED = "FULFILLED"
    OVERDUE = "OVERDUE"


class ApplicationStatus(StrEnum):
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class MessageKind(StrEnum):
    ALLOWANCE = "ALLOWANCE"
    NOTICE = "NOTICE"
    REVIEW_RESULT = "REVIEW_RESULT"
    DEADLINE_EXTENDED = "DEADLINE_EXTENDED"
    DEADLINE_REMINDER = "DEADLINE_REMINDER"
    OVERDUE = "OVERDUE"
    ALARM = "ALARM"
    VERIFICATION = "VERIFICATION"  # assignment, report, finding, conclusion


class AlarmKind(StrEnum):
    ACK_OVERDUE = "ACK_OVERDUE"  # not acknowledged within the notice's window
    NOTICE_OVERDUE = "NOTICE_OVERDUE"  # not fulfilled by the deadline
    VERIFICATION_OVERDUE = "VERIFICATION_OVERDUE"  # no conclusion by the verification's due date


class AlarmStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ReminderKind(StrEnum):
    DAYS_7 = "DAYS_7"
    DAYS_1 = "DAYS_1"


class AllocationRule(StrEnum):
    HISTORICAL_EMISSIONS = "HISTORICAL_EMISSIONS"  # grandfathering
    BENCHMARK = "BENCHMARK"
    ENERGY_PROPORTIONAL = "ENERGY_PROPORTIONAL"
    EQUAL = "EQUAL"
    DIRECT = "DIRECT"


class PlanStatus(StrEnum):
    DRAFT = "DRAFT"
    COMMITTED = "COMMITTED"
    SUPERSEDED = "SUPERSEDED"


class EnergySource(StrEnum):
    """Where an energy record came from; part of its natural key, so each channel keeps its own figure."""

    MANUAL = "MANUAL"  # typed in by a person
    IMPORT = "IMPORT"  # a file import
    IOT = "IOT"  # a meter or IoT gateway
    PLATFORM = "PLATFORM"  # another platform (an energy-use monitoring system...)


class TokenScope(StrEnum):
    """What an API token may do. Tokens never reach GraphQL: they are for machines on fixed routes."""

    EXPORT = "EXPORT"  # read statistics from /export (BI tools)
    INGEST = "INGEST"  # post energy records to /ingest/energy (meter gateways)


class ReferenceStatus(StrEnum):
    """Whether a reference row (an emission factor, a benchmark) carries an official value.

    A row without one still takes effect from its date: it stops an earlier value from
    standing in for the period it covers, and says why there is no value."""

    PUBLISHED = "PUBLISHED"  # an official value, with its source
    NONE_PUBLISHED = "NONE_PUBLISHED"  # no official value exists for the period
    NOT_FOUND = "NOT_FOUND"  # a value may exist but could not be confirmed from its source


class VerificationStatus(StrEnum):
    """Where an enterprise-year's verification stands (services/verification/workflow.py)."""

    ASSIGNED = "ASSIGNED"  # a body is assigned, no report yet
    REPORT_SUBMITTED = "REPORT_SUBMITTED"  # the enterprise's report awaits the verifier
    FINDINGS_RAISED = "FINDINGS_RAISED"  # the verifier asked for answers or corrections
    CONCLUDED = "CONCLUDED"  # a conclusion stands (corrections supersede it)


class FindingSeverity(StrEnum):
    OBSERVATION = "OBSERVATION"  # a remark or reduction suggestion, nothing to correct
    MINOR = "MINOR"
    MAJOR = "MAJOR"  # the figure cannot be verified as reported


class VerificationOpinion(StrEnum):
    UNQUALIFIED = "UNQUALIFIED"  # 无保留意见
    QUALIFIED = "QUALIFIED"  # 保留意见
    ADVERSE = "ADVERSE"  # 否定意见
