"""The alarm webhook against a real HTTP receiver: a signed JSON POST per attempt, every attempt
recorded, failures retried with backoff up to the limit, and no attempt sent twice."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models import Alarm, Enterprise, WebhookDelivery
from services.compliance import alarms
from services.live import webhooks
from services.live.webhooks import SIGNATURE_HEADER, WebhookConfig, deliver, sign
from tests.beijing import BEIJING, beijing
from tests.services.conftest import Job
from tests.services.cycle import Cycle

SECRET = "webhook-secret-0123456789"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on a free local port, answering each POST with the next status."""

    statuses: list[int] = field(default_factory=list)
    delay_seconds: float = 0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                time.sleep(receiver.delay_seconds)
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ccms/alarms"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    webhooks.configure(
        WebhookConfig(
            url=receiver.url, secret=SECRET, max_attempts=3, timeout_seconds=5, first_retry_seconds=0.01
        )
    )
    yield receiver
    webhooks.configure(WebhookConfig())
    receiver.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def raise_alarm(cycle: Cycle) -> Alarm:
    await cycle.set_times(ack_due_at=cycle.notice.issued_at)
    alarm = await alarms.check_acknowledgement(cycle.notice.id)
    assert alarm is not None
    return alarm


async def attempts(alarm: Alarm) -> list[tuple[int, int | None, bool]]:
    rows = await WebhookDelivery.filter(alarm_id=alarm.id).order_by("attempt")
    return [(d.attempt, d.status_code, d.succeeded) for d in rows]


async def test_an_alarm_is_posted_as_signed_json(cycle: Cycle, receiver: Receiver) -> None:
    await Enterprise.filter(id=cycle.enterprise.id).update(name="广州第一电厂")
    alarm = await raise_alarm(cycle)

    record = await deliver(alarm.id)

    [request] = receiver.received
    assert request.path == "/ccms/alarms"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "alarmId": alarm.id,
        "kind": "ACK_OVERDUE",
        "noticeId": cycle.notice.id,
        "verificationId": None,
        "enterprise": {
            "id": cycle.enterprise.id,
            "name": "广州第一电厂",
            "creditCode": cycle.enterprise.credit_code,
            "regionCode": "440113",
        },
        "dueAt": alarm.due_at.astimezone(BEIJING).isoformat(),
        "raisedAt": alarm.raised_at.astimezone(BEIJING).isoformat(),
        "language": "zh-CN",
        "title": "履约通知书未按时确认",
        "text": f"广州第一电厂（{cycle.enterprise.credit_code}），{cycle.notice.year} 年度：应于 {beijing(alarm.due_at)} 前确认收到",
    }
    assert request.body.decode().count("+08:00") == 2
    assert "广州第一电厂".encode() in request.body  # UTF-8, not \\u escapes
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER.lower()] == expected == sign(request.body, SECRET)
    assert record is not None and record.succeeded
    assert await attempts(alarm) == [(1, 200, True)]


def test_the_signature_depends_on_the_secret_and_every_byte() -> None:
    body = b'{"alarmId": 1}'
    assert sign(body, "a") != sign(body, "b")
    assert sign(body, "a") != sign(body + b" ", "a")
    assert sign(body, "a").startswith("sha256=") and len(sign(body, "a")) == 7 + 64


async def test_a_delivered_alarm_is_not_sent_again(
    cycle: Cycle, receiver: Receiver, dispatched: list[Job]
) -> None:
    alarm = await raise_alarm(cycle)
    dispatched.clear()
    await deliver(alarm.id)

    assert await deliver(alarm.id) is None

    assert len(receiver.received) == 1
    assert dispatched == []


