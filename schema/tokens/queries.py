from __future__ import annotations

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.permissions import AUTHENTICATED
from schema.tokens.types import ApiToken
from services.identity import api_tokens


@strawberry.type
class TokenQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Your API tokens, newest first, revoked and expired ones included.",
        graphql_type=list[ApiToken],
    )
    async def api_tokens(self, info: Info) -> list[models.ApiToken]:
        return await api_tokens.list_for(actor_of(info))
