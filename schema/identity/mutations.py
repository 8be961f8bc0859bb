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
from schema.permissions import AUTHENTICATED, SIGNED_IN
from services.access import Actor
from services.identity import accounts, passwords, users
from services.identity.throttle import ThrottlePolicy

PASSWORD_POLICY = (
    f"At least {passwords.MIN_LENGTH} characters, not the username, not one of the most common passwords."
)


def body_id_of(value: strawberry.ID | None) -> int | None:
    return parse_id(value, "verificationBodyId", "Verification body") if value is not None else None


def sign_in_of(info: Info) -> users.SignIn:
    """The settings and the client address a sign-in or a password check is judged by."""
    settings = info.context.settings
    request = info.context.request
    client = request.client if request is not None else None
    return users.SignIn(
        secret=settings.secret_key,
        ttl_seconds=settings.token_ttl_seconds,
        address=client.host if client else None,
        policy=throttle_policy(info),
    )


def throttle_policy(info: Info) -> ThrottlePolicy:
    settings = info.context.settings
    return ThrottlePolicy(
        backoff_after=settings.signin_backoff_after,
        lockout_after=settings.signin_lockout_after,
        lockout_seconds=settings.signin_lockout_seconds,
        address_factor=settings.signin_address_factor,
    )


@strawberry.type(description="Result of login: a bearer token for the Authorization header.")
class LoginPayload(Payload):
    token: str | None = strawberry.field(default=None, description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime | None = strawberry.field(default=None, description="When the token stops working.")
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="Who signed in."
    )
    must_change_password: bool = strawberry.field(
        default=False,
        description="True after a password reset: this session may only call changePassword (and read "
        "`me`) until the user has chosen a new password.",
    )


@strawberry.input(description="A new account (admin only).")
class CreateUserInput:
    username: str = strawberry.field(description="3-64 letters, digits or _ . @ -")
    password: str = strawberry.field(description=PASSWORD_POLICY)
    role: Role = strawberry.field(description="ADMIN, REGULATOR, ENTERPRISE or VERIFIER.")
    region_prefix: str = strawberry.field(default="", description="REGULATOR scope: '', 44, 4401...")
    enterprise_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for ENTERPRISE users: the enterprise they act for."
    )
    verification_body_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for VERIFIER users: the verification body they work for."
    )


@strawberry.type(
    description="Result of createUser, deactivateUser, reactivateUser and updateUser: the account."
)
class UserPayload(Payload):
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="The account as it is now, on success."
    )


@strawberry.type
class IdentityMutations:
    @mutation(
        description="Exchange a username and password for a bearer token. A failure never says "
        "whether the user exists (INVALID_CREDENTIALS). Failures are throttled per username and per "
        "client address: after a few, each attempt must wait longer (1 s, 2 s, 4 s...), then the "
        "username is locked for a while; such attempts are refused with TOO_MANY_ATTEMPTS and "
        "`retryAfterSeconds`, without checking the password. One login per request (TOO_MANY_LOGINS)."
    )
    async def login(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="Sign-in name.")],
        password: Annotated[str, strawberry.argument(description="Password.")],
    ) -> LoginPayload:
        session = await users.login(username, password, sign_in_of(info))
        info.context.signed_in = Actor.of(session.user)
        return LoginPayload(
            token=session.token,
            expires_at=session.expires_at,
            user=session.user,
            must_change_password=session.user.must_change_password,
        )

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
            verification_body_id=body_id_of(input.verification_body_id),
        )
        return UserPayload(user=user)

    @mutation(
        permission_classes=SIGNED_IN,
        description="Change your own password, giving the current one (a wrong one is "
        "INVALID_CREDENTIALS, throttled like a sign-in). Every session of yours ends, this one "
        "included: the payload carries the new session's token. Also clears mustChangePassword.",
    )
    async def change_password(
        self,
        info: Info,
        current_password: Annotated[str, strawberry.argument(description="The password in use now.")],
        new_password: Annotated[str, strawberry.argument(description=PASSWORD_POLICY)],
    ) -> LoginPayload:
        session = await accounts.change_password(
            actor_of(info), current_password, new_password, sign_in_of(info)
        )
        return LoginPayload(token=session.token, expires_at=session.expires_at, user=session.user)
