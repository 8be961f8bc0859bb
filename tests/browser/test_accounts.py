"""The account lifecycle in the console: an administrator resets a password and the user must
choose a new one; a deactivation or a role change sends an open console back to sign-in; a
locked-out sign-in says until when; every user changes their own password."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ADMIN, Cast
from tests.browser.support import settled, sign_in

CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code } } }"
_serial = itertools.count(1)


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    return Path(os.environ["CCMS_SCREENSHOTS"]) if os.environ.get("CCMS_SCREENSHOTS") else tmp_path


def new_account(cast: Cast, role: str = "REGULATOR", **scope: str) -> tuple[str, str]:
    """A fresh account (username, password), so no test disturbs the shared cast's users."""
    username = f"{role.lower()}_{next(_serial)}_{time.time_ns() % 10**6}"
    password = "password-123"
    admin = cast.api.login(*ADMIN)
    created = cast.api.query(
        CREATE_USER, {"i": {"username": username, "password": password, "role": role, **scope}}, token=admin
    )
    assert created["createUser"]["errors"] == [], created
    return username, password


def row_of(page: Page, username: str):  # type: ignore[no-untyped-def]
    page.locator("#f-search").fill(username)
    row = page.locator("[data-test=users] tbody tr", has_text=username)
    expect(row).to_have_count(1)
    return row


def test_an_admin_resets_a_password_and_the_user_must_choose_a_new_one(
    cast: Cast, new_context: Callable[..., BrowserContext], pictures: Path
) -> None:
    username, _ = new_account(cast, "ENTERPRISE", enterpriseId=cast.enterprise_ids[0])
    admin = new_context().new_page()
    sign_in(admin, cast.url, *ADMIN)
    admin.goto(f"{cast.url}/admin/users")
    row = row_of(admin, username)
    row.locator("[data-action=RESET_PASSWORD]").click()
    admin.get_by_role("button", name="确定").click()
    shown = admin.get_by_test_id("one-time-password")
    expect(shown).to_have_text(re.compile(r"^([A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}$"))
    settled(admin).screenshot(path=str(pictures / "admin-reset-password-zh.png"))
    one_time = shown.inner_text().strip()
    admin.get_by_role("button", name="我已记下").click()
    expect(row.get_by_test_id("must-change")).to_be_visible()

    user = new_context().new_page()
    sign_in(user, cast.url, username, one_time)
    expect(user).to_have_url(re.compile(r"/account/password\?next="))
    expect(user.get_by_test_id("forced")).to_be_visible()
    expect(user.locator(".el-menu-item")).to_have_count(0)  # nothing else to go to
    settled(user).screenshot(path=str(pictures / "forced-password-change-zh.png"))
    user.goto(f"{cast.url}/notices")  # the router sends it back
    expect(user).to_have_url(re.compile(r"/account/password"))
    user.get_by_label("一次性密码").fill(one_time)
    user.get_by_label("新密码", exact=True).fill("my own passphrase")
    user.get_by_label("再次输入新密码").fill("my own passphrase")
    user.locator("form").get_by_role("button", name="修改密码").click()
    expect(user).to_have_url(re.compile(r"/notices$"))
    expect(user.locator(".el-menu-item").first).to_be_visible()
    assert cast.api.login(username, "my own passphrase")


