from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

import models
from schema.context import actor_of, language_of
from schema.enterprises.types import Enterprise
from schema.enums import ApplicationStatus, MessageKind, NoticeAction, NoticeStatus
from schema.scalars import Ratio, Tonnes
from services.compliance import inbox, workflow

if TYPE_CHECKING:
    from schema.verification.types import VerificationConclusion


@strawberry.type(
    description="An uploaded PDF, PNG or JPEG file. Download it from `url` with your bearer token."
)
class Document:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    filename: str = strawberry.field(description="The name it was uploaded under.")
    content_type: str = strawberry.field(
        description="Detected from the content: application/pdf, image/png or image/jpeg."
    )
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hex.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")

    @strawberry.field(description="Path of the authorised download route, relative to the server.")
    def url(self, root: strawberry.Parent[models.Document]) -> str:
        return f"/documents/{root.id}"


@strawberry.type(description="One step in a notice's history (audit trail), oldest first.")
class TimelineEntry:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    at: datetime = strawberry.field(description="When it happened.")
    action: str = strawberry.field(description="What happened, e.g. notice.issued, application.rejected.")
    entity_type: str = strawberry.field(description="Notice or Application.")
    entity_id: strawberry.ID = strawberry.field(description="Which notice or application.")
    from_status: NoticeStatus | None = strawberry.field(description="Notice status before.")
    to_status: NoticeStatus | None = strawberry.field(description="Notice status after.")
    reason: str | None = strawberry.field(
        description="Reason given, for rejections, overrides and extensions."
    )

    @strawberry.field(description="Username of who did it; null for the system.")
    async def actor_name(self, root: strawberry.Parent[models.AuditEvent], info: Info) -> str | None:
        if root.actor_id is None:
            return None
        return await info.context.loaders.username_by_id.load(root.actor_id)


@strawberry.type(description="A compliance application (履约申请) and its computed balance.")
class Application:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    status: ApplicationStatus = strawberry.field(description="UNDER_REVIEW, APPROVED or REJECTED.")
    verified_emissions: Tonnes = strawberry.field(
        description="Verified emissions (经核准的碳排放量), the amount due."
    )
    offsets: Tonnes = strawberry.field(description="Offsets (抵消量, e.g. CCER) offered.")
    purchased_allowances: Tonnes = strawberry.field(description="Allowances bought on the market.")
    allowance: Tonnes = strawberry.field(description="The notice's allowance, as snapshotted.")
    usable_offsets: Tonnes = strawberry.field(
        description="Offsets counted: at most the notice's cap ratio of the verified emissions."
    )
    balance: Tonnes = strawberry.field(
        description="allowance + purchased + usable offsets - verified emissions; negative is a shortfall."
    )
    offsets_over_cap: bool = strawberry.field(
        description="Whether the offsets offered exceed the cap (the excess is not counted)."
    )
    note: str = strawberry.field(description="The enterprise's note.")
    idempotency_key: str | None = strawberry.field(description="The key the submission carried.")
    submitted_at: datetime = strawberry.field(description="When it was submitted.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")
    decision_reason: str | None = strawberry.field(
        description="Rejection reason, or the override reason of an approved shortfall."
    )

    @strawberry.field(description="Surplus in tonnes (0 when short).", graphql_type=Tonnes)
    def surplus(self, root: strawberry.Parent[models.Application]) -> int:
        return max(root.balance, 0)

    @strawberry.field(description="Shortfall in tonnes (0 when covered).", graphql_type=Tonnes)
    def shortfall(self, root: strawberry.Parent[models.Application]) -> int:
        return max(-root.balance, 0)

    @strawberry.field(description="The verifier's conclusion report (审计结论报告).", graphql_type=Document)
    async def report(self, root: strawberry.Parent[models.Application], info: Info) -> models.Document:
        return await info.context.loaders.document_by_id.load(root.report_id)

    @strawberry.field(
        description="The verifier's conclusion the verified emissions and report were taken from; null "
        "when the enterprise stated them (a notice not requiring verification).",
        graphql_type=Annotated["VerificationConclusion", strawberry.lazy("schema.verification.types")] | None,
    )
    async def conclusion(
        self, root: strawberry.Parent[models.Application], info: Info
    ) -> models.VerificationConclusion | None:
        if root.conclusion_id is None:
            return None
        return await info.context.loaders.conclusion_by_id.load(root.conclusion_id)

    @strawberry.field(description="The notice applied against.", graphql_type="Notice")
    async def notice(self, root: strawberry.Parent[models.Application], info: Info) -> models.Notice:
        return await info.context.loaders.notice_by_id.load(root.notice_id)


