"""The console tells the server its language: switching to English turns the server's own texts
(inbox messages) English over HTTP at once, and over the live WebSocket for what arrives next."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import ADMIN, Cast
from tests.browser.support import PDF, YEAR, mark_page, sign_in, still_same_document

STEEL = ("c_steel", "password-123")
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code } } }"
ALLOWANCE = """mutation($e: ID!, $y: Int!) {
  setInitialAllowance(enterpriseId: $e, year: $y, amount: 2000) { errors { code } } }"""
ISSUE = """mutation($input: IssueNoticeInput!) {
  issueNotice(input: $input) { notice { id } errors { code } } }"""
EXTEND = """mutation($id: ID!, $deadline: DateTime!) {
  extendDeadline(noticeId: $id, deadline: $deadline, reason: "Typhoon") { errors { code } } }"""
DEADLINE = f"{YEAR + 1}-12-31T23:59:59+08:00"
LATER = f"{YEAR + 2}-01-07T23:59:59+08:00"


@pytest.fixture(scope="module")
def steel_notice(cast: Cast) -> str:
    """The third enterprise's notice for YEAR, issued through the API, with a member to read it."""
    api, regulator = cast.api, cast.regulator_token
    enterprise = cast.enterprise_ids[2]
    admin = api.login(*ADMIN)
    user = {"username": STEEL[0], "password": STEEL[1], "role": "ENTERPRISE", "enterpriseId": enterprise}
    assert api.query(CREATE_USER, {"i": user}, token=admin)["createUser"]["errors"] == []
    assert (
        api.query(ALLOWANCE, {"e": enterprise, "y": YEAR}, token=regulator)["setInitialAllowance"]["errors"]
        == []
    )
    notice = {
        "enterpriseId": enterprise,
        "year": YEAR,
        "deadline": DEADLINE,
        "ackWindowHours": 240,
        "title": f"{YEAR} 年度履约通知书（钢铁）",
        "document": None,
    }
    issued = api.upload(
        ISSUE, {"input": notice}, {"input.document": ("通知书.pdf", PDF, "application/pdf")}, token=regulator
    )
    assert issued["issueNotice"]["errors"] == [], issued
    return str(issued["issueNotice"]["notice"]["id"])


def test_switching_to_english_turns_the_servers_texts_english_now_and_live(
    cast: Cast, new_context: Callable[..., BrowserContext], steel_notice: str, tmp_path: Path
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *STEEL)
    page.goto(f"{cast.url}/inbox")
    inbox = page.get_by_test_id("inbox")
    expect(inbox).to_contain_text(f"{YEAR} 年度配额通告")
    mark_page(page)

    page.get_by_role("button", name="English").click()
    # Fetched again with Accept-Language: en, without reloading the page.
    expect(inbox).to_contain_text(f"{YEAR} allowance")
    expect(inbox).not_to_contain_text("年度配额通告")
    # The regulator's own title is shown as written.
    expect(inbox).to_contain_text(f"{YEAR} 年度履约通知书（钢铁）")

    # A message that arrives now comes over the WebSocket, which reconnected with the new language.
    extended = cast.api.query(EXTEND, {"id": steel_notice, "deadline": LATER}, token=cast.regulator_token)
    assert extended["extendDeadline"]["errors"] == [], extended
    expect(inbox).to_contain_text(f"{YEAR}: deadline extended")
    assert still_same_document(page), "the inbox reloaded instead of updating live"
    page.screenshot(path=str(tmp_path / "inbox-en.png"), full_page=True)

    page.get_by_role("button", name="中文").click()
    expect(inbox).to_contain_text(f"{YEAR} 年度履约截止时间延长")
    expect(inbox).not_to_contain_text("deadline extended")
    page.screenshot(path=str(tmp_path / "inbox-zh.png"), full_page=True)
