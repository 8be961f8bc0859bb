"""Tortoise models: tables and constraints only; workflow rules live in services/."""

from models.allocation import AllocationLine, AllocationPlan
from models.compliance import (
    Alarm,
    Allowance,
    Application,
    AuditEvent,
    Document,
    Message,
    Notice,
    Reminder,
    WebhookDelivery,
)
from models.energy import EnergyMonthly, EnergyRecord, EnergyYearly, SourcePrecedence, StaleMonth
from models.enterprises import Enterprise
from models.enums import (
    AlarmKind,
    AlarmStatus,
    AllocationRule,
    ApplicationStatus,
    EnergySource,
    MessageKind,
    NoticeStatus,
    PlanStatus,
    ReferenceStatus,
    ReminderKind,
    Role,
    Sector,
    TokenScope,
)
from models.history import HistoricalEmission, HistoricalEnergy, HistoricalOutput
from models.identity import ApiToken, SignInThrottle, User
from models.reference import Benchmark, EmissionFactor, EnergyType, Product, TceCoefficient

__all__ = [
    "Alarm",
    "AlarmKind",
    "AlarmStatus",
    "AllocationLine",
    "AllocationPlan",
    "AllocationRule",
    "Allowance",
    "ApiToken",
    "Application",
    "ApplicationStatus",
    "AuditEvent",
    "Benchmark",
    "Document",
    "EmissionFactor",
    "EnergyMonthly",
    "EnergyRecord",
    "EnergySource",
    "EnergyType",
    "EnergyYearly",
    "Enterprise",
    "HistoricalEmission",
    "HistoricalEnergy",
    "HistoricalOutput",
    "Message",
    "MessageKind",
    "Notice",
    "NoticeStatus",
    "PlanStatus",
    "Product",
    "ReferenceStatus",
    "Reminder",
    "ReminderKind",
    "Role",
    "Sector",
    "SignInThrottle",
    "SourcePrecedence",
    "StaleMonth",
    "TceCoefficient",
    "TokenScope",
    "User",
    "WebhookDelivery",
]
