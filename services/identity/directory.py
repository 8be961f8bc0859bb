"""Who sees which accounts, and who may manage which.

An administrator sees and manages every account. A regulator sees the regulators of its
region (its own prefix and the prefixes below it: Guangdong sees Guangdong and Guangzhou,
not Beijing and not the national office) and the users of the enterprises in its region;
it may deactivate, reactivate and reset the password of those enterprise users, the people
who phone the provincial office when they are locked out, but not of other regulators
(a compromised provincial account must not be able to lock its colleagues out), and it may
not change anyone's role, region or enterprise. Enterprise users see and manage no one.
Administrators are visible to administrators only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import Role, User
from services.access import Actor, require_role, sees
from services.codes import validate_region_prefix
from services.errors import not_found, permission_denied
from services.values import MAX_ID, text


@dataclass(frozen=True)
class UserFilter:
    role: Role | None = None
    # Regulators whose prefix starts with this, and the users of enterprises in this region
    region_prefix: str | None = None
    enterprise_id: int | None = None
    is_active: bool | None = None
    search: str | None = None  # part of the username, any case


def _visible(actor: Actor) -> Q:
    if actor.role == Role.ADMIN:
        return Q()
    prefix = actor.region_prefix
    return Q(role=Role.REGULATOR, region_prefix__startswith=prefix) | Q(
        role=Role.ENTERPRISE, enterprise__region_code__startswith=prefix
    )


def users_for(actor: Actor, where: UserFilter | None = None) -> QuerySet[User]:
    """The accounts the actor may see (PERMISSION_DENIED for enterprise users), filtered."""
    require_role(actor, Role.ADMIN, Role.REGULATOR)
    return _filtered(User.filter(_visible(actor)), where or UserFilter())


def users_for_operator(where: UserFilter | None = None) -> QuerySet[User]:
    """Every account, filtered: for the operator's CLI, which needs no account."""
    return _filtered(User.all(), where or UserFilter())


def _filtered(query: QuerySet[User], where: UserFilter) -> QuerySet[User]:
    if where.role is not None:
        query = query.filter(role=where.role)
    if where.region_prefix:
        prefix = validate_region_prefix(where.region_prefix)
        query = query.filter(
            Q(role=Role.REGULATOR, region_prefix__startswith=prefix)
            | Q(role=Role.ENTERPRISE, enterprise__region_code__startswith=prefix)
        )
    if where.enterprise_id is not None:
        query = query.filter(enterprise_id=where.enterprise_id)
    if where.is_active is not None:
        query = query.filter(is_active=where.is_active)
    if where.search is not None and (search := text(where.search, "search", max_length=64, required=False)):
        query = query.filter(username__icontains=search)
    return query


def may_manage(actor: Actor, user: User, region_code: str | None) -> bool:
    """Whether the actor may deactivate, reactivate or reset the password of `user`
    (`region_code`: that of the user's enterprise, if any)."""
    if actor.role == Role.ADMIN:
        return True
    return (
        actor.role == Role.REGULATOR
        and user.role == Role.ENTERPRISE
        and region_code is not None
        and sees(actor, user.enterprise_id, region_code)
    )


class AccountAction(StrEnum):
    """What a viewer may do to an account, for clients to offer (like a notice's allowedActions)."""

    DEACTIVATE = "DEACTIVATE"
    REACTIVATE = "REACTIVATE"
    RESET_PASSWORD = "RESET_PASSWORD"
    UPDATE = "UPDATE"  # role, region and enterprise


def allowed_actions(actor: Actor, user: User, region_code: str | None) -> list[AccountAction]:
    """The lifecycle operations `actor` may apply to `user` now. None on one's own account:
    that is changePassword's business."""
    if user.id == actor.user_id or not may_manage(actor, user, region_code):
        return []
    actions = [AccountAction.DEACTIVATE if user.is_active else AccountAction.REACTIVATE]
    actions.append(AccountAction.RESET_PASSWORD)
    if actor.role == Role.ADMIN:
        actions.append(AccountAction.UPDATE)
    return actions


async def managed_user(actor: Actor, user_id: int, field: str = "id") -> User:
    """The account `user_id` if the actor may manage it: NOT_FOUND if the actor cannot even
    see it, PERMISSION_DENIED if it can see but not manage it."""
    require_role(actor, Role.ADMIN, Role.REGULATOR)
    user = (
        await users_for(actor).filter(id=user_id).select_related("enterprise").first()
        if 0 < user_id <= MAX_ID
        else None
    )
    if user is None:
        raise not_found("User", field)
    region_code = user.enterprise.region_code if user.enterprise is not None else None
    if not may_manage(actor, user, region_code):
        raise permission_denied("Only an administrator may manage this account")
    return user
