"""Statistics (统计与分析): energy use, emissions and the compliance cycle, grouped and paged.

A row is one group: the distinct values of the keys asked for (year, quarter, month,
province, city, region, industry, sector, enterprise, energy type), in that order. Energy
figures come from the aggregates (`energy_yearly` when the grouping needs no month and the
time filter covers whole years, `energy_monthly` otherwise), never from the records.
Compliance figures (allowances, notices, approved applications) are per compliance year,
so they are given only for groupings without QUARTER, MONTH or ENERGY_TYPE. A group exists
when it has energy data or compliance data.

A page costs one statement, or two for groupings of many groups (see _Query): a UNION ALL
of the energy part and the compliance parts, grouped by the keys (and the energy type),
ordered by the keys and cut by keyset (an opaque cursor holding the last row's keys). The
caller's scope and the filter apply to every part, on the enterprises joined there or on
the part's enterprise id, so no grouping can add up another tenant's rows. On PostgreSQL a
page runs with JIT off: compiling costs these short aggregates about 40 ms.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import ApplicationStatus, EnergyType, NoticeStatus, Role, Sector
from services.access import Actor
from services.codes import validate_region_prefix
from services.energy.factors import millionths
from services.errors import ErrorCode, ServiceError
from services.sql import Binder
from services.values import MAX_ID

MAX_PAGE = 100  # a GraphQL page; the export reads larger ones through stream()
MAX_STREAM_PAGE = 10_000
MAX_YEARS = 100
MAX_ENTERPRISE_IDS = 1_000
MAX_ENERGY_TYPES = 100
RATE_PLACES = Decimal("0.0001")
_INDUSTRY_PREFIX = re.compile(r"\d{1,4}")


class Dimension(StrEnum):
    """What a row groups by. QUARTER and MONTH include the year."""

    YEAR = "YEAR"
    QUARTER = "QUARTER"
    MONTH = "MONTH"
    PROVINCE = "PROVINCE"  # the first 2 digits of the region code
    CITY = "CITY"  # the first 4
    REGION = "REGION"  # the whole 6-digit code
    INDUSTRY = "INDUSTRY"  # the GB/T 4754 code
    SECTOR = "SECTOR"
    ENTERPRISE = "ENTERPRISE"
    ENERGY_TYPE = "ENERGY_TYPE"


@dataclass(frozen=True)
class StatisticsFilter:
    """Which data a statistic adds up: every given condition must hold (a narrowing of the
    caller's scope, never a widening)."""

    from_: date | None = None  # first month included (the day is ignored)
    to: date | None = None  # last month included
    region_prefix: str | None = None
    industry_code: str | None = None  # prefix match on the GB/T 4754 code
    sector: Sector | None = None
    enterprise_ids: list[int] | None = None
    energy_types: list[str] | None = None  # restricts the energy figures only


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
    allowances: int | None
    verified_emissions: int | None
    surplus: int | None
    notices_due: int | None
    notices_fulfilled: int | None
    notices_overdue: int | None
    compliance_rate: Decimal | None  # fulfilled / due; None where nothing is due


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    has_next_page: bool


@dataclass(frozen=True)
class _Key:
    """A grouping column: its Row attribute, its SQL over the energy aggregate `m` and over a
    compliance row `c` (an allowance or a notice; None where compliance figures have no such
    key), and whether that SQL reads the enterprise `e`."""

    name: str
    integer: bool
    energy: str
    compliance: str | None
    reads_enterprise: bool = True


def _place(name: str, sql: str) -> _Key:
    return _Key(name, False, sql, sql)


_YEAR = _Key("year", True, "m.year", "c.year", False)
KEYS: dict[Dimension, tuple[_Key, ...]] = {
    Dimension.YEAR: (_YEAR,),
    Dimension.QUARTER: (_YEAR, _Key("quarter", True, "(m.month + 2) / 3", None, False)),
    Dimension.MONTH: (_YEAR, _Key("month", True, "m.month", None, False)),
    Dimension.PROVINCE: (_place("province", "substr(e.region_code, 1, 2)"),),
    Dimension.CITY: (_place("city", "substr(e.region_code, 1, 4)"),),
    Dimension.REGION: (_place("region_code", "e.region_code"),),
    Dimension.INDUSTRY: (_place("industry_code", "e.industry_code"),),
    Dimension.SECTOR: (_place("sector", "e.sector"),),
    Dimension.ENTERPRISE: (_Key("enterprise_id", True, "m.enterprise_id", "c.enterprise_id", False),),
    Dimension.ENERGY_TYPE: (_Key("energy_type", False, "m.energy_type_id", None, False),),
}
# Groupings that can have thousands of groups: their per-type breakdown is a second
# statement over the page's key range rather than per-type rows of every group.
WIDE = {Dimension.ENTERPRISE, Dimension.REGION, Dimension.CITY, Dimension.INDUSTRY}
# The figures every part of the UNION gives, in this order (0 where a part has none).
FIGURES = ("amount", "tce", "emissions", "missing", "allowances", "due", "fulfilled", "overdue", "approved", "verified", "surplus")  # fmt: skip
ENERGY_PART = {
    "tce": "SUM(m.tce)",
    "emissions": "SUM(m.emissions)",
    "missing": "SUM(m.missing_factors)",
}
ALLOWANCE_PART = {"allowances": "SUM(c.amount)"}
NOTICE_PART = {
    "due": "COUNT(*)",
    "fulfilled": f"SUM(CASE WHEN c.status = '{NoticeStatus.FULFILLED.value}' THEN 1 ELSE 0 END)",
    "overdue": f"SUM(CASE WHEN c.status = '{NoticeStatus.OVERDUE.value}' THEN 1 ELSE 0 END)",
}
APPROVED_PART = {
    "approved": "COUNT(*)",
    "verified": "SUM(a.verified_emissions)",
    "surplus": "SUM(a.allowance - a.verified_emissions)",
}
OWNER = "@owner"  # stands for the part's enterprise id column in the enterprise conditions


@dataclass(frozen=True)
class _Query:
    """One statistics query, validated; builds and runs the SQL of its pages.

    Two shapes. A grouping with ENERGY_TYPE (one type a group), or without WIDE keys (few
    groups: years, months, provinces, sectors), is one statement returning a row per group and
    energy type, cut to the page's groups by DENSE_RANK. A WIDE grouping is one statement of
    a row per group, each UNION part cut to the first groups after the cursor (the page's
    groups are among them, and an index in key order lets a part stop early), then one
    statement breaking down the energy of the page's key range by type.
    """

    actor: Actor
    dimensions: tuple[Dimension, ...]
    keys: tuple[_Key, ...]
    where: StatisticsFilter
    compliance: bool  # whether the grouping has compliance figures
    table: str  # energy_yearly or energy_monthly

    @property
    def typed(self) -> bool:
        return Dimension.ENERGY_TYPE in self.dimensions

    @property
    def by_type(self) -> bool:
        """Whether the page statement gives the per-type breakdown itself."""
        return self.typed or not WIDE & set(self.dimensions)

    @property
    def names(self) -> str:
        return ", ".join(f"k_{k.name}" for k in self.keys)

    # -- the statements ------------------------------------------------------------------

    def main(self, bind: Binder, after: tuple[Any, ...] | None, limit: int) -> str:
        """The page's groups (and one more, to tell whether a page follows): a row per group,
        or per group and energy type when `by_type`."""
        names, limit_mark = self.names, bind(limit)
        enterprises = self._enterprise_conditions(bind)
        if self.typed:  # one energy type a group, and no compliance figures
            page = f"{self._energy_part(bind, enterprises, after)} ORDER BY {names} LIMIT {limit_mark}"
            return self._labelled(page, "r.k_energy_type", "")
        parts = [self._energy_part(bind, enterprises, after)]
        if self.compliance:
            parts += self._compliance_parts(bind, enterprises, after)
        sums = ", ".join(f"SUM(u.{f}) AS {f}" for f in FIGURES)
        union = " UNION ALL ".join(parts)
        if self.by_type:
            ranked = (
                f"SELECT {names}, u.energy_type, {sums}, DENSE_RANK() OVER (ORDER BY {names}) AS page_rank "
                f"FROM ({union}) u GROUP BY {names}, u.energy_type"
            )
            return self._labelled(ranked, "r.energy_type", f" WHERE r.page_rank <= {limit_mark}")
        if len(parts) == 1:
            page = f"{parts[0]} ORDER BY {names} LIMIT {limit_mark}"
        else:
            # The first groups of the whole are among the first groups of each part.
            cut = [
                f"SELECT * FROM ({p} ORDER BY {names} LIMIT {limit_mark}) p{i}" for i, p in enumerate(parts)
            ]
            page = (
                f"SELECT {names}, {sums} FROM ({' UNION ALL '.join(cut)}) u "
                f"GROUP BY {names} ORDER BY {names} LIMIT {limit_mark}"
            )
        return self._labelled(page, None, "")

    def _labelled(self, page: str, energy_type: str | None, where: str) -> str:
        """The page with the unit of its energy type and the name of its enterprise."""
        columns, joins = ["r.*"], []
        if energy_type is not None:
            columns.append("t.canonical_unit AS unit")
            joins.append(f"LEFT JOIN energy_types t ON t.code = {energy_type}")
        if Dimension.ENTERPRISE in self.dimensions:
            columns.append("n.name AS enterprise_name")
            joins.append("JOIN enterprises n ON n.id = r.k_enterprise_id")
        order = ", ".join(f"r.k_{k.name}" for k in self.keys)
        return f"SELECT {', '.join(columns)} FROM ({page}) r {' '.join(joins)}{where} ORDER BY {order}"

    def breakdown(self, bind: Binder, after: tuple[Any, ...] | None, last: tuple[Any, ...]) -> str:
        """Energy per type of a WIDE page's groups only: those after `after` up to `last`."""
        columns = self._columns("energy")
        conditions = self._energy_conditions(bind, self._enterprise_conditions(bind), after)
        conditions.append(f"({columns}) <= ({', '.join(bind(v) for v in last)})")
        return (
            f"SELECT {self._select_keys('energy')}, m.energy_type_id AS energy_type, "
            "t.canonical_unit AS unit, SUM(m.amount) AS amount, SUM(m.tce) AS tce, "
            f"SUM(m.emissions) AS emissions FROM {self.table} m{self._join('m')} "
            f"JOIN energy_types t ON t.code = m.energy_type_id{_where(conditions)} "
            f"GROUP BY {columns}, m.energy_type_id, t.canonical_unit"
        )

    def _energy_part(self, bind: Binder, enterprises: list[str], after: tuple[Any, ...] | None) -> str:
        figures = dict(ENERGY_PART)
        select, group = self._select_keys("energy"), self._columns("energy")
        if self.by_type:
            figures["amount"] = "SUM(m.amount)"
            if not self.typed:
                select, group = f"{select}, m.energy_type_id AS energy_type", f"{group}, m.energy_type_id"
        conditions = self._energy_conditions(bind, enterprises, after)
        return (
            f"SELECT {select}, {_figures(figures)} FROM {self.table} m{self._join('m')}"
            f"{_where(conditions)} GROUP BY {group}"
        )

    def _compliance_parts(
        self, bind: Binder, enterprises: list[str], after: tuple[Any, ...] | None
    ) -> list[str]:
        select, columns = self._select_keys("compliance"), self._columns("compliance")
        if self.by_type:
            select += ", NULL AS energy_type"
        conditions = [c.replace(OWNER, "c.enterprise_id") for c in enterprises]
        if self.where.from_ is not None:
            conditions.append(f"c.year >= {bind(self.where.from_.year)}")
        if self.where.to is not None:
            conditions.append(f"c.year <= {bind(self.where.to.year)}")
        if after is not None:
            conditions.append(f"({columns}) > ({', '.join(bind(v) for v in after)})")
        approved = [*conditions, f"a.status = '{ApplicationStatus.APPROVED.value}'"]
        join = self._join("c")
        return [
            f"SELECT {select}, {_figures(ALLOWANCE_PART)} FROM allowances c{join}"
            f"{_where(conditions)} GROUP BY {columns}",
            f"SELECT {select}, {_figures(NOTICE_PART)} FROM notices c{join}"
            f"{_where(conditions)} GROUP BY {columns}",
            f"SELECT {select}, {_figures(APPROVED_PART)} FROM applications a "
            f"JOIN notices c ON c.id = a.notice_id{join}{_where(approved)} GROUP BY {columns}",
        ]

    def _join(self, alias: str) -> str:
        """The enterprises, joined only where a key or a condition reads them."""
        where = self.where
        reads = (
            any(k.reads_enterprise for k in self.keys)
            or where.region_prefix
            or where.industry_code
            or where.sector is not None
            or (self.actor.role == Role.REGULATOR and self.actor.region_prefix)
        )
        return f" JOIN enterprises e ON e.id = {alias}.enterprise_id" if reads else ""

    def _select_keys(self, part: str) -> str:
        return ", ".join(f"{getattr(k, part)} AS k_{k.name}" for k in self.keys)

    def _columns(self, part: str) -> str:
        return ", ".join(str(getattr(k, part)) for k in self.keys)

    def _energy_conditions(
        self, bind: Binder, enterprises: list[str], after: tuple[Any, ...] | None
    ) -> list[str]:
        conditions = [c.replace(OWNER, "m.enterprise_id") for c in enterprises]
        start, end = self.where.from_, self.where.to
        if self.table == "energy_yearly":
            if start is not None:
                conditions.append(f"m.year >= {bind(start.year)}")
            if end is not None:
                conditions.append(f"m.year <= {bind(end.year)}")
        else:
            # Plain year bounds, with a month only where the range starts or ends inside a year:
            # PostgreSQL estimates those well (a row comparison it underestimates tenfold), so it
            # scans the (year, month) index, in parallel, rather than the whole table.
            if start is not None:
                conditions.append(f"m.year >= {bind(start.year)}")
                if start.month > 1:
                    conditions.append(f"(m.year, m.month) >= ({bind(start.year)}, {bind(start.month)})")
            if end is not None:
                conditions.append(f"m.year <= {bind(end.year)}")
                if end.month < 12:
                    conditions.append(f"(m.year, m.month) <= ({bind(end.year)}, {bind(end.month)})")
        if self.where.energy_types is not None:
            conditions.append(_in("m.energy_type_id", self.where.energy_types, bind))
        if after is not None:
            conditions.append(f"({self._columns('energy')}) > ({', '.join(bind(v) for v in after)})")
        return conditions

    def _enterprise_conditions(self, bind: Binder) -> list[str]:
        """The caller's scope (as services.access.enterprise_scope), then the filter; OWNER
        stands for the part's enterprise id column, `e` is the enterprise where joined."""
        conditions: list[str] = []
        actor, where = self.actor, self.where
        if actor.role == Role.ENTERPRISE:
            conditions.append(f"{OWNER} = {bind(actor.enterprise_id or -1)}")
        elif actor.role == Role.REGULATOR and actor.region_prefix:
            conditions.append(_prefix("e.region_code", actor.region_prefix, bind))
        if where.region_prefix:
            conditions.append(_prefix("e.region_code", where.region_prefix, bind))
        if where.industry_code:
            conditions.append(_prefix("e.industry_code", where.industry_code, bind))
        if where.sector is not None:
            conditions.append(f"e.sector = {bind(where.sector.value)}")
        if where.enterprise_ids is not None:
            conditions.append(_in(OWNER, where.enterprise_ids, bind))
        return conditions

    # -- running them --------------------------------------------------------------------

    async def fetch(self, size: int, after: tuple[Any, ...] | None) -> Page:
        connection = connections.get("default")
        if connection.capabilities.dialect != "postgres":
            return await self._fetch(connection, size, after)
        async with in_transaction() as transaction:
            # SET LOCAL lasts until the end of this transaction only: the pooled connection is untouched.
            await transaction.execute_script("SET LOCAL jit = off")
            return await self._fetch(transaction, size, after)

    async def _fetch(self, connection: BaseDBAsyncClient, size: int, after: tuple[Any, ...] | None) -> Page:
        postgres = connection.capabilities.dialect == "postgres"
        bind = Binder(postgres)
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for record in await connection.execute_query_dict(self.main(bind, after, size + 1), bind.params):
            groups.setdefault(self._key_of(record), []).append(record)
        keys = list(groups)[:size]
        if not keys:
            return Page([], bool(groups))
        type_column = "k_energy_type" if self.typed else "energy_type"
        records = [record for key in keys for record in groups[key]]
        if not self.by_type:
            bind = Binder(postgres)
            records = await connection.execute_query_dict(self.breakdown(bind, after, keys[-1]), bind.params)
        energy: dict[tuple[Any, ...], list[EnergyUse]] = {}
        for record in records:
            if record[type_column] is not None:
                use = EnergyUse(
                    energy_type=record[type_column],
                    unit=record["unit"],
                    quantity=_micro(record["amount"]),
                    tce=_micro(record["tce"]),
                    emissions=_micro(record["emissions"]),
                )
                energy.setdefault(self._key_of(record), []).append(use)
        rows = [
            self._row(key, groups[key], sorted(energy.get(key, []), key=lambda use: use.energy_type))
            for key in keys
        ]
        return Page(rows, len(groups) > size)

    def _key_of(self, record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            int(record[f"k_{k.name}"]) if k.integer else str(record[f"k_{k.name}"]) for k in self.keys
        )

    def _row(self, key: tuple[Any, ...], records: list[dict[str, Any]], energy: list[EnergyUse]) -> Row:
        """A group's row from its records (one, or one per energy type and one of compliance)."""
        total = {f: sum(int(r[f]) for r in records) for f in FIGURES if f not in ("tce", "emissions")}
        values: dict[str, Any] = dict.fromkeys(ROW_KEYS + COMPLIANCE_FIGURES)
        values.update(zip((k.name for k in self.keys), key, strict=True))
        if values["sector"] is not None:
            values["sector"] = Sector(values["sector"])
        if self.compliance:
            approved = total["approved"] > 0
            values.update(
                allowances=total["allowances"],
                verified_emissions=total["verified"] if approved else None,
                surplus=total["surplus"] if approved else None,
                notices_due=total["due"],
                notices_fulfilled=total["fulfilled"],
                notices_overdue=total["overdue"],
                compliance_rate=_rate(total["fulfilled"], total["due"]),
            )
        return Row(
            cursor=_encode(self.dimensions, key),
            enterprise_name=records[0].get("enterprise_name"),
            energy=energy,
            energy_tce=sum((_micro(r["tce"]) for r in records), Decimal(0)),
            emissions=sum((_micro(r["emissions"]) for r in records), Decimal(0)),
            records_missing_factor=total["missing"],
            **values,
        )


ROW_KEYS = ("year", "quarter", "month", "province", "city", "region_code", "industry_code", "sector", "enterprise_id", "energy_type")  # fmt: skip
COMPLIANCE_FIGURES = ("allowances", "verified_emissions", "surplus", "notices_due", "notices_fulfilled", "notices_overdue", "compliance_rate")  # fmt: skip


def _figures(part: dict[str, str]) -> str:
    return ", ".join(f"{part.get(figure, '0')} AS {figure}" for figure in FIGURES)


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _prefix(column: str, prefix: str, bind: Binder) -> str:
    # substr, not LIKE: a prefix needs no escaping and reads the same on both databases.
    return f"substr({column}, 1, {len(prefix)}) = {bind(prefix)}"


def _in(column: str, values: Sequence[object], bind: Binder) -> str:
    if not values:
        return "1 = 0"  # an empty list selects nothing
    return f"{column} IN ({', '.join(bind(v) for v in values)})"


def _micro(value: object) -> Decimal:
    """A sum of millionths (int on SQLite, int or numeric on PostgreSQL); no rows sum to 0."""
    return millionths(value or 0)  # type: ignore[arg-type]


def _rate(fulfilled: int, due: int) -> Decimal | None:
    """fulfilled / due to 4 decimals (0.3 for 30 of 100); None where nothing is due."""
    if not due:
        return None
    return (Decimal(fulfilled) / Decimal(due)).quantize(RATE_PLACES, ROUND_HALF_UP).normalize()


# -- cursors ---------------------------------------------------------------------------------


def _encode(dimensions: tuple[Dimension, ...], key: tuple[Any, ...]) -> str:
    text = json.dumps([",".join(dimensions), list(key)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode(cursor: str, query: _Query) -> tuple[Any, ...]:
    """The keys a cursor holds; INVALID_CURSOR unless it came from the same grouping."""
    try:
        signature, values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise _bad_cursor() from None
    if signature != ",".join(query.dimensions) or not isinstance(values, list):
        raise _bad_cursor()
    if len(values) != len(query.keys):
        raise _bad_cursor()
    for key, value in zip(query.keys, values, strict=True):
        if not _fits(key, value):
            raise _bad_cursor()
    return tuple(values)


def _fits(key: _Key, value: object) -> bool:
    """Within the bounds of the column compared: asyncpg refuses a value its parameter type cannot hold."""
    if not key.integer:
        return isinstance(value, str) and len(value) <= 64
    if type(value) is not int:
        return False
    return 0 <= value <= MAX_ID if key.name == "enterprise_id" else -(2**15) <= value < 2**15


def _bad_cursor() -> ServiceError:
    return ServiceError(ErrorCode.INVALID_CURSOR, "Invalid cursor: pass a cursor of this grouping", "after")


# -- validation ------------------------------------------------------------------------------


async def _query(actor: Actor, group_by: Sequence[Dimension | str], where: StatisticsFilter) -> _Query:
    dimensions = _dimensions(group_by)
    where = await _valid(where)
    keys: list[_Key] = []
    for dimension in dimensions:
        keys += [k for k in KEYS[dimension] if k not in keys]  # QUARTER and MONTH share the year
    by_month = {Dimension.QUARTER, Dimension.MONTH} & set(dimensions)
    whole_years = (where.from_ is None or where.from_.month == 1) and (
        where.to is None or where.to.month == 12
    )
    return _Query(
        actor=actor,
        dimensions=dimensions,
        keys=tuple(keys),
        where=where,
        compliance=not by_month and Dimension.ENERGY_TYPE not in dimensions,
        table="energy_yearly" if whole_years and not by_month else "energy_monthly",
    )


def _dimensions(group_by: Sequence[Dimension | str]) -> tuple[Dimension, ...]:
    try:
        dimensions = tuple(Dimension(d) for d in group_by)
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_GROUP_BY, f"groupBy takes {', '.join(Dimension)}", "groupBy"
        ) from None
    if not dimensions:
        raise ServiceError(ErrorCode.INVALID_GROUP_BY, "groupBy needs at least one dimension", "groupBy")
    if len(set(dimensions)) != len(dimensions):
        raise ServiceError(ErrorCode.INVALID_GROUP_BY, "groupBy names a dimension twice", "groupBy")
    return dimensions


async def _valid(where: StatisticsFilter) -> StatisticsFilter:
    start, end = where.from_, where.to
    if start is not None and end is not None:
        months = (end.year - start.year) * 12 + end.month - start.month
        if months < 0:
            raise ServiceError(ErrorCode.INVALID_DATE_RANGE, "from is after to", "from")
        if months >= MAX_YEARS * 12:
            raise ServiceError(ErrorCode.INVALID_DATE_RANGE, f"give at most {MAX_YEARS} years", "to")
    region = validate_region_prefix(where.region_prefix) if where.region_prefix else None
    industry = where.industry_code.strip() if where.industry_code else None
    if industry is not None and not _INDUSTRY_PREFIX.fullmatch(industry):
        raise ServiceError(
            ErrorCode.INVALID_INDUSTRY_CODE,
            f"{where.industry_code!r} is not a GB/T 4754 code or prefix (1 to 4 digits)",
            "industryCode",
        )
    ids = None
    if where.enterprise_ids is not None:
        if len(where.enterprise_ids) > MAX_ENTERPRISE_IDS:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS, f"at most {MAX_ENTERPRISE_IDS} enterprises", "enterpriseIds"
            )
        # An id beyond the INTEGER column matches nothing (and is no error on PostgreSQL).
        ids = sorted({i for i in where.enterprise_ids if 0 < i <= MAX_ID})
    types = None
    if where.energy_types is not None:
        if len(where.energy_types) > MAX_ENERGY_TYPES:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS, f"at most {MAX_ENERGY_TYPES} energy types", "energyTypes"
            )
        types = sorted({t.strip() for t in where.energy_types})
        known = (
            set(await EnergyType.filter(code__in=types).values_list("code", flat=True)) if types else set()
        )
        if unknown := [t for t in types if t not in known]:
            raise ServiceError(
                ErrorCode.UNKNOWN_ENERGY_TYPE, f"unknown energy types: {', '.join(unknown)}", "energyTypes"
            )
    return StatisticsFilter(start, end, region, industry, where.sector, ids, types)


