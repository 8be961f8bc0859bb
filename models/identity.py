from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import Role, TokenScope

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.enterprises import Enterprise
    from models.verification import VerificationBody


class User(Model):
    """A person or system that signs in. Scope comes from role, region prefix and enterprise."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16)
    # "" is national, "44" a province, "4401" a city: scope checks are prefix checks.
    region_prefix = fields.CharField(max_length=6, default="")
    enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", null=True, related_name="users", on_delete=fields.RESTRICT
    )
    enterprise_id: int | None
    # A verifier's body: it sees only the verifications assigned to that body.
    verification_body: fields.ForeignKeyNullableRelation[VerificationBody] = fields.ForeignKeyField(
        "models.VerificationBody", null=True, related_name="users", on_delete=fields.RESTRICT
    )
    verification_body_id: int | None
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Carried in every session token and bumped by a password change or reset, a deactivation
    # and a change of role, region or enterprise: tokens with an older number stop working.
    session_version = fields.IntField(default=0)
    # Set by an administrator's password reset: until the user picks a password of their own,
    # a session may only read `me` and change the password.
    must_change_password = fields.BooleanField(default=False)
    password_changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"


class SignInThrottle(Model):
    """Recent failed sign-ins for one username or one client address, shared by every API
    process. The key is a hash, so no username or address is kept here in clear."""

    key = fields.CharField(max_length=64, primary_key=True)  # sha256 hex of kind and value
    failures = fields.IntField(default=0)
    last_failure_at = fields.DatetimeField()
    # No attempt is checked before this instant: the back-off after the last failure, or a lockout
    next_attempt_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "sign_in_throttles"


class ApiToken(Model):
    """A long-lived token for a machine (a BI tool, a meter gateway) acting for its user, with the
    user's scope narrowed to one route family. Only a hash is stored: the token is shown once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", on_delete=fields.RESTRICT
    )
    user_id: int
    name = fields.CharField(max_length=100)
    scope = fields.CharEnumField(TokenScope, max_length=16)
    # The first characters of the token, to tell tokens apart in a list
    prefix = fields.CharField(max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)  # sha256 hex
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"
