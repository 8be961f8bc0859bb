"""Where sources disagree: enterprise-months whose sources' figures differ from the one that
counts by more than a share.

Only one value per enterprise, month and energy type counts (services/energy/effective.py);
the others are kept, and this is where they are read. When the meters say 20 % less than the
enterprise reported, a regulator wants to know before signing a total. Each row has every
source's figure for the month (a monthly record, or the sum of its days), in precedence order,
the effective one first, and the largest deviation from it.

Scoped and filtered like statistics (the same filter, the same scope conditions), paged by
keyset on (year, month, enterprise, energy type).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tortoise import connections

from models import EnergySource
from services.access import Actor
from services.energy import effective
from services.energy.factors import millionths
from services.errors import ErrorCode, ServiceError
from services.sql import Binder
from services.statistics.cursor import decode, encode
from services.statistics.dimensions import Dimension, GroupKey, Query, StatisticsFilter
from services.statistics.page import MAX_PAGE, RATE_PLACES, Record
from services.statistics.sql import OWNER, enterprise_conditions, in_list
from services.values import Raw

DEFAULT_SHARE = Decimal("0.05")
MAX_SHARE = Decimal(10)
PPM = 1_000_000
# The keys of a row, as statistics group by them: the cursor is a statistics cursor of this grouping.
GROUPING = (Dimension.MONTH, Dimension.ENTERPRISE, Dimension.ENERGY_TYPE)


@dataclass(frozen=True)
class SourceFigure:
    source: EnergySource
    quantity: Decimal  # in the type's canonical unit
    records: int  # 1 for a monthly record, else the day records summed
    effective: bool


@dataclass(frozen=True)
class Discrepancy:
    cursor: str
    year: int
    month: int
    enterprise_id: int
    enterprise_name: str
    energy_type: str
    unit: str
    effective_source: EnergySource
    effective_quantity: Decimal
    deviation: Decimal | None  # the largest |figure - effective| / effective; None when effective is 0
    figures: list[SourceFigure]  # every source's, first the one that counts


@dataclass(frozen=True)
class DiscrepancyPage:
    rows: list[Discrepancy]
    has_next_page: bool


def parse_share(value: Raw) -> Decimal:
    """A share from 0 to 10 (0.05 = 5 %) with at most 4 decimals."""
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite() or not 0 <= share <= MAX_SHARE or share != share.quantize(RATE_PLACES):
        raise ServiceError(
            ErrorCode.INVALID_DISCREPANCY_SHARE,
            "share is a number from 0 to {limit} with at most 4 decimals (0.05 = 5 %)",
            "share",
            params={"limit": MAX_SHARE},
        )
    return share


async def discrepancies(
    actor: Actor,
    where: StatisticsFilter,
    *,
    share: Raw = DEFAULT_SHARE,
    first: int = MAX_PAGE,
    after: str | None = None,
) -> DiscrepancyPage:
    """Enterprise-months (and energy types) with more than one source, where some source's figure
    differs from the effective one by more than `share` of it, in key order."""
    ratio = parse_share(share)
    if isinstance(first, bool) or not 0 <= first <= MAX_PAGE:
        raise ServiceError(
            ErrorCode.INVALID_PAGINATION,
            "first must be between 0 and {limit}",
            "first",
            params={"limit": MAX_PAGE},
        )
    query = await Query.of(actor, GROUPING, where)
    start = decode(after, query) if after is not None else None
    connection = connections.get("default")
    bind = Binder(connection.capabilities.dialect == "postgres")
    statement = _statement(query, bind, int(ratio * PPM), start, first + 1)
    keys: dict[GroupKey, list[Record]] = {}
    for record in await connection.execute_query_dict(statement, bind.params):
        key = (
            int(record["year"]),
            int(record["month"]),
            int(record["enterprise_id"]),
            str(record["energy_type_id"]),
        )
        keys.setdefault(key, []).append(record)
    rows = [_row(key, records) for key, records in list(keys.items())[:first]]
    return DiscrepancyPage(rows, len(keys) > first)


def _statement(query: Query, bind: Binder, ppm: int, after: GroupKey | None, limit: int) -> str:
    where = query.where
    enterprises = [c.replace(OWNER, "e.id") for c in enterprise_conditions(query.actor, where, bind)]
    conditions = []
    if enterprises:
        conditions.append(
            f"r.enterprise_id IN (SELECT e.id FROM enterprises e WHERE {' AND '.join(enterprises)})"
        )
    if where.from_ is not None:
        conditions.append(f"(r.year, r.month) >= ({bind(where.from_.year)}, {bind(where.from_.month)})")
    if where.to is not None:
        conditions.append(f"(r.year, r.month) <= ({bind(where.to.year)}, {bind(where.to.month)})")
    if where.energy_types is not None:
        conditions.append(in_list("r.energy_type_id", where.energy_types, bind))
    if after is not None:
        conditions.append(
            f"(r.year, r.month, r.enterprise_id, r.energy_type_id) > ({', '.join(bind(v) for v in after)})"
        )
    records = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    month = "PARTITION BY s.enterprise_id, s.year, s.month, s.energy_type_id"
    keys = "g.year, g.month, g.enterprise_id, g.energy_type_id"
    # Exact on PostgreSQL (NUMERIC); on SQLite an integer product beyond 9.2e18 (a billion units
    # a month) turns into a float, which only blurs the comparison at the last digits.
    differs = (
        f"CAST(g.{{}} AS NUMERIC) * {PPM} > CAST(g.effective AS NUMERIC) * {int(ppm)}"  # ppm: an int we made
    )
    return (
        "SELECT p.*, n.name AS enterprise_name, t.canonical_unit AS unit FROM ("
        f"SELECT g.*, DENSE_RANK() OVER (ORDER BY {keys}) AS page_rank FROM ("
        "SELECT s.enterprise_id, s.year, s.month, s.energy_type_id, s.source, s.amount, s.records, "
        f"s.source_rank, MAX(CASE WHEN s.source_rank = 1 THEN s.amount END) OVER ({month}) AS effective, "
        f"MAX(s.amount) OVER ({month}) AS high, MIN(s.amount) OVER ({month}) AS low, "
        f"COUNT(*) OVER ({month}) AS sources "
        f"FROM ({effective.ranked_source_months(records)}) s) g "
        f"WHERE g.sources > 1 AND ({differs.format('high - g.effective')} OR {differs.format('effective - g.low')})"
        f") p JOIN enterprises n ON n.id = p.enterprise_id JOIN energy_types t ON t.code = p.energy_type_id "
        f"WHERE p.page_rank <= {bind(limit)} "
        "ORDER BY p.year, p.month, p.enterprise_id, p.energy_type_id, p.source_rank"
    )


def _row(key: GroupKey, records: list[Record]) -> Discrepancy:
    figures = [
        SourceFigure(
            source=EnergySource(r["source"]),
            quantity=millionths(r["amount"]),
            records=int(r["records"]),
            effective=int(r["source_rank"]) == 1,
        )
        for r in records
    ]
    chosen = figures[0]  # ordered by rank
    if chosen.quantity:
        largest = max(abs(f.quantity - chosen.quantity) for f in figures)
        deviation: Decimal | None = (
            (largest / chosen.quantity).quantize(RATE_PLACES, ROUND_HALF_UP).normalize()
        )
    else:
        deviation = None
    year, month, enterprise_id, energy_type = key
    return Discrepancy(
        cursor=encode(GROUPING, key),
        year=int(year),
        month=int(month),
        enterprise_id=int(enterprise_id),
        enterprise_name=str(records[0]["enterprise_name"]),
        energy_type=str(energy_type),
        unit=str(records[0]["unit"]),
        effective_source=chosen.source,
        effective_quantity=chosen.quantity,
        deviation=deviation,
        figures=figures,
    )
