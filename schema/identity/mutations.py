from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import Role
from schema.errors import Payload, mutation, parse_id
from schema.identity.types import User
from schema.permissions import AUTHENTICATED
from services.access import Actor
from services.identity import users


@strawberry.type(description="Result of login: a bearer token for the Authorization header.")
class LoginPayload(Payload):
    token: str | None = strawberry.field(default=None, description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime | None = strawberry.field(default=None, description="When the token stops working.")
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="Who signed in."
    )


@strawberry.input(description="A new account (admin only).")
class CreateUserInput:
    username: str = strawberry.field(description="3-64 letters, digits or _ . @ -")
    password: str = strawberry.field(description="At least 8 characters.")
    role: Role = strawberry.field(description="ADMIN, REGULATOR or ENTERPRISE.")
    region_prefix: str = strawberry.field(default="", description="REGULATOR scope: '', 44, 4401...")
    enterprise_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for ENTERPRISE users: the enterprise they act for."
    )


@strawberry.type(description="Result of createUser.")
class UserPayload(Payload):
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="The new user, on success."
    )


@strawberry.type
class IdentityMutations:
    @mutation(
        description="Exchange a username and password for a bearer token. A failure never says "
        "whether the user exists (INVALID_CREDENTIALS)."
    )
    async def login(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="Sign-in name.")],
        password: Annotated[str, strawberry.argument(description="Password.")],
    ) -> LoginPayload:
        settings = info.context.settings
        session = await users.login(
            username, password, secret=settings.secret_key, ttl_seconds=settings.token_ttl_seconds
        )
        info.context.signed_in = Actor.of(session.user)
        return LoginPayload(token=session.token, expires_at=session.expires_at, user=session.user)

    @mutation(permission_classes=AUTHENTICATED, description="Create a user (admin).")
    async def create_user(
        self, info: Info, input: Annotated[CreateUserInput, strawberry.argument(description="The account.")]
    ) -> UserPayload:
        enterprise_id = (
            parse_id(input.enterprise_id, "enterpriseId", "Enterprise")
            if input.enterprise_id is not None
            else None
        )
        user = await users.create_user(
            actor_of(info),
            username=input.username,
            password=input.password,
            role=input.role,
            region_prefix=input.region_prefix,
            enterprise_id=enterprise_id,
        )
        return UserPayload(user=user)
