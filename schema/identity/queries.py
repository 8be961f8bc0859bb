from __future__ import annotations

import strawberry
from strawberry.types import Info

from models import User as UserModel
from schema.context import actor_of
from schema.identity.types import User
from schema.permissions import AUTHENTICATED


@strawberry.type
class IdentityQueries:
    @strawberry.field(permission_classes=AUTHENTICATED, description="The signed-in user.")
    async def me(self, info: Info) -> User:
        return await UserModel.get(id=actor_of(info).user_id)
