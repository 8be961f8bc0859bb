from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.enums import AlarmKind, FindingSeverity, MessageKind, Role, VerificationOpinion, VerificationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps


# SQLite cannot drop NOT NULL from alarms.notice_id: Tortoise 1.1.9 rebuilds the table, and the
# rebuilt table loses the (notice, kind) unique key and the (status, raised_at) index. Put them
# back under their old names: the unique key is what makes an alarm raised exactly once.
async def restore_alarm_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    await schema_editor.client.execute_script(
        'CREATE UNIQUE INDEX IF NOT EXISTS "uid_alarms_notice__b35a43" ON "alarms" ("notice_id", "kind");'
        'CREATE INDEX IF NOT EXISTS "idx_alarms_status_af1155" ON "alarms" ("status", "raised_at");'
    )

class Migration(migrations.Migration):
    dependencies = [('models', '0010_message_texts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='VerificationBody',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('credit_code', fields.CharField(unique=True, max_length=18)),
                ('accreditation_number', fields.CharField(max_length=64)),
                ('sectors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'verification_bodies', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A third-party verification body (第三方核查机构), accredited for some ETS sectors.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Verification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='verifications', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('body', fields.ForeignKeyField('models.VerificationBody', source_field='body_id', db_constraint=True, to_field='id', related_name='verifications', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=VerificationStatus.ASSIGNED, description='ASSIGNED: ASSIGNED\nREPORT_SUBMITTED: REPORT_SUBMITTED\nFINDINGS_RAISED: FINDINGS_RAISED\nCONCLUDED: CONCLUDED', enum_type=VerificationStatus, max_length=24)),
                ('version', fields.IntField(default=1)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('assigned_by', fields.ForeignKeyField('models.User', source_field='assigned_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('assigned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reported_emissions', fields.BigIntField(null=True)),
                ('computed_emissions', fields.BigIntField(null=True)),
                ('records_without_factor', fields.IntField(default=0)),
                ('report', fields.ForeignKeyField('models.Document', source_field='report_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submissions', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'verifications', 'app': 'models', 'unique_together': (('enterprise', 'year'),), 'indexes': [Index(fields=['status', 'due_at'])], 'pk_attr': 'id', 'table_description': "One enterprise-year's verification, by the body currently assigned."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationConclusion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('verification', fields.ForeignKeyField('models.Verification', source_field='verification_id', db_constraint=True, to_field='id', related_name='conclusions', on_delete=OnDelete.RESTRICT)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('body', fields.ForeignKeyField('models.VerificationBody', source_field='body_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('verified_emissions', fields.BigIntField()),
                ('opinion', fields.CharEnumField(description='UNQUALIFIED: UNQUALIFIED\nQUALIFIED: QUALIFIED\nADVERSE: ADVERSE', enum_type=VerificationOpinion, max_length=16)),
                ('report', fields.ForeignKeyField('models.Document', source_field='report_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_sha256', fields.CharField(max_length=64)),
                ('issued_by', fields.ForeignKeyField('models.User', source_field='issued_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('supersedes', fields.ForeignKeyField('models.VerificationConclusion', source_field='supersedes_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.NO_ACTION)),
                ('correction_reason', fields.TextField(null=True, unique=False)),
                ('sequence', fields.IntField()),
            ],
            options={'table': 'verification_conclusions', 'app': 'models', 'unique_together': (('verification', 'sequence'),), 'pk_attr': 'id', 'table_description': "A verifier's conclusion (核查结论). Never updated: a correction is a new row that supersedes it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationConflict',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('body', fields.ForeignKeyField('models.VerificationBody', source_field='body_id', db_constraint=True, to_field='id', related_name='conflicts', on_delete=OnDelete.RESTRICT)),
                ('enterprise', fields.ForeignKeyField('models.Enterprise', source_field='enterprise_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(unique=False)),
                ('declared_by', fields.ForeignKeyField('models.User', source_field='declared_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('declared_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'verification_conflicts', 'app': 'models', 'unique_together': (('body', 'enterprise'),), 'pk_attr': 'id', 'table_description': 'A conflict of interest a body declared with an enterprise: no assignment may follow.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationFinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('verification', fields.ForeignKeyField('models.Verification', source_field='verification_id', db_constraint=True, to_field='id', related_name='findings', on_delete=OnDelete.RESTRICT)),
                ('severity', fields.CharEnumField(description='OBSERVATION: OBSERVATION\nMINOR: MINOR\nMAJOR: MAJOR', enum_type=FindingSeverity, max_length=16)),
                ('text', fields.TextField(unique=False)),
                ('suggestion', fields.TextField(default='', unique=False)),
                ('raised_by', fields.ForeignKeyField('models.User', source_field='raised_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answer', fields.TextField(null=True, unique=False)),
                ('answered_by', fields.ForeignKeyField('models.User', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'verification_findings', 'app': 'models', 'pk_attr': 'id', 'table_description': "A verifier's finding with its reduction suggestion (减排建议), and the enterprise's answer."},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Alarm',
            options={'table': 'alarms', 'app': 'models', 'unique_together': (('notice', 'kind'), ('verification', 'kind')), 'indexes': [Index(fields=['status', 'raised_at'])], 'pk_attr': 'id', 'table_description': 'Raised once per notice, or verification, and kind (the unique keys make duplicate checks harmless).'},
        ),
        ops.AlterField(
            model_name='Alarm',
            name='kind',
            field=fields.CharEnumField(description='ACK_OVERDUE: ACK_OVERDUE\nNOTICE_OVERDUE: NOTICE_OVERDUE\nVERIFICATION_OVERDUE: VERIFICATION_OVERDUE', enum_type=AlarmKind, max_length=24),
        ),
        ops.AlterField(
            model_name='Alarm',
            name='notice',
            field=fields.ForeignKeyField('models.Notice', source_field='notice_id', null=True, db_constraint=True, to_field='id', related_name='alarms', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Alarm',
            name='verification',
            field=fields.ForeignKeyField('models.Verification', source_field='verification_id', null=True, db_constraint=True, to_field='id', related_name='alarms', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddConstraint(
            model_name='Alarm',
            constraint=UniqueConstraint(fields=('verification', 'kind'), name=None),
        ),
        ops.AddField(
            model_name='Application',
            name='conclusion',
            field=fields.ForeignKeyField('models.VerificationConclusion', source_field='conclusion_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='verification',
            field=fields.ForeignKeyField('models.Verification', source_field='verification_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Message',
            name='kind',
            field=fields.CharEnumField(description='ALLOWANCE: ALLOWANCE\nNOTICE: NOTICE\nREVIEW_RESULT: REVIEW_RESULT\nDEADLINE_EXTENDED: DEADLINE_EXTENDED\nDEADLINE_REMINDER: DEADLINE_REMINDER\nOVERDUE: OVERDUE\nALARM: ALARM\nVERIFICATION: VERIFICATION', enum_type=MessageKind, max_length=24),
        ),
        ops.AddField(
            model_name='Message',
            name='verification',
            field=fields.ForeignKeyField('models.Verification', source_field='verification_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Message',
            name='verification_body',
            field=fields.ForeignKeyField('models.VerificationBody', source_field='verification_body_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Notice',
            name='require_verification',
            field=fields.BooleanField(default=False),
        ),
        ops.AlterField(
            model_name='User',
            name='role',
            field=fields.CharEnumField(description='ADMIN: ADMIN\nREGULATOR: REGULATOR\nENTERPRISE: ENTERPRISE\nVERIFIER: VERIFIER', enum_type=Role, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='verification_body',
            field=fields.ForeignKeyField('models.VerificationBody', source_field='verification_body_id', null=True, db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.RESTRICT),
        ),
        ops.RunPython(restore_alarm_keys, ops.RunPython.noop),
    ]
