"""Initial allowances: set and corrected by the regulator in scope, frozen once a notice is issued."""

from __future__ import annotations

import pytest

from models import Allowance, AuditEvent
from services.compliance.allowances import get_allowance, set_initial_allowance
from services.errors import ErrorCode
from services.values import Raw
from tests.conftest import World
from tests.services.cycle import fails_with, issue, unchanged


async def test_a_regulator_sets_an_allowance_and_the_change_is_audited(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    allowance = await set_initial_allowance(regulator, enterprise.id, 2025, "120000")
    stored = await Allowance.get(enterprise_id=enterprise.id, year=2025)
    assert (stored.id, stored.amount, stored.updated_by_id) == (allowance.id, 120_000, regulator.user_id)  # type: ignore[attr-defined]
    event = await AuditEvent.get(action="allowance.set")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        regulator.user_id,
        "Allowance",
        allowance.id,
    )
    assert event.data == {"year": 2025, "before": None, "after": 120_000}


async def test_setting_it_again_corrects_the_same_row(world: World) -> None:
    enterprise = await world.enterprise("440113")
    first, second = await world.regulator("44"), await world.regulator("4401")
    await set_initial_allowance(first, enterprise.id, 2025, 1000)
    await set_initial_allowance(second, enterprise.id, 2025, 1200)
    rows = await Allowance.filter(enterprise_id=enterprise.id)
    assert [(r.year, r.amount, r.updated_by_id) for r in rows] == [(2025, 1200, second.user_id)]  # type: ignore[attr-defined]
    events = await AuditEvent.filter(action="allowance.set").order_by("id")
    assert [(e.actor_id, e.data["before"], e.data["after"]) for e in events] == [
        (first.user_id, None, 1000),
        (second.user_id, 1000, 1200),
    ]


async def test_each_year_has_its_own_allowance(world: World) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await set_initial_allowance(regulator, enterprise.id, 2025, 1000)
    await set_initial_allowance(regulator, enterprise.id, 2026, 900)
    assert (await get_allowance(regulator, enterprise.id, 2025)).amount == 1000
    assert (await get_allowance(regulator, enterprise.id, 2026)).amount == 900


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (-1, ErrorCode.NEGATIVE_QUANTITY),
        ("1000.5", ErrorCode.INVALID_QUANTITY),
        (1.5, ErrorCode.INVALID_QUANTITY),
        ("lots", ErrorCode.INVALID_QUANTITY),
        (True, ErrorCode.INVALID_QUANTITY),
    ],
)
async def test_a_bad_amount_is_refused_and_nothing_is_written(
    world: World, amount: Raw, code: ErrorCode
) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await set_initial_allowance(regulator, enterprise.id, 2025, 1000)
    async with unchanged():
        with fails_with(code, "amount"):
            await set_initial_allowance(regulator, enterprise.id, 2025, amount)
    assert (await Allowance.get(enterprise_id=enterprise.id)).amount == 1000


async def test_a_year_out_of_range_is_refused(world: World) -> None:
    enterprise = await world.enterprise("440113")
    with fails_with(ErrorCode.INVALID_YEAR, "year"):
        await set_initial_allowance(await world.regulator("44"), enterprise.id, 1999, 1000)
    assert not await Allowance.exists()


async def test_a_regulator_of_another_province_cannot_find_the_enterprise(world: World) -> None:
    enterprise = await world.enterprise("440113")
    beijing = await world.regulator("11")
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
            await set_initial_allowance(beijing, enterprise.id, 2025, 1000)


async def test_only_a_regulator_allocates(world: World) -> None:
    enterprise = await world.enterprise("440113")
    for actor in (await world.member(enterprise), await world.admin()):
        async with unchanged():
            with fails_with(ErrorCode.PERMISSION_DENIED):
                await set_initial_allowance(actor, enterprise.id, 2025, 1000)


async def test_the_allowance_is_locked_once_the_notice_is_issued(world: World, files) -> None:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await set_initial_allowance(regulator, enterprise.id, 2025, 1000)
    notice = await issue(regulator, files, enterprise)
    async with unchanged():
        with fails_with(ErrorCode.ALLOWANCE_LOCKED, "amount"):
            await set_initial_allowance(regulator, enterprise.id, 2025, 2000)
    assert (await Allowance.get(enterprise_id=enterprise.id)).amount == notice.allowance == 1000
    # Another year is not locked by this notice.
    await set_initial_allowance(regulator, enterprise.id, 2026, 2000)


async def test_reading_an_allowance_is_scoped(world: World) -> None:
    enterprise, neighbour = await world.enterprise("440113"), await world.enterprise("440300")
    regulator = await world.regulator("44")
    await set_initial_allowance(regulator, enterprise.id, 2025, 1000)
    assert (await get_allowance(await world.member(enterprise), enterprise.id, 2025)).amount == 1000
    assert (await get_allowance(await world.regulator(""), enterprise.id, 2025)).amount == 1000
    for outsider in (await world.member(neighbour), await world.regulator("11")):
        with fails_with(ErrorCode.NOT_FOUND):
            await get_allowance(outsider, enterprise.id, 2025)
    with fails_with(ErrorCode.NOT_FOUND):
        await get_allowance(regulator, enterprise.id, 2024)
