from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

import models
from schema.enums import Role

if TYPE_CHECKING:
    from schema.enterprises.types import Enterprise


@strawberry.type(description="A user account.")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    username: str = strawberry.field(description="Sign-in name.")
    role: Role = strawberry.field(description="What the user may do.")
    region_prefix: str = strawberry.field(
        description="A regulator's scope: '' national, 2 digits a province, 4 a city, 6 a county."
    )
    is_active: bool = strawberry.field(description="Inactive users cannot sign in.")
    created_at: datetime = strawberry.field(description="When the account was created.")

    @strawberry.field(
        description="The enterprise an ENTERPRISE user belongs to.",
        graphql_type=Annotated["Enterprise", strawberry.lazy("schema.enterprises.types")] | None,
    )
    async def enterprise(self, root: strawberry.Parent[models.User], info: Info) -> models.Enterprise | None:
        if root.enterprise_id is None:
            return None
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)
