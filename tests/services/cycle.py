"""Helpers the service tests share: a compliance cycle driven step by step, coded-error
assertions and row counts for "nothing was written" checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from models import (
    Alarm,
    Allowance,
    Application,
    AuditEvent,
    Document,
    Enterprise,
    Message,
    Notice,
    Reminder,
    User,
    WebhookDelivery,
)
from services.access import Actor
from services.compliance import applications, notices
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from services.errors import ErrorCode, ServiceError
from tests.conftest import World, in_days, pdf


@contextmanager
def fails_with(code: ErrorCode, field: str | None = None) -> Iterator[pytest.ExceptionInfo[ServiceError]]:
    """The block raises a ServiceError with this code (and, if given, naming this field)."""
    with pytest.raises(ServiceError) as info:
        yield info
    assert info.value.code == code, repr(info.value)
    if field is not None:
        assert info.value.field == field, repr(info.value)


MODELS = (
    Enterprise,
    User,
    Allowance,
    Document,
    Notice,
    Application,
    AuditEvent,
    Message,
    Alarm,
    Reminder,
    WebhookDelivery,
)


async def row_counts() -> dict[str, int]:
    return {model.__name__: await model.all().count() for model in MODELS}


class unchanged:
    """`async with unchanged(): ...` asserts that no table gained or lost a row inside."""

    async def __aenter__(self) -> None:
        self.before = await row_counts()

    async def __aexit__(self, *exc: object) -> None:
        after = await row_counts()
        assert after == self.before, f"rows changed: {self.before} -> {after}"


@dataclass
class Cycle:
    world: World
    files: FileStore
    enterprise: Enterprise
    regulator: Actor
    member: Actor
    notice: Notice

    @classmethod
    async def start(
        cls, world: World, files: FileStore, *, allowance: int = 1000, region: str = "440113"
    ) -> Cycle:
        enterprise = await world.enterprise(region)
        regulator = await world.regulator(region[:2])
        member = await world.member(enterprise)
        await world.allowance(regulator, enterprise, allowance)
        notice = await issue(regulator, files, enterprise)
        return cls(world, files, enterprise, regulator, member, notice)

    async def acknowledge(self) -> Notice:
        return await notices.acknowledge_notice(self.member, self.notice.id)

    async def submit(self, actor: Actor | None = None, **overrides: Any) -> Application:
        values: dict[str, Any] = {
            "notice_id": self.notice.id,
            "verified_emissions": 1100,
            "offsets": 100,
            "purchased_allowances": 50,
            "report": pdf("report.pdf"),
        }
        values.update(overrides)
        return await applications.submit_application(actor or self.member, self.files, **values)

    async def review(
        self,
        application: Application,
        decision: Action,
        reason: str | None = None,
        actor: Actor | None = None,
    ) -> Application:
        return await applications.review_application(
            actor or self.regulator, application_id=application.id, decision=decision, reason=reason
        )

    async def under_review(self, **overrides: Any) -> Application:
        """Acknowledge and submit: the notice is UNDER_REVIEW with one application."""
        await self.acknowledge()
        return await self.submit(**overrides)

    async def reload(self) -> Notice:
        await self.notice.refresh_from_db()
        return self.notice

    async def set_times(self, **times: datetime) -> Notice:
        """Rewrite the notice's stored instants (deadline, issued_at, ack_due_at): the services
        compare them with the real clock, so moving them is how a test lets time pass."""
        await Notice.filter(id=self.notice.id).update(**times)
        return await self.reload()


async def issue(regulator: Actor, files: FileStore, enterprise: Enterprise, **overrides: Any) -> Notice:
    """Issue a 2025 notice; `overrides` replace the NoticeRequest's fields, or the document."""
    values: dict[str, Any] = {
        "year": 2025,
        "deadline": in_days(30),
        "ack_window_hours": 72,
        "title": "2025 年度履约通知书",
        "body": "Surrender allowances equal to your verified 2025 emissions.",
        # The compliance-cycle tests state the verified figure themselves (tests/services/verification
        # cover notices that require a conclusion).
        "require_verification": False,
    }
    values.update(overrides)
    document = values.pop("document", pdf())
    return await notices.issue_notice(
        regulator, files, notices.NoticeRequest(**values), enterprise_id=enterprise.id, document=document
    )
