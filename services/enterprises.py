"""Covered enterprises: registration, codes and scoped lookup."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import Enterprise, Role, Sector
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.codes import validate_credit_code, validate_industry_code, validate_region_code
from services.errors import ErrorCode, ServiceError, not_found
from services.values import text


@dataclass(frozen=True)
class EnterpriseFilter:
    region_prefix: str | None = None
    industry_code: str | None = None
    sector: Sector | None = None
    name_contains: str | None = None


def matching(where: EnterpriseFilter | None, via: str = "") -> Q:
    """Rows whose enterprise matches `where` (a narrowing, never a widening of scope).

    `via` is the relation path from the filtered model to Enterprise, as in enterprise_scope.
    """
    if where is None:
        return Q()
    path = f"{via}__" if via else ""
    conditions = {
        f"{path}region_code__startswith": where.region_prefix,
        f"{path}industry_code__startswith": where.industry_code,
        f"{path}sector": where.sector,
        f"{path}name__icontains": where.name_contains,
    }
    return Q(**{lookup: value for lookup, value in conditions.items() if value})


def enterprises_for(actor: Actor, where: EnterpriseFilter | None = None) -> QuerySet[Enterprise]:
    return Enterprise.filter(enterprise_scope(actor), matching(where))


async def get_enterprise(actor: Actor, enterprise_id: int, field: str | None = None) -> Enterprise:
    enterprise = await enterprises_for(actor).filter(id=enterprise_id).first()
    if enterprise is None:
        raise not_found("Enterprise", field)
    return enterprise


async def _ensure_unique_credit_code(code: str, exclude_id: int | None = None) -> None:
    query = Enterprise.filter(credit_code=code)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        raise _duplicate(code)


def _duplicate(code: str) -> ServiceError:
    return ServiceError(
        ErrorCode.DUPLICATE_CREDIT_CODE,
        "an enterprise with credit code {code} exists",
        "creditCode",
        params={"code": code},
    )


async def create_enterprise(
    actor: Actor, *, name: str, credit_code: str, region_code: str, industry_code: str, sector: Sector
) -> Enterprise:
    require_role(actor, Role.ADMIN)
    name = text(name, "name", max_length=200)
    credit_code = validate_credit_code(credit_code)
    region_code = validate_region_code(region_code)
    industry_code = validate_industry_code(industry_code)
    await _ensure_unique_credit_code(credit_code)
    try:
        enterprise = await Enterprise.create(
            name=name,
            credit_code=credit_code,
            region_code=region_code,
            industry_code=industry_code,
            sector=sector,
        )
    except IntegrityError:
        raise _duplicate(credit_code) from None
    await audit.record(actor, "enterprise.created", enterprise, data={"creditCode": enterprise.credit_code})
    return enterprise


async def update_enterprise(
    actor: Actor,
    enterprise_id: int,
    *,
    name: str | None = None,
    credit_code: str | None = None,
    region_code: str | None = None,
    industry_code: str | None = None,
    sector: Sector | None = None,
) -> Enterprise:
    require_role(actor, Role.ADMIN)
    enterprise = await get_enterprise(actor, enterprise_id, "id")
    changes: dict[str, str] = {}  # column -> new value (Sector is a str)
    if name is not None:
        changes["name"] = text(name, "name", max_length=200)
    if credit_code is not None:
        changes["credit_code"] = validate_credit_code(credit_code)
        await _ensure_unique_credit_code(changes["credit_code"], exclude_id=enterprise.id)
    if region_code is not None:
        changes["region_code"] = validate_region_code(region_code)
    if industry_code is not None:
        changes["industry_code"] = validate_industry_code(industry_code)
    if sector is not None:
        changes["sector"] = sector
    before = {k: str(getattr(enterprise, k)) for k in changes}
    enterprise.update_from_dict(changes)
    try:
        await enterprise.save()
    except IntegrityError:
        raise _duplicate(str(changes.get("credit_code"))) from None
    await audit.record(
        actor,
        "enterprise.updated",
        enterprise,
        data={"before": before, "after": {k: str(v) for k, v in changes.items()}},
    )
    return enterprise
