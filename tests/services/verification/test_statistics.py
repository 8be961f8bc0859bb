"""Statistics gain the verification figures: reported against verified emissions, and how many
verifications stand in each status, per group; compared with a plain count over the rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from models import Verification, VerificationConclusion, VerificationStatus
from services.compliance.documents import FileStore
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.page import page
from services.verification import assignments
from tests.conftest import World, in_days
from tests.services.verification.support import Three


async def scenario(world: World, files: FileStore) -> Three:
    """Guangdong: one enterprise concluded then corrected (2025), one with a report only, one
    assigned only (2024); Beijing: one concluded."""
    first = await Three.start(world, files)
    await first.concluded(1080)
    await first.conclude(1095, reason="Boiler 2 left out")
    second = await Three.start(world, files)
    await second.assign()
    await second.report(2000)
    third = await Three.start(world, files)
    await third.assign(year=2024)
    beijing = await world.enterprise("110105")
    regulator = await world.regulator("11")
    body = await world.body()
    verifier = await world.verifier(body)
    member = await world.member(beijing)
    other = Three(world, files, beijing, regulator, member, body, verifier, first.notice)
    other.verification = await assignments.assign_verification(
        regulator, enterprise_id=beijing.id, year=2025, body_id=body.id, due_at=in_days(30)
    )
    await other.report(500)
    await other.conclude(480)
    return first


async def expected(by: str) -> dict[Any, dict[str, Any]]:
    """Plain Python over the rows: per year (by="year") or per province and year."""
    latest: dict[int, VerificationConclusion] = {}
    for conclusion in await VerificationConclusion.all().order_by("sequence"):
        latest[conclusion.verification_id] = conclusion
    groups: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {"reported": 0, "concluded": 0, "counts": dict.fromkeys(VerificationStatus, 0)}
    )
    for verification in await Verification.all().prefetch_related("enterprise"):
        key = (
            verification.year
            if by == "year"
            else (verification.enterprise.region_code[:2], verification.year)
        )
        figures = groups[key]
        figures["reported"] += verification.reported_emissions or 0
        if verification.id in latest:
            figures["concluded"] += latest[verification.id].verified_emissions
        figures["counts"][verification.status] += 1
    return dict(groups)


def shaped(rows: list[Any], by: str) -> dict[Any, dict[str, Any]]:
    return {
        (row.year if by == "year" else (row.province, row.year)): {
            "reported": row.reported_emissions,
            "concluded": row.concluded_emissions,
            "counts": row.verification_counts,
        }
        for row in rows
    }


async def test_the_verification_figures_equal_a_plain_count_per_group(world: World, files: FileStore) -> None:
    await scenario(world, files)
    national = await world.regulator("")
    by_year = await page(national, [Dimension.YEAR], StatisticsFilter(), 100, None)
    assert shaped(by_year.rows, "year") == await expected("year")
    by_province = await page(national, [Dimension.PROVINCE, Dimension.YEAR], StatisticsFilter(), 100, None)
    assert shaped(by_province.rows, "province") == await expected("province")
    # The corrected conclusion counts, not the one it superseded.
    assert shaped(by_province.rows, "province")[("44", 2025)]["concluded"] == 1095


async def test_a_regulator_counts_its_region_and_a_verifier_nothing(world: World, files: FileStore) -> None:
    first = await scenario(world, files)
    beijing = await page(await world.regulator("11"), [Dimension.YEAR], StatisticsFilter(), 100, None)
    assert [(r.year, r.reported_emissions, r.concluded_emissions) for r in beijing.rows] == [(2025, 500, 480)]
    assert (await page(first.verifier, [Dimension.YEAR], StatisticsFilter(), 100, None)).rows == []
