from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import AlarmKind, AlarmStatus, MessageKind, ReminderKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Alarm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='ACK_OVERDUE: ACK_OVERDUE\nNOTICE_OVERDUE: NOTICE_OVERDUE', enum_type=AlarmKind, max_length=24)),
                ('status', fields.CharEnumField(default=AlarmStatus.OPEN, description='OPEN: OPEN\nRESOLVED: RESOLVED', enum_type=AlarmStatus, max_length=16)),
                ('notice', fields.ForeignKeyField('models.Notice', source_field='notice_id', db_constraint=True, to_field='id', related_name='alarms', on_delete=OnDelete.RESTRICT)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='alarms', on_delete=OnDelete.RESTRICT)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledged_late_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('models.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('resolution_note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'alarms', 'app': 'models', 'unique_together': (('notice', 'kind'),), 'indexes': [Index(fields=['status', 'raised_at'])], 'pk_attr': 'id', 'table_description': 'Raised once per notice and kind (the unique key makes duplicate checks harmless).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notice', fields.ForeignKeyField('models.Notice', source_field='notice_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='DAYS_7: DAYS_7\nDAYS_1: DAYS_1', enum_type=ReminderKind, max_length=16)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reminders', 'app': 'models', 'unique_together': (('notice', 'kind'),), 'pk_attr': 'id', 'table_description': 'A deadline reminder sent to the enterprise, at most once per notice and kind.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alarm', fields.ForeignKeyField('models.Alarm', source_field='alarm_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('attempt', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('succeeded', fields.BooleanField()),
            ],
            options={'table': 'webhook_deliveries', 'app': 'models', 'unique_together': (('alarm', 'attempt'),), 'pk_attr': 'id', 'table_description': 'One attempt to POST an alarm to the configured webhook.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Message',
            options={'table': 'messages', 'app': 'models', 'indexes': [Index(fields=['enterprise_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'An inbox message for an enterprise, or for the regulators covering regulator_region.'},
        ),
        ops.AlterField(
            model_name='Message',
            name='enterprise',
            field=fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Message',
            name='kind',
            field=fields.CharEnumField(description='ALLOWANCE: ALLOWANCE\nNOTICE: NOTICE\nREVIEW_RESULT: REVIEW_RESULT\nDEADLINE_EXTENDED: DEADLINE_EXTENDED\nDEADLINE_REMINDER: DEADLINE_REMINDER\nOVERDUE: OVERDUE\nALARM: ALARM', enum_type=MessageKind, max_length=24),
        ),
        ops.AddField(
            model_name='Message',
            name='regulator_region',
            field=fields.CharField(null=True, db_index=True, max_length=6),
        ),
        ops.AddField(
            model_name='Notice',
            name='ack_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