@strawberry.type(
    description="A compliance notice (履约通知书): allowance, rules, deadline and where it stands."
)
class Notice:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    year: int = strawberry.field(description="Compliance year.")
    status: NoticeStatus = strawberry.field(description="Where the notice stands.")
    allowance: Tonnes = strawberry.field(description="Allowance snapshotted at issue.")
    deadline: datetime = strawberry.field(description="Applications are accepted until this instant.")
    ack_window_hours: int = strawberry.field(description="Hours the enterprise has to acknowledge receipt.")
    offset_cap_ratio: Ratio = strawberry.field(
        description="Largest share of verified emissions offsets may cover."
    )
    allow_banking: bool = strawberry.field(description="Whether a surplus may carry over to later years.")
    require_verification: bool = strawberry.field(
        description="Whether an application needs a verifier's conclusion for the enterprise-year."
    )
    title: str = strawberry.field(description="Title of the notice.")
    body: str = strawberry.field(description="Text of the notice.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    acknowledged_at: datetime | None = strawberry.field(description="When the enterprise confirmed receipt.")
    version: int = strawberry.field(description="Increases with every change.")

    @strawberry.field(description="When acknowledgement is due: issued + ackWindowHours.")
    def acknowledgement_due_at(self, root: strawberry.Parent[models.Notice]) -> datetime:
        return root.issued_at + timedelta(hours=root.ack_window_hours)

    @strawberry.field(description="The enterprise it is addressed to.", graphql_type=Enterprise)
    async def enterprise(self, root: strawberry.Parent[models.Notice], info: Info) -> models.Enterprise:
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)

    @strawberry.field(
        description="The verifier's standing conclusion on the enterprise-year, if any: an application "
        "then takes its verified emissions and report.",
        graphql_type=Annotated["VerificationConclusion", strawberry.lazy("schema.verification.types")] | None,
    )
    async def verification_conclusion(
        self, root: strawberry.Parent[models.Notice], info: Info
    ) -> models.VerificationConclusion | None:
        return await info.context.loaders.conclusion_by_enterprise_year.load((root.enterprise_id, root.year))

    @strawberry.field(description="The official document.", graphql_type=Document | None)
    async def document(self, root: strawberry.Parent[models.Notice], info: Info) -> models.Document | None:
        if root.document_id is None:
            return None
        return await info.context.loaders.document_by_id.load(root.document_id)

    @strawberry.field(description="Every application, oldest first.", graphql_type=list[Application])
    async def applications(
        self, root: strawberry.Parent[models.Notice], info: Info
    ) -> list[models.Application]:
        return await info.context.loaders.applications_by_notice_id.load(root.id)

    @strawberry.field(description="The most recent application, if any.", graphql_type=Application | None)
    async def latest_application(
        self, root: strawberry.Parent[models.Notice], info: Info
    ) -> models.Application | None:
        applications = await info.context.loaders.applications_by_notice_id.load(root.id)
        return applications[-1] if applications else None

    @strawberry.field(
        description="The status the enterprise sees: that of the latest application (null before any)."
    )
    async def application_status(
        self, root: strawberry.Parent[models.Notice], info: Info
    ) -> ApplicationStatus | None:
        applications = await info.context.loaders.applications_by_notice_id.load(root.id)
        return applications[-1].status if applications else None

    @strawberry.field(description="Why the latest application was rejected, when it was.")
    async def rejection_reason(self, root: strawberry.Parent[models.Notice], info: Info) -> str | None:
        applications = await info.context.loaders.applications_by_notice_id.load(root.id)
        latest = applications[-1] if applications else None
        return (
            latest.decision_reason if latest and latest.status == models.ApplicationStatus.REJECTED else None
        )

    @strawberry.field(description="What you may do next with this notice.")
    def allowed_actions(self, root: strawberry.Parent[models.Notice], info: Info) -> list[NoticeAction]:
        return workflow.allowed_actions(root, actor_of(info), datetime.now(UTC))

    @strawberry.field(
        description="The audit trail of the notice and its applications, oldest first.",
        graphql_type=list[TimelineEntry],
    )
    async def timeline(self, root: strawberry.Parent[models.Notice], info: Info) -> list[models.AuditEvent]:
        return await info.context.loaders.events_by_notice_id.load(root.id)


@strawberry.type(description="An inbox message (配额通告, 履约通知, review results).")
class Message:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    kind: MessageKind = strawberry.field(description="What it is about.")
    created_at: datetime = strawberry.field(description="When it arrived.")
    read_at: datetime | None = strawberry.field(description="When it was marked read.")

    @classmethod
    def is_type_of(cls, obj: object, info: Info) -> bool:
        # Resolvers return Tortoise rows; unions need to know which GraphQL type a row is.
        return isinstance(obj, models.Message | cls)

    @strawberry.field(
        description="Subject, in the reader's language (Accept-Language, or the WebSocket's `language`)."
    )
    def title(self, root: strawberry.Parent[models.Message], info: Info) -> str:
        return inbox.title_of(root, language_of(info))

    @strawberry.field(
        description=(
            "Text, e.g. a rejection reason, in the reader's language; times in it are in CCMS_TIMEZONE "
            "(北京时间 by default). A regulator's own notice text is shown as written."
        )
    )
    def body(self, root: strawberry.Parent[models.Message], info: Info) -> str:
        return inbox.body_of(root, language_of(info))

    @strawberry.field(description="The verification it concerns, if any.")
    def verification_id(self, root: strawberry.Parent[models.Message]) -> strawberry.ID | None:
        return strawberry.ID(str(root.verification_id)) if root.verification_id else None

    @strawberry.field(description="The notice it concerns.", graphql_type=Notice | None)
    async def notice(self, root: strawberry.Parent[models.Message], info: Info) -> models.Notice | None:
        if root.notice_id is None:
            return None
        return await info.context.loaders.notice_by_id.load(root.notice_id)
