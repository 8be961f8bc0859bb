from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_source_precedence')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='params',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Message',
            name='text_key',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
