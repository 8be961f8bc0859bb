from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AllocationRule, PlanStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_live_updates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AllocationPlan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.IntField()),
                ('rule', fields.CharEnumField(description='HISTORICAL_EMISSIONS: HISTORICAL_EMISSIONS\nBENCHMARK: BENCHMARK\nENERGY_PROPORTIONAL: ENERGY_PROPORTIONAL\nEQUAL: EQUAL\nDIRECT: DIRECT', enum_type=AllocationRule, max_length=24)),
                ('status', fields.CharEnumField(default=PlanStatus.DRAFT, description='DRAFT: DRAFT\nCOMMITTED: COMMITTED\nSUPERSEDED: SUPERSEDED', enum_type=PlanStatus, max_length=16)),
                ('total', fields.BigIntField(null=True)),
                ('allocated', fields.BigIntField()),
                ('scale_factor', fields.DecimalField(null=True, max_digits=20, decimal_places=12)),
                ('scope', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('parameters', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('manual', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('committed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('superseded_by', fields.ForeignKeyField('models.AllocationPlan', source_field='superseded_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'allocation_plans', 'app': 'models', 'indexes': [Index(fields=['year', 'status'])], 'pk_attr': 'id', 'table_description': "A year's allocation: the rule, its parameters and scope, and (lines) the result."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AllocationLine',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.AllocationPlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('basis', fields.DecimalField(max_digits=24, decimal_places=6)),
            ],
            options={'table': 'allocation_lines', 'app': 'models', 'unique_together': (('plan', 'enterprise'),), 'pk_attr': 'id', 'table_description': "One enterprise's allowance in a plan, with the basis the rule shared by."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EnergyType',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('name', fields.CharField(max_length=100)),
                ('canonical_unit', fields.CharField(max_length=16)),
            ],
            options={'table': 'energy_types', 'app': 'models', 'pk_attr': 'code', 'table_description': 'An energy carrier (electricity, natural gas, diesel...) and the unit it is kept in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HistoricalEmission',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='historical_emissions', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField(db_index=True)),
                ('verified_emissions', fields.BigIntField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'historical_emissions', 'app': 'models', 'unique_together': (('enterprise', 'year'),), 'pk_attr': 'id', 'table_description': "An enterprise's verified emissions in a past year, in tonnes of CO2."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HistoricalEnergy',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='historical_energy', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.DecimalField(max_digits=20, decimal_places=6)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'historical_energy', 'app': 'models', 'unique_together': (('enterprise', 'year', 'energy_type'),), 'indexes': [Index(fields=['year', 'energy_type_id'])], 'pk_attr': 'id', 'table_description': "An enterprise's energy use in a past year (历史数据集), in the type's canonical unit."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('name', fields.CharField(max_length=100)),
                ('unit', fields.CharField(max_length=16)),
            ],
            options={'table': 'products', 'app': 'models', 'pk_attr': 'code', 'table_description': 'A production output allocation can be based on (MWh generated, GJ of heat supplied...).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Benchmark',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='code', related_name='benchmarks', on_delete=OnDelete.RESTRICT)),
                ('effective_year', fields.IntField()),
                ('value', fields.DecimalField(max_digits=12, decimal_places=6)),
                ('source', fields.CharField(max_length=300)),
            ],
            options={'table': 'benchmarks', 'app': 'models', 'unique_together': (('product', 'effective_year'),), 'pk_attr': 'id', 'table_description': 'An allocation benchmark (基准值) in tCO2 per product unit, versioned by effective year.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HistoricalOutput',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='historical_outputs', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.DecimalField(max_digits=20, decimal_places=6)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'historical_outputs', 'app': 'models', 'unique_together': (('enterprise', 'year', 'product'),), 'pk_attr': 'id', 'table_description': "An enterprise's production output in a past year, in the product's unit."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TceCoefficient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('energy_type', fields.ForeignKeyField('models.EnergyType', source_field='energy_type_id', db_constraint=True, to_field='code', related_name='tce_coefficients', on_delete=OnDelete.RESTRICT)),
                ('effective_year', fields.IntField()),
                ('value', fields.DecimalField(max_digits=14, decimal_places=8)),
                ('source', fields.CharField(max_length=300)),
            ],
            options={'table': 'tce_coefficients', 'app': 'models', 'unique_together': (('energy_type', 'effective_year'),), 'pk_attr': 'id', 'table_description': 'Tonnes of standard coal equivalent per canonical unit, versioned by effective year.'},
            bases=['Model'],
        ),
    ]
