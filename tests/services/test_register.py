"""The bulk enterprise register: upsert by credit code, codes validated as createEnterprise
validates them, scoped to the regulator's region, optional accounts with one-time passwords,
audited, all or nothing unless partial."""

from __future__ import annotations

from typing import Any

import pytest

from models import AuditEvent, Enterprise, Role, Sector, User
from services import register
from services.codes import make_credit_code
from services.errors import ErrorCode
from services.identity.users import SignIn, login
from tests.conftest import World
from tests.services.cycle import fails_with

SIGN_IN = SignIn("register-test-secret-of-at-least-32-bytes", 3600, address="10.9.8.7")


def row(code: str, name: str = "广州某电厂", region: str = "440113", industry: str = "4411", sector: str = "POWER", username: str = "") -> dict[str, str]:  # fmt: skip
    return {
        "credit_code": code,
        "name": name,
        "region_code": region,
        "industry_code": industry,
        "sector": sector,
        "username": username,
    }


def code(n: int, region: str = "440113") -> str:
    return make_credit_code(region, f"RG{n:06d}")


async def register_table() -> list[tuple[Any, ...]]:
    return sorted(
        await Enterprise.all().values_list("credit_code", "name", "region_code", "industry_code", "sector")
    )


def expected(rows: list[dict[str, str]]) -> list[tuple[Any, ...]]:
    """What the table should hold: the rows as given, the last word per code, codes upper-cased."""
    last = {r["credit_code"].strip().upper(): r for r in rows}
    return sorted(
        (c, r["name"].strip(), r["region_code"], r["industry_code"], Sector(r["sector"].upper()))
        for c, r in last.items()
    )


async def test_a_regulator_registers_new_enterprises_and_updates_known_ones(world: World) -> None:
    regulator = await world.regulator("44")
    known = await world.enterprise("440113", name="旧名称")
    rows = [
        row(code(1), name=" 广州某电厂 "),
        row(code(2).lower(), name="深圳某钢铁", region="440300", industry="3120", sector="steel"),
        row(known.credit_code, name="新名称", region="440106", industry="3011", sector="CEMENT"),
    ]
    result = await register.import_rows(regulator, rows)
    assert (result.rows.written, result.rows.error_count, result.created, result.updated) == (3, 0, 2, 1)
    assert await register_table() == expected(rows)
    assert (await Enterprise.get(id=known.id)).name == "新名称"  # the same row, not a second one

    created = await AuditEvent.filter(action="enterprise.created").values_list("actor_id", "data")
    assert sorted(d["creditCode"] for _, d in created) == sorted([code(1), code(2)])
    assert {a for a, _ in created} == {regulator.user_id}
    updated = await AuditEvent.get(action="enterprise.updated", entity_id=known.id)
    assert updated.data["before"]["name"] == "旧名称" and updated.data["after"]["name"] == "新名称"
    summary = await AuditEvent.get(action="enterprises.imported")
    assert summary.data == {"written": 3, "errors": 0, "partial": False}


async def test_importing_the_same_file_again_changes_nothing(world: World) -> None:
    admin = await world.admin()
    rows = [row(code(n)) for n in range(1, 6)]
    await register.import_rows(admin, rows)
    before = await Enterprise.all().order_by("id").values_list("id", "updated_at")
    again = await register.import_rows(admin, rows)
    assert (again.created, again.updated, again.rows.written) == (0, 0, 5)
    assert await Enterprise.all().order_by("id").values_list("id", "updated_at") == before
    assert await AuditEvent.filter(action__in=["enterprise.created", "enterprise.updated"]).count() == 5


async def test_codes_are_validated_as_create_enterprise_validates_them(world: World) -> None:
    admin = await world.admin()
    good = code(1)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        row(bad_check),
        row(code(2), region="4401"),
        row(code(3), industry="99999"),
        row(code(4), sector="NUCLEAR"),
        row(code(5), name=" "),
        row(code(6), name="名" * 201),
        row(code(7), username="a b"),
        row(good),
        row(good, name="again"),
    ]
    result = await register.import_rows(admin, rows)
    assert [(e.line, e.code, e.field) for e in result.rows.errors] == [
        (1, ErrorCode.INVALID_CREDIT_CODE, "credit_code"),
        (2, ErrorCode.INVALID_REGION_CODE, "region_code"),
        (3, ErrorCode.INVALID_INDUSTRY_CODE, "industry_code"),
        (4, ErrorCode.INVALID_SECTOR, "sector"),
        (5, ErrorCode.REQUIRED, "name"),
        (6, ErrorCode.TOO_LONG, "name"),
        (7, ErrorCode.INVALID_USERNAME, "username"),
        (9, ErrorCode.DUPLICATE_ROW, None),
    ]
    # All or nothing: the good row was not written either.
    assert (result.rows.written, result.created) == (0, 0)
    assert await Enterprise.all().count() == 0
    assert not await AuditEvent.filter(action="enterprise.created").exists()