def test_a_deactivated_user_is_sent_back_to_sign_in_without_doing_anything(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    username, password = new_account(cast, "REGULATOR", regionPrefix="44")
    user = new_context().new_page()
    sign_in(user, cast.url, username, password)
    expect(user).to_have_url(re.compile(r"/overview$"))
    admin = new_context().new_page()
    sign_in(admin, cast.url, *ADMIN)
    admin.goto(f"{cast.url}/admin/users")
    row = row_of(admin, username)
    row.locator("[data-action=DEACTIVATE]").click()
    admin.get_by_role("button", name="确定").click()
    expect(row.locator("[data-active=false]")).to_be_visible()
    expect(row.locator("[data-action=REACTIVATE]")).to_be_visible()
    # The user's open console hears it on its WebSocket (close 4401) and signs out by itself.
    expect(user).to_have_url(re.compile(r"/login\?reason=expired"), timeout=20_000)
    expect(user.get_by_role("alert").first).to_contain_text("登录已过期")


def test_a_role_change_ends_the_open_session(cast: Cast, new_context: Callable[..., BrowserContext]) -> None:
    username, password = new_account(cast, "REGULATOR", regionPrefix="44")
    user = new_context().new_page()
    sign_in(user, cast.url, username, password)
    admin = new_context().new_page()
    sign_in(admin, cast.url, *ADMIN)
    admin.goto(f"{cast.url}/admin/users")
    row_of(admin, username).locator("[data-action=UPDATE]").click()
    admin.locator("#e-region").fill("11")
    admin.get_by_test_id("save-user").click()
    expect(row_of(admin, username)).to_contain_text("11")
    user.goto(f"{cast.url}/enterprises")  # its next request is refused, over HTTP too
    expect(user).to_have_url(re.compile(r"/login\?reason=expired"))


def test_a_locked_out_sign_in_says_when_to_try_again(
    cast: Cast, new_context: Callable[..., BrowserContext], pictures: Path
) -> None:
    username, _ = new_account(cast)
    page = new_context().new_page()
    page.goto(f"{cast.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("not the password")
    button = page.get_by_role("button", name="登录")
    for _ in range(3):
        button.click()
        expect(page.locator("[data-code=INVALID_CREDENTIALS]")).to_be_visible()
    button.click()
    locked = page.locator("[data-code=TOO_MANY_ATTEMPTS]")
    expect(locked).to_contain_text(re.compile(r"请于 \d{4}/\d{2}/\d{2} \d{2}:\d{2}（北京时间）后重试"))
    settled(page).screenshot(path=str(pictures / "sign-in-locked-zh.png"))
    expect(button).to_be_disabled()
    expect(button).to_be_enabled(timeout=5_000)  # the one-second back-off runs out


def test_a_regulator_manages_the_users_of_its_enterprises_in_english(
    cast: Cast, new_context: Callable[..., BrowserContext], pictures: Path
) -> None:
    member, _ = new_account(cast, "ENTERPRISE", enterpriseId=cast.enterprise_ids[1])
    username, password = new_account(cast, "REGULATOR", regionPrefix="44")
    context = new_context(locale="en")
    context.add_init_script("window.localStorage.setItem('ccms.language', 'en')")
    page = context.new_page()
    sign_in(page, cast.url, username, password, chinese=False)
    page.get_by_role("menuitem", name="Users").click()
    row = row_of(page, member)
    # Deactivate and reset, from the server's allowedActions: a regulator changes no roles.
    expect(row.locator("[data-action]")).to_have_text(["Deactivate", "Reset password"])
    page.locator("#f-search").fill("")
    expect(page.locator("[data-test=users] tbody tr").first).to_be_visible()
    settled(page).screenshot(path=str(pictures / "regulator-users-en.png"))
    expect(page.get_by_text("New user")).to_have_count(0)  # creating accounts is for administrators


def test_every_user_changes_their_own_password(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    username, password = new_account(cast, "REGULATOR", regionPrefix="44")
    page = new_context().new_page()
    sign_in(page, cast.url, username, password)
    page.get_by_test_id("change-password").click()
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码", exact=True).fill("qwertyuiop")
    page.get_by_label("再次输入新密码").fill("qwertyuiop")
    page.locator("form").get_by_role("button", name="修改密码").click()
    expect(page.locator("[data-code=WEAK_PASSWORD]")).to_contain_text("常见密码")
    page.get_by_label("新密码", exact=True).fill("a much better passphrase")
    page.get_by_label("再次输入新密码").fill("a much better passphrase")
    page.locator("form").get_by_role("button", name="修改密码").click()
    expect(page).to_have_url(re.compile(r"/overview$"))
    assert cast.api.login(username, "a much better passphrase")
