"""What a statistics query asks: the keys of a row (Dimension), the filter, and their
validation into a Query, which says where the figures come from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from models import EnergyType, Sector
from services.access import Actor
from services.codes import validate_region_prefix
from services.errors import ErrorCode, ServiceError
from services.values import MAX_ID

MAX_YEARS = 100
MAX_ENTERPRISE_IDS = 1_000
MAX_ENERGY_TYPES = 100
_INDUSTRY_PREFIX = re.compile(r"\d{1,4}")

# The values of a group's keys in key order: an int for an integer key, text otherwise.
GroupKey = tuple[int | str, ...]


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
class Key:
    """A grouping column: its Row attribute, its SQL over the energy aggregate `m` and over a
    compliance row `c` (an allowance or a notice; None where compliance figures have no such
    key), and whether that SQL reads the enterprise `e`."""

    name: str
    integer: bool
    energy: str
    compliance: str | None
    reads_enterprise: bool = True


def _place(name: str, sql: str) -> Key:
    return Key(name, False, sql, sql)


_YEAR = Key("year", True, "m.year", "c.year", False)
KEYS: dict[Dimension, tuple[Key, ...]] = {
    Dimension.YEAR: (_YEAR,),
    Dimension.QUARTER: (_YEAR, Key("quarter", True, "(m.month + 2) / 3", None, False)),
    Dimension.MONTH: (_YEAR, Key("month", True, "m.month", None, False)),
    Dimension.PROVINCE: (_place("province", "substr(e.region_code, 1, 2)"),),
    Dimension.CITY: (_place("city", "substr(e.region_code, 1, 4)"),),
    Dimension.REGION: (_place("region_code", "e.region_code"),),
    Dimension.INDUSTRY: (_place("industry_code", "e.industry_code"),),
    Dimension.SECTOR: (_place("sector", "e.sector"),),
    Dimension.ENTERPRISE: (Key("enterprise_id", True, "m.enterprise_id", "c.enterprise_id", False),),
    Dimension.ENERGY_TYPE: (Key("energy_type", False, "m.energy_type_id", None, False),),
}
# Groupings that can have thousands of groups: their per-type breakdown is a second
# statement over the page's key range rather than per-type rows of every group.
WIDE = {Dimension.ENTERPRISE, Dimension.REGION, Dimension.CITY, Dimension.INDUSTRY}


@dataclass(frozen=True)
class Query:
    """One statistics query, validated: the caller, the keys of a row, the filter, and where
    the figures come from."""

    actor: Actor
    dimensions: tuple[Dimension, ...]
    keys: tuple[Key, ...]
    where: StatisticsFilter
    compliance: bool  # whether the grouping has compliance figures
    table: str  # energy_yearly or energy_monthly

    @classmethod
    async def of(cls, actor: Actor, group_by: Sequence[Dimension | str], where: StatisticsFilter) -> Query:
        """The query, or the ServiceError naming what is wrong with its input."""
        dimensions = _dimensions(group_by)
        where = await valid_filter(where)
        keys: list[Key] = []
        for dimension in dimensions:
            keys += [k for k in KEYS[dimension] if k not in keys]  # QUARTER and MONTH share the year
        by_month = {Dimension.QUARTER, Dimension.MONTH} & set(dimensions)
        whole_years = (where.from_ is None or where.from_.month == 1) and (
            where.to is None or where.to.month == 12
        )
        return cls(
            actor=actor,
            dimensions=dimensions,
            keys=tuple(keys),
            where=where,
            compliance=not by_month and Dimension.ENERGY_TYPE not in dimensions,
            table="energy_yearly" if whole_years and not by_month else "energy_monthly",
        )

    @property
    def typed(self) -> bool:
        return Dimension.ENERGY_TYPE in self.dimensions

    @property
    def by_type(self) -> bool:
        """Whether the page statement gives the per-type breakdown itself."""
        return self.typed or not WIDE & set(self.dimensions)


def _dimensions(group_by: Sequence[Dimension | str]) -> tuple[Dimension, ...]:
    try:
        dimensions = tuple(Dimension(d) for d in group_by)
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_GROUP_BY,
            "groupBy takes {Dimension}",
            "groupBy",
            params={"Dimension": ", ".join(Dimension)},
        ) from None
    if not dimensions:
        raise ServiceError(ErrorCode.INVALID_GROUP_BY, "groupBy needs at least one dimension", "groupBy")
    if len(set(dimensions)) != len(dimensions):
        raise ServiceError(ErrorCode.INVALID_GROUP_BY, "groupBy names a dimension twice", "groupBy")
    return dimensions


async def valid_filter(where: StatisticsFilter) -> StatisticsFilter:
    """The filter checked and normalised, or the ServiceError naming what is wrong with it."""
    start, end = where.from_, where.to
    if start is not None and end is not None:
        months = (end.year - start.year) * 12 + end.month - start.month
        if months < 0:
            raise ServiceError(ErrorCode.INVALID_DATE_RANGE, "from is after to", "from")
        if months >= MAX_YEARS * 12:
            raise ServiceError(
                ErrorCode.INVALID_DATE_RANGE,
                "give at most {MAX_YEARS} years",
                "to",
                params={"MAX_YEARS": MAX_YEARS},
            )
    region = validate_region_prefix(where.region_prefix) if where.region_prefix else None
    industry = where.industry_code.strip() if where.industry_code else None
    if industry is not None and not _INDUSTRY_PREFIX.fullmatch(industry):
        raise ServiceError(
            ErrorCode.INVALID_INDUSTRY_CODE,
            "{industry_code!r} is not a GB/T 4754 code or prefix (1 to 4 digits)",
            "industryCode",
            params={"industry_code": where.industry_code},
        )
    ids = None
    if where.enterprise_ids is not None:
        if len(where.enterprise_ids) > MAX_ENTERPRISE_IDS:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS,
                "at most {MAX_ENTERPRISE_IDS} enterprises",
                "enterpriseIds",
                params={"MAX_ENTERPRISE_IDS": MAX_ENTERPRISE_IDS},
            )
        # An id beyond the INTEGER column matches nothing (and is no error on PostgreSQL).
        ids = sorted({i for i in where.enterprise_ids if 0 < i <= MAX_ID})
    types = None
    if where.energy_types is not None:
        if len(where.energy_types) > MAX_ENERGY_TYPES:
            raise ServiceError(
                ErrorCode.TOO_MANY_ITEMS,
                "at most {MAX_ENERGY_TYPES} energy types",
                "energyTypes",
                params={"MAX_ENERGY_TYPES": MAX_ENERGY_TYPES},
            )
        types = sorted({t.strip() for t in where.energy_types})
        # object: tortoise types a flat values_list as tuples, though it holds the codes themselves.
        known: set[object] = (
            set(await EnergyType.filter(code__in=types).values_list("code", flat=True)) if types else set()
        )
        if unknown := [t for t in types if t not in known]:
            raise ServiceError(
                ErrorCode.UNKNOWN_ENERGY_TYPE,
                "unknown energy types: {unknown}",
                "energyTypes",
                params={"unknown": ", ".join(unknown)},
            )
    return StatisticsFilter(start, end, region, industry, where.sector, ids, types)
