from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

import models
from schema.compliance.types import Application, Message, Notice
from schema.context import actor_of
from schema.enums import Decision
from schema.errors import Payload, mutation, parse_id
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from schema.scalars import Ratio, Tonnes
from services.compliance import applications, documents, inbox, notices
from services.compliance.workflow import Action
from services.values import Raw


@strawberry.input(
    description="A compliance notice to issue. The allowance is taken from setInitialAllowance."
)
class IssueNoticeInput:
    enterprise_id: strawberry.ID = strawberry.field(description="The enterprise to notify.")
    year: int = strawberry.field(description="Compliance year; its allowance must be set.")
    deadline: datetime = strawberry.field(
        description="Last instant to apply, with a UTC offset (e.g. +08:00)."
    )
    ack_window_hours: int = strawberry.field(
        description="Hours allowed to acknowledge receipt (e.g. 48, 72, 240)."
    )
    title: str = strawberry.field(description="Title.")
    body: str = strawberry.field(default="", description="Text of the notice.")
    document: documents.Upload = strawberry.field(
        graphql_type=Upload,
        description="The official document: PDF, PNG or JPEG (multipart upload). Required.",
    )
    offset_cap_ratio: Raw = strawberry.field(
        default="0.05",
        graphql_type=Ratio,
        description="Largest share of verified emissions offsets may cover (default 0.05).",
    )
    allow_banking: bool = strawberry.field(default=False, description="Whether a surplus may carry over.")
    require_verification: bool = strawberry.field(
        default=True,
        description="Whether applications need a verifier's conclusion for the enterprise-year (default "
        "true; false for deployments that do not use verification).",
    )


@strawberry.input(description="A compliance application. Quantities are whole tonnes >= 0.")
class SubmitApplicationInput:
    notice_id: strawberry.ID = strawberry.field(description="The acknowledged notice applied against.")
    verified_emissions: Raw | None = strawberry.field(
        default=None,
        graphql_type=Tonnes | None,
        description="Verified emissions for the year. Taken from the verifier's conclusion when one "
        "stands (another figure is VERIFIED_EMISSIONS_MISMATCH); required without one.",
    )
    offsets: Raw = strawberry.field(
        default=0, graphql_type=Tonnes, description="Offsets (e.g. CCER) surrendered."
    )
    purchased_allowances: Raw = strawberry.field(
        default=0, graphql_type=Tonnes, description="Allowances bought on the market."
    )
    report: documents.Upload | None = strawberry.field(
        default=None,
        graphql_type=Upload | None,
        description="The verifier's conclusion report: PDF, PNG or JPEG (multipart upload). Taken from "
        "the conclusion when one stands (no upload is read); otherwise required, also when retrying "
        "with the same idempotencyKey.",
    )
    note: str | None = strawberry.field(default=None, description="A note to the regulator.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Any unique string; a retry with the same key returns the first result "
            "instead of creating another."
        ),
    )


@strawberry.input(description="A regulator's decision.")
class ReviewApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application under review.")
    decision: Decision = strawberry.field(description="APPROVE or REJECT.")
    reason: str | None = strawberry.field(
        default=None, description="Required to reject, and to approve an application with a shortfall."
    )


@strawberry.type(description="Result of a notice mutation.")
class NoticePayload(Payload):
    notice: models.Notice | None = strawberry.field(
        default=None, graphql_type=Notice | None, description="The notice, on success."
    )


@strawberry.type(description="Result of an application mutation.")
class ApplicationPayload(Payload):
    application: models.Application | None = strawberry.field(
        default=None, graphql_type=Application | None, description="The application, on success."
    )


@strawberry.type(description="Result of markMessagesRead.")
class MessagesPayload(Payload):
    messages: list[models.Message] = strawberry.field(
        default_factory=list, graphql_type=list[Message], description="The messages now marked read."
    )


@strawberry.type
class ComplianceMutations:
    @mutation(permission_classes=AUTHENTICATED, description="Issue a compliance notice (regulator in scope).")
    async def issue_notice(
        self, info: Info, input: Annotated[IssueNoticeInput, strawberry.argument(description="The notice.")]
    ) -> NoticePayload:
        notice = await notices.issue_notice(
            actor_of(info),
            info.context.files,
            notices.NoticeRequest(
                year=input.year,
                deadline=input.deadline,
                ack_window_hours=input.ack_window_hours,
                title=input.title,
                body=input.body,
                offset_cap_ratio=input.offset_cap_ratio,
                allow_banking=input.allow_banking,
                require_verification=input.require_verification,
            ),
            enterprise_id=parse_id(input.enterprise_id, "enterpriseId", "Enterprise"),
            document=input.document,  # type: ignore[arg-type]  # the multipart file
        )
        return NoticePayload(notice=notice)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Confirm receipt of a notice (enterprise). Repeating it is harmless.",
    )
    async def acknowledge_notice(
        self, info: Info, notice_id: Annotated[strawberry.ID, strawberry.argument(description="The notice.")]
    ) -> NoticePayload:
        notice = await notices.acknowledge_notice(actor_of(info), parse_id(notice_id, "noticeId", "Notice"))
        return NoticePayload(notice=notice)

    @mutation(
        permission_classes=AUTHENTICATED, description="Move a notice's deadline later (regulator in scope)."
    )
    async def extend_deadline(
        self,
        info: Info,
        notice_id: Annotated[strawberry.ID, strawberry.argument(description="The notice.")],
        deadline: Annotated[datetime, strawberry.argument(description="The new deadline, with offset.")],
        reason: Annotated[str, strawberry.argument(description="Why; shown to the enterprise.")],
    ) -> NoticePayload:
        notice = await notices.extend_deadline(
            actor_of(info), parse_id(notice_id, "noticeId", "Notice"), deadline, reason
        )
        return NoticePayload(notice=notice)

    @mutation(
        permission_classes=AUTHENTICATED,
        description=(
            "Submit, or after a rejection resubmit, a compliance application "
            "(enterprise, before the deadline)."
        ),
    )
    async def submit_application(
        self,
        info: Info,
        input: Annotated[SubmitApplicationInput, strawberry.argument(description="The application.")],
    ) -> ApplicationPayload:
        application = await applications.submit_application(
            actor_of(info),
            info.context.files,
            notice_id=parse_id(input.notice_id, "noticeId", "Notice"),
            verified_emissions=input.verified_emissions,
            offsets=input.offsets,
            purchased_allowances=input.purchased_allowances,
            report=input.report,  # type: ignore[arg-type]  # the multipart file
            note=input.note,
            idempotency_key=input.idempotency_key,
        )
        return ApplicationPayload(application=application)

    @mutation(
        permission_classes=AUTHENTICATED, description="Approve or reject an application (regulator in scope)."
    )
    async def review_application(
        self,
        info: Info,
        input: Annotated[ReviewApplicationInput, strawberry.argument(description="The decision.")],
    ) -> ApplicationPayload:
        application = await applications.review_application(
            actor_of(info),
            application_id=parse_id(input.application_id, "applicationId", "Application"),
            decision=Action(input.decision.value),
            reason=input.reason,
        )
        return ApplicationPayload(application=application)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Mark inbox messages read (enterprise users and regulators; at most 100 ids).",
    )
    async def mark_messages_read(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Your messages to mark read.", directives=max_items(inbox.MAX_IDS)
            ),
        ],
    ) -> MessagesPayload:
        numbers = [parse_id(i, "ids", "Message") for i in ids[: inbox.MAX_IDS + 1]]
        messages = await inbox.mark_read(actor_of(info), numbers)
        return MessagesPayload(messages=messages)
