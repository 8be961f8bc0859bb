from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import VerificationStatus
from schema.errors import parse_id
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from schema.verification.types import Verification, VerificationBody
from services.errors import ServiceError
from services.verification import bodies, verifications


@strawberry.input(description="Narrow a list of verifications; all given conditions must hold.")
class VerificationFilter:
    year: int | None = strawberry.field(default=None, description="The verified year.")
    status: VerificationStatus | None = strawberry.field(default=None, description="Current status.")
    enterprise_id: strawberry.ID | None = strawberry.field(default=None, description="One enterprise.")
    verification_body_id: strawberry.ID | None = strawberry.field(default=None, description="One body.")
    region_prefix: str | None = strawberry.field(default=None, description="Enterprise region code prefix.")


def _id_or_nothing(value: strawberry.ID | None, field: str, what: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_id(value, field, what)
    except ServiceError:
        return -1  # a malformed id matches nothing


def _filter(where: VerificationFilter | None) -> verifications.VerificationFilter | None:
    if where is None:
        return None
    return verifications.VerificationFilter(
        year=where.year,
        status=where.status,
        enterprise_id=_id_or_nothing(where.enterprise_id, "enterpriseId", "Enterprise"),
        verification_body_id=_id_or_nothing(where.verification_body_id, "verificationBodyId", "Body"),
        region_prefix=where.region_prefix,
    )


@strawberry.type
class VerificationQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Verifications in your scope, newest first: a verifier's body's assignments, a "
        "regulator's region, an enterprise's own.",
        graphql_type=Connection[Verification],
    )
    async def verifications(
        self,
        info: Info,
        filter: Annotated[VerificationFilter | None, strawberry.argument(description="Conditions.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.Verification]:
        query = verifications.verifications_for(actor_of(info), _filter(filter))
        return await paginate(query, first, after, newest_first=True)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One verification in your scope, or null.",
        graphql_type=Verification | None,
    )
    async def verification(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The verification.")]
    ) -> models.Verification | None:
        try:
            return await info.context.loaders.verification_by_id.load(parse_id(id, "id", "Verification"))
        except ServiceError:
            return None

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Verification bodies, by name: all for administrators and regulators, your own "
        "for a verifier, those assigned to you for an enterprise.",
        graphql_type=list[VerificationBody],
    )
    async def verification_bodies(
        self,
        info: Info,
        active_only: Annotated[bool, strawberry.argument(description="Only active bodies.")] = False,
    ) -> list[models.VerificationBody]:
        query = bodies.bodies_for(actor_of(info))
        if active_only:
            query = query.filter(is_active=True)
        return await query.order_by("name", "id").limit(500)
