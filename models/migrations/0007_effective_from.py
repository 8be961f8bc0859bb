"""Factors take effect from a date, benchmarks per compliance year, and rows may say there is no value.

Data fixes of shipped figures, which seeding never overwrites (see DEVELOPERS.md, Reference data):
- the purchased-heat factor takes effect on 2026-07-01 by its source, not on 2026-01-01;
- the power benchmarks of the 2023-24 allocation plan were shipped for 2023 but are the 2024 figures;
- fuel factors stored rounded to 6 decimals get a new version with the exact derivation to 10
  decimals (the sweep recomputes the records that used the old one, as after any new version);
- the tce of bituminous coal is 0.80989 (23.736 / 29.3076), not 0.80990: the value is corrected and
  the tce of the records that used it recomputed here.
"""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.enums import ReferenceStatus

HEAT_SOURCE = "GB/T 32150-2025 §7.5.6 (as quoted), effective 2026-07-01"
PLAN_SOURCE = "2023-24 national power allocation plan"
FUELS = "CETS-AG-03.01-V01-2024 Table A.1 defaults"
TCE_SCALE = 10**8
BATCH = 5000


def _derive(ncv: Decimal, carbon: Decimal, oxidation: Decimal) -> Decimal:
    """The same rule as services.energy.factors.derive (models may not import services)."""
    with localcontext() as context:
        context.prec = 60
        return (ncv * carbon * oxidation * 44 / 12).quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP)


class RemoveUniqueTogether(ops.RemoveConstraint):
    """RemoveConstraint for a unique_together made inline by CREATE TABLE: SQLite cannot drop that
    constraint by name, so there the table is remade without it (as its ALTER TABLE advice says)."""

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            await state_editor._remake_table(new_state.apps.get_model(f"{app_label}.{self.model_name}"))  # type: ignore[attr-defined]
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


def _p(postgres: bool, n: int) -> str:
    return f"${n}" if postgres else "?"


