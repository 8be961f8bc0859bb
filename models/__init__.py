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
from models.enterprises import Enterprise
from models.enums import (
    AlarmKind,
    AlarmStatus,
    AllocationRule,
    ApplicationStatus,
    MessageKind,
    NoticeStatus,
    PlanStatus,
    ReminderKind,
    Role,
    Sector,
)
from models.history import HistoricalEmission, HistoricalEnergy, HistoricalOutput
from models.identity import User
from models.reference import Benchmark, EnergyType, Product, TceCoefficient

__all__ = [
    "Alarm",
    "AlarmKind",
    "AlarmStatus",
    "AllocationLine",
    "AllocationPlan",
    "AllocationRule",
    "Allowance",
    "Application",
    "ApplicationStatus",
    "AuditEvent",
    "Benchmark",
    "Document",
    "EnergyType",
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
    "Reminder",
    "ReminderKind",
    "Role",
    "Sector",
    "TceCoefficient",
    "User",
    "WebhookDelivery",
]
