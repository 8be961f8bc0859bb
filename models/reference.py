from tortoise import fields
from tortoise.models import Model


class EnergyType(Model):
    """An energy carrier (electricity, natural gas, diesel...) and the unit it is kept in."""

    code = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=100)
    # e.g. MWh, 1e4Nm3, t, GJ: quantities are stored converted to this unit
    canonical_unit = fields.CharField(max_length=16)

    class Meta:
        table = "energy_types"


class TceCoefficient(Model):
    """Tonnes of standard coal equivalent per canonical unit, versioned by effective year."""

    id = fields.IntField(primary_key=True)
    energy_type: fields.ForeignKeyRelation = fields.ForeignKeyField(
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
    """An allocation benchmark (基准值) in tCO2 per product unit, versioned by effective year."""

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Product", related_name="benchmarks", on_delete=fields.RESTRICT
    )
    product_id: str
    effective_year = fields.IntField()
    value = fields.DecimalField(max_digits=12, decimal_places=6)
    source = fields.CharField(max_length=300)

    class Meta:
        table = "benchmarks"
        unique_together = (("product", "effective_year"),)
