"""Compliance notices: issuing (with its validations), acknowledging and extending the deadline."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from models import AuditEvent, Document, Enterprise, Message, MessageKind, Notice, NoticeStatus
from services.access import Actor
from services.compliance import inbox
from services.compliance.documents import FileStore
from services.compliance.notices import (
    MAX_ACK_WINDOW_HOURS,
    NoticeFilter,
    acknowledge_notice,
    extend_deadline,
    notices_for,
)
from services.compliance.workflow import Action
from services.errors import ErrorCode
from tests.beijing import beijing
from tests.conftest import PDF, PNG, Upload, World, in_days, pdf
from tests.services.cycle import Cycle, fails_with, issue, unchanged

KIB = 1024


def stored_files(files: FileStore) -> list[Path]:
    return [p for p in files.root.rglob("*") if p.is_file()] if files.root.exists() else []


class Desk:
    """A regulator with an enterprise whose 2025 allowance (1000 t) is set, ready to issue."""

    def __init__(self, regulator: Actor, enterprise: Enterprise, files: FileStore) -> None:
        self.regulator, self.enterprise, self.files = regulator, enterprise, files

    async def issue(self, actor: Actor | None = None, **overrides: Any) -> Notice:
        return await issue(actor or self.regulator, self.files, self.enterprise, **overrides)


@pytest_asyncio.fixture
async def desk(world: World, files: FileStore) -> Desk:
    enterprise = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await world.allowance(regulator, enterprise, 1000, 2025)
    return Desk(regulator, enterprise, files)


# -- issuing -----------------------------------------------------------------------------------


async def test_issuing_snapshots_the_allowance_and_the_default_rules(desk: Desk) -> None:
    deadline = datetime(2030, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=8)))
    notice = await desk.issue(deadline=deadline, ack_window_hours=48)
    stored = await Notice.get(id=notice.id)
    assert (stored.enterprise_id, stored.year, stored.status, stored.version) == (
        desk.enterprise.id,
        2025,
        NoticeStatus.ISSUED,
        1,
    )
    assert (stored.allowance, stored.offset_cap_ratio, stored.allow_banking) == (1000, Decimal("0.05"), False)
    assert (stored.ack_window_hours, stored.issued_by_id, stored.acknowledged_at) == (
        48,
        desk.regulator.user_id,
        None,
    )
    assert stored.deadline == deadline
    assert stored.deadline.utcoffset() == timedelta(0)
    assert stored.title == "2025 年度履约通知书"


async def test_a_notice_may_set_its_own_offset_cap_and_banking(desk: Desk) -> None:
    notice = await desk.issue(offset_cap_ratio="0.08", allow_banking=True)
    stored = await Notice.get(id=notice.id)
    assert (stored.offset_cap_ratio, stored.allow_banking) == (Decimal("0.08"), True)


async def test_issuing_posts_the_allowance_and_the_notice_to_the_enterprise_inbox(desk: Desk) -> None:
    notice = await desk.issue(title="Please comply", body="Details inside")
    messages = await Message.filter(enterprise_id=desk.enterprise.id).order_by("id")
    assert [(m.kind, m.notice_id, m.read_at) for m in messages] == [
        (MessageKind.ALLOWANCE, notice.id, None),
        (MessageKind.NOTICE, notice.id, None),
    ]
    assert messages[0].body == f"贵单位 {notice.year} 年度的初始配额为 1000 吨二氧化碳。"
    assert inbox.body_of(messages[0], "en") == f"Your initial allowance for {notice.year} is 1000 tCO2."
    assert (messages[1].title, messages[1].body) == ("Please comply", "Details inside")


async def test_the_official_document_is_stored_by_its_hash(desk: Desk) -> None:
    notice = await desk.issue(document=Upload(PDF, "../../etc/通知书.pdf"))
    document = await Document.get(id=notice.document_id)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (document.sha256, document.size, document.content_type) == (digest, len(PDF), "application/pdf")
    assert (document.filename, document.enterprise_id, document.uploaded_by_id) == (
        "通知书.pdf",
        desk.enterprise.id,
        desk.regulator.user_id,
    )
    path = desk.files.root / digest[:2] / digest
    assert path.read_bytes() == PDF
    assert stored_files(desk.files) == [path]


async def test_issuing_is_audited(desk: Desk) -> None:
    notice = await desk.issue()
    event = await AuditEvent.get(notice_id=notice.id)
    assert (event.action, event.actor_id, event.from_status, event.to_status) == (
        "notice.issued",
        desk.regulator.user_id,
        None,
        "ISSUED",
    )
    assert event.data == {"allowance": 1000, "deadline": notice.deadline.isoformat()}


def document(data: bytes, name: str) -> dict[str, Any]:
    """Parameters are shared by both backends' runs: build a fresh (unread) upload per run."""
    return {"document": lambda: Upload(data, name)}


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"deadline": in_days(-1)}, ErrorCode.DEADLINE_IN_PAST, "deadline"),
        ({"deadline": datetime(2030, 12, 31, 23, 59)}, ErrorCode.INVALID_DATETIME, "deadline"),
        ({"ack_window_hours": 0}, ErrorCode.INVALID_ACK_WINDOW, "ackWindowHours"),
        ({"ack_window_hours": -72}, ErrorCode.INVALID_ACK_WINDOW, "ackWindowHours"),
        ({"ack_window_hours": MAX_ACK_WINDOW_HOURS + 1}, ErrorCode.INVALID_ACK_WINDOW, "ackWindowHours"),
        ({"offset_cap_ratio": "1.5"}, ErrorCode.INVALID_RATIO, "offsetCapRatio"),
        ({"offset_cap_ratio": "-0.05"}, ErrorCode.INVALID_RATIO, "offsetCapRatio"),
        ({"offset_cap_ratio": "five percent"}, ErrorCode.INVALID_RATIO, "offsetCapRatio"),
        ({"title": "   "}, ErrorCode.REQUIRED, "title"),
        ({"title": "x" * 201}, ErrorCode.TOO_LONG, "title"),
        ({"year": 1999}, ErrorCode.INVALID_YEAR, "year"),
        ({"year": 2026}, ErrorCode.ALLOWANCE_NOT_SET, "year"),
        ({"document": lambda: None}, ErrorCode.DOCUMENT_REQUIRED, "document"),
        (document(PDF + b"\0" * (64 * KIB), "big.pdf"), ErrorCode.DOCUMENT_TOO_LARGE, "document"),
        (
            document(b"Dear enterprise, please comply.", "notice.pdf"),
            ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED,
            "document",
        ),
        (
            document(b"PK\x03\x04" + b"\0" * 26 + b"notice.pdf", "notice.zip"),
            ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED,
            "document",
        ),
        (document(b"", "empty.pdf"), ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED, "document"),
    ],
)
async def test_an_invalid_notice_is_refused_and_nothing_is_created(
    desk: Desk, overrides: dict[str, Any], code: ErrorCode, field: str
) -> None:
    values = {k: v() if callable(v) else v for k, v in overrides.items()}
    async with unchanged():
        with fails_with(code, field):
            await desk.issue(**values)
    assert stored_files(desk.files) == []


