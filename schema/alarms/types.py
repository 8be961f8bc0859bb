from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

import models
from schema.compliance.types import Notice
from schema.enterprises.types import Enterprise
from schema.enums import AlarmKind, AlarmStatus


@strawberry.type(
    description="An alarm for regulators (报警), raised once per notice (or verification) and kind."
)
class Alarm:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    kind: AlarmKind = strawberry.field(description="What went wrong.")
    status: AlarmStatus = strawberry.field(description="OPEN or RESOLVED.")
    due_at: datetime = strawberry.field(description="When the acknowledgement or fulfilment was due.")
    raised_at: datetime = strawberry.field(description="When the alarm was raised.")
    acknowledged_late_at: datetime | None = strawberry.field(
        description="For ACK_OVERDUE: when the enterprise did acknowledge, late; null while it has not."
    )
    resolved_at: datetime | None = strawberry.field(description="When a regulator resolved it.")
    resolution_note: str | None = strawberry.field(description="The resolving regulator's note.")

    @classmethod
    def is_type_of(cls, obj: object, info: Info) -> bool:
        # Resolvers return Tortoise rows; unions need to know which GraphQL type a row is.
        return isinstance(obj, models.Alarm | cls)

    @strawberry.field(
        description="The notice concerned; null for a VERIFICATION_OVERDUE alarm.", graphql_type=Notice | None
    )
    async def notice(self, root: strawberry.Parent[models.Alarm], info: Info) -> models.Notice | None:
        if root.notice_id is None:
            return None
        return await info.context.loaders.notice_by_id.load(root.notice_id)

    @strawberry.field(description="The verification concerned, for VERIFICATION_OVERDUE.")
    def verification_id(self, root: strawberry.Parent[models.Alarm]) -> strawberry.ID | None:
        return strawberry.ID(str(root.verification_id)) if root.verification_id else None

    @strawberry.field(description="The enterprise concerned.", graphql_type=Enterprise)
    async def enterprise(self, root: strawberry.Parent[models.Alarm], info: Info) -> models.Enterprise:
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)

    @strawberry.field(description="Username of the regulator who resolved it.")
    async def resolved_by(self, root: strawberry.Parent[models.Alarm], info: Info) -> str | None:
        if root.resolved_by_id is None:
            return None
        return await info.context.loaders.username_by_id.load(root.resolved_by_id)
