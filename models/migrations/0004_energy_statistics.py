from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps
from models.enums import EnergySource, TokenScope
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Tortoise 1.1.9's schema editor ignores db_constraint=False and creates the foreign keys anyway.
# On PostgreSQL drop the ones the models leave out (each was checked per row: half the cost of
# rebuilding aggregates). SQLite cannot drop a constraint; there it only costs time.
WITHOUT_CONSTRAINTS = {
    "energy_monthly": ("enterprise_id", "energy_type_id"),
    "energy_yearly": ("enterprise_id", "energy_type_id"),
    "energy_records": ("energy_type_id", "factor_id"),
}


async def drop_unwanted_foreign_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if schema_editor.client.capabilities.dialect != "postgres":
        return
    for table, columns in WITHOUT_CONSTRAINTS.items():
        for column in columns:
            await schema_editor.client.execute_script(
                f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{table}_{column}_fkey"'
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0003_allocation_history')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('scope', fields.CharEnumField(description='EXPORT: EXPORT\nINGEST: INGEST', enum_type=TokenScope, max_length=16)),
                ('prefix', fields.CharField(max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A long-lived token for a machine (a BI tool, a meter gateway) acting for its user, with the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmissionFactor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=True, to_field='code', related_name='emission_factors', on_delete=OnDelete.RESTRICT)),
                ('effective_year', fields.IntField()),
                ('region_prefix', fields.CharField(default='', max_length=6)),
                ('version', fields.IntField(default=1)),
                ('value', fields.DecimalField(max_digits=16, decimal_places=8)),
                ('unit', fields.CharField(max_length=24)),
                ('net_calorific_value', fields.DecimalField(null=True, max_digits=12, decimal_places=4)),
                ('carbon_content', fields.DecimalField(null=True, max_digits=12, decimal_places=6)),
                ('oxidation_rate', fields.DecimalField(null=True, max_digits=6, decimal_places=4)),
                ('source', fields.CharField(max_length=300)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'emission_factors', 'app': 'models', 'unique_together': (('energy_type', 'effective_year', 'region_prefix', 'version'),), 'pk_attr': 'id', 'table_description': 'tCO2 per canonical unit of an energy type, versioned: a correction adds a row with the next'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnergyMonthly',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=False, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('year', fields.SmallIntField()),
                ('month', fields.SmallIntField()),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=False, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('tce', fields.BigIntField()),
                ('emissions', fields.BigIntField()),
                ('records', fields.IntField()),
                ('missing_factors', fields.IntField()),
                ('missing_tce', fields.IntField()),
            ],
            options={'table': 'energy_monthly', 'app': 'models', 'unique_together': (('enterprise', 'year', 'month', 'energy_type'),), 'indexes': [Index(fields=['year', 'month'])], 'pk_attr': 'id', 'table_description': "The sum of an enterprise's records of one type in one month. Rebuilt from the records,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnergyRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='energy_records', on_delete=OnDelete.RESTRICT)),
                ('year', fields.SmallIntField()),
                ('month', fields.SmallIntField()),
                ('day', fields.SmallIntField(default=0)),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=False, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('source', fields.CharEnumField(description='MANUAL: MANUAL\nIMPORT: IMPORT\nIOT: IOT\nPLATFORM: PLATFORM', enum_type=EnergySource, max_length=16)),
                ('quantity', fields.DecimalField(max_digits=24, decimal_places=6)),
                ('unit', fields.CharField(max_length=16)),
                ('amount', fields.BigIntField()),
                ('tce', fields.BigIntField(null=True)),
                ('emissions', fields.BigIntField(null=True)),
                ('factor', fields.ForeignKeyField('models.EmissionFactor', source_field='factor_id', null=True, db_constraint=False, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'energy_records', 'app': 'models', 'unique_together': (('enterprise', 'year', 'month', 'day', 'energy_type', 'source'),), 'pk_attr': 'id', 'table_description': "One enterprise's use of one energy type in a month (day 0) or on one day, from one source."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnergyYearly',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=False, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('year', fields.SmallIntField(db_index=True)),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=False, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('tce', fields.BigIntField()),
                ('emissions', fields.BigIntField()),
                ('records', fields.IntField()),
                ('missing_factors', fields.IntField()),
                ('missing_tce', fields.IntField()),
            ],
            options={'table': 'energy_yearly', 'app': 'models', 'unique_together': (('enterprise', 'year', 'energy_type'),), 'pk_attr': 'id', 'table_description': 'The same sums per enterprise, year and energy type: a year of the whole country is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaleMonth',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise_id', fields.IntField()),
                ('year', fields.SmallIntField()),
                ('month', fields.SmallIntField()),
            ],
            options={'table': 'stale_months', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An enterprise-month whose aggregates must be rebuilt. Written in the same transaction'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='EnergyType',
            name='emits',
            field=fields.BooleanField(default=True),
        ),
        ops.RunPython(drop_unwanted_foreign_keys, ops.RunPython.noop),
    ]
