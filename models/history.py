from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.enterprises import Enterprise
    from models.reference import EnergyType, Product


class HistoricalEnergy(Model):
    """An enterprise's energy use in a past year (历史数据集), in the type's canonical unit."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="historical_energy", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name=False, on_delete=fields.RESTRICT
    )
    energy_type_id: str
    quantity = fields.DecimalField(max_digits=20, decimal_places=6)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "historical_energy"
        unique_together = (("enterprise", "year", "energy_type"),)
        indexes = (("year", "energy_type_id"),)


class HistoricalEmission(Model):
    """An enterprise's verified emissions in a past year, in tonnes of CO2."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="historical_emissions", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField(db_index=True)
    verified_emissions = fields.BigIntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "historical_emissions"
        unique_together = (("enterprise", "year"),)


class HistoricalOutput(Model):
    """An enterprise's production output in a past year, in the product's unit."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="historical_outputs", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.IntField()
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.RESTRICT
    )
    product_id: str
    quantity = fields.DecimalField(max_digits=20, decimal_places=6)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "historical_outputs"
        unique_together = (("enterprise", "year", "product"),)
