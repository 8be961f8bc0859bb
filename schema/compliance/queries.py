from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

import models
from schema.compliance.types import Application, Message, Notice
from schema.context import actor_of
from schema.enums import NoticeStatus
from schema.errors import parse_id
from schema.pagination import After, Connection, First, paginate
from schema.permissions import AUTHENTICATED
from services.compliance import applications, inbox, notices
from services.errors import ServiceError


@strawberry.input(description="Narrow a list of notices; all given conditions must hold.")
class NoticeFilter:
    year: int | None = strawberry.field(default=None, description="Compliance year.")
    status: NoticeStatus | None = strawberry.field(default=None, description="Current status.")
    enterprise_id: strawberry.ID | None = strawberry.field(default=None, description="One enterprise.")
    region_prefix: str | None = strawberry.field(default=None, description="Enterprise region code prefix.")
    industry_code: str | None = strawberry.field(
        default=None, description="Enterprise GB/T 4754 code or prefix."
    )


def _notice_filter(where: NoticeFilter | None) -> notices.NoticeFilter | None:
    if where is None:
        return None
    try:
        given = where.enterprise_id
        enterprise_id = parse_id(given, "enterpriseId", "Enterprise") if given is not None else None
    except ServiceError:
        enterprise_id = -1  # a malformed id matches nothing
    return notices.NoticeFilter(
        year=where.year,
        status=where.status,
        enterprise_id=enterprise_id,
        region_prefix=where.region_prefix,
        industry_code=where.industry_code,
    )


@strawberry.type
class ComplianceQueries:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One notice in your scope, or null.",
        graphql_type=Notice | None,
    )
    async def notice(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notice.")]
    ) -> models.Notice | None:
        try:
            return await info.context.loaders.notice_by_id.load(parse_id(id, "id", "Notice"))
        except ServiceError:
            return None

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Notices in your scope, newest first.",
        graphql_type=Connection[Notice],
    )
    async def notices(
        self,
        info: Info,
        filter: Annotated[NoticeFilter | None, strawberry.argument(description="Conditions.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[models.Notice]:
        query = notices.notices_for(actor_of(info), _notice_filter(filter))
        return await paginate(query, first, after, newest_first=True)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Every application against a notice, oldest first.",
        graphql_type=list[Application],
    )
    async def applications(
        self, info: Info, notice_id: Annotated[strawberry.ID, strawberry.argument(description="The notice.")]
    ) -> list[models.Application]:
        try:
            return await info.context.loaders.applications_by_notice_id.load(
                parse_id(notice_id, "noticeId", "Notice")
            )
        except ServiceError:
            return []

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="One application in your scope, or null.",
        graphql_type=Application | None,
    )
    async def application(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The application.")]
    ) -> models.Application | None:
        try:
            return (
                await applications.applications_for(actor_of(info))
                .filter(id=parse_id(id, "id", "Application"))
                .first()
            )
        except ServiceError:
            return None

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="Your inbox, newest first: your enterprise's, or for a regulator its region's "
        "alarm messages (admins have none).",
        graphql_type=Connection[Message],
    )
    async def messages(
        self,
        info: Info,
        unread_only: Annotated[bool, strawberry.argument(description="Only unread messages.")] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[models.Message]:
        return await paginate(
            inbox.messages_for(actor_of(info), unread_only), first, after, newest_first=True
        )
