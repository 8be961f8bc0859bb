from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.alarms.types import Alarm
from schema.context import actor_of
from schema.enums import AlarmKind, AlarmStatus
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.compliance import alarms


@strawberry.type
class AlarmQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Alarms of your region, newest first (regulators; admins see all; enterprises none).",
        graphql_type=Connection[Alarm],
    )
    async def alarms(
        self,
        info: Info,
        status: Annotated[
            AlarmStatus | None, strawberry.argument(description="Only OPEN or RESOLVED.")
        ] = None,
        kind: Annotated[AlarmKind | None, strawberry.argument(description="Only this kind.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.Alarm]:
        query = alarms.alarms_for(actor_of(info), alarms.AlarmFilter(status=status, kind=kind))
        return await paginate(query, first, after, newest_first=True)
