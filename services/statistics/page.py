"""Reading statistics: one page for GraphQL (`page`), every page in turn for the export
(`stream`), each row built from the records of the page's statements."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Sector, VerificationStatus
from services.access import Actor
from services.energy.factors import millionths
from services.errors import ErrorCode, ServiceError
from services.sql import Binder
from services.statistics import sql
from services.statistics.cursor import decode, encode
from services.statistics.dimensions import Dimension, GroupKey, Query, StatisticsFilter

MAX_PAGE = 100  # a GraphQL page; the export reads larger ones through stream()
MAX_STREAM_PAGE = 10_000
RATE_PLACES = Decimal("0.0001")
# A result row as the driver gives it: ints, text, Decimals (PostgreSQL numeric sums) or NULL.
Record = dict[str, Any]


@dataclass(frozen=True)
class EnergyUse:
    energy_type: str
    unit: str  # the type's canonical unit
    quantity: Decimal
    tce: Decimal
    emissions: Decimal


@dataclass(frozen=True)
class Row:
    cursor: str
    year: int | None
    quarter: int | None
    month: int | None
    province: str | None
    city: str | None
    region_code: str | None
    industry_code: str | None
    sector: Sector | None
    enterprise_id: int | None
    enterprise_name: str | None
    energy_type: str | None
    energy: list[EnergyUse]  # by type, ordered by type code
    energy_tce: Decimal
    emissions: Decimal
    records_missing_factor: int  # records whose emissions could not be computed (no factor)
    completeness: Decimal | None  # share of the counted records with emissions; None without records
    allowances: int | None
    verified_emissions: int | None
    surplus: int | None
    shortfalls: int | None  # approved applications whose balance is negative
    notices_due: int | None
    notices_fulfilled: int | None
    notices_overdue: int | None
    compliance_rate: Decimal | None  # fulfilled / due; None where nothing is due
    # Third-party verification: None where the grouping has no compliance figures
    reported_emissions: int | None  # Σ the enterprises' latest reported figures
    concluded_emissions: int | None  # Σ the standing conclusions' verified figures
    verification_counts: dict[VerificationStatus, int] | None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    has_next_page: bool


async def page(
    actor: Actor, group_by: Sequence[Dimension], where: StatisticsFilter, first: int, after: str | None
) -> Page:
    """One page of at most `first` (0 to MAX_PAGE) groups after the cursor `after`, in key order."""
    size = _page_size(first, MAX_PAGE, "first")
    query = await Query.of(actor, group_by, where)
    return await _fetch(query, size, decode(after, query) if after is not None else None)


async def stream(
    actor: Actor, group_by: Sequence[Dimension], where: StatisticsFilter, page_size: int = 1000
) -> AsyncGenerator[Row, None]:
    """Every group in key order, read page by page (keyset), for the export: `async for row in
    stream(...)`. Bad input raises its ServiceError when the first row is asked for."""
    size = _page_size(page_size, MAX_STREAM_PAGE, "pageSize")
    if size == 0:
        raise ServiceError(ErrorCode.INVALID_PAGINATION, "pageSize must be at least 1", "pageSize")
    query = await Query.of(actor, group_by, where)
    after: GroupKey | None = None
    while True:
        result = await _fetch(query, size, after)
        for row in result.rows:
            yield row
        if not result.has_next_page:
            return
        after = decode(result.rows[-1].cursor, query)


def _page_size(first: int, limit: int, field: str) -> int:
    if isinstance(first, bool) or not 0 <= first <= limit:
        raise ServiceError(
            ErrorCode.INVALID_PAGINATION,
            "{field} must be between 0 and {limit}",
            field,
            params={"field": field, "limit": limit},
        )
    return first


async def _fetch(query: Query, size: int, after: GroupKey | None) -> Page:
    """On PostgreSQL a page runs with JIT off: compiling costs these short aggregates about 40 ms."""
    connection = connections.get("default")
    if connection.capabilities.dialect != "postgres":
        return await _read(connection, query, size, after)
    async with in_transaction() as transaction:
        # SET LOCAL lasts until the end of this transaction only: the pooled connection is untouched.
        await transaction.execute_script("SET LOCAL jit = off")
        return await _read(transaction, query, size, after)


async def _read(connection: BaseDBAsyncClient, query: Query, size: int, after: GroupKey | None) -> Page:
    postgres = connection.capabilities.dialect == "postgres"
    bind = Binder(postgres)
    groups: dict[GroupKey, list[Record]] = {}
    for record in await connection.execute_query_dict(sql.groups(query, bind, after, size + 1), bind.params):
        groups.setdefault(_key_of(query, record), []).append(record)
    keys = list(groups)[:size]
    if not keys:
        return Page([], bool(groups))
    type_column = "k_energy_type" if query.typed else "energy_type"
    records = [record for key in keys for record in groups[key]]
    if not query.by_type:
        bind = Binder(postgres)
        records = await connection.execute_query_dict(
            sql.breakdown(query, bind, after, keys[-1]), bind.params
        )
    energy: dict[GroupKey, list[EnergyUse]] = {}
    for record in records:
        if record[type_column] is not None:
            use = EnergyUse(
                energy_type=record[type_column],
                unit=record["unit"],
                quantity=_micro(record["amount"]),
                tce=_micro(record["tce"]),
                emissions=_micro(record["emissions"]),
            )
            energy.setdefault(_key_of(query, record), []).append(use)
    rows = [
        _row(query, key, groups[key], sorted(energy.get(key, []), key=lambda use: use.energy_type))
        for key in keys
    ]
    return Page(rows, len(groups) > size)


def _key_of(query: Query, record: Record) -> GroupKey:
    return tuple(int(record[f"k_{k.name}"]) if k.integer else str(record[f"k_{k.name}"]) for k in query.keys)


def _row(query: Query, key: GroupKey, records: list[Record], energy: list[EnergyUse]) -> Row:
    """A group's row from its records (one, or one per energy type and one of compliance)."""
    total = {f: sum(int(r[f]) for r in records) for f in sql.FIGURES if f not in ("tce", "emissions")}
    keys = dict(zip((k.name for k in query.keys), key, strict=True))
    number = {name: value for name, value in keys.items() if isinstance(value, int)}
    text = {name: value for name, value in keys.items() if isinstance(value, str)}
    given = total if query.compliance else {}  # none by quarter, month or energy type
    approved = given.get("approved", 0) > 0
    return Row(
        cursor=encode(query.dimensions, key),
        year=number.get("year"),
        quarter=number.get("quarter"),
        month=number.get("month"),
        province=text.get("province"),
        city=text.get("city"),
        region_code=text.get("region_code"),
        industry_code=text.get("industry_code"),
        sector=Sector(text["sector"]) if "sector" in text else None,
        enterprise_id=number.get("enterprise_id"),
        enterprise_name=records[0].get("enterprise_name"),
        energy_type=text.get("energy_type"),
        energy=energy,
        energy_tce=sum((_micro(r["tce"]) for r in records), Decimal(0)),
        emissions=sum((_micro(r["emissions"]) for r in records), Decimal(0)),
        records_missing_factor=total["missing"],
        completeness=_completeness(total["records"], total["missing"]),
        allowances=given.get("allowances"),
        verified_emissions=given["verified"] if approved else None,
        surplus=given["surplus"] if approved else None,
        shortfalls=given["shortfalls"] if approved else None,
        notices_due=given.get("due"),
        notices_fulfilled=given.get("fulfilled"),
        notices_overdue=given.get("overdue"),
        compliance_rate=_rate(given["fulfilled"], given["due"]) if given else None,
        reported_emissions=given.get("reported"),
        concluded_emissions=given.get("concluded_emissions"),
        verification_counts={s: given[f"v_{s.value.lower()}"] for s in VerificationStatus} if given else None,
    )


def _micro(value: int | Decimal | None) -> Decimal:
    """A sum of millionths (int on SQLite, int or numeric on PostgreSQL); no rows sum to 0."""
    return millionths(value or 0)


def _completeness(records: int, missing: int) -> Decimal | None:
    """The share of records with emissions, to 4 decimals rounded down: 1 only when nothing is
    missing, so a total that lacks one record in 100,000 never reads as complete."""
    if not records:
        return None
    return (Decimal(records - missing) / Decimal(records)).quantize(RATE_PLACES, ROUND_DOWN).normalize()


def _rate(fulfilled: int, due: int) -> Decimal | None:
    """fulfilled / due to 4 decimals (0.3 for 30 of 100); None where nothing is due."""
    if not due:
        return None
    return (Decimal(fulfilled) / Decimal(due)).quantize(RATE_PLACES, ROUND_HALF_UP).normalize()
