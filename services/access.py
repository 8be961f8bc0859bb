"""Who is acting and what they may see.

Every read and write of tenant data goes through the scope rule, so a nested field, a
mutation, a statistic or an event cannot reach past the caller's scope: an enterprise user
sees its own enterprise, a regulator the enterprises whose region code starts with its
prefix, an admin everything. The rule has one form per place it is applied, side by side
here: `sees` in Python, `enterprise_scope` for the ORM and `scope_conditions` for raw SQL
(tests/services/test_access.py shows that they agree).

A verifier is the third tenant kind: it sees no enterprise as such (no notices, no
applications, no statistics), only the verifications assigned to its body and, through
them, the assigned enterprise-year's energy records, report and documents. Its rule is
`verification_scope` (ORM) and `sees_verification` (Python).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q

from models import Enterprise, Role, User
from services.errors import ErrorCode, ServiceError
from services.i18n.render import Term
from services.sql import Binder, starts_with


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: Role
    region_prefix: str = ""
    enterprise_id: int | None = None
    # A session after a password reset: it may read `me` and change the password, nothing else.
    must_change_password: bool = False
    # The user's session_version when the actor was loaded (signed download links carry it).
    session_version: int = 0
    # A verifier's body; None for every other role.
    verification_body_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            user.id,
            user.username,
            user.role,
            user.region_prefix,
            user.enterprise_id,
            user.must_change_password,
            user.session_version,
            user.verification_body_id,
        )

    def sees_enterprise(self, enterprise: Enterprise) -> bool:
        return sees(self, enterprise.id, enterprise.region_code)


def sees(actor: Actor, enterprise_id: int | None, region_code: str) -> bool:
    """Whether the actor may see what belongs to this enterprise (by its id and region code)."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.ENTERPRISE:
        # An enterprise user bound to no enterprise sees nothing, not what belongs to no enterprise.
        return enterprise_id is not None and enterprise_id == actor.enterprise_id
    if actor.role == Role.VERIFIER:
        return False  # only through a verification: sees_verification
    return region_code.startswith(actor.region_prefix)


def enterprise_scope(actor: Actor, via: str = "") -> Q:
    """A filter selecting rows of the enterprises the actor may see.

    `via` is the relation path from the filtered model to Enterprise ("" for
    Enterprise itself, "enterprise" for notices, applications, documents...).
    """
    prefix = f"{via}__" if via else ""
    if actor.role == Role.ADMIN:
        return Q()
    if actor.role in (Role.ENTERPRISE, Role.VERIFIER):
        # join_type named: else mypy matches the lookup's int against it (a str) and objects.
        # A verifier's enterprise id is None: it matches no row.
        return Q(join_type=Q.AND, **{f"{via}_id" if via else "id": actor.enterprise_id or -1})
    if not actor.region_prefix:
        return Q()
    return Q(**{f"{prefix}region_code__startswith": actor.region_prefix})


def scope_conditions(actor: Actor, bind: Binder, enterprise_id: str, region_code: str) -> list[str]:
    """The SQL conditions selecting rows of the enterprises the actor may see (none: every
    row), given the SQL expressions of a row's enterprise id and its enterprise's region code."""
    if actor.role in (Role.ENTERPRISE, Role.VERIFIER):
        return [f"{enterprise_id} = {bind(actor.enterprise_id or -1)}"]
    if actor.role == Role.REGULATOR and actor.region_prefix:
        return [starts_with(region_code, actor.region_prefix, bind)]
    return []


def sees_verification(actor: Actor, enterprise_id: int, region_code: str, body_id: int) -> bool:
    """Whether the actor may see a verification (by its enterprise and its assigned body):
    a verifier those of its body, everyone else by the enterprise, as `sees`."""
    if actor.role == Role.VERIFIER:
        return actor.verification_body_id is not None and body_id == actor.verification_body_id
    return sees(actor, enterprise_id, region_code)


def verification_scope(actor: Actor, via: str = "") -> Q:
    """A filter selecting the verifications (or, with `via`, rows reached from one) the actor
    may see: a verifier those assigned to its body, everyone else by the enterprise."""
    prefix = f"{via}__" if via else ""
    if actor.role == Role.VERIFIER:
        return Q(join_type=Q.AND, **{f"{prefix}body_id": actor.verification_body_id or -1})
    return enterprise_scope(actor, f"{prefix}enterprise")


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        names = " or ".join(r.value.lower() for r in roles)
        raise ServiceError(
            ErrorCode.PERMISSION_DENIED, "Only a {roles} may do this", params={"roles": Term(names)}
        )
