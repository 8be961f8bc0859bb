"""One value per enterprise, month and energy type: the regulator's order of sources.

The aggregates built before this migration added up every record of a month, so a month sent by
two sources, or as a monthly figure and day readings, was counted twice. Every such
enterprise-month is marked stale here; the sweep (or `ccms rebuild-aggregates`) rebuilds it
with the effective value. The order itself is seeded from reference/source_precedence.csv
after the migration, as all reference data.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.enums import EnergySource


async def mark_counted_twice(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script(
        "INSERT INTO stale_months (enterprise_id, year, month) "
        "SELECT DISTINCT enterprise_id, year, month FROM energy_records "
        "GROUP BY enterprise_id, year, month, energy_type_id HAVING COUNT(*) > 1"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0008_account_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SourcePrecedence',
            fields=[
                ('source', fields.CharEnumField(primary_key=True, unique=True, db_index=True, description='MANUAL: MANUAL\nIMPORT: IMPORT\nIOT: IOT\nPLATFORM: PLATFORM', enum_type=EnergySource, max_length=16)),
                ('position', fields.SmallIntField()),
                ('updated_by_id', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'source_precedence', 'app': 'models', 'pk_attr': 'source', 'table_description': "The order of sources: the lowest position's figure counts for an enterprise-month."},
            bases=['Model'],
        ),
        ops.RunPython(mark_counted_twice, ops.RunPython.noop),
    ]
