from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.alarms.types import Alarm
from schema.context import actor_of
from schema.errors import Payload, mutation, parse_id
from schema.permissions import AUTHENTICATED
from services.compliance import alarms


@strawberry.type(description="Result of resolveAlarm.")
class AlarmPayload(Payload):
    alarm: models.Alarm | None = strawberry.field(
        default=None, graphql_type=Alarm | None, description="The alarm, on success."
    )


@strawberry.type
class AlarmMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description="Close an alarm with a note (regulator in scope); resolving twice gives ALARM_ALREADY_RESOLVED.",
    )
    async def resolve_alarm(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The alarm.")],
        note: Annotated[str, strawberry.argument(description="What was done about it.")],
    ) -> AlarmPayload:
        alarm = await alarms.resolve_alarm(actor_of(info), parse_id(id, "id", "Alarm"), note)
        return AlarmPayload(alarm=alarm)
