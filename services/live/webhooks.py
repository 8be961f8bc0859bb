"""Optional alarm webhook: each alarm POSTed as JSON, signed, retried with backoff, recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from tortoise.exceptions import IntegrityError

from models import Alarm, Enterprise, Notice, WebhookDelivery
from services.i18n import render
from services.live import jobs

SIGNATURE_HEADER = "X-CCMS-Signature"


@dataclass(frozen=True)
class WebhookConfig:
    url: str | None = None
    secret: str = ""
    max_attempts: int = 8
    timeout_seconds: float = 10.0
    first_retry_seconds: float = 5.0


_config = WebhookConfig()


def configure(config: WebhookConfig) -> None:
    global _config
    _config = config


def configured() -> bool:
    return bool(_config.url)


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC of the raw body>`; receivers recompute it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alarm_params(alarm: Alarm, enterprise: Enterprise, year: int) -> dict[str, object]:
    """What the words of an alarm say (catalog texts `alarm.<kind>.title` and `.body`)."""
    return {
        "enterprise": enterprise.name,
        "credit_code": enterprise.credit_code,
        "year": year,
        "due": alarm.due_at,
    }


async def payload(alarm: Alarm) -> dict[str, object]:
    """The alarm as JSON; times carry CCMS_TIMEZONE's offset and the words are in CCMS_LANGUAGE."""
    enterprise = await Enterprise.get(id=alarm.enterprise_id)
    year = (await Notice.get(id=alarm.notice_id)).year
    language, zone = render.default_language(), render.zone()
    params = alarm_params(alarm, enterprise, year)
    return {
        "alarmId": alarm.id,
        "kind": str(alarm.kind),
        "noticeId": alarm.notice_id,
        "verificationId": alarm.verification_id,
        "enterprise": {
            "id": enterprise.id,
            "name": enterprise.name,
            "creditCode": enterprise.credit_code,
            "regionCode": enterprise.region_code,
        },
        "dueAt": alarm.due_at.astimezone(zone).isoformat(),
        "raisedAt": alarm.raised_at.astimezone(zone).isoformat(),
        "language": language,
        "title": render.text(f"alarm.{alarm.kind.value}.title", params, language),
        "text": render.text(f"alarm.{alarm.kind.value}.body", params, language),
    }


async def deliver(alarm_id: int, attempt: int = 1) -> WebhookDelivery | None:
    """One attempt; on failure the next is scheduled with exponential backoff.

    The job carries its attempt number and the unique (alarm, attempt) key lets one
    message make each attempt, so a duplicated job message cannot send twice (counting
    attempts from the table instead would let a duplicate arriving while attempt 1 is in
    flight send attempt 2 at once).
    """
    if not configured() or not 1 <= attempt <= _config.max_attempts:
        return None
    alarm = await Alarm.get_or_none(id=alarm_id)
    if alarm is None or await WebhookDelivery.exists(alarm_id=alarm_id, succeeded=True):
        return None
    try:
        record = await WebhookDelivery.create(
            alarm_id=alarm_id, attempt=attempt, at=datetime.now(UTC), succeeded=False
        )
    except IntegrityError:
        return None  # a duplicate message is making this attempt
    body = json.dumps(await payload(alarm), ensure_ascii=False).encode()
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, _config.secret)}
    try:
        async with httpx.AsyncClient(timeout=_config.timeout_seconds) as client:
            response = await client.post(str(_config.url), content=body, headers=headers)
        record.status_code = response.status_code
        record.succeeded = response.is_success
    except httpx.HTTPError as error:
        record.error = f"{type(error).__name__}: {error}"[:2000]
    await record.save()
    if not record.succeeded and attempt < _config.max_attempts:
        await jobs.enqueue(
            "deliver_webhook",
            alarm_id,
            attempt + 1,
            delay_seconds=_config.first_retry_seconds * 2 ** (attempt - 1),
        )
    return record
