"""users: the accounts an administrator manages."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import Role
from schema.errors import CodedErrors
from schema.identity.types import User
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.identity import directory


@strawberry.type
class UserDirectoryQueries:
    @strawberry.field(
        extensions=[CodedErrors()],
        permission_classes=AUTHENTICATED,
        description="User accounts, oldest first (administrators; anyone else gets a top-level "
        "PERMISSION_DENIED).",
        graphql_type=Connection[User],
    )
    async def users(
        self,
        info: Info,
        role: Annotated[Role | None, strawberry.argument(description="Only accounts of this role.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.User]:
        query = directory.users_for(actor_of(info), role)
        return await paginate(query, first, after)
