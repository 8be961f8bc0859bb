"""users: the accounts an administrator or a regulator looks after."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import Role
from schema.errors import CodedErrors, parse_id
from schema.identity.types import User
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.identity import directory


@strawberry.input(description="Narrows the users list; every field given must match.")
class UserFilter:
    role: Role | None = strawberry.field(default=None, description="Only accounts of this role.")
    region_prefix: str | None = strawberry.field(
        default=None,
        description="Regulators whose prefix starts with this, and users of enterprises in this region.",
    )
    enterprise_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the users of this enterprise."
    )
    is_active: bool | None = strawberry.field(
        default=None, description="Only active (or only inactive) ones."
    )
    search: str | None = strawberry.field(default=None, description="Part of the username, in any case.")


@strawberry.type
class UserDirectoryQueries:
    @strawberry.field(
        extensions=[CodedErrors(with_field=True)],
        permission_classes=AUTHENTICATED,
        description="User accounts, oldest first. Administrators see every account; a regulator sees "
        "the regulators of its region and below, and the users of the enterprises in its region; "
        "enterprise users get a top-level PERMISSION_DENIED.",
        graphql_type=Connection[User],
    )
    async def users(
        self,
        info: Info,
        filter: Annotated[UserFilter | None, strawberry.argument(description="What to list.")] = None,
        role: Annotated[
            Role | None,
            strawberry.argument(
                description="Only accounts of this role.", deprecation_reason="Use filter: {role}."
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.User]:
        where = filter or UserFilter()
        query = directory.users_for(
            actor_of(info),
            directory.UserFilter(
                role=where.role or role,
                region_prefix=where.region_prefix,
                enterprise_id=(
                    parse_id(where.enterprise_id, "filter.enterpriseId", "Enterprise")
                    if where.enterprise_id is not None
                    else None
                ),
                is_active=where.is_active,
                search=where.search,
            ),
        )
        return await paginate(query, first, after)
