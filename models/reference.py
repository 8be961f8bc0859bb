from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import ReferenceStatus

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.identity import User


class EnergyType(Model):
    """An energy carrier (electricity, natural gas, diesel...) and the unit it is kept in."""

    code = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=100)
    # e.g. MWh, 1e4Nm3, t, GJ: quantities are stored converted to this unit
    canonical_unit = fields.CharField(max_length=16)
    # False for water: its use is collected, but it emits only where a regulator sets a factor.
    emits = fields.BooleanField(default=True)

    class Meta:
        table = "energy_types"


class TceCoefficient(Model):
    """Tonnes of standard coal equivalent per canonical unit, versioned by effective year."""

    id = fields.IntField(primary_key=True)
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name="tce_coefficients", on_delete=fields.RESTRICT
    )
    energy_type_id: str
    effective_year = fields.IntField()
    value = fields.DecimalField(max_digits=14, decimal_places=8)
    source = fields.CharField(max_length=300)

    class Meta:
        table = "tce_coefficients"
        unique_together = (("energy_type", "effective_year"),)


class Product(Model):
    """A production output allocation can be based on (MWh generated, GJ of heat supplied...)."""

    code = fields.CharField(max_length=40, primary_key=True)
    name = fields.CharField(max_length=100)
    unit = fields.CharField(max_length=16)

    class Meta:
        table = "products"


class Benchmark(Model):
    """An allocation benchmark (基准值) in tCO2 per product unit for plans from a compliance year on.

    A row with status other than PUBLISHED has no value: plans of that year on get none, rather
    than the figure of another year."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="benchmarks", on_delete=fields.RESTRICT
    )
    product_id: str
    # The first compliance year it applies to: a plan uses the latest not after its own year.
    compliance_year = fields.IntField()
    value = fields.DecimalField(max_digits=12, decimal_places=6, null=True)
    status = fields.CharEnumField(ReferenceStatus, max_length=16, default=ReferenceStatus.PUBLISHED)
    source = fields.CharField(max_length=300)

    class Meta:
        table = "benchmarks"
        unique_together = (("product", "compliance_year"),)


class EmissionFactor(Model):
    """tCO2 per canonical unit of an energy type from a date on, versioned: a correction adds a row
    with the next version, and every computed emission points at the row it used.

    The fuel parameters are kept where they apply so the derivation can be audited:
    value = net calorific value x carbon content x oxidation rate x 44/12, to 10 decimals.
    A row with status other than PUBLISHED has no value: records of its period get no emissions.
    """

    id = fields.IntField(primary_key=True)
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name="emission_factors", on_delete=fields.RESTRICT
    )
    energy_type_id: str
    # Applies to records whose period (a month, or a day) starts on or after this date.
    effective_from = fields.DateField()
    # "" is national, "44" a province, "4401" a city: the longest matching prefix wins.
    region_prefix = fields.CharField(max_length=6, default="")
    version = fields.IntField(default=1)
    value = fields.DecimalField(max_digits=22, decimal_places=10, null=True)
    status = fields.CharEnumField(ReferenceStatus, max_length=16, default=ReferenceStatus.PUBLISHED)
    unit = fields.CharField(max_length=24)
    net_calorific_value = fields.DecimalField(max_digits=12, decimal_places=4, null=True)  # GJ per unit
    carbon_content = fields.DecimalField(max_digits=12, decimal_places=6, null=True)  # tC per GJ
    oxidation_rate = fields.DecimalField(max_digits=6, decimal_places=4, null=True)  # 0 to 1
    source = fields.CharField(max_length=300)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set when the records it affects have been recomputed: the sweep finishes any left unset.
    applied_at = fields.DatetimeField(null=True)

    class Meta:
        table = "emission_factors"
        unique_together = (("energy_type", "effective_from", "region_prefix", "version"),)
