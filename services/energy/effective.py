"""One value per enterprise, month and energy type, however many ways it arrived.

The same month may come from several sources (a person typing it, a file, a platform, the
meters), and within a source as a monthly figure or as day readings. Adding them all up
counts the energy twice, so aggregates, statistics and the export use one value:

- **within a source**, a monthly record supersedes that month's day records (the month's
  figure is the total the source vouches for; its days are detail, or a partial series);
- **across sources**, the source ranked first in `source_precedence` wins. The regulator
  sets the order (`setSourcePrecedence`); the default and its reasons are shipped in
  reference/source_precedence.csv and explained in docs/architecture.md.

The losers are kept, not deleted: `sourceDiscrepancies` compares them with the winner.
Both rules live in the SQL below, which the aggregates' rebuild and the discrepancy query
share, so the value a discrepancy calls effective is the one statistics add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from models import EnergySource, SourcePrecedence
from services import audit
from services.access import Actor
from services.energy.factors import may_set_reference_data
from services.errors import ErrorCode, ServiceError
from services.live import jobs

# A source missing from the table (added to the enum, not yet seeded) ranks after every other.
UNRANKED = 32767


def _picked(value: str) -> str:
    """The month's figure of one source: its monthly record's value if it has one, else the
    sum over its day records. A source holds at most one monthly record a month (the key)."""
    return (
        f"CASE WHEN MIN(r.day) = 0 THEN SUM(CASE WHEN r.day = 0 THEN {value} ELSE 0 END) "
        f"ELSE SUM({value}) END"
    )


def source_months(where: str) -> str:
    """A row per enterprise, month, energy type and source with that source's figures for the
    month, from the records `where` selects (a WHERE clause over `r`, or "")."""
    return (
        "SELECT r.enterprise_id, r.year, r.month, r.energy_type_id, r.source, "
        f"{_picked('r.amount')} AS amount, {_picked('COALESCE(r.tce, 0)')} AS tce, "
        f"{_picked('COALESCE(r.emissions, 0)')} AS emissions, {_picked('1')} AS records, "
        f"{_picked('CASE WHEN r.emissions IS NULL THEN 1 ELSE 0 END')} AS missing_factors, "
        f"{_picked('CASE WHEN r.tce IS NULL THEN 1 ELSE 0 END')} AS missing_tce "
        f"FROM energy_records r {where} "
        "GROUP BY r.enterprise_id, r.year, r.month, r.energy_type_id, r.source"
    )


def ranked_source_months(where: str) -> str:
    """`source_months` with each source's rank within its enterprise-month and type:
    source_rank = 1 is the effective value. Ties (none while every source has its own
    position) go to the source code, so the choice never depends on the reading order."""
    return (
        "SELECT v.*, ROW_NUMBER() OVER (PARTITION BY v.enterprise_id, v.year, v.month, v.energy_type_id "
        f"ORDER BY COALESCE(p.position, {UNRANKED}), v.source) AS source_rank "
        f"FROM ({source_months(where)}) v LEFT JOIN source_precedence p ON p.source = v.source"
    )


async def precedence() -> list[EnergySource]:
    """The sources, the one whose figure counts first."""
    ranked = {p.source: p.position for p in await SourcePrecedence.all()}
    return sorted(EnergySource, key=lambda s: (ranked.get(s, UNRANKED), s.value))


async def set_precedence(actor: Actor, order: Sequence[EnergySource | str]) -> list[EnergySource]:
    """Rank the sources, first wins; every source exactly once. Administrators and national
    regulators only: the order decides national totals. The enterprise-months it may change
    (those with more than one source) are rebuilt by the aggregates' job."""
    may_set_reference_data(actor)
    try:
        sources = [EnergySource(str(s).strip().upper()) for s in order]
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_SOURCE_ORDER,
            "the order names {sources}, each once",
            "order",
            params={"sources": ", ".join(EnergySource)},
        ) from None
    if sorted(sources) != sorted(EnergySource):
        raise ServiceError(
            ErrorCode.INVALID_SOURCE_ORDER,
            "the order names every source exactly once: {sources}",
            "order",
            params={"sources": ", ".join(EnergySource)},
        )
    before = await precedence()
    now = datetime.now(UTC)
    async with in_transaction():
        for position, source in enumerate(sources, start=1):
            updated = await SourcePrecedence.filter(source=source).update(
                position=position, updated_by_id=actor.user_id, updated_at=now
            )
            if not updated:
                await SourcePrecedence.create(
                    source=source, position=position, updated_by_id=actor.user_id, updated_at=now
                )
        if sources != before:
            await Tortoise.get_connection("default").execute_script(
                "INSERT INTO stale_months (enterprise_id, year, month) "
                "SELECT DISTINCT enterprise_id, year, month FROM energy_records "
                "GROUP BY enterprise_id, year, month, energy_type_id HAVING COUNT(DISTINCT source) > 1"
            )
        await audit.record(
            actor,
            "energy.source_precedence_set",
            audit.Ref("SourcePrecedence", 1),
            data={"before": [s.value for s in before], "after": [s.value for s in sources]},
        )
    await jobs.enqueue("refresh_aggregates")
    return sources
