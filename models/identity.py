from tortoise import fields
from tortoise.models import Model

from models.enums import Role


class User(Model):
    """A person or system that signs in. Scope comes from role, region prefix and enterprise."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16)
    # "" is national, "44" a province, "4401" a city: scope checks are prefix checks.
    region_prefix = fields.CharField(max_length=6, default="")
    enterprise: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Enterprise", null=True, related_name="users", on_delete=fields.RESTRICT
    )
    enterprise_id: int | None
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"
