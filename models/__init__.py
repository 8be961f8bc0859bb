"""Tortoise models: tables and constraints only; workflow rules live in services/."""

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
    ApplicationStatus,
    MessageKind,
    NoticeStatus,
    ReminderKind,
    Role,
    Sector,
)
from models.identity import User

__all__ = [
    "Alarm",
    "AlarmKind",
    "AlarmStatus",
    "Allowance",
    "Application",
    "ApplicationStatus",
    "AuditEvent",
    "Document",
    "Enterprise",
    "Message",
    "MessageKind",
    "Notice",
    "NoticeStatus",
    "Reminder",
    "ReminderKind",
    "Role",
    "Sector",
    "User",
    "WebhookDelivery",
]
