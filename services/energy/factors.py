"""Emission factors (碳排放转换规则): the versioned table, the choice for a record, corrections.

A factor is never edited: a correction is a new version of (energy type, effective
date, region prefix). For a record the server picks the factor of the most specific
region prefix matching the enterprise's region code (national "" last), then the
latest effective date on or before the start of the record's period (a monthly record
by its month's first day, a daily one by its day), then the highest version. A factor
never applies to a period before its date, so a later value cannot stand in for an
earlier period. A record with no such factor, or whose factor is a row saying no value
was published (or none could be confirmed), keeps its energy figures and gets no
emissions: it is counted as missing, never converted with a guess.

Setting a factor enqueues `recompute`, which re-picks the factor of every record
the new version could apply to and marks the changed enterprise-months stale. The
factor's `applied_at` is set once that is done, so the sweep finishes a lost job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from tortoise.exceptions import IntegrityError
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models import EmissionFactor, EnergyRecord, EnergyType, ReferenceStatus, Role, StaleMonth
from services import audit
from services.access import Actor, require_role
from services.errors import ErrorCode, ServiceError, permission_denied
from services.live import jobs
from services.orm import column
from services.values import text

# Factors have up to 10 decimals (tce coefficients 8): applied as integers scaled by this,
# so a record's emissions are exact integer arithmetic (millionths of tCO2).
SCALE = 10**10
DECIMALS = Decimal("1E-10")  # a factor's precision: derived ones are rounded half up to it
MICRO = 10**6
RECOMPUTE_BATCH = 2000
# value = NCV (GJ/unit) x carbon content (tC/GJ) x oxidation rate x 44/12 (tCO2/tC)
CO2_PER_C = Decimal(44) / Decimal(12)
TOLERANCE = Decimal("0.0005")  # a stated value may round the derived one to 4 significant digits
_PREFIX = re.compile(r"(\d{2}){0,3}", re.ASCII)  # region codes are ASCII digits: "４４" would match none


EARLIEST = date(1990, 1, 1)  # as far back as energy records go
LATEST = date(2100, 12, 31)


@dataclass(frozen=True, slots=True)
class Factor:
    id: int
    energy_type: str
    effective_from: date
    region_prefix: str
    version: int
    scaled: int | None  # value x SCALE; None for a row saying there is no value for its period


def period_start(year: int, month: int, day: int = 0) -> date:
    """The first day a record covers: its day, or the first of its month (day 0)."""
    return date(year, month, day or 1)


def millionths(value: int | Decimal) -> Decimal:
    """A stored amount, tce or emissions (or a sum of them) as the exact Decimal it stands for."""
    return Decimal(value).scaleb(-6)


def scaled(value: Decimal) -> int:
    return int((value * SCALE).to_integral_value())


def apply(amount: int, scaled_value: int) -> int:
    """Millionths of the canonical unit x a scaled coefficient -> millionths, rounded half up."""
    return (amount * scaled_value + SCALE // 2) // SCALE


class FactorTable:
    """Every factor version in memory (a few hundred rows): one pick per record, no query."""

    def __init__(self, factors: Sequence[Factor]) -> None:
        self.by_type: dict[str, list[Factor]] = {}
        for factor in factors:
            self.by_type.setdefault(factor.energy_type, []).append(factor)
        self._picked: dict[tuple[str, str, date], Factor | None] = {}

    def pick(self, energy_type: str, region_code: str, period: date) -> Factor | None:
        """The version in force for a record starting on `period`; it may be a row without a value."""
        key = (energy_type, region_code, period)
        if key not in self._picked:
            candidates = [
                f
                for f in self.by_type.get(energy_type, ())
                if region_code.startswith(f.region_prefix) and f.effective_from <= period
            ]
            self._picked[key] = max(
                candidates, key=lambda f: (len(f.region_prefix), f.effective_from, f.version), default=None
            )
        return self._picked[key]


async def load_table() -> FactorTable:
    rows = await EmissionFactor.all().values_list(
        "id", "energy_type_id", "effective_from", "region_prefix", "version", "value"
    )
    return FactorTable(
        [
            Factor(i, t, since, p, v, None if value is None else scaled(Decimal(str(value))))
            for i, t, since, p, v, value in rows
        ]
    )


@dataclass(frozen=True)
class FactorInput:
    energy_type: str
    effective_year: int | None = None  # deprecated: the same as effective_from on 1 January
    value: str | None = None
    region_prefix: str = ""
    unit: str | None = None
    net_calorific_value: str | None = None
    carbon_content: str | None = None
    oxidation_rate: str | None = None
    source: str = ""
    effective_from: date | None = None
    status: ReferenceStatus = ReferenceStatus.PUBLISHED


def _number(value: str | None, field: str) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY,
            "{field} {value!r} is not a number",
            field,
            params={"field": field, "value": value},
        ) from None
    if not number.is_finite():
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} must be a finite number", field, params={"field": field}
        )
    if number < 0:
        raise ServiceError(
            ErrorCode.NEGATIVE_QUANTITY, "{field} must not be negative", field, params={"field": field}
        )
    if number >= 10**7:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} is implausibly large", field, params={"field": field}
        )
    return number


def derive(ncv: Decimal, carbon: Decimal, oxidation: Decimal) -> Decimal:
    """NCV x carbon content x oxidation rate x 44/12, rounded half up to 10 decimals: the one value
    of a parameter set, whether it comes from the shipped table or from setEmissionFactor."""
    with localcontext() as context:
        context.prec = 60  # the product is exact before the one rounding
        return (ncv * carbon * oxidation * 44 / 12).quantize(DECIMALS, rounding=ROUND_HALF_UP)


def may_set_reference_data(actor: Actor) -> None:
    require_role(actor, Role.ADMIN, Role.REGULATOR)
    if actor.role == Role.REGULATOR and actor.region_prefix:
        # Factors and energy types apply across regions (a provincial grid factor changes a national total).
        raise permission_denied("Only an administrator or a national regulator may change reference data")


async def set_factor(actor: Actor, data: FactorInput) -> EmissionFactor:
    """Add a version; the records it applies to are recomputed by a job."""
    may_set_reference_data(actor)
    energy_type = await EnergyType.get_or_none(code=data.energy_type.strip().upper())
    if energy_type is None:
        raise ServiceError(
            ErrorCode.UNKNOWN_ENERGY_TYPE,
            "unknown energy type {energy_type!r}",
            "energyType",
            params={"energy_type": data.energy_type},
        )
    effective_from = _effective_from(data)
    prefix = data.region_prefix.strip()
    if not _PREFIX.fullmatch(prefix):
        raise ServiceError(
            ErrorCode.INVALID_REGION_CODE,
            "regionPrefix is empty (national) or 2, 4 or 6 digits of a region code",
            "regionPrefix",
        )
    unit = f"tCO2/{energy_type.canonical_unit}"
    if data.unit is not None and data.unit.strip() not in ("", unit):
        raise ServiceError(
            ErrorCode.INCOMPATIBLE_UNIT,
            "{code} factors are in {unit} (per its canonical unit), not {unit2!r}",
            "unit",
            params={"code": energy_type.code, "unit": unit, "unit2": data.unit},
        )
    value = _number(data.value, "value")
    parameters = {
        "netCalorificValue": _number(data.net_calorific_value, "netCalorificValue"),
        "carbonContent": _number(data.carbon_content, "carbonContent"),
        "oxidationRate": _number(data.oxidation_rate, "oxidationRate"),
    }
    given = [name for name, v in parameters.items() if v is not None]
    if given and len(given) < 3:
        missing = next(name for name, v in parameters.items() if v is None)
        raise ServiceError(ErrorCode.REQUIRED, "give all three fuel parameters or none", missing)
    ncv, carbon, oxidation = parameters.values()
    if oxidation is not None and oxidation > 1:
        raise ServiceError(ErrorCode.INVALID_RATIO, "oxidationRate is between 0 and 1", "oxidationRate")
    if data.status != ReferenceStatus.PUBLISHED:
        if value is not None or given:
            raise ServiceError(
                ErrorCode.INVALID_QUANTITY,
                "a {status} version has no value and no parameters: it says there is none",
                "value" if value is not None else given[0],
                params={"status": data.status.value},
            )
    elif ncv is not None and carbon is not None and oxidation is not None:
        derived = derive(ncv, carbon, oxidation)
        if value is not None and abs(value - derived) > TOLERANCE * max(derived, DECIMALS):
            raise ServiceError(
                ErrorCode.FACTOR_PARAMETERS_MISMATCH,
                "value {value} does not match the parameters (NCV x carbon x oxidation x 44/12 = {derived})",
                "value",
                params={"value": value, "derived": derived},
            )
        value = derived  # the parameters define it: a rounded value given with them only checks it
    elif value is None:
        raise ServiceError(ErrorCode.REQUIRED, "give the value or the three fuel parameters", "value")
    elif value != value.quantize(DECIMALS):
        raise ServiceError(ErrorCode.INVALID_QUANTITY, "value allows at most 10 decimals", "value")
    source = text(data.source, "source", max_length=300)
    for attempt in range(3):  # two regulators adding the same key at once: the later gets the next version
        try:
            async with in_transaction():
                latest: list[int | None] = await column(
                    EmissionFactor.filter(
                        energy_type_id=energy_type.code, effective_from=effective_from, region_prefix=prefix
                    ).annotate(top=Max("version")),
                    "top",
                )
                factor = await EmissionFactor.create(
                    energy_type_id=energy_type.code,
                    effective_from=effective_from,
                    region_prefix=prefix,
                    version=(latest[0] or 0) + 1,
                    value=value,
                    status=data.status,
                    unit=unit,
                    net_calorific_value=ncv,
                    carbon_content=carbon,
                    oxidation_rate=oxidation,
                    source=source,
                    created_by_id=actor.user_id,
                )
                await audit.record(
                    actor,
                    "emission_factor.set",
                    factor,
                    data={
                        "energyType": factor.energy_type_id,
                        "effectiveFrom": effective_from.isoformat(),
                        "regionPrefix": prefix,
                        "version": factor.version,
                        "status": data.status.value,
                        "value": None if value is None else str(value),
                        "source": source,
                    },
                )
            break
        except IntegrityError:
            if attempt == 2:
                raise ServiceError(
                    ErrorCode.CONCURRENT_MODIFICATION, "the factor changed meanwhile; try again"
                ) from None
    await jobs.enqueue("recompute_emissions", factor.id)
    return factor


def _effective_from(data: FactorInput) -> date:
    """effectiveFrom, or the deprecated effectiveYear as its 1 January; one of them, within range."""
    given = data.effective_from, data.effective_year
    if given[0] is not None and given[1] is not None and given[0].year != given[1]:
        raise ServiceError(
            ErrorCode.INVALID_DATE,
            "give effectiveFrom (effectiveYear is deprecated), or both in the same year",
            "effectiveFrom",
        )
    since = data.effective_from
    if since is None and data.effective_year is not None:
        if not EARLIEST.year <= data.effective_year <= LATEST.year:
            raise ServiceError(
                ErrorCode.INVALID_YEAR, "effectiveYear must be between 1990 and 2100", "effectiveYear"
            )
        since = date(data.effective_year, 1, 1)
    if since is None:
        raise ServiceError(
            ErrorCode.REQUIRED, "give effectiveFrom, the first day it applies to", "effectiveFrom"
        )
    if not EARLIEST <= since <= LATEST:
        raise ServiceError(
            ErrorCode.INVALID_DATE, "effectiveFrom must be between 1990-01-01 and 2100-12-31", "effectiveFrom"
        )
    return since


async def recompute(factor_id: int) -> int:
    """Re-pick the factor of every record `factor_id` could apply to; returns how many changed.

    Idempotent: it derives everything from the current factor table, so running it twice,
    or after a later version, changes nothing more.
    """
    factor = await EmissionFactor.get_or_none(id=factor_id)
    if factor is None:
        return 0
    table = await load_table()
    query = EnergyRecord.filter(  # the year narrows the scan; the pick below decides by the day
        energy_type_id=factor.energy_type_id,
        year__gte=factor.effective_from.year,
        enterprise__region_code__startswith=factor.region_prefix,
    )
    changed = 0
    after = 0
    while True:
        batch = (
            await query.filter(id__gt=after)
            .order_by("id")
            .limit(RECOMPUTE_BATCH)
            .values_list(
                "id",
                "enterprise_id",
                "enterprise__region_code",
                "year",
                "month",
                "day",
                "amount",
                "factor_id",
                "emissions",
            )
        )
        if not batch:
            break
        after = batch[-1][0]
        updates: list[EnergyRecord] = []
        stale: set[tuple[int, int, int]] = set()
        for record_id, enterprise_id, region_code, record_year, month, day, amount, old, emissions in batch:
            picked = table.pick(factor.energy_type_id, region_code, period_start(record_year, month, day))
            if picked is None:
                continue  # a version is never removed, so a record that had one keeps it
            now = None if picked.scaled is None else apply(amount, picked.scaled)
            if picked.id == old and now == emissions:
                continue
            updates.append(EnergyRecord(id=record_id, factor_id=picked.id, emissions=now))
            stale.add((enterprise_id, record_year, month))
        if updates:
            async with in_transaction():
                await EnergyRecord.bulk_update(updates, fields=["factor_id", "emissions"])
                await StaleMonth.bulk_create(
                    [StaleMonth(enterprise_id=e, year=y, month=m) for e, y, m in stale]
                )
            changed += len(updates)
    async with in_transaction():
        await EmissionFactor.filter(id=factor.id).update(applied_at=datetime.now(UTC))
        if changed or factor.created_by_id is not None:  # not for shipped factors on an empty database
            await audit.record(
                None, "emissions.recomputed", factor, data={"factorId": factor.id, "recordsChanged": changed}
            )
    if changed:
        await jobs.enqueue("refresh_aggregates")
    return changed


async def unapplied() -> list[int]:
    """Factors whose recompute has not finished (its job was lost): for the sweep."""
    ids: list[int] = await column(EmissionFactor.filter(applied_at__isnull=True).order_by("id"), "id")
    return ids