async def test_partial_writes_the_good_rows_and_reports_the_bad(world: World) -> None:
    admin = await world.admin()
    rows = [row(code(1)), row(code(2), sector="?"), row(code(3))]
    result = await register.import_rows(admin, rows, partial=True)
    assert (result.rows.written, result.rows.error_count, result.created) == (2, 1, 2)
    assert await register_table() == expected([rows[0], rows[2]])


async def test_a_regulator_registers_only_in_its_region(world: World) -> None:
    regulator = await world.regulator("4401")  # Guangzhou
    beijing = await world.enterprise("110101")
    shenzhen = await world.enterprise("440300")
    rows = [
        row(code(1), region="440113"),
        row(code(2, "440300"), region="440300"),  # a new one outside Guangzhou
        row(beijing.credit_code, region="440113"),  # a code registered elsewhere
        row(shenzhen.credit_code, region="440106"),  # moving it into Guangzhou does not make it ours
    ]
    result = await register.import_rows(regulator, rows, partial=True)
    assert [(e.line, e.code, e.field) for e in result.rows.errors] == [
        (2, ErrorCode.PERMISSION_DENIED, "region_code"),
        (3, ErrorCode.DUPLICATE_CREDIT_CODE, "credit_code"),
        (4, ErrorCode.DUPLICATE_CREDIT_CODE, "credit_code"),
    ]
    assert result.created == 1
    assert (await Enterprise.get(id=beijing.id)).region_code == "110101"
    assert (await Enterprise.get(id=shenzhen.id)).region_code == "440300"


async def test_enterprise_users_may_not_register(world: World) -> None:
    member = await world.member(await world.enterprise())
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await register.import_rows(member, [row(code(1))])
    assert await Enterprise.all().count() == 1


async def test_more_than_a_thousand_rows_a_call_are_refused_unread(world: World) -> None:
    with fails_with(ErrorCode.TOO_MANY_ITEMS, "rows"):
        await register.import_rows(await world.admin(), [row(code(n)) for n in range(1001)])
    assert await Enterprise.all().count() == 0


async def test_accounts_get_one_time_passwords_that_must_be_changed(world: World) -> None:
    regulator = await world.regulator("44")
    rows = [row(code(1), username="gz.power"), row(code(2)), row(code(3), username="sz.steel")]
    result = await register.import_rows(regulator, rows)
    assert [(a.line, a.credit_code, a.username) for a in result.accounts] == [
        (1, code(1), "gz.power"),
        (3, code(3), "sz.steel"),
    ]
    for account in result.accounts:
        session = await login(account.username, account.password, SIGN_IN)
        enterprise = await Enterprise.get(credit_code=account.credit_code)
        assert (session.user.role, session.user.enterprise_id) == (Role.ENTERPRISE, enterprise.id)
        assert session.user.must_change_password
        stored = await User.get(username=account.username)
        assert account.password not in stored.password_hash
    created = AuditEvent.filter(action="user.created", actor_id=regulator.user_id)
    events = [e["data"] for e in await created.values("data")]
    assert sorted(d["username"] for d in events) == ["gz.power", "sz.steel"]
    # The trail says an account was made with a one-time password, never the password.
    assert not any(a.password in str(d) for a in result.accounts for d in events)


async def test_an_existing_account_is_kept_and_a_taken_username_is_refused(world: World) -> None:
    admin = await world.admin()
    first = await register.import_rows(admin, [row(code(1), username="gz.power")])
    password_hash = await User.get(username="gz.power").values_list("password_hash", flat=True)
    again = await register.import_rows(admin, [row(code(1), username="gz.power")])
    assert (again.rows.error_count, again.accounts) == (0, [])  # the same account: nothing new
    assert await User.get(username="gz.power").values_list("password_hash", flat=True) == password_hash
    assert len(first.accounts) == 1

    other = await register.import_rows(
        admin,
        [row(code(2), username="gz.power"), row(code(3), username="x.y.z"), row(code(4), username="x.y.z")],
    )
    assert [(e.line, e.code) for e in other.rows.errors] == [
        (1, ErrorCode.DUPLICATE_USERNAME),
        (3, ErrorCode.DUPLICATE_USERNAME),
    ]
    assert other.accounts == [] and await User.filter(username="x.y.z").count() == 0


@pytest.mark.parametrize("partial", [False, True])
async def test_no_account_outlives_a_rolled_back_import(world: World, partial: bool) -> None:
    admin = await world.admin()
    rows = [row(code(1), username="gz.power"), row(code(2), sector="?")]
    result = await register.import_rows(admin, rows, partial=partial)
    assert [a.username for a in result.accounts] == (["gz.power"] if partial else [])
    assert await User.filter(username="gz.power").count() == (1 if partial else 0)