async def test_a_document_of_exactly_the_size_limit_is_accepted(desk: Desk) -> None:
    data = PDF + b"\0" * (64 * KIB - len(PDF))
    notice = await desk.issue(document=Upload(data, "limit.pdf"))
    assert (await Document.get(id=notice.document_id)).size == 64 * KIB


async def test_the_size_error_states_the_actual_limit(desk: Desk) -> None:
    with fails_with(ErrorCode.DOCUMENT_TOO_LARGE) as error:
        await desk.issue(document=Upload(PDF + b"\0" * (64 * KIB), "big.pdf"))
    stated = re.search(r"larger than ([\d.]+) MB", error.value.message)
    assert stated is not None, error.value.message
    assert float(stated.group(1)) * 1024 * 1024 == 64 * KIB


@pytest.mark.parametrize("hours", [1, 72, MAX_ACK_WINDOW_HOURS])
async def test_the_acknowledgement_window_may_be_one_hour_to_ninety_days(desk: Desk, hours: int) -> None:
    assert (await desk.issue(ack_window_hours=hours)).ack_window_hours == hours


async def test_a_png_scan_is_an_acceptable_document(desk: Desk) -> None:
    notice = await desk.issue(document=Upload(PNG, "scan.pdf"))
    assert (await Document.get(id=notice.document_id)).content_type == "image/png"


