"""Tortoise models: tables and constraints only; workflow rules live in services/."""

from models.compliance import Allowance, Application, AuditEvent, Document, Message, Notice
from models.enterprises import Enterprise
from models.enums import ApplicationStatus, MessageKind, NoticeStatus, Role, Sector
from models.identity import User

__all__ = [
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
    "Role",
    "Sector",
    "User",
]
