"""Reference data a regulator reads and extends: energy types and emission factor versions.

Energy types: the shipped ones (services/reference/energy_types.csv) and those a regulator adds.

A type is kept in one canonical unit; quantities in any unit of the same dimension
(services/units.py) convert to it. Types are national reference data, so adding one
is for an administrator or a national regulator, like emission factors.
"""

from __future__ import annotations

import re
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Benchmark, EmissionFactor, EnergyType
from services import audit
from services.access import Actor
from services.codes import validate_region_prefix
from services.energy.factors import may_set_reference_data
from services.energy.units import normalise, units
from services.errors import ErrorCode, ServiceError
from services.values import text

_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")


async def add_energy_type(
    actor: Actor, code: str, name: str, canonical_unit: str, *, emits: bool = True
) -> EnergyType:
    may_set_reference_data(actor)
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise ServiceError(
            ErrorCode.INVALID_ENERGY_TYPE_CODE,
            "code is 2 to 32 capital letters, digits or _ starting with a letter (e.g. COKE_OVEN_GAS)",
            "code",
        )
    name = text(name, "name", max_length=100)
    unit = units().get(normalise(canonical_unit))
    if unit is None:
        raise ServiceError(
            ErrorCode.UNKNOWN_UNIT,
            "unknown unit {canonical_unit!r}",
            "canonicalUnit",
            params={"canonical_unit": canonical_unit},
        )
    try:
        async with in_transaction():  # the type and its audit event, or neither
            energy_type = await EnergyType.create(code=code, name=name, canonical_unit=unit.name, emits=emits)
            await audit.record(
                actor,
                "energy_type.added",
                audit.Ref("EnergyType", 0),  # audit ids are integers: the code is in data
                data={"code": code, "name": name, "canonicalUnit": unit.name, "emits": emits},
            )
    except IntegrityError:
        raise ServiceError(
            ErrorCode.DUPLICATE_ENERGY_TYPE,
            "energy type {code} already exists",
            "code",
            params={"code": code},
        ) from None
    return energy_type


async def energy_types() -> list[EnergyType]:
    return await EnergyType.all().order_by("code")


async def factor_versions(
    energy_types: list[str] | None = None,
    region_prefix: str | None = None,
    effective_year: int | None = None,
    *,
    effective_from: date | None = None,
    current_only: bool = False,
) -> list[EmissionFactor]:
    """Factor versions by type, region, date and version. The table holds a few hundred rows.

    `effective_year` keeps the versions taking effect in that year; `effective_from` those of that day."""
    query = EmissionFactor.all()
    if energy_types:
        query = query.filter(energy_type_id__in=[t.strip().upper() for t in energy_types])
    if region_prefix is not None:
        query = query.filter(region_prefix=validate_region_prefix(region_prefix))
    if effective_year is not None:
        if not 1 <= effective_year <= 9999:
            return []
        query = query.filter(
            effective_from__gte=date(effective_year, 1, 1), effective_from__lte=date(effective_year, 12, 31)
        )
    if effective_from is not None:
        query = query.filter(effective_from=effective_from)
    factors = await query.order_by("energy_type_id", "region_prefix", "effective_from", "version")
    if current_only:
        latest = {(f.energy_type_id, f.region_prefix, f.effective_from): f for f in factors}
        factors = [f for f in factors if latest[(f.energy_type_id, f.region_prefix, f.effective_from)] is f]
    return factors


MAX_PRODUCTS = 100  # a filter of product codes; there are a handful


async def benchmarks(products: list[str] | None = None) -> list[Benchmark]:
    """Allocation benchmarks by product and compliance year, with their sources."""
    query = Benchmark.all()
    if products:
        query = query.filter(product_id__in=[p.strip().upper() for p in products])
    return await query.order_by("product_id", "compliance_year")