async def test_a_failing_receiver_is_retried_with_backoff_up_to_the_limit(
    cycle: Cycle, receiver: Receiver, dispatched: list[Job]
) -> None:
    receiver.statuses = [500, 503, 500, 200]
    alarm = await raise_alarm(cycle)
    dispatched.clear()

    for attempt in range(1, 5):
        await deliver(alarm.id, attempt)

    assert await attempts(alarm) == [(1, 500, False), (2, 503, False), (3, 500, False)]
    assert len(receiver.received) == 3  # max_attempts: a 4th attempt sends nothing
    assert dispatched == [
        Job("deliver_webhook", (alarm.id, 2), 0.01),
        Job("deliver_webhook", (alarm.id, 3), 0.02),
    ]


async def test_a_retry_that_succeeds_ends_the_deliveries(
    cycle: Cycle, receiver: Receiver, dispatched: list[Job]
) -> None:
    receiver.statuses = [502]
    alarm = await raise_alarm(cycle)

    await deliver(alarm.id)
    await deliver(alarm.id, 2)
    dispatched.clear()

    assert await deliver(alarm.id, 3) is None
    assert await deliver(alarm.id) is None
    assert await attempts(alarm) == [(1, 502, False), (2, 200, True)]
    assert len(receiver.received) == 2
    assert dispatched == []


async def test_a_duplicate_of_a_failed_attempt_neither_sends_nor_schedules_again(
    cycle: Cycle, receiver: Receiver, dispatched: list[Job]
) -> None:
    """A duplicated message must not jump the backoff or start a second chain of retries."""
    receiver.statuses = [500, 500]
    alarm = await raise_alarm(cycle)
    await deliver(alarm.id)
    dispatched.clear()

    assert await deliver(alarm.id) is None

    assert len(receiver.received) == 1
    assert await attempts(alarm) == [(1, 500, False)]
    assert dispatched == []


@pytest.mark.parametrize("delay", [0, 0.2])
async def test_duplicate_deliveries_at_once_send_the_attempt_once(
    cycle: Cycle, receiver: Receiver, delay: float
) -> None:
    """A duplicated job message, arriving with the first or while its POST is in flight:
    the (alarm, attempt) key lets one of them send."""
    receiver.delay_seconds = delay
    alarm = await raise_alarm(cycle)

    results = await asyncio.gather(*(deliver(alarm.id) for _ in range(3)))

    assert sum(r is not None for r in results) == 1
    assert len(receiver.received) == 1
    assert await attempts(alarm) == [(1, 200, True)]


async def test_an_unreachable_receiver_is_recorded_and_retried(
    cycle: Cycle, receiver: Receiver, dispatched: list[Job]
) -> None:
    webhooks.configure(WebhookConfig(url=f"http://127.0.0.1:{closed_port()}/x", secret=SECRET))
    alarm = await raise_alarm(cycle)
    dispatched.clear()

    record = await deliver(alarm.id)

    assert record is not None
    [row] = await WebhookDelivery.filter(alarm_id=alarm.id)
    assert (row.attempt, row.status_code, row.succeeded) == (1, None, False)
    assert row.error is not None and row.error.startswith("ConnectError")
    assert dispatched == [Job("deliver_webhook", (alarm.id, 2), 5.0)]


async def test_a_receiver_that_does_not_answer_in_time_is_recorded_as_a_timeout(
    cycle: Cycle, receiver: Receiver
) -> None:
    receiver.delay_seconds = 0.5
    webhooks.configure(WebhookConfig(url=receiver.url, secret=SECRET, timeout_seconds=0.1))
    alarm = await raise_alarm(cycle)

    await deliver(alarm.id)

    [row] = await WebhookDelivery.filter(alarm_id=alarm.id)
    assert row.error is not None and "Timeout" in row.error
    assert not row.succeeded


async def test_without_a_url_nothing_is_sent_or_recorded(cycle: Cycle, dispatched: list[Job]) -> None:
    alarm = await raise_alarm(cycle)
    assert await deliver(alarm.id) is None
    assert not await WebhookDelivery.exists()


async def test_an_unknown_alarm_is_not_delivered(db: str, receiver: Receiver) -> None:
    assert await deliver(999_999) is None
    assert receiver.received == []
    assert not await WebhookDelivery.exists()
