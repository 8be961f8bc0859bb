"""Subscriptions over graphql-transport-ws. The permission class runs once, at subscribe time;
each event is checked against the subscriber's scope again at delivery."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

import models
from core import metrics
from core.hub import SubscriberTooSlow
from schema.context import actor_of, language_of
from schema.errors import parse_id
from schema.live.shared import payload_of
from schema.live.types import (
    AlarmEvent,
    MessageEvent,
    NoticeStatusChange,
    NoticeStatusEvent,
    Resync,
    VerificationStatusEvent,
)
from schema.permissions import AUTHENTICATED
from services.compliance import alarms, inbox
from services.errors import ServiceError
from services.i18n import render
from services.live.events import NOTICE_EVENTS, Event, EventType, visible_to
from services.verification import verifications


async def _events(info: Info, types: frozenset[EventType]) -> AsyncGenerator[Event, None]:
    """The hub's events of these types that this subscriber may see, plus RESYNC hints."""
    actor = actor_of(info)

    def wanted(event: Event) -> bool:
        return (event.type in types or event.type == EventType.RESYNC) and visible_to(event, actor)

    metrics.SUBSCRIPTIONS.inc()
    try:
        # Filtered before queueing, so a busy tenant cannot fill a quiet subscriber's queue.
        async for event in info.context.hub.subscribe(wanted):
            if wanted(event):  # and checked again at delivery
                yield event
    except SubscriberTooSlow as error:
        language = language_of(info)
        message = (
            str(error)
            if language == "en"
            else render.code_text("SUBSCRIBER_TOO_SLOW", language) or str(error)
        )
        raise GraphQLError(message, extensions={"code": "SUBSCRIBER_TOO_SLOW"}) from None
    finally:
        metrics.SUBSCRIPTIONS.dec()


@strawberry.type(
    description="Live updates over graphql-transport-ws; authenticate in connection_init: "
    '{"authorization": "Bearer <token>"}, optionally with "language": "en" or "zh-CN" for the texts '
    "sent on the connection."
)
class Subscription:
    @strawberry.subscription(
        permission_classes=AUTHENTICATED,
        description="Status changes of the notices you can see (or of one notice).",
    )
    async def notice_status_changed(
        self,
        info: Info,
        notice_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this notice; all in scope when omitted."),
        ] = None,
    ) -> AsyncGenerator[NoticeStatusEvent, None]:
        try:
            wanted = parse_id(notice_id, "noticeId", "Notice") if notice_id is not None else None
        except ServiceError:
            return
        async for event in _events(info, NOTICE_EVENTS):
            # One payload object per event for all local subscribers: its execution is shared.
            if event.type == EventType.RESYNC:
                yield payload_of(event, Resync.of)
            elif wanted is None or event.notice_id == wanted:
                yield payload_of(event, NoticeStatusChange.of)

    @strawberry.subscription(
        permission_classes=AUTHENTICATED,
        description="Alarms raised in your region (regulators).",
        graphql_type=AlarmEvent,
    )
    async def alarm_raised(self, info: Info) -> AsyncGenerator[models.Alarm | Resync, None]:
        async for event in _events(info, frozenset({EventType.ALARM_RAISED})):
            if event.type == EventType.RESYNC:
                yield Resync.of(event)
            elif alarm := await alarms.alarms_for(actor_of(info)).filter(id=event.data["alarmId"]).first():
                yield alarm

    @strawberry.subscription(
        permission_classes=AUTHENTICATED, description="New messages in your inbox.", graphql_type=MessageEvent
    )
    async def message_received(self, info: Info) -> AsyncGenerator[models.Message | Resync, None]:
        async for event in _events(info, frozenset({EventType.MESSAGE_CREATED})):
            if event.type == EventType.RESYNC:
                yield Resync.of(event)
            elif (
                message := await inbox.messages_for(actor_of(info)).filter(id=event.data["messageId"]).first()
            ):
                yield message

    @strawberry.subscription(
        permission_classes=AUTHENTICATED,
        description="Verifications you can see as they change (assignment, report, finding, answer, "
        "conclusion), or one verification; each event is checked against your scope.",
        graphql_type=VerificationStatusEvent,
    )
    async def verification_status_changed(
        self,
        info: Info,
        verification_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this verification; all in scope when omitted."),
        ] = None,
    ) -> AsyncGenerator[models.Verification | Resync, None]:
        try:
            wanted = parse_id(verification_id, "verificationId", "Verification") if verification_id else None
        except ServiceError:
            return
        async for event in _events(info, frozenset({EventType.VERIFICATION_CHANGED})):
            if event.type == EventType.RESYNC:
                yield Resync.of(event)
            elif wanted is None or event.data["verificationId"] == wanted:
                # Read now, in scope: a verification reassigned away is no longer this verifier's.
                found = (
                    await verifications.verifications_for(actor_of(info))
                    .filter(id=event.data["verificationId"])
                    .first()
                )
                if found is not None:
                    yield found
