"""API tokens for BI tools and meter gateways."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.errors import Payload, mutation, parse_id
from schema.permissions import AUTHENTICATED
from schema.tokens.types import ApiToken, TokenScope
from services.identity import api_tokens


@strawberry.input(description="A new API token for yourself.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for; at most 100 characters.")
    scope: TokenScope = strawberry.field(description="The routes it may call.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops working, with a UTC offset, in the future; null: never."
    )


@strawberry.type(description="Result of createApiToken.")
class CreateApiTokenPayload(Payload):
    token: models.ApiToken | None = strawberry.field(
        default=None, graphql_type=ApiToken | None, description="The new token, on success."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The token itself, shown this once: send it as 'Authorization: Bearer <secret>'. "
        "Only a hash is kept, so a lost secret means a new token.",
    )


@strawberry.type(description="Result of revokeApiToken.")
class ApiTokenPayload(Payload):
    token: models.ApiToken | None = strawberry.field(
        default=None, graphql_type=ApiToken | None, description="The revoked token, on success."
    )


@strawberry.type
class TokenMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description="Create an API token acting with your scope on its scope's routes (at most 20 "
        "active a user: TOO_MANY_ITEMS).",
    )
    async def create_api_token(
        self,
        info: Info,
        input: Annotated[CreateApiTokenInput, strawberry.argument(description="The token.")],
    ) -> CreateApiTokenPayload:
        token, secret = await api_tokens.create(actor_of(info), input.name, input.scope, input.expires_at)
        return CreateApiTokenPayload(token=token, secret=secret)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Revoke one of your API tokens (an admin: anyone's); it stops working at once. "
        "Twice gives TOKEN_ALREADY_REVOKED.",
    )
    async def revoke_api_token(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The token.")]
    ) -> ApiTokenPayload:
        token = await api_tokens.revoke(actor_of(info), parse_id(id, "id", "API token"))
        return ApiTokenPayload(token=token)