async def test_one_notice_per_enterprise_and_year(desk: Desk) -> None:
    await desk.issue()
    async with unchanged():
        with fails_with(ErrorCode.NOTICE_ALREADY_ISSUED, "year"):
            await desk.issue(title="Second try", document=Upload(PDF + b"%second", "other.pdf"))
    assert len(stored_files(desk.files)) == 1


async def test_a_regulator_of_another_province_cannot_issue(desk: Desk, world: World) -> None:
    beijing = await world.regulator("11")
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
            await desk.issue(beijing)


async def test_only_a_regulator_issues(desk: Desk, world: World) -> None:
    member, admin = await world.member(desk.enterprise), await world.admin()
    async with unchanged():
        for actor in (member, admin):
            with fails_with(ErrorCode.PERMISSION_DENIED):
                await desk.issue(actor)


# -- acknowledging -----------------------------------------------------------------------------


async def test_acknowledging_records_who_and_when(cycle: Cycle) -> None:
    before = datetime.now(UTC)
    await cycle.acknowledge()
    notice = await cycle.reload()
    assert (notice.status, notice.version, notice.acknowledged_by_id) == (
        NoticeStatus.ACKNOWLEDGED,
        2,
        cycle.member.user_id,
    )
    assert notice.acknowledged_at is not None
    assert before <= notice.acknowledged_at <= datetime.now(UTC)
    event = await AuditEvent.get(notice_id=notice.id, action="notice.acknowledged")
    assert (event.actor_id, event.from_status, event.to_status) == (
        cycle.member.user_id,
        "ISSUED",
        "ACKNOWLEDGED",
    )


async def test_acknowledging_again_is_harmless(cycle: Cycle, world: World) -> None:
    await cycle.acknowledge()
    first = await cycle.reload()
    colleague = await world.member(cycle.enterprise)
    async with unchanged():
        again = await acknowledge_notice(colleague, cycle.notice.id)
        await cycle.acknowledge()
    assert again.status == NoticeStatus.ACKNOWLEDGED
    notice = await cycle.reload()
    assert (notice.acknowledged_at, notice.acknowledged_by_id, notice.version) == (
        first.acknowledged_at,
        cycle.member.user_id,
        2,
    )


async def test_acknowledging_after_submission_changes_nothing(cycle: Cycle) -> None:
    await cycle.under_review()
    async with unchanged():
        notice = await cycle.acknowledge()
    assert notice.status == NoticeStatus.UNDER_REVIEW


async def test_another_enterprise_cannot_acknowledge(cycle: Cycle, world: World) -> None:
    stranger = await world.member(await world.enterprise("440113"))
    async with unchanged():
        with fails_with(ErrorCode.NOT_FOUND, "noticeId"):
            await acknowledge_notice(stranger, cycle.notice.id)
    assert (await cycle.reload()).status == NoticeStatus.ISSUED


async def test_a_regulator_cannot_acknowledge_for_the_enterprise(cycle: Cycle) -> None:
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await acknowledge_notice(cycle.regulator, cycle.notice.id)
    assert (await cycle.reload()).acknowledged_at is None


# -- extending the deadline --------------------------------------------------------------------


async def test_extending_moves_the_deadline_tells_the_enterprise_and_is_audited(cycle: Cycle) -> None:
    old = cycle.notice.deadline
    new = old + timedelta(days=14)
    await extend_deadline(cycle.regulator, cycle.notice.id, new, "  Typhoon closed the offices  ")
    notice = await cycle.reload()
    assert (notice.deadline, notice.status, notice.version) == (new, NoticeStatus.ISSUED, 2)
    message = await Message.get(kind=MessageKind.DEADLINE_EXTENDED)
    assert (message.enterprise_id, message.notice_id) == (cycle.enterprise.id, notice.id)
    assert message.body == f"新的截止时间：{beijing(new)}。原因：Typhoon closed the offices"
    event = await AuditEvent.get(action="notice.deadline_extended")
    assert (event.actor_id, event.notice_id, event.reason) == (
        cycle.regulator.user_id,
        notice.id,
        "Typhoon closed the offices",
    )
    assert (event.from_status, event.to_status) == ("ISSUED", "ISSUED")
    assert event.data == {"from": old.isoformat(), "to": new.isoformat()}


