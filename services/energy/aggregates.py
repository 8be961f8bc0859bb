"""Monthly and yearly energy aggregates, rebuilt from the records in SQL.

An aggregate holds the effective value only: one figure per enterprise, month and energy
type, chosen among the sources' figures (services/energy/effective.py), so the same month
sent twice, or a monthly figure and the day readings behind it, is never counted twice.

Whatever writes records (an import, a factor recompute) marks the enterprise-months
it touched in `stale_months`, in the same transaction. `refresh` (a job after each
import, and the sweep) rebuilds the aggregates of those months only, and the yearly
rows of their years from the monthly ones; `rebuild` (`ccms rebuild-aggregates`)
redoes everything. Both only ever derive aggregates from records, so running them
twice, or concurrently with an import, leaves them right.
"""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from models import StaleMonth
from services.energy import effective
from services.orm import column

REFRESH_BATCH = 5000
# Past this many marks (workers were down, or a bulk load) one full rebuild beats month by month.
REBUILD_ABOVE = 100_000
# Serialises refreshes on PostgreSQL (two would delete and insert the same rows); any constant.
LOCK_KEY = 0x43434D53

MONTHLY_COLUMNS = "enterprise_id, year, month, energy_type_id, amount, tce, emissions, records, missing_factors, missing_tce"
YEARLY_COLUMNS = (
    "enterprise_id, year, energy_type_id, amount, tce, emissions, records, missing_factors, missing_tce"
)
YEARLY_FROM_MONTHLY = f"""
INSERT INTO energy_yearly ({YEARLY_COLUMNS})
SELECT m.enterprise_id, m.year, m.energy_type_id, SUM(m.amount), SUM(m.tce), SUM(m.emissions),
       SUM(m.records), SUM(m.missing_factors), SUM(m.missing_tce)
FROM energy_monthly m {{where}}
GROUP BY m.year, m.enterprise_id, m.energy_type_id
ORDER BY m.year, m.enterprise_id, m.energy_type_id
"""


def _monthly_from_records(where: str) -> str:
    """The monthly aggregates of the records `where` selects: the effective value only, one per
    enterprise, month and energy type (services/energy/effective.py)."""
    return (
        f"INSERT INTO energy_monthly ({MONTHLY_COLUMNS}) "
        "SELECT s.enterprise_id, s.year, s.month, s.energy_type_id, s.amount, s.tce, s.emissions, "
        "s.records, s.missing_factors, s.missing_tce "
        f"FROM ({effective.ranked_source_months(where)}) s WHERE s.source_rank = 1 "
        "ORDER BY s.year, s.month, s.enterprise_id, s.energy_type_id"
    )


def _stale(table: str, low: int, high: int, *, by_month: bool = True) -> str:
    """Rows of `table` in an enterprise-month (or its year) marked between two ids. Recomputing a
    month twice is harmless; the marks deleted afterwards are exactly the ones read, so a mark
    committed late (PostgreSQL ids can commit out of order) is never lost."""
    month = f" AND s.month = {table}.month" if by_month else ""
    return (
        f"EXISTS (SELECT 1 FROM stale_months s WHERE s.id BETWEEN {int(low)} AND {int(high)} "
        f"AND s.enterprise_id = {table}.enterprise_id AND s.year = {table}.year{month})"
    )


async def mark(keys: set[tuple[int, int, int]]) -> None:
    """Mark (enterprise id, year, month) stale; call inside the transaction writing the records."""
    if keys:
        await StaleMonth.bulk_create([StaleMonth(enterprise_id=e, year=y, month=m) for e, y, m in keys])


async def refresh() -> int:
    """Rebuild the aggregates of the stale months, a batch at a time; returns how many marks it cleared."""
    if await StaleMonth.all().count() > REBUILD_ABOVE:
        return await rebuild()
    cleared = 0
    while True:
        async with in_transaction():
            connection = Tortoise.get_connection("default")
            postgres = connection.capabilities.dialect == "postgres"
            if postgres:
                locked = await connection.execute_query_dict(
                    "SELECT pg_try_advisory_xact_lock($1) AS ok", [LOCK_KEY]
                )
                if not locked[0]["ok"]:
                    return cleared  # another refresh is at it and loops until nothing is left
            ids: list[int] = await column(StaleMonth.all().order_by("id").limit(REFRESH_BATCH), "id")
            if not ids:
                return cleared
            low, high = ids[0], ids[-1]
            await connection.execute_script(
                f"DELETE FROM energy_monthly WHERE {_stale('energy_monthly', low, high)}"
            )
            await connection.execute_script(_monthly_from_records(f"WHERE {_stale('r', low, high)}"))
            await connection.execute_script(
                f"DELETE FROM energy_yearly WHERE {_stale('energy_yearly', low, high, by_month=False)}"
            )
            await connection.execute_script(
                YEARLY_FROM_MONTHLY.format(where=f"WHERE {_stale('m', low, high, by_month=False)}")
            )
            await StaleMonth.filter(id__in=list(ids)).delete()
            cleared += len(ids)


async def rebuild() -> int:
    """Recompute every aggregate from the records (`ccms rebuild-aggregates`); returns the marks cleared."""
    async with in_transaction():
        connection = Tortoise.get_connection("default")
        if connection.capabilities.dialect == "postgres":
            await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY])
            # Imports wait until this commits, so every mark cleared below is covered by it.
            await connection.execute_script("LOCK TABLE stale_months IN EXCLUSIVE MODE")
            # Sort and group millions of rows in memory, not in temporary files.
            await connection.execute_script("SET LOCAL work_mem = '256MB'")
        cleared = await StaleMonth.all().count()
        await connection.execute_script("DELETE FROM energy_yearly")
        await connection.execute_script("DELETE FROM energy_monthly")
        await connection.execute_script(_monthly_from_records(""))
        await connection.execute_script(YEARLY_FROM_MONTHLY.format(where=""))
        await connection.execute_script("DELETE FROM stale_months")
    return cleared


async def pending() -> bool:
    return await StaleMonth.exists()


async def vacuum() -> None:
    """After a rebuild on PostgreSQL: fresh statistics for the planner, and the visibility map
    that lets statistics read the covering indexes alone (autovacuum gets there later anyway)."""
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script("VACUUM ANALYZE energy_monthly, energy_yearly")
