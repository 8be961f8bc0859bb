"""Signed download links: a browser opens a document or an export by click, without a header."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.context import actor_of
from schema.errors import Payload, mutation, parse_id
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from schema.statistics.types import StatisticsDimension, StatisticsFilterInput
from services.identity import downloads
from services.statistics.dimensions import StatisticsFilter


@strawberry.enum(description="The format of a statistics export.")
class ExportFormat(Enum):
    CSV = "CSV"
    JSON = "JSON"


@strawberry.type(description="Result of createDocumentLink and createStatisticsExportLink.")
class DownloadLinkPayload(Payload):
    url: str | None = strawberry.field(
        default=None,
        description="A path on this server that downloads the file without an Authorization header, "
        "for you only, until expiresAt. Open it in the browser; do not store or share it.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the link stops working (CCMS_DOWNLOAD_LINK_TTL_SECONDS after now)."
    )

    @classmethod
    def of(cls, link: downloads.Link) -> DownloadLinkPayload:
        return cls(url=link.url, expires_at=link.expires_at)


@strawberry.type
class DownloadMutations:
    @mutation(
        permission_classes=AUTHENTICATED,
        description="A short-lived signed link to a document in your scope (NOT_FOUND otherwise). A PDF "
        "opens inline in the browser.",
    )
    async def create_document_link(
        self,
        info: Info,
        document_id: Annotated[strawberry.ID, strawberry.argument(description="The document.")],
    ) -> DownloadLinkPayload:
        settings = info.context.settings
        link = await downloads.document_link(
            actor_of(info),
            parse_id(document_id, "documentId", "Document"),
            secret=settings.secret_key,
            ttl_seconds=settings.download_link_ttl_seconds,
        )
        return DownloadLinkPayload.of(link)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="A short-lived signed link to GET /export/statistics.csv or .json with the grouping "
        "and filter of the `statistics` query: the same rows, streamed, in your scope. Parameters "
        "are checked when the link is followed (400 with a code).",
    )
    async def create_statistics_export_link(
        self,
        info: Info,
        format: Annotated[ExportFormat, strawberry.argument(description="CSV or JSON.")],
        group_by: Annotated[
            list[StatisticsDimension],
            strawberry.argument(
                description="The keys of a row, in order, as in `statistics`.",
                directives=max_items(len(StatisticsDimension)),
            ),
        ],
        filter: Annotated[
            StatisticsFilterInput | None, strawberry.argument(description="Which data to add up.")
        ] = None,
        bom: Annotated[
            bool,
            strawberry.argument(description="CSV only: start with a UTF-8 byte order mark (for Excel)."),
        ] = False,
    ) -> DownloadLinkPayload:
        settings = info.context.settings
        link = downloads.statistics_export_link(
            actor_of(info),
            format.value,
            [dimension.value for dimension in group_by],
            filter.to_service() if filter else StatisticsFilter(),
            bom=bom,
            secret=settings.secret_key,
            ttl_seconds=settings.download_link_ttl_seconds,
        )
        return DownloadLinkPayload.of(link)