@pytest.mark.parametrize("reason", ["", "   "])
async def test_an_extension_needs_a_reason(cycle: Cycle, reason: str) -> None:
    async with unchanged():
        with fails_with(ErrorCode.REQUIRED, "reason"):
            await extend_deadline(cycle.regulator, cycle.notice.id, in_days(60), reason)


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(days=-1)])
async def test_an_extension_must_be_later_than_the_current_deadline(cycle: Cycle, shift: timedelta) -> None:
    async with unchanged():
        with fails_with(ErrorCode.DEADLINE_NOT_LATER, "deadline"):
            await extend_deadline(cycle.regulator, cycle.notice.id, cycle.notice.deadline + shift, "reason")


async def test_an_extension_must_also_be_in_the_future(cycle: Cycle) -> None:
    await Notice.filter(id=cycle.notice.id).update(deadline=in_days(-10))
    with fails_with(ErrorCode.DEADLINE_NOT_LATER, "deadline"):
        await extend_deadline(cycle.regulator, cycle.notice.id, in_days(-5), "reason")


async def test_an_extension_needs_an_offset(cycle: Cycle) -> None:
    with fails_with(ErrorCode.INVALID_DATETIME, "deadline"):
        await extend_deadline(cycle.regulator, cycle.notice.id, datetime(2099, 1, 1), "reason")


async def test_an_extension_reopens_submission_after_the_deadline(cycle: Cycle) -> None:
    await cycle.acknowledge()
    await Notice.filter(id=cycle.notice.id).update(deadline=in_days(-1))
    with fails_with(ErrorCode.DEADLINE_PASSED):
        await cycle.submit()
    await extend_deadline(cycle.regulator, cycle.notice.id, in_days(7), "late verification reports")
    application = await cycle.submit()
    assert (await cycle.reload()).status == NoticeStatus.UNDER_REVIEW
    assert application.notice_id == cycle.notice.id


async def test_a_fulfilled_notice_cannot_be_extended(cycle: Cycle) -> None:
    await cycle.review(await cycle.under_review(), Action.APPROVE)
    deadline = (await cycle.reload()).deadline
    async with unchanged():
        with fails_with(ErrorCode.INVALID_TRANSITION):
            await extend_deadline(cycle.regulator, cycle.notice.id, deadline + timedelta(days=1), "reason")
    assert (await cycle.reload()).deadline == deadline


async def test_only_the_regulator_in_scope_extends(cycle: Cycle, world: World) -> None:
    with fails_with(ErrorCode.NOT_FOUND, "noticeId"):
        await extend_deadline(await world.regulator("11"), cycle.notice.id, in_days(60), "reason")
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await extend_deadline(cycle.member, cycle.notice.id, in_days(60), "reason")
    assert (await cycle.reload()).version == 1


# -- finding notices ---------------------------------------------------------------------------


async def test_notices_are_seen_by_their_enterprise_and_the_regulators_in_scope(
    cycle: Cycle, world: World
) -> None:
    stranger = await world.member(await world.enterprise("440113"))
    visible = {
        "member": cycle.member,
        "province": cycle.regulator,
        "county": await world.regulator("440113"),
        "national": await world.regulator(""),
        "admin": await world.admin(),
    }
    hidden = {
        "stranger": stranger,
        "beijing": await world.regulator("11"),
        "shenzhen": await world.regulator("4403"),
    }
    for name, actor in visible.items():
        assert [n.id for n in await notices_for(actor)] == [cycle.notice.id], name
    for name, actor in hidden.items():
        assert await notices_for(actor).count() == 0, name


async def test_notice_filters(cycle: Cycle, world: World, files: FileStore) -> None:
    beijing = await world.enterprise("110105")
    national = await world.regulator("")
    await world.allowance(national, beijing, 500, 2025)
    other = await issue(national, files, beijing, document=pdf())
    await cycle.acknowledge()

    async def ids(**where: Any) -> set[int]:
        return {n.id for n in await notices_for(national, NoticeFilter(**where))}

    assert await ids() == {cycle.notice.id, other.id}
    assert await ids(status=NoticeStatus.ACKNOWLEDGED) == {cycle.notice.id}
    assert await ids(region_prefix="11") == {other.id}
    assert await ids(enterprise_id=beijing.id) == {other.id}
    assert await ids(year=2025, industry_code="44") == {cycle.notice.id, other.id}
    assert await ids(year=2024) == set()
    assert await ids(industry_code="25") == set()
