"""Who is acting and what they may see.

Every read and write of tenant data goes through these filters, so a nested
field or a mutation cannot reach past the caller's scope: an enterprise user
sees its own enterprise, a regulator the enterprises whose region code starts
with its prefix, an admin everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from models import Enterprise, Role, User
from services.errors import permission_denied


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: Role
    region_prefix: str = ""
    enterprise_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role, user.region_prefix, user.enterprise_id)

    def sees_enterprise(self, enterprise: Enterprise) -> bool:
        if self.role == Role.ADMIN:
            return True
        if self.role == Role.ENTERPRISE:
            return enterprise.id == self.enterprise_id
        return enterprise.region_code.startswith(self.region_prefix)


def enterprise_scope(actor: Actor, via: str = "") -> Q:
    """A filter selecting rows of the enterprises the actor may see.

    `via` is the relation path from the filtered model to Enterprise ("" for
    Enterprise itself, "enterprise" for notices, applications, documents...).
    """
    prefix = f"{via}__" if via else ""
    if actor.role == Role.ADMIN:
        return Q()
    if actor.role == Role.ENTERPRISE:
        return Q(**{f"{via}_id" if via else "id": actor.enterprise_id or -1})
    if not actor.region_prefix:
        return Q()
    return Q(**{f"{prefix}region_code__startswith": actor.region_prefix})


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        names = " or ".join(r.value.lower() for r in roles)
        raise permission_denied(f"Only a {names} may do this")
