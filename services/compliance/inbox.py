"""Inboxes: an enterprise's (allowances, notices, review results, reminders), the
regulators' (alarms) and a verification body's (assignments, reports), each shared by the
users it belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.queryset import QuerySet

from models import Message, MessageKind, Role
from services.access import Actor, require_role
from services.errors import ErrorCode, ServiceError
from services.i18n import render
from services.i18n.languages import Language
from services.values import MAX_ID

MAX_IDS = 100


@dataclass(frozen=True)
class Text:
    """A message the system writes: `<key>.title` and `<key>.body` in the catalogs
    (services/i18n), filled with `params`. Stored as key and parameters, so every reader gets
    it in their own language; the title and body columns keep it in CCMS_LANGUAGE."""

    key: str
    params: Mapping[str, object]

    def columns(self) -> dict[str, Any]:
        language = render.default_language()
        return {
            "title": render.text(f"{self.key}.title", self.params, language)[:200],
            "body": render.text(f"{self.key}.body", self.params, language),
            "text_key": self.key,
            "params": render.encode(self.params),
        }


def title_of(message: Message, language: Language) -> str:
    if message.text_key is None:
        return message.title
    return render.text(f"{message.text_key}.title", message.params or {}, language)


def body_of(message: Message, language: Language) -> str:
    if message.text_key is None:
        return message.body
    return render.text(f"{message.text_key}.body", message.params or {}, language)


async def post(
    enterprise_id: int,
    kind: MessageKind,
    text: Text,
    notice_id: int | None = None,
    *,
    verification_id: int | None = None,
) -> Message:
    """A message to an enterprise's inbox; call inside the transaction of the change."""
    return await Message.create(
        enterprise_id=enterprise_id,
        kind=kind,
        notice_id=notice_id,
        verification_id=verification_id,
        **text.columns(),
    )


async def post_as_written(
    enterprise_id: int, kind: MessageKind, title: str, body: str, notice_id: int | None = None
) -> Message:
    """A message whose words are a person's (a regulator's notice): shown as written to everyone."""
    return await Message.create(
        enterprise_id=enterprise_id, kind=kind, title=title, body=body, notice_id=notice_id
    )


async def post_to_regulators(
    region_code: str,
    kind: MessageKind,
    text: Text,
    notice_id: int | None = None,
    *,
    verification_id: int | None = None,
) -> Message:
    """A message for every regulator whose prefix covers `region_code` (an enterprise's region)."""
    return await Message.create(
        regulator_region=region_code,
        kind=kind,
        notice_id=notice_id,
        verification_id=verification_id,
        **text.columns(),
    )


async def post_to_body(body_id: int, text: Text, verification_id: int) -> Message:
    """A message for the verifiers of a body, about one of its verifications."""
    return await Message.create(
        verification_body_id=body_id,
        kind=MessageKind.VERIFICATION,
        verification_id=verification_id,
        **text.columns(),
    )


def messages_for(actor: Actor, unread_only: bool = False) -> QuerySet[Message]:
    """The actor's inbox; admins have none."""
    if actor.role == Role.ENTERPRISE and actor.enterprise_id is not None:
        query = Message.filter(enterprise_id=actor.enterprise_id)
    elif actor.role == Role.REGULATOR:
        query = Message.filter(regulator_region__startswith=actor.region_prefix)
    elif actor.role == Role.VERIFIER and actor.verification_body_id is not None:
        query = Message.filter(verification_body_id=actor.verification_body_id)
    else:
        return Message.filter(id__lt=0)
    return query.filter(read_at__isnull=True) if unread_only else query


async def mark_read(actor: Actor, ids: list[int]) -> list[Message]:
    """Mark the actor's own messages read; ids of others' messages are ignored, not reported."""
    require_role(actor, Role.ENTERPRISE, Role.REGULATOR, Role.VERIFIER)  # admins have no inbox
    if len(ids) > MAX_IDS:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS, "at most {MAX_IDS} ids at once", "ids", params={"MAX_IDS": MAX_IDS}
        )
    ids = [i for i in ids if 0 < i <= MAX_ID]  # never a row, and the database would refuse the query
    own = messages_for(actor).filter(id__in=ids)
    await own.filter(read_at__isnull=True).update(read_at=datetime.now(UTC))
    return await messages_for(actor).filter(id__in=ids).order_by("id")
