"""Energy-use data (生产管理数据), its emissions, and the monthly aggregates statistics read.

Canonical amounts, tce and emissions are fixed-point integers in millionths (of the
canonical unit, of a tonne of standard coal, of a tonne of CO2): sums in SQL are then
exact on both databases (SQLite keeps decimals as text and would sum them as floats).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import EnergySource

if TYPE_CHECKING:  # imported for annotations only: the models refer to each other
    from models.enterprises import Enterprise
    from models.reference import EmissionFactor, EnergyType


class EnergyRecord(Model):
    """One enterprise's use of one energy type in a month (day 0) or on one day, from one source."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="energy_records", on_delete=fields.RESTRICT
    )
    enterprise_id: int
    year = fields.SmallIntField()
    month = fields.SmallIntField()
    day = fields.SmallIntField(default=0)  # 0: the record covers the whole month
    # No constraint on the type and the factor: reference rows are never deleted and the importer
    # resolves both in its transaction; checking them per row cost a third of the ingest time.
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    energy_type_id: str
    source = fields.CharEnumField(EnergySource, max_length=16)
    quantity = fields.DecimalField(max_digits=24, decimal_places=6)  # as sent, in `unit`
    unit = fields.CharField(max_length=16)
    amount = fields.BigIntField()  # millionths of the type's canonical unit
    tce = fields.BigIntField(null=True)  # millionths of tce; null without a coefficient
    emissions = fields.BigIntField(null=True)  # millionths of tCO2; null when the factor is missing
    factor: fields.ForeignKeyNullableRelation[EmissionFactor] = fields.ForeignKeyField(
        "models.EmissionFactor", null=True, related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    factor_id: int | None
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "energy_records"
        unique_together = (("enterprise", "year", "month", "day", "energy_type", "source"),)


class EnergyMonthly(Model):
    """The sum of an enterprise's records of one type in one month. Rebuilt from the records,
    never edited by hand: statistics read these rows, never the records. No foreign key
    constraints: the records carry them, and checking them again per aggregate row made
    rebuilding several times slower."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    enterprise_id: int
    year = fields.SmallIntField()
    month = fields.SmallIntField()
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    energy_type_id: str
    amount = fields.BigIntField()
    tce = fields.BigIntField()
    emissions = fields.BigIntField()
    records = fields.IntField()
    missing_factors = fields.IntField()  # records without an emission factor
    missing_tce = fields.IntField()  # records without a tce coefficient

    class Meta:
        table = "energy_monthly"
        unique_together = (("enterprise", "year", "month", "energy_type"),)
        indexes = (("year", "month"),)


class EnergyYearly(Model):
    """The same sums per enterprise, year and energy type: a year of the whole country is
    60,000 rows here against 720,000 in energy_monthly, so statistics that need no month read
    these. Rebuilt from energy_monthly with it."""

    id = fields.BigIntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    enterprise_id: int
    year = fields.SmallIntField(db_index=True)
    energy_type: fields.ForeignKeyRelation[EnergyType] = fields.ForeignKeyField(
        "models.EnergyType", related_name=False, on_delete=fields.RESTRICT, db_constraint=False
    )
    energy_type_id: str
    amount = fields.BigIntField()
    tce = fields.BigIntField()
    emissions = fields.BigIntField()
    records = fields.IntField()
    missing_factors = fields.IntField()
    missing_tce = fields.IntField()

    class Meta:
        table = "energy_yearly"
        unique_together = (("enterprise", "year", "energy_type"),)


class StaleMonth(Model):
    """An enterprise-month whose aggregates must be rebuilt. Written in the same transaction
    as the records, so a lost job message loses nothing: the sweep finds what is left."""

    id = fields.BigIntField(primary_key=True)
    enterprise_id = fields.IntField()
    year = fields.SmallIntField()
    month = fields.SmallIntField()

    class Meta:
        table = "stale_months"


class SourcePrecedence(Model):
    """The order of sources: the lowest position's figure counts for an enterprise-month.

    Several sources may send the same enterprise, month and energy type. Set by a regulator
    (setSourcePrecedence), seeded from reference/source_precedence.csv, one row per source."""

    source = fields.CharEnumField(EnergySource, max_length=16, primary_key=True)
    position = fields.SmallIntField()
    updated_by_id = fields.IntField(null=True)  # null: the shipped default
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "source_precedence"
