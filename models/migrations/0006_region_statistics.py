from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

# Statistics group by the province and city of a region code (its first 2 and 4 digits).
# Without statistics on those expressions PostgreSQL guesses 200 groups where there are 31,
# sorts instead of hashing, and a page grouped by province took about 20 % longer. Expression
# statistics exist from PostgreSQL 14; older servers just go without.


async def create_region_statistics(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    version = await client.execute_query_dict("SELECT current_setting('server_version_num')::int AS v")
    if version[0]["v"] < 140000:
        return
    await client.execute_script(
        "CREATE STATISTICS IF NOT EXISTS enterprises_region_prefixes"
        " ON (substr(region_code, 1, 2)), (substr(region_code, 1, 4)) FROM enterprises; ANALYZE enterprises"
    )


async def drop_region_statistics(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if schema_editor.client.capabilities.dialect == "postgres":
        await schema_editor.client.execute_script("DROP STATISTICS IF EXISTS enterprises_region_prefixes")


class Migration(migrations.Migration):
    dependencies = [("models", "0005_covering_indexes")]

    initial = False

    operations = [
        ops.RunPython(create_region_statistics, drop_region_statistics),
    ]
