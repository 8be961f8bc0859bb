from tortoise import fields
from tortoise.models import Model

from models.enums import Sector


class Enterprise(Model):
    """A covered emitter (控排企业)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    credit_code = fields.CharField(max_length=18, unique=True)
    region_code = fields.CharField(max_length=6, db_index=True)
    industry_code = fields.CharField(max_length=5)
    sector = fields.CharEnumField(Sector, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "enterprises"
