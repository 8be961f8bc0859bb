"""The list of user accounts, for administrators."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from models import Role, User
from services.access import Actor, require_role


def users_for(actor: Actor, role: Role | None = None) -> QuerySet[User]:
    """Every account (administrators only: PERMISSION_DENIED otherwise), optionally of one role."""
    require_role(actor, Role.ADMIN)
    query = User.all()
    return query.filter(role=role) if role is not None else query
