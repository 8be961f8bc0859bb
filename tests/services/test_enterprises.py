"""Covered enterprises: registration by an admin, codes, and what each role may see."""

from __future__ import annotations

import pytest
from tortoise.queryset import QuerySet

from models import AuditEvent, Enterprise, Role, Sector
from services.access import Actor
from services.enterprises import (
    EnterpriseFilter,
    create_enterprise,
    enterprises_for,
    get_enterprise,
    update_enterprise,
)
from services.errors import ErrorCode
from tests.conftest import World
from tests.services.cycle import fails_with, unchanged

TENCENT = "9144030071526726XG"
ALIBABA = "91330100716105852F"


async def register(admin: Actor, **values: object) -> Enterprise:
    fields: dict[str, object] = {
        "name": "Shenzhen Power",
        "credit_code": TENCENT,
        "region_code": "440300",
        "industry_code": "4411",
        "sector": Sector.POWER,
    }
    fields.update(values)
    return await create_enterprise(admin, **fields)  # type: ignore[arg-type]


async def names(query: QuerySet[Enterprise]) -> set[str]:
    return {e.name for e in await query}


async def test_an_admin_registers_an_enterprise_and_it_is_audited(world: World) -> None:
    admin = await world.admin()
    enterprise = await register(admin, name="  Shenzhen Power  ", credit_code=TENCENT.lower())
    stored = await Enterprise.get(id=enterprise.id)
    assert (stored.name, stored.credit_code, stored.region_code, stored.industry_code, stored.sector) == (
        "Shenzhen Power",
        TENCENT,
        "440300",
        "4411",
        Sector.POWER,
    )
    event = await AuditEvent.get(entity_type="Enterprise", entity_id=enterprise.id)
    assert (event.action, event.actor_id, event.data) == (
        "enterprise.created",
        admin.user_id,
        {"creditCode": TENCENT},
    )


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ENTERPRISE])
async def test_only_an_admin_registers_enterprises(world: World, role: Role) -> None:
    actor = (
        await world.regulator("") if role == Role.REGULATOR else await world.member(await world.enterprise())
    )
    async with unchanged():
        with fails_with(ErrorCode.PERMISSION_DENIED):
            await register(actor)


async def test_a_credit_code_is_registered_once(world: World) -> None:
    admin = await world.admin()
    await register(admin)
    async with unchanged():
        with fails_with(ErrorCode.DUPLICATE_CREDIT_CODE, "creditCode"):
            await register(admin, name="Another name", credit_code=f" {TENCENT.lower()} ")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("credit_code", "9144030071526726XH", ErrorCode.INVALID_CREDIT_CODE),
        ("credit_code", "91440300715267261G", ErrorCode.INVALID_CREDIT_CODE),
        ("region_code", "990300", ErrorCode.INVALID_REGION_CODE),
        ("region_code", "4403", ErrorCode.INVALID_REGION_CODE),
        ("industry_code", "9911", ErrorCode.INVALID_INDUSTRY_CODE),
        ("name", "   ", ErrorCode.REQUIRED),
        ("name", "x" * 201, ErrorCode.TOO_LONG),
    ],
)
async def test_bad_values_are_refused_and_nothing_is_registered(
    world: World, field: str, value: str, code: ErrorCode
) -> None:
    admin = await world.admin()
    async with unchanged():
        with fails_with(code):
            await register(admin, **{field: value})


async def test_an_admin_updates_an_enterprise_and_the_change_is_audited(world: World) -> None:
    admin = await world.admin()
    enterprise = await register(admin)
    updated = await update_enterprise(
        admin, enterprise.id, name="Shenzhen Power Co.", industry_code="4412", sector=Sector.CHEMICAL
    )
    stored = await Enterprise.get(id=enterprise.id)
    assert (stored.name, stored.industry_code, stored.sector, stored.credit_code) == (
        "Shenzhen Power Co.",
        "4412",
        Sector.CHEMICAL,
        TENCENT,
    )
    assert updated.name == stored.name
    event = await AuditEvent.get(action="enterprise.updated")
    assert event.data == {
        "before": {"name": "Shenzhen Power", "industry_code": "4411", "sector": "POWER"},
        "after": {"name": "Shenzhen Power Co.", "industry_code": "4412", "sector": "CHEMICAL"},
    }


