"""Verification bodies, verifier accounts, and assigning a body to an enterprise-year."""

from __future__ import annotations

import pytest

from models import (
    AuditEvent,
    Message,
    Role,
    Sector,
    Verification,
    VerificationBody,
    VerificationConflict,
    VerificationStatus,
)
from services.codes import make_credit_code
from services.errors import ErrorCode
from services.identity.users import create_user
from services.verification import assignments, bodies
from services.verification.bodies import BodyRequest
from tests.conftest import World, in_days
from tests.services.cycle import fails_with
from tests.services.verification.support import Three


def request(**overrides: object) -> BodyRequest:
    values: dict[str, object] = {
        "name": "中环核查有限公司",
        "credit_code": make_credit_code("110105", "MB000001"),
        "accreditation_number": "CNAS-V-0042",
        "sectors": ["power", "CEMENT", "POWER"],
    }
    values.update(overrides)
    return BodyRequest(**values)  # type: ignore[arg-type]


async def test_an_admin_creates_a_body_with_its_sectors_and_an_audit_event(world: World) -> None:
    admin = await world.admin()
    body = await bodies.create_body(admin, request())
    assert (body.name, body.is_active, body.sectors) == ("中环核查有限公司", True, ["POWER", "CEMENT"])
    event = await AuditEvent.get(entity_type="VerificationBody", entity_id=body.id)
    assert event.action == "verification_body.created" and event.actor_id == admin.user_id


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"credit_code": "91440101MA00000000"}, ErrorCode.INVALID_CREDIT_CODE, "creditCode"),
        ({"sectors": []}, ErrorCode.REQUIRED, "sectors"),
        ({"sectors": ["SHIPPING"]}, ErrorCode.INVALID_SECTOR, "sectors"),
        ({"name": " "}, ErrorCode.REQUIRED, "name"),
    ],
)
async def test_a_bad_body_is_refused_and_nothing_is_written(
    world: World, overrides: dict[str, object], code: ErrorCode, field: str
) -> None:
    admin = await world.admin()
    with fails_with(code, field):
        await bodies.create_body(admin, request(**overrides))
    assert await VerificationBody.all().count() == 0


async def test_a_credit_code_is_unique_among_bodies_and_only_admins_create_them(world: World) -> None:
    admin, regulator = await world.admin(), await world.regulator()
    await bodies.create_body(admin, request())
    with fails_with(ErrorCode.DUPLICATE_CREDIT_CODE, "creditCode"):
        await bodies.create_body(admin, request(name="Another"))
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await bodies.create_body(regulator, request(credit_code=make_credit_code("110105", "MB000002")))
    assert await VerificationBody.all().count() == 1


async def test_a_verifier_account_is_bound_to_one_existing_body(world: World) -> None:
    body = await world.body()
    user = await create_user(
        None, username="auditor", password="password-123", role=Role.VERIFIER, verification_body_id=body.id
    )
    assert user.verification_body_id == body.id
    with fails_with(ErrorCode.INVALID_ROLE_SCOPE, "verificationBodyId"):
        await create_user(None, username="nobody", password="password-123", role=Role.VERIFIER)
    with fails_with(ErrorCode.NOT_FOUND, "verificationBodyId"):
        await create_user(
            None,
            username="ghost",
            password="password-123",
            role=Role.VERIFIER,
            verification_body_id=body.id + 99,
        )
    with fails_with(ErrorCode.INVALID_ROLE_SCOPE, "verificationBodyId"):
        await create_user(
            None, username="mixed", password="password-123", role=Role.REGULATOR, verification_body_id=body.id
        )


async def test_assigning_notifies_the_enterprise_and_the_body(three: Three) -> None:
    verification = await three.assign()
    assert (verification.status, verification.body_id, verification.year) == (
        VerificationStatus.ASSIGNED,
        three.body.id,
        2025,
    )
    assert (
        await Message.filter(enterprise_id=three.enterprise.id, verification_id=verification.id).count() == 1
    )
    assert (
        await Message.filter(verification_body_id=three.body.id, verification_id=verification.id).count() == 1
    )
    assert (
        await AuditEvent.filter(verification_id=verification.id, action="verification.assigned").count() == 1
    )