async def date_factors(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    rows = await client.execute_query_dict(
        "SELECT id, effective_year, energy_type_id, source FROM emission_factors"
    )
    for row in rows:
        since = date(int(row["effective_year"]), 1, 1)
        if row["energy_type_id"] == "PURCHASED_HEAT" and row["source"] == HEAT_SOURCE:
            since = date(2026, 7, 1)
        await client.execute_query(
            f"UPDATE emission_factors SET effective_from = {_p(postgres, 1)} WHERE id = {_p(postgres, 2)}",
            [since, row["id"]],
        )


async def fix_shipped_figures(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    def p(n: int) -> str:
        return _p(postgres, n)

    # The 2023-24 plan's benchmarks are its 2024 figures (DOMAIN.md), shipped as 2023.
    for row in await client.execute_query_dict(
        "SELECT id, source FROM benchmarks WHERE compliance_year = 2023"
    ):
        if str(row["source"]).startswith(PLAN_SOURCE):
            await client.execute_query(
                f"UPDATE benchmarks SET compliance_year = 2024, source = {p(1)} WHERE id = {p(2)}",
                [
                    str(row["source"]).replace(
                        PLAN_SOURCE, "2023-24 national power allocation plan, 2024 figure"
                    ),
                    row["id"],
                ],
            )
    # One parameter set, one value: a new version where the latest is not the exact derivation.
    factors = await client.execute_query_dict(
        "SELECT id, energy_type_id, effective_from, region_prefix, version, value, unit, net_calorific_value,"
        " carbon_content, oxidation_rate, source FROM emission_factors"
        " WHERE net_calorific_value IS NOT NULL AND carbon_content IS NOT NULL AND oxidation_rate IS NOT NULL"
        " ORDER BY energy_type_id, effective_from, region_prefix, version"
    )
    latest = {(f["energy_type_id"], str(f["effective_from"]), f["region_prefix"]): f for f in factors}
    now = datetime.now(UTC)
    for factor in latest.values():
        exact = _derive(
            *(Decimal(str(factor[k])) for k in ("net_calorific_value", "carbon_content", "oxidation_rate"))
        )
        if Decimal(str(factor["value"])) == exact:
            continue
        source = f"{factor['source']} (to 10 decimals, migration 0007)"[:300]
        await client.execute_query(
            "INSERT INTO emission_factors (energy_type_id, effective_from, region_prefix, version, value, status, unit,"
            " net_calorific_value, carbon_content, oxidation_rate, source, created_at)"
            f" VALUES ({', '.join(p(i) for i in range(1, 13))})",
            [
                factor["energy_type_id"], factor["effective_from"], factor["region_prefix"], factor["version"] + 1,
                exact, ReferenceStatus.PUBLISHED.value, factor["unit"], factor["net_calorific_value"],
                factor["carbon_content"], factor["oxidation_rate"], source, now,
            ],
        )  # fmt: skip
    # The tce of bituminous coal: 23.736 GJ/t / 29.3076 GJ/tce = 0.809892... -> 0.80989.
    coal = await client.execute_query_dict(
        "SELECT id, value FROM tce_coefficients WHERE energy_type_id = 'BITUMINOUS_COAL' AND effective_year = 2020"
    )
    wrong = [row for row in coal if Decimal(str(row["value"])) == Decimal("0.8099")]
    if not wrong:
        return
    await client.execute_query(
        f"UPDATE tce_coefficients SET value = {p(1)}, source = {p(2)} WHERE id = {p(3)}",
        [
            Decimal("0.80989"),
            "Derived: NCV 23.736 GJ/t (CETS-AG-03.01-V01-2024 Table A.1) / 29.3076 GJ/tce = 0.809892, to 5 decimals"
            " (0.80990 until migration 0007)",
            wrong[0]["id"],
        ],
    )
    scaled = int(Decimal("0.80989") * TCE_SCALE)
    after = 0
    while True:
        batch = await client.execute_query_dict(
            f"SELECT id, enterprise_id, year, month, amount FROM energy_records WHERE energy_type_id = 'BITUMINOUS_COAL'"
            f" AND id > {p(1)} ORDER BY id LIMIT {BATCH}",
            [after],
        )
        if not batch:
            return
        after = batch[-1]["id"]
        for record in batch:
            tce = (int(record["amount"]) * scaled + TCE_SCALE // 2) // TCE_SCALE
            await client.execute_query(
                f"UPDATE energy_records SET tce = {p(1)} WHERE id = {p(2)}", [tce, record["id"]]
            )
        for key in {(r["enterprise_id"], r["year"], r["month"]) for r in batch}:
            await client.execute_query(
                f"INSERT INTO stale_months (enterprise_id, year, month) VALUES ({p(1)}, {p(2)}, {p(3)})",
                list(key),
            )


class Migration(migrations.Migration):
    dependencies = [("models", "0006_region_statistics")]

    initial = False

    operations = [
        RemoveUniqueTogether(
            model_name="Benchmark",
            name=None,
            fields=["product", "effective_year"],
        ),
        ops.AlterModelOptions(
            name="Benchmark",
            options={
                "table": "benchmarks",
                "app": "models",
                "unique_together": (("product", "compliance_year"),),
                "pk_attr": "id",
                "table_description": "An allocation benchmark (基准值) in tCO2 per product unit for plans from a compliance year on.",
            },
        ),
        ops.RenameField(
            model_name="Benchmark",
            old_name="effective_year",
            new_name="compliance_year",
        ),
        ops.AlterField(
            model_name="Benchmark",
            name="value",
            field=fields.DecimalField(null=True, max_digits=12, decimal_places=6),
        ),
        ops.AddField(
            model_name="Benchmark",
            name="status",
            field=fields.CharEnumField(
                default=ReferenceStatus.PUBLISHED,
                description="PUBLISHED: PUBLISHED\nNONE_PUBLISHED: NONE_PUBLISHED\nNOT_FOUND: NOT_FOUND",
                enum_type=ReferenceStatus,
                max_length=16,
            ),
        ),
        ops.AddConstraint(
            model_name="Benchmark",
            constraint=UniqueConstraint(fields=("product", "compliance_year"), name=None),
        ),
        RemoveUniqueTogether(
            model_name="EmissionFactor",
            name=None,
            fields=["energy_type", "effective_year", "region_prefix", "version"],
        ),
        ops.AlterModelOptions(
            name="EmissionFactor",
            options={
                "table": "emission_factors",
                "app": "models",
                "unique_together": (("energy_type", "effective_from", "region_prefix", "version"),),
                "pk_attr": "id",
                "table_description": "tCO2 per canonical unit of an energy type from a date on, versioned: a correction adds a row",
            },
        ),
        ops.AlterField(
            model_name="EmissionFactor",
            name="value",
            field=fields.DecimalField(null=True, max_digits=22, decimal_places=10),
        ),
        ops.AddField(
            model_name="EmissionFactor",
            name="effective_from",
            field=fields.DateField(null=True),
        ),
        ops.RunPython(date_factors, ops.RunPython.noop),
        ops.AlterField(
            model_name="EmissionFactor",
            name="effective_from",
            field=fields.DateField(),
        ),
        ops.AddField(
            model_name="EmissionFactor",
            name="status",
            field=fields.CharEnumField(
                default=ReferenceStatus.PUBLISHED,
                description="PUBLISHED: PUBLISHED\nNONE_PUBLISHED: NONE_PUBLISHED\nNOT_FOUND: NOT_FOUND",
                enum_type=ReferenceStatus,
                max_length=16,
            ),
        ),
        ops.RemoveField(model_name="EmissionFactor", name="effective_year"),
        ops.AddConstraint(
            model_name="EmissionFactor",
            constraint=UniqueConstraint(
                fields=("energy_type", "effective_from", "region_prefix", "version"), name=None
            ),
        ),
        ops.RunPython(fix_shipped_figures, ops.RunPython.noop),
    ]
