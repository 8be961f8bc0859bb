"""Surplus from one rule: statistics' surplus and shortfall count are the applications' own
balance (allowance + purchased + usable offsets - verified), checked for every approved
application against a computation written here, through the real submit and review."""

from __future__ import annotations

import math
from decimal import Decimal

from models import Application, ApplicationStatus
from services.compliance.workflow import Action
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.page import page
from tests.conftest import FileStore, World
from tests.services.cycle import Cycle

# (allowance, verified, purchased, offsets): five that bought 2,000 t and owe nothing (the
# issue's case: they showed -2,000 each), one whose offsets pass the 5 % cap, one approved short.
CASES = [(10_000, 12_000, 2_000, 0)] * 5 + [(1_000, 1_100, 50, 100), (1_000, 1_500, 0, 20)]


def balance(allowance: int, verified: int, purchased: int, offsets: int, cap: Decimal) -> int:
    return allowance + purchased + min(offsets, math.floor(verified * cap)) - verified


async def test_statistics_surplus_is_the_balance_of_every_approved_application(
    world: World, files: FileStore
) -> None:
    regulator = await world.regulator("")
    for allowance, verified, purchased, offsets in CASES:
        cycle = await Cycle.start(world, files, allowance=allowance)
        application = await cycle.under_review(
            verified_emissions=verified, purchased_allowances=purchased, offsets=offsets
        )
        short = balance(allowance, verified, purchased, offsets, Decimal("0.05")) < 0
        await cycle.review(
            application, Action.APPROVE, reason="罚款已缴纳，差额从下年度配额中扣除" if short else None
        )
    approved = await Application.filter(status=ApplicationStatus.APPROVED).values(
        "enterprise_id", "allowance", "verified_emissions", "purchased_allowances", "offsets", "balance"
    )
    assert len(approved) == len(CASES)
    rows = (await page(regulator, (Dimension.ENTERPRISE, Dimension.YEAR), StatisticsFilter(), 100, None)).rows
    by_enterprise = {row.enterprise_id: row for row in rows}
    for a in approved:
        expected = balance(
            a["allowance"], a["verified_emissions"], a["purchased_allowances"], a["offsets"], Decimal("0.05")
        )
        row = by_enterprise[a["enterprise_id"]]
        assert row.surplus == a["balance"] == expected
        assert row.shortfalls == (1 if expected < 0 else 0)
    [year] = (await page(regulator, (Dimension.YEAR,), StatisticsFilter(), 100, None)).rows
    # 5 x 0, then 1000 + 50 + 55 - 1100 = 5, then 1000 + 0 + 20 - 1500 = -480
    assert (year.surplus, year.shortfalls, year.verified_emissions) == (-475, 1, 5 * 12_000 + 1_100 + 1_500)
