from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.enums import AllocationRule, PlanStatus

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.enterprises import Enterprise
    from models.identity import User


class AllocationPlan(Model):
    """A year's allocation: the rule, its parameters and scope, and (lines) the result."""

    id = fields.IntField(primary_key=True)
    year = fields.IntField()
    rule = fields.CharEnumField(AllocationRule, max_length=24)
    status = fields.CharEnumField(PlanStatus, max_length=16, default=PlanStatus.DRAFT)
    total = fields.BigIntField(null=True)
    allocated = fields.BigIntField()
    # The uniform factor a BENCHMARK plan was scaled by to fit its total (1 when unscaled).
    scale_factor = fields.DecimalField(max_digits=20, decimal_places=12, null=True)
    scope: fields.JSONField[dict[str, Any]] = fields.JSONField()
    parameters: fields.JSONField[dict[str, Any]] = fields.JSONField()
    # Enterprises the rule could not allocate to, with the reason (they need manual input).
    manual: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    created_by_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    committed_at = fields.DatetimeField(null=True)
    superseded_by: fields.ForeignKeyNullableRelation[AllocationPlan] = fields.ForeignKeyField(
        "models.AllocationPlan", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    superseded_by_id: int | None

    class Meta:
        table = "allocation_plans"
        indexes = (("year", "status"),)


class AllocationLine(Model):
    """One enterprise's allowance in a plan, with the basis the rule shared by."""

    id = fields.BigIntField(primary_key=True)
    plan: fields.ForeignKeyRelation[AllocationPlan] = fields.ForeignKeyField(
        "models.AllocationPlan", related_name="lines", on_delete=fields.CASCADE
    )
    plan_id: int
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name=False, on_delete=fields.RESTRICT
    )
    enterprise_id: int
    amount = fields.BigIntField()
    basis = fields.DecimalField(max_digits=24, decimal_places=6)

    class Meta:
        table = "allocation_lines"
        unique_together = (("plan", "enterprise"),)
