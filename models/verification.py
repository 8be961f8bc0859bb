"""Third-party verification (核查): bodies, their assignments, findings and conclusions.

Emissions are millionths of tCO2 where they come from energy records (like the records
themselves), whole tonnes where a person states them (reported, verified).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import FindingSeverity, VerificationOpinion, VerificationStatus

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.compliance import Document
    from models.enterprises import Enterprise
    from models.identity import User


class VerificationBody(Model):
    """A third-party verification body (第三方核查机构), accredited for some ETS sectors."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    credit_code = fields.CharField(max_length=18, unique=True)
    accreditation_number = fields.CharField(max_length=64)
    # The Sector values it is accredited for
    sectors: fields.JSONField[list[str]] = fields.JSONField(default=list)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "verification_bodies"


class VerificationConflict(Model):
    """A conflict of interest a body declared with an enterprise: no assignment may follow."""

    id = fields.IntField(primary_key=True)
    body: fields.ForeignKeyRelation[VerificationBody] = fields.ForeignKeyField(
        "models.VerificationBody", related_name="conflicts", on_delete=fields.RESTRICT
    )
    body_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name=False, on_delete=fields.RESTRICT
    )
    enterprise_id: int
    reason = fields.TextField()
    declared_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    declared_by_id: int
    declared_at = fields.DatetimeField()

    class Meta:
        table = "verification_conflicts"
        unique_together = (("body", "enterprise"),)


class Verification(Model):
    """One enterprise-year's verification, by the body currently assigned."""

    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="verifications", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    body: fields.ForeignKeyRelation[VerificationBody] = fields.ForeignKeyField(
        "models.VerificationBody", related_name="verifications", on_delete=fields.RESTRICT
    )
    body_id: int
    status = fields.CharEnumField(VerificationStatus, max_length=24, default=VerificationStatus.ASSIGNED)
    # Bumped on every transition: the compare-and-set guard against racing writers.
    version = fields.IntField(default=1)
    due_at = fields.DatetimeField()
    assigned_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    assigned_by_id: int
    assigned_at = fields.DatetimeField()
    # The enterprise's latest report: its figure, and what its energy records gave when it came
    reported_emissions = fields.BigIntField(null=True)  # whole tonnes
    computed_emissions = fields.BigIntField(null=True)  # millionths of tCO2
    records_without_factor = fields.IntField(default=0)
    report: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "models.Document", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    report_id: int | None
    report_submitted_at = fields.DatetimeField(null=True)
    submissions = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "verifications"
        unique_together = (("enterprise", "year"),)
        indexes = (("status", "due_at"),)


class VerificationFinding(Model):
    """A verifier's finding with its reduction suggestion (减排建议), and the enterprise's answer."""

    id = fields.IntField(primary_key=True)
    verification: fields.ForeignKeyRelation[Verification] = fields.ForeignKeyField(
        "models.Verification", related_name="findings", on_delete=fields.RESTRICT
    )
    verification_id: int
    severity = fields.CharEnumField(FindingSeverity, max_length=16)
    text = fields.TextField()
    suggestion = fields.TextField(default="")
    raised_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    raised_by_id: int
    raised_at = fields.DatetimeField()
    answer = fields.TextField(null=True)
    answered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    answered_by_id: int | None
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_findings"


class VerificationConclusion(Model):
    """A verifier's conclusion (核查结论). Never updated: a correction is a new row that supersedes it."""

    id = fields.IntField(primary_key=True)
    verification: fields.ForeignKeyRelation[Verification] = fields.ForeignKeyField(
        "models.Verification", related_name="conclusions", on_delete=fields.RESTRICT
    )
    verification_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name=False, on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    body: fields.ForeignKeyRelation[VerificationBody] = fields.ForeignKeyField(
        "models.VerificationBody", related_name=False, on_delete=fields.RESTRICT
    )
    body_id: int
    verified_emissions = fields.BigIntField()  # whole tonnes
    opinion = fields.CharEnumField(VerificationOpinion, max_length=16)
    report: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name=False, on_delete=fields.RESTRICT
    )
    report_id: int
    report_sha256 = fields.CharField(max_length=64)
    issued_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    issued_by_id: int
    issued_at = fields.DatetimeField()
    # The conclusion this one corrects, and why. NO ACTION, checked at the end of a statement,
    # rather than RESTRICT, checked per row: a chain of corrections can then be removed by one
    # DELETE (conclusions are never deleted by the application, only by a test's cleanup).
    supersedes: fields.ForeignKeyNullableRelation[VerificationConclusion] = fields.ForeignKeyField(
        "models.VerificationConclusion", null=True, related_name=False, on_delete=fields.NO_ACTION
    )
    supersedes_id: int | None
    correction_reason = fields.TextField(null=True)
    # The conclusion number within its verification: 1, then 2 for the first correction...
    # unique, so of two racing conclusions exactly one is stored.
    sequence = fields.IntField()

    class Meta:
        table = "verification_conclusions"
        unique_together = (("verification", "sequence"),)
