from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.enums import AlarmKind, AlarmStatus, ApplicationStatus, MessageKind, NoticeStatus, ReminderKind

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.enterprises import Enterprise
    from models.identity import User
    from models.verification import Verification, VerificationBody, VerificationConclusion


class Allowance(Model):
    """An enterprise's initial allowance for a year, in whole tonnes of CO2."""

    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="allowances", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    amount = fields.BigIntField()
    updated_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    updated_by_id: int
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "allowances"
        unique_together = (("enterprise", "year"),)


class Document(Model):
    """An uploaded file (official notice document or verifier's report), stored by content hash."""

    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="documents", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=64)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    uploaded_by_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "documents"


class Notice(Model):
    """A compliance notice (履约通知书). Allowance and rules are snapshots taken at issue time."""

    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="notices", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    status = fields.CharEnumField(NoticeStatus, max_length=16, default=NoticeStatus.ISSUED)
    # Bumped on every transition: the compare-and-set guard against racing writers.
    version = fields.IntField(default=1)
    allowance = fields.BigIntField()
    deadline = fields.DatetimeField()
    ack_window_hours = fields.IntField()
    offset_cap_ratio = fields.DecimalField(max_digits=6, decimal_places=4)
    allow_banking = fields.BooleanField(default=False)
    # An application needs a verifier's conclusion for the enterprise-year. False for the
    # notices issued before verification existed: they behave as they did.
    require_verification = fields.BooleanField(default=False)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "models.Document", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    document_id: int | None
    issued_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    issued_by_id: int
    issued_at = fields.DatetimeField()
    acknowledged_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    acknowledged_by_id: int | None
    acknowledged_at = fields.DatetimeField(null=True)
    # issued_at + ack_window_hours, stored so the sweep can find late notices in SQL.
    ack_due_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notices"
        # One compliance notice per enterprise and year.
        unique_together = (("enterprise", "year"),)
        indexes = (("status", "deadline"),)


class Application(Model):
    """A compliance application (履约申请). Every submission is kept, its balance computed once."""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", related_name="applications", on_delete=fields.RESTRICT
    )
    notice_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="applications", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    status = fields.CharEnumField(ApplicationStatus, max_length=16, default=ApplicationStatus.UNDER_REVIEW)
    verified_emissions = fields.BigIntField()
    offsets = fields.BigIntField()
    purchased_allowances = fields.BigIntField()
    allowance = fields.BigIntField()
    usable_offsets = fields.BigIntField()
    balance = fields.BigIntField()
    offsets_over_cap = fields.BooleanField()
    report: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name=False, on_delete=fields.RESTRICT
    )
    report_id: int
    # The verifier's conclusion the verified emissions and the report were taken from
    conclusion: fields.ForeignKeyNullableRelation[VerificationConclusion] = fields.ForeignKeyField(
        "models.VerificationConclusion", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    conclusion_id: int | None
    note = fields.TextField(default="")
    idempotency_key = fields.CharField(max_length=100, null=True)
    submitted_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    submitted_by_id: int
    submitted_at = fields.DatetimeField()
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    decision_reason = fields.TextField(null=True)

    class Meta:
        table = "applications"
        # A retried submission carries the same key: one application per key and enterprise.
        unique_together = (("enterprise", "idempotency_key"),)


class AuditEvent(Model):
    """An append-only record of one change. Nothing updates or deletes these rows."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    actor_id: int | None
    action = fields.CharField(max_length=64)
    entity_type = fields.CharField(max_length=32)
    entity_id = fields.IntField()
    notice: fields.ForeignKeyNullableRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", null=True, related_name="events", on_delete=fields.RESTRICT
    )
    notice_id: int | None
    verification: fields.ForeignKeyNullableRelation[Verification] = fields.ForeignKeyField(
        "models.Verification", null=True, related_name="events", on_delete=fields.RESTRICT
    )
    verification_id: int | None
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16, null=True)
    reason = fields.TextField(null=True)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_events"
        indexes = (("entity_type", "entity_id"),)


class Message(Model):
    """An inbox message for an enterprise, or for the regulators covering regulator_region.

    All users of an enterprise share its inbox; likewise the regulators of a region.
    """

    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", null=True, related_name="messages", on_delete=fields.RESTRICT
    )
    enterprise_id: int | None
    regulator_region = fields.CharField(max_length=6, null=True, db_index=True)
    # A message for a verification body's staff (neither enterprise nor regulators)
    verification_body: fields.ForeignKeyNullableRelation[VerificationBody] = fields.ForeignKeyField(
        "models.VerificationBody", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    verification_body_id: int | None
    kind = fields.CharEnumField(MessageKind, max_length=24)
    # As written, in the configured language (a regulator's own notice text stays as written).
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    # A message the system wrote: its catalog key and parameters, so each reader gets it in
    # their language (services/i18n). Null for the regulator's own texts and older rows.
    text_key = fields.CharField(max_length=64, null=True)
    params: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    notice: fields.ForeignKeyNullableRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", null=True, related_name="messages", on_delete=fields.RESTRICT
    )
    notice_id: int | None
    verification: fields.ForeignKeyNullableRelation[Verification] = fields.ForeignKeyField(
        "models.Verification", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    verification_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "messages"
        indexes = (("enterprise_id", "read_at"),)


class Alarm(Model):
    """Raised once per notice, or verification, and kind (the unique keys make duplicate checks harmless)."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(AlarmKind, max_length=24)
    status = fields.CharEnumField(AlarmStatus, max_length=16, default=AlarmStatus.OPEN)
    notice: fields.ForeignKeyNullableRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", null=True, related_name="alarms", on_delete=fields.RESTRICT
    )
    notice_id: int | None
    verification: fields.ForeignKeyNullableRelation[Verification] = fields.ForeignKeyField(
        "models.Verification", null=True, related_name="alarms", on_delete=fields.RESTRICT
    )
    verification_id: int | None
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="alarms", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    due_at = fields.DatetimeField()
    raised_at = fields.DatetimeField()
    acknowledged_late_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    resolved_by_id: int | None
    resolution_note = fields.TextField(null=True)

    class Meta:
        table = "alarms"
        unique_together = (("notice", "kind"), ("verification", "kind"))
        indexes = (("status", "raised_at"),)


class Reminder(Model):
    """A deadline reminder sent to the enterprise, at most once per notice and kind."""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", related_name="reminders", on_delete=fields.RESTRICT
    )
    notice_id: int
    kind = fields.CharEnumField(ReminderKind, max_length=16)
    sent_at = fields.DatetimeField()

    class Meta:
        table = "reminders"
        unique_together = (("notice", "kind"),)


class WebhookDelivery(Model):
    """One attempt to POST an alarm to the configured webhook."""

    id = fields.IntField(primary_key=True)
    alarm: fields.ForeignKeyRelation[Alarm] = fields.ForeignKeyField(
        "models.Alarm", related_name="deliveries", on_delete=fields.RESTRICT
    )
    alarm_id: int
    attempt = fields.IntField()
    at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    error = fields.TextField(null=True)
    succeeded = fields.BooleanField()

    class Meta:
        table = "webhook_deliveries"
        unique_together = (("alarm", "attempt"),)
