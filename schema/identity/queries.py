from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.identity.types import User
from schema.permissions import SIGNED_IN


@strawberry.type
class IdentityQueries:
    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="The signed-in user (also for a session that must change its password first).",
        graphql_type=User,
    )
    async def me(self, info: Info) -> models.User:
        user: models.User | None = info.context.user
        actor = actor_of(info)
        if user is not None and user.id == actor.user_id:
            return user
        return await models.User.get(id=actor.user_id)
