"""Reading energy records back, scoped: an enterprise its own, a regulator its region.

The list is for checking and correcting data (which records lack an emission factor,
what a gateway sent); statistics never read records, they read the aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import EnergyRecord, EnergySource
from services.access import Actor, enterprise_scope
from services.energy.ingest import parse_period


@dataclass(frozen=True)
class RecordFilter:
    enterprise_id: int | None = None
    from_period: str | None = None  # "2024-01": records of that month or later
    to_period: str | None = None  # "2024-12": records of that month or earlier
    energy_types: list[str] | None = None
    source: EnergySource | None = None
    missing_factor: bool | None = None  # true: only records without emissions


def _month(period: str) -> tuple[int, int]:
    year, month, _ = parse_period(period.strip())
    return year, month


def records(actor: Actor, where: RecordFilter | None = None) -> QuerySet[EnergyRecord]:
    query = EnergyRecord.filter(enterprise_scope(actor, "enterprise"))
    if where is None:
        return query
    if where.enterprise_id is not None:
        query = query.filter(enterprise_id=where.enterprise_id)
    if where.from_period:
        year, month = _month(where.from_period)
        query = query.filter(Q(year__gt=year) | Q(year=year, month__gte=month))
    if where.to_period:
        year, month = _month(where.to_period)
        query = query.filter(Q(year__lt=year) | Q(year=year, month__lte=month))
    if where.energy_types:
        query = query.filter(energy_type_id__in=[t.strip().upper() for t in where.energy_types])
    if where.source is not None:
        query = query.filter(source=where.source)
    if where.missing_factor is not None:
        query = query.filter(emissions__isnull=where.missing_factor)
    return query
