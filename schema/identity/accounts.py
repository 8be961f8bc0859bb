"""The account lifecycle: deactivate, reactivate, reset a password, change a role or scope."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import Role
from schema.errors import Payload, mutation, parse_id
from schema.identity.mutations import UserPayload, body_id_of
from schema.identity.types import User
from schema.permissions import AUTHENTICATED
from services.identity import accounts

UserId = Annotated[strawberry.ID, strawberry.argument(description="The account.")]


@strawberry.type(description="Result of resetPassword.")
class ResetPasswordPayload(Payload):
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="The account, on success."
    )
    one_time_password: str | None = strawberry.field(
        default=None,
        description="The new password, shown this once and never stored in clear: hand it to the user, "
        "who must replace it at their next sign-in.",
    )


@strawberry.input(description="An account's role and scope, set as a whole (admin only).")
class UpdateUserInput:
    id: strawberry.ID = strawberry.field(description="The account.")
    role: Role = strawberry.field(description="ADMIN, REGULATOR, ENTERPRISE or VERIFIER.")
    region_prefix: str = strawberry.field(
        default="", description="REGULATOR scope: '' national, 44 a province, 4401 a city."
    )
    enterprise_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for ENTERPRISE users: the enterprise they act for."
    )
    verification_body_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for VERIFIER users: the verification body they work for."
    )


@strawberry.type
class AccountMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description="Deactivate an account: it cannot sign in, and its sessions, download links and "
        "open subscriptions stop (WebSockets close with 4401 within CCMS_SESSION_CHECK_SECONDS). "
        "Administrators, and regulators for the enterprise users of their region.",
    )
    async def deactivate_user(self, info: Info, id: UserId) -> UserPayload:
        user = await accounts.deactivate_user(actor_of(info), parse_id(id, "id", "User"))
        return UserPayload(user=user)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Let a deactivated account sign in again, with its old password. Administrators, "
        "and regulators for the enterprise users of their region.",
    )
    async def reactivate_user(self, info: Info, id: UserId) -> UserPayload:
        user = await accounts.reactivate_user(actor_of(info), parse_id(id, "id", "User"))
        return UserPayload(user=user)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Give an account a one-time password (in the payload, once) that the user must "
        "change at the next sign-in; its sessions end and a sign-in lockout is lifted. "
        "Administrators, and regulators for the enterprise users of their region.",
    )
    async def reset_password(self, info: Info, id: UserId) -> ResetPasswordPayload:
        user, password = await accounts.reset_password(actor_of(info), parse_id(id, "id", "User"))
        return ResetPasswordPayload(user=user, one_time_password=password)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Set an account's role, region prefix and enterprise (admin). When anything "
        "changes, the account's sessions end and its API tokens are revoked: they were granted for "
        "the old scope.",
    )
    async def update_user(
        self, info: Info, input: Annotated[UpdateUserInput, strawberry.argument(description="The new scope.")]
    ) -> UserPayload:
        enterprise_id = (
            parse_id(input.enterprise_id, "enterpriseId", "Enterprise")
            if input.enterprise_id is not None
            else None
        )
        user = await accounts.update_user(
            actor_of(info),
            parse_id(input.id, "id", "User"),
            role=input.role,
            region_prefix=input.region_prefix,
            enterprise_id=enterprise_id,
            verification_body_id=body_id_of(input.verification_body_id),
        )
        return UserPayload(user=user)
