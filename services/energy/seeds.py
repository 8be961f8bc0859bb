"""Reference data shipped as CSV under services/reference/, loaded into its tables.

Seeding inserts what is missing and never overwrites: a regulator's corrections
are new versions (rows with a later effective year), not edits of shipped rows.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal

from models import Benchmark, EmissionFactor, EnergyRecord, EnergyType, Product, TceCoefficient
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
    have = set(await Benchmark.all().values_list("product_id", "effective_year"))
    await Benchmark.bulk_create(
        [
            Benchmark(
                product_id=r["product"],
                effective_year=int(r["effective_year"]),
                value=Decimal(r["value"]),
                source=r["source"],
            )
            for r in rows_of("benchmarks.csv")
            if (r["product"], int(r["effective_year"])) not in have
        ]
    )
    # A shipped factor new to a database with records must be applied to them (the sweep does
    # it, seeing no applied_at); on a database without records there is nothing to apply.
    applied = None if await EnergyRecord.exists() else datetime.now(UTC)
    have = set(
        await EmissionFactor.filter(created_by_id=None).values_list(
            "energy_type_id", "effective_year", "region_prefix"
        )
    )
    await EmissionFactor.bulk_create(
        [
            EmissionFactor(
                energy_type_id=r["energy_type"],
                effective_year=int(r["effective_year"]),
                region_prefix=r["region_prefix"],
                value=Decimal(r["value"]),
                unit=r["unit"],
                net_calorific_value=_decimal(r["net_calorific_value"]),
                carbon_content=_decimal(r["carbon_content"]),
                oxidation_rate=_decimal(r["oxidation_rate"]),
                source=r["source"],
                applied_at=applied,
            )
            for r in rows_of("emission_factors.csv")
            if (r["energy_type"], int(r["effective_year"]), r["region_prefix"]) not in have
        ]
    )


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None