async def test_an_update_may_keep_its_own_credit_code_but_not_take_anothers(world: World) -> None:
    admin = await world.admin()
    shenzhen = await register(admin)
    hangzhou = await register(admin, name="Hangzhou", credit_code=ALIBABA, region_code="330100")
    await update_enterprise(admin, shenzhen.id, credit_code=TENCENT)
    async with unchanged():
        with fails_with(ErrorCode.DUPLICATE_CREDIT_CODE, "creditCode"):
            await update_enterprise(admin, hangzhou.id, credit_code=TENCENT, name="Renamed")
    stored = await Enterprise.get(id=hangzhou.id)
    assert (stored.credit_code, stored.name) == (ALIBABA, "Hangzhou")


async def test_an_update_with_a_bad_code_changes_nothing(world: World) -> None:
    admin = await world.admin()
    enterprise = await register(admin)
    with fails_with(ErrorCode.INVALID_REGION_CODE, "regionCode"):
        await update_enterprise(admin, enterprise.id, name="Renamed", region_code="44")
    assert (await Enterprise.get(id=enterprise.id)).name == "Shenzhen Power"
    assert not await AuditEvent.exists(action="enterprise.updated")


async def test_updating_is_for_admins_and_existing_enterprises(world: World) -> None:
    admin = await world.admin()
    enterprise = await register(admin)
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await update_enterprise(await world.regulator("44"), enterprise.id, name="Renamed")
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await update_enterprise(await world.member(enterprise), enterprise.id, name="Renamed")
    with fails_with(ErrorCode.NOT_FOUND, "id"):
        await update_enterprise(admin, enterprise.id + 1000, name="Renamed")


async def _cast(world: World) -> dict[str, Enterprise]:
    return {
        "guangzhou": await world.enterprise("440113", name="guangzhou"),
        "shenzhen": await world.enterprise("440300", name="shenzhen", sector=Sector.STEEL),
        "beijing": await world.enterprise("110105", name="beijing", sector=Sector.CEMENT),
    }


async def test_an_enterprise_user_sees_only_its_own_enterprise(world: World) -> None:
    cast = await _cast(world)
    member = await world.member(cast["shenzhen"])
    assert await names(enterprises_for(member)) == {"shenzhen"}
    assert (await get_enterprise(member, cast["shenzhen"].id)).name == "shenzhen"
    with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
        await get_enterprise(member, cast["guangzhou"].id, "enterpriseId")


async def test_an_enterprise_role_without_an_enterprise_sees_nothing(world: World) -> None:
    await _cast(world)
    assert await names(enterprises_for(Actor(1, "orphan", Role.ENTERPRISE))) == set()


@pytest.mark.parametrize(
    ("prefix", "visible"),
    [
        ("44", {"guangzhou", "shenzhen"}),
        ("4401", {"guangzhou"}),
        ("440300", {"shenzhen"}),
        ("11", {"beijing"}),
        ("", {"guangzhou", "shenzhen", "beijing"}),
    ],
)
async def test_a_regulator_sees_the_enterprises_of_its_region(
    world: World, prefix: str, visible: set[str]
) -> None:
    cast = await _cast(world)
    regulator = await world.regulator(prefix)
    assert await names(enterprises_for(regulator)) == visible
    for name, enterprise in cast.items():
        if name in visible:
            assert (await get_enterprise(regulator, enterprise.id)).id == enterprise.id
        else:
            with fails_with(ErrorCode.NOT_FOUND):
                await get_enterprise(regulator, enterprise.id)


async def test_an_admin_sees_every_enterprise(world: World) -> None:
    await _cast(world)
    assert await names(enterprises_for(await world.admin())) == {"guangzhou", "shenzhen", "beijing"}


@pytest.mark.parametrize(
    ("where", "visible"),
    [
        (EnterpriseFilter(region_prefix="4403"), {"shenzhen"}),
        (EnterpriseFilter(region_prefix="11"), set()),
        (EnterpriseFilter(sector=Sector.STEEL), {"shenzhen"}),
        (EnterpriseFilter(industry_code="44"), {"guangzhou", "shenzhen"}),
        (EnterpriseFilter(industry_code="4412"), set()),
        (EnterpriseFilter(name_contains="ZHOU"), {"guangzhou"}),
        (EnterpriseFilter(name_contains="zhen", sector=Sector.POWER), set()),
        (EnterpriseFilter(), {"guangzhou", "shenzhen"}),
    ],
)
async def test_filters_narrow_the_regulators_scope_and_never_widen_it(
    world: World, where: EnterpriseFilter, visible: set[str]
) -> None:
    await _cast(world)
    assert await names(enterprises_for(await world.regulator("44"), where)) == visible
