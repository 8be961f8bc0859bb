"""What the history, trend and allocation schema tests share: historical data builders, the
GraphQL documents, and a snapshot of every table those mutations could write."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from models import (
    AllocationLine,
    AllocationPlan,
    AuditEvent,
    Enterprise,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    Sector,
)
from services.access import Actor
from services.codes import make_credit_code
from services.orm import column
from tests.conftest import World
from tests.services.cycle import row_counts

_bulk_serial = itertools.count(1)


async def many_enterprises(count: int, region: str = "440113") -> list[Enterprise]:
    """`count` enterprises in one statement (World.enterprise makes one at a time)."""
    batch = next(_bulk_serial)
    await Enterprise.bulk_create(
        [
            Enterprise(
                name=f"Bulk {batch}-{n}",
                credit_code=make_credit_code(region, f"B{batch:02d}{n:05d}"),
                region_code=region,
                industry_code="4411",
                sector=Sector.POWER,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    return await Enterprise.filter(name__startswith=f"Bulk {batch}-").order_by("id")


async def emissions(enterprise: Enterprise, by_year: dict[int, int]) -> None:
    await HistoricalEmission.bulk_create(
        [
            HistoricalEmission(enterprise_id=enterprise.id, year=y, verified_emissions=t)
            for y, t in by_year.items()
        ]
    )


async def energy(enterprise: Enterprise, energy_type: str, by_year: dict[int, float]) -> None:
    await HistoricalEnergy.bulk_create(
        [
            HistoricalEnergy(enterprise_id=enterprise.id, year=y, energy_type_id=energy_type, quantity=q)
            for y, q in by_year.items()
        ]
    )


async def output(enterprise: Enterprise, product: str, by_year: dict[int, float]) -> None:
    await HistoricalOutput.bulk_create(
        [
            HistoricalOutput(enterprise_id=enterprise.id, year=y, product_id=product, quantity=q)
            for y, q in by_year.items()
        ]
    )


async def audit_actions() -> list[str]:
    """What was audited, leaving out the accounts the test made (and their sign-ins)."""
    actions: list[str] = await column(AuditEvent.exclude(action__startswith="user.").order_by("id"), "action")
    return actions


class unchanged_anywhere:
    """`async with unchanged_anywhere(): ...`: no table a history or allocation mutation could
    write (plans, lines, history, allowances, notices, messages, audit...) gained or lost a row."""

    MODELS = (AllocationPlan, AllocationLine, HistoricalEmission, HistoricalEnergy, HistoricalOutput)

    async def counts(self) -> dict[str, int]:
        counts = await row_counts()
        for model in self.MODELS:
            counts[model.__name__] = await model.all().count()
        return counts

    async def __aenter__(self) -> None:
        self.before = await self.counts()

    async def __aexit__(self, *exc: object) -> None:
        after = await self.counts()
        assert after == self.before, f"rows changed: {self.before} -> {after}"


@dataclass
class Region:
    """Guangdong with three power companies and its regulator, Beijing with one and its own."""

    a: Enterprise
    b: Enterprise
    c: Enterprise
    beijing: Enterprise
    regulator: Actor
    beijing_regulator: Actor
    member: Actor  # a user of enterprise a
    admin: Actor

    @classmethod
    async def build(cls, world: World) -> Region:
        a, b, c = [await world.enterprise("440113") for _ in range(3)]
        return cls(
            a,
            b,
            c,
            await world.enterprise("110101"),
            await world.regulator("44"),
            await world.regulator("11"),
            await world.member(a),
            await world.admin(),
        )

    @property
    def guangdong(self) -> list[Enterprise]:
        return [self.a, self.b, self.c]


def ids(*enterprises: Enterprise) -> list[str]:
    return [str(e.id) for e in enterprises]


def allocation_input(**values: Any) -> dict[str, Any]:
    return {"year": 2026, "rule": "HISTORICAL_EMISSIONS", **values}


ERRORS = "errors { code field message }"
PREVIEW = f"""
mutation($input: AllocationInput!) {{
  previewAllocation(input: $input) {{
    {ERRORS}
    year rule total allocated scaleFactor baseYears
    lines {{ amount basis enterprise {{ id }} }}
    manual {{ reason enterprise {{ id }} }}
  }}
}}
"""
PLAN_FIELDS = """
  id year rule status total allocated scaleFactor baseYears reductionRate correctionFactor floorRatio
  createdBy createdAt committedAt supersededById
  scope { regionPrefix industryCode sector enterpriseIds }
  lines(first: 100) { totalCount edges { node { amount basis enterprise { id } } } }
  manual { reason enterprise { id } }
"""
CREATE = f"""
mutation($input: AllocationInput!) {{
  createAllocationPlan(input: $input) {{ {ERRORS} plan {{ {PLAN_FIELDS} }} }}
}}
"""
COMMIT = f"""
mutation($id: ID!, $supersede: Boolean! = false, $reason: String) {{
  commitAllocationPlan(id: $id, supersede: $supersede, reason: $reason) {{
    {ERRORS} plan {{ id status committedAt supersededById allocated }}
  }}
}}
"""
ISSUE = f"""
mutation($planId: ID!, $deadline: DateTime!, $document: Upload, $ackWindowHours: Int! = 72) {{
  issueNoticesForPlan(
    planId: $planId, deadline: $deadline, ackWindowHours: $ackWindowHours,
    title: "2026 年度履约通知书", body: "Surrender your 2026 allowances.", document: $document
  ) {{
    {ERRORS} issued notices {{ id year status allowance enterprise {{ id }} document {{ filename }} }}
  }}
}}
"""


def lines_of(plan: dict[str, Any]) -> dict[str, int]:
    """A plan's (first page of) lines as {enterprise id: amount}."""
    return {e["node"]["enterprise"]["id"]: e["node"]["amount"] for e in plan["lines"]["edges"]}


def preview_lines(preview: dict[str, Any]) -> dict[str, int]:
    return {line["enterprise"]["id"]: line["amount"] for line in preview["lines"]}