def _page_size(first: int, limit: int, field: str) -> int:
    if isinstance(first, bool) or not 0 <= first <= limit:
        raise ServiceError(ErrorCode.INVALID_PAGINATION, f"{field} must be between 0 and {limit}", field)
    return first


# -- the interface ---------------------------------------------------------------------------


async def page(
    actor: Actor, group_by: Sequence[Dimension], where: StatisticsFilter, first: int, after: str | None
) -> Page:
    """One page of at most `first` (0 to MAX_PAGE) groups after the cursor `after`, in key order."""
    size = _page_size(first, MAX_PAGE, "first")
    query = await _query(actor, group_by, where)
    return await query.fetch(size, _decode(after, query) if after is not None else None)


async def stream(
    actor: Actor, group_by: Sequence[Dimension], where: StatisticsFilter, page_size: int = 1000
) -> AsyncIterator[Row]:
    """Every group in key order, read page by page (keyset), for the export: `async for row in
    stream(...)`. Bad input raises its ServiceError when the first row is asked for."""
    size = _page_size(page_size, MAX_STREAM_PAGE, "pageSize")
    if size == 0:
        raise ServiceError(ErrorCode.INVALID_PAGINATION, "pageSize must be at least 1", "pageSize")
    query = await _query(actor, group_by, where)
    after: tuple[Any, ...] | None = None
    while True:
        result = await query.fetch(size, after)
        for row in result.rows:
            yield row
        if not result.has_next_page:
            return
        after = _decode(result.rows[-1].cursor, query)
