from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

import models
from schema.enums import Role
from services.identity import directory
from services.identity.directory import AccountAction

strawberry.enum(
    AccountAction,
    name="AccountAction",
    description="An account lifecycle operation: deactivateUser, reactivateUser, resetPassword, updateUser.",
)

if TYPE_CHECKING:
    from schema.enterprises.types import Enterprise
    from schema.verification.types import VerificationBody


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
    must_change_password: bool = strawberry.field(
        description="True after an administrator's resetPassword: until the user calls changePassword, "
        "a session may only read `me` and change the password (PASSWORD_CHANGE_REQUIRED otherwise)."
    )
    password_changed_at: datetime | None = strawberry.field(
        description="When the password was last set (created, changed or reset); null for accounts "
        "older than this field."
    )

    @strawberry.field(
        description="The enterprise an ENTERPRISE user belongs to.",
        graphql_type=Annotated["Enterprise", strawberry.lazy("schema.enterprises.types")] | None,
    )
    async def enterprise(self, root: strawberry.Parent[models.User], info: Info) -> models.Enterprise | None:
        if root.enterprise_id is None:
            return None
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)

    @strawberry.field(
        description="The verification body a VERIFIER works for.",
        graphql_type=Annotated["VerificationBody", strawberry.lazy("schema.verification.types")] | None,
    )
    async def verification_body(
        self, root: strawberry.Parent[models.User], info: Info
    ) -> models.VerificationBody | None:
        if root.verification_body_id is None:
            return None
        return await info.context.loaders.body_by_id.load(root.verification_body_id)

    @strawberry.field(
        description="What you may do to this account now (deactivateUser, reactivateUser, resetPassword, "
        "updateUser); empty for your own account and for accounts you may only see."
    )
    async def allowed_actions(self, root: strawberry.Parent[models.User], info: Info) -> list[AccountAction]:
        viewer = info.context.actor or info.context.signed_in
        if viewer is None:
            return []
        enterprise = (
            await info.context.loaders.enterprise_by_id.load(root.enterprise_id)
            if root.enterprise_id is not None
            else None
        )
        return directory.allowed_actions(viewer, root, enterprise.region_code if enterprise else None)
