from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

# Statistics read a year of energy_monthly (720,000 rows for 10,000 enterprises) or of
# energy_yearly. With every column they sum in the index, PostgreSQL answers from the index
# alone, in parallel, reading a tenth of what a scan of the table reads. Tortoise cannot declare
# INCLUDE columns, so the indexes are made here, on PostgreSQL only (SQLite has no INCLUDE; its
# databases are small).
INDEXES = {
    "energy_monthly_covering": "energy_monthly (year, month, energy_type_id)",
    "energy_yearly_covering": "energy_yearly (year, energy_type_id)",
}
SUMMED = "enterprise_id, amount, tce, emissions, missing_factors"


async def create_covering_indexes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name, columns in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE INDEX IF NOT EXISTS {name} ON {columns} INCLUDE ({SUMMED})")


async def drop_covering_indexes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0004_energy_statistics")]

    initial = False

    operations = [
        ops.RunPython(create_covering_indexes, drop_covering_indexes),
    ]
