from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.identity.types import User
from schema.permissions import AUTHENTICATED


@strawberry.type
class IdentityQueries:
    @strawberry.field(permission_classes=AUTHENTICATED, description="The signed-in user.", graphql_type=User)
    async def me(self, info: Info) -> models.User:
        return await models.User.get(id=actor_of(info).user_id)
