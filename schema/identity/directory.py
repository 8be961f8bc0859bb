"""users: the accounts an administrator manages."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from schema.context import actor_of
from schema.enums import Role
from schema.identity.types import User
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services import directory
from services.errors import ServiceError


@strawberry.type
class UserDirectoryQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="User accounts, oldest first (administrators; anyone else gets a top-level "
        "PERMISSION_DENIED).",
    )
    async def users(
        self,
        info: Info,
        role: Annotated[Role | None, strawberry.argument(description="Only accounts of this role.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[User]:
        try:
            query = directory.users_for(actor_of(info), role)
        except ServiceError as error:
            raise GraphQLError(error.message, extensions={"code": error.code.value}) from None
        return await paginate(query, first, after)
