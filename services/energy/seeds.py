"""Reference data shipped as CSV under services/energy/reference/, loaded into its tables.

Seeding inserts what is missing and never overwrites: a regulator's corrections
are new versions, not edits of shipped rows. A fuel factor's value is derived from its
parameters by the same function setEmissionFactor uses, so one parameter set gives one
value however it arrives (the CSV states it too, and a test holds the two equal).
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal

from models import (
    Benchmark,
    EmissionFactor,
    EnergyRecord,
    EnergySource,
    EnergyType,
    Product,
    ReferenceStatus,
    SourcePrecedence,
    TceCoefficient,
)
from services.energy.factors import derive
from services.energy.units import REFERENCE
from services.orm import column


def rows_of(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8") as file:
        return list(csv.DictReader(file))


async def seed_reference_data() -> None:
    """Idempotent; runs after every `ccms migrate`."""
    known: set[str] = set(await column(EnergyType.all(), "code"))
    await EnergyType.bulk_create(
        [
            EnergyType(
                code=r["code"],
                name=r["name"],
                canonical_unit=r["canonical_unit"],
                emits=r["emits"] == "true",
            )
            for r in rows_of("energy_types.csv")
            if r["code"] not in known
        ]
    )
    known = set(await column(Product.all(), "code"))
    await Product.bulk_create(
        [
            Product(code=r["code"], name=r["name"], unit=r["unit"])
            for r in rows_of("products.csv")
            if r["code"] not in known
        ]
    )
    have = set(await TceCoefficient.all().values_list("energy_type_id", "effective_year"))
    await TceCoefficient.bulk_create(
        [
            TceCoefficient(
                energy_type_id=r["energy_type"],
                effective_year=int(r["effective_year"]),
                value=Decimal(r["value"]),
                source=r["source"],
            )
            for r in rows_of("tce_coefficients.csv")
            if (r["energy_type"], int(r["effective_year"])) not in have
        ]
    )
    have = set(await Benchmark.all().values_list("product_id", "compliance_year"))
    await Benchmark.bulk_create(
        [
            Benchmark(
                product_id=r["product"],
                compliance_year=int(r["compliance_year"]),
                value=_decimal(r["value"]),
                status=ReferenceStatus(r["status"]),
                source=r["source"],
            )
            for r in rows_of("benchmarks.csv")
            if (r["product"], int(r["compliance_year"])) not in have
        ]
    )
    # The default order of sources; a source the table lacks (a new one) joins at its shipped place.
    ranked = {str(s) for s in await column(SourcePrecedence.all(), "source")}
    await SourcePrecedence.bulk_create(
        [
            SourcePrecedence(source=EnergySource(r["energy_source"]), position=int(r["position"]))
            for r in rows_of("source_precedence.csv")
            if r["energy_source"] not in ranked
        ]
    )
    # A shipped factor new to a database with records must be applied to them (the sweep does
    # it, seeing no applied_at); on a database without records there is nothing to apply.
    applied = None if await EnergyRecord.exists() else datetime.now(UTC)
    have = set(
        await EmissionFactor.filter(created_by_id=None).values_list(
            "energy_type_id", "effective_from", "region_prefix"
        )
    )
    await EmissionFactor.bulk_create(
        [
            EmissionFactor(
                energy_type_id=r["energy_type"],
                effective_from=date.fromisoformat(r["effective_from"]),
                region_prefix=r["region_prefix"],
                value=factor_value(r),
                status=ReferenceStatus(r["status"]),
                unit=r["unit"],
                net_calorific_value=_decimal(r["net_calorific_value"]),
                carbon_content=_decimal(r["carbon_content"]),
                oxidation_rate=_decimal(r["oxidation_rate"]),
                source=r["source"],
                applied_at=applied,
            )
            for r in rows_of("emission_factors.csv")
            if (r["energy_type"], date.fromisoformat(r["effective_from"]), r["region_prefix"]) not in have
        ]
    )


def factor_value(row: dict[str, str]) -> Decimal | None:
    """The value of a shipped factor row: derived from its parameters where it has them."""
    stated = _decimal(row["value"])
    parameters = [_decimal(row[k]) for k in ("net_calorific_value", "carbon_content", "oxidation_rate")]
    ncv, carbon, oxidation = parameters
    if ncv is None or carbon is None or oxidation is None:
        return stated
    derived = derive(ncv, carbon, oxidation)
    if stated != derived:  # a shipped file that disagrees with itself is a bug, not data
        raise ValueError(
            f"emission_factors.csv: {row['energy_type']} {row['effective_from']} states {stated}, derives {derived}"
        )
    return derived


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None