async def test_an_inactive_body_is_refused(three: Three) -> None:
    await VerificationBody.filter(id=three.body.id).update(is_active=False)
    with fails_with(ErrorCode.VERIFICATION_BODY_INACTIVE, "verificationBodyId"):
        await three.assign()
    assert await Verification.all().count() == 0


async def test_a_body_not_accredited_for_the_sector_is_refused(three: Three) -> None:
    cement_only = await three.world.body((Sector.CEMENT,))
    with fails_with(ErrorCode.SECTOR_NOT_ACCREDITED, "verificationBodyId"):
        await three.assign(cement_only)
    assert await Verification.all().count() == 0


async def test_a_declared_conflict_is_refused(three: Three) -> None:
    await bodies.declare_conflict(
        three.verifier, three.enterprise.credit_code, "Our parent company owns 30 %"
    )
    # Declaring again keeps the first declaration.
    await bodies.declare_conflict(three.verifier, three.enterprise.credit_code, "again")
    assert await VerificationConflict.filter(body_id=three.body.id).count() == 1
    with fails_with(ErrorCode.CONFLICT_OF_INTEREST, "verificationBodyId"):
        await three.assign()
    assert await Verification.all().count() == 0


async def test_only_a_verifier_declares_a_conflict_and_only_for_a_real_enterprise(three: Three) -> None:
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await bodies.declare_conflict(three.regulator, three.enterprise.credit_code, "x")
    with fails_with(ErrorCode.NOT_FOUND, "creditCode"):
        await bodies.declare_conflict(three.verifier, make_credit_code("110105", "MC999999"), "x")
    assert await VerificationConflict.all().count() == 0


async def test_the_consecutive_years_rule_is_off_by_default_and_counts_years_in_a_row(three: Three) -> None:
    for year in (2022, 2023, 2024):
        await three.assign(year=year)
    with fails_with(ErrorCode.CONSECUTIVE_YEARS_EXCEEDED, "verificationBodyId"):
        await three.assign(year=2025, max_consecutive_years=3)
    assert not await Verification.exists(year=2025)
    # Off (0, the default): a fourth year in a row is fine.
    await three.assign(year=2025)
    # A year by another body breaks the run: only 2024 counts now.
    await Verification.filter(year=2023).update(body_id=(await three.world.body()).id)
    await three.assign(year=2025, max_consecutive_years=2)
    with fails_with(ErrorCode.CONSECUTIVE_YEARS_EXCEEDED, "verificationBodyId"):
        await three.assign(year=2025, max_consecutive_years=1)


async def test_reassignment_is_audited_with_the_body_it_leaves(three: Three) -> None:
    first = await three.assign()
    other = await three.world.body()
    moved = await three.assign(other, reason="Capacity")
    assert moved.id == first.id and moved.body_id == other.id
    event = await AuditEvent.get(verification_id=first.id, action="verification.reassigned")
    assert event.reason == "Capacity"
    assert (event.data["previousBodyId"], event.data["bodyId"]) == (three.body.id, other.id)
    # The body it left is told; the new one is told too.
    assert await Message.filter(verification_body_id=three.body.id).count() == 2
    assert await Message.filter(verification_body_id=other.id).count() == 1


async def test_assignment_needs_a_regulator_in_scope_and_a_future_due_date(three: Three) -> None:
    elsewhere = await three.world.regulator("11")
    with fails_with(ErrorCode.NOT_FOUND, "enterpriseId"):
        await assignments.assign_verification(
            elsewhere, enterprise_id=three.enterprise.id, year=2025, body_id=three.body.id, due_at=in_days(9)
        )
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await assignments.assign_verification(
            three.verifier,
            enterprise_id=three.enterprise.id,
            year=2025,
            body_id=three.body.id,
            due_at=in_days(9),
        )
    with fails_with(ErrorCode.DEADLINE_IN_PAST, "dueDate"):
        await three.assign(due_at=in_days(-1))
    assert await Verification.all().count() == 0
