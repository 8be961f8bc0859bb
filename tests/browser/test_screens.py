"""Every main screen, as a regulator, an enterprise and an administrator, in Chinese and in
English: it renders without a script error, without a message key left untranslated, and
without spilling sideways. Set CCMS_SCREENSHOTS=docs/screenshots to refresh the README's
pictures from this test."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ADMIN, ENTERPRISES, MEMBER, REGULATOR, Cast
from tests.browser.support import PDF, YEAR, sign_in

ISSUE = """
mutation($input: IssueNoticeInput!) { issueNotice(input: $input) { notice { id } errors { code } } }
"""
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { errors { code } } }"
ACKNOWLEDGE = "mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code } } }"
SUBMIT = """
mutation($input: SubmitApplicationInput!) { submitApplication(input: $input) { errors { code } } }
"""
CEMENT = ("b_cement", "password-123")
ALLOWANCE = """
mutation($e: ID!, $y: Int!) { setInitialAllowance(enterpriseId: $e, year: $y, amount: 480000) { errors { code } } }
"""
# (screenshot name, path, something the screen shows once its data is in)
REGULATOR_SCREENS = [
    ("overview", "/overview", "[data-test=status-cards]"),
    ("enterprises", "/enterprises", "a[href^='/enterprises/']"),
    ("enterprise", "/enterprises/{enterprise}", ".chart canvas"),
    ("allocation", "/allocation", "[data-test=trend] canvas"),
    ("notices", "/notices", "[data-test=notice-link]"),
    ("notice", "/notices/{notice}", "[data-test=timeline]"),
    ("review", "/review", "[data-test=review-detail]"),
    ("statistics", "/statistics", ".chart canvas"),
    ("energy", "/energy", "[data-test=factors] tbody tr"),
    ("sources", "/sources", "[data-test=precedence] li"),
    ("enterprise-import", "/enterprise-import", "[data-test=register-submit]"),
    ("alarms", "/alarms", "[data-test=alarm-list]"),
    ("verifications", "/verifications", "[data-test=assign-form]"),
]
ENTERPRISE_SCREENS = [
    ("enterprise-inbox", "/inbox", "[data-test=inbox]"),
    ("enterprise-notices", "/notices", "[data-test=notice-table]"),
    ("enterprise-energy", "/energy", ".chart canvas"),
]
ADMIN_SCREENS = [
    ("admin-users", "/admin/users", "tbody tr"),
    ("admin-enterprises", "/admin/enterprises", "tbody tr"),
    ("admin-bodies", "/admin/bodies", "[data-test=body-form]"),
]
MENU = {"zh-CN": "履约通知书", "en": "Notices"}


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    return Path(os.environ["CCMS_SCREENSHOTS"]) if os.environ.get("CCMS_SCREENSHOTS") else tmp_path


@pytest.fixture(scope="module")
def notice_id(cast: Cast) -> str:
    """A notice of the second enterprise whose application is under review: the notice, review
    and inbox screens then show an application with its balance and the review form."""
    api, regulator = cast.api, cast.regulator_token
    enterprise = cast.enterprise_ids[1]
    admin = api.login(*ADMIN)
    api.query(
        CREATE_USER,
        {
            "i": {
                "username": CEMENT[0],
                "password": CEMENT[1],
                "role": "ENTERPRISE",
                "enterpriseId": enterprise,
            }
        },
        token=admin,
    )
    member = api.login(*CEMENT)
    assert api.query(ALLOWANCE, {"e": enterprise, "y": YEAR}, token=regulator)
    notice = {
        "enterpriseId": enterprise,
        "year": YEAR,
        "deadline": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        "ackWindowHours": 240,
        "requireVerification": False,  # the enterprise states its figure (test_verification.py: the verifier's)
        "title": f"{YEAR} 年度履约通知书（{ENTERPRISES[1][0]}）",
        "document": None,
    }
    issued = api.upload(
        ISSUE, {"input": notice}, {"input.document": ("通知书.pdf", PDF, "application/pdf")}, token=regulator
    )
    assert issued["issueNotice"]["errors"] == [], issued
    notice_id = issued["issueNotice"]["notice"]["id"]
    assert api.query(ACKNOWLEDGE, {"id": notice_id}, token=member)["acknowledgeNotice"]["errors"] == []
    application = {
        "noticeId": notice_id,
        "verifiedEmissions": 495_000,
        "offsets": 30_000,
        "purchasedAllowances": 0,
        "report": None,
    }
    submitted = api.upload(
        SUBMIT,
        {"input": application},
        {"input.report": ("核查报告.pdf", PDF, "application/pdf")},
        token=member,
    )
    assert submitted["submitApplication"]["errors"] == [], submitted
    return str(notice_id)


def visit(page: Page, url: str, ready: str, picture: Path, problems: list[str]) -> None:
    problems.clear()
    page.goto(url)
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_timeout(1500)  # the charts' entrance animation
    page.screenshot(path=str(picture), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{url} is {overflow}px wider than the window"
    assert problems == [], f"{url}: {problems}"


def watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if message.type == "error" or "Not found" in message.text
            else None
        ),
    )
    return problems


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_main_screen_reads_well_in_both_languages(
    cast: Cast, new_context: Callable[..., BrowserContext], notice_id: str, pictures: Path, language: str
) -> None:
    suffix = "zh" if language == "zh-CN" else "en"
    for (username, password), screens in (
        (REGULATOR, REGULATOR_SCREENS),
        (MEMBER, ENTERPRISE_SCREENS),
        (ADMIN, ADMIN_SCREENS),
    ):
        context = new_context(locale=language)
        context.add_init_script(f"window.localStorage.setItem('ccms.language', '{language}')")
        page = context.new_page()
        problems = watch(page)
        sign_in(page, cast.url, username, password, chinese=language == "zh-CN")
        if language == "en":
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        for name, path, ready in screens:
            url = cast.url + path.format(enterprise=cast.enterprise_ids[0], notice=notice_id)
            visit(page, url, ready, pictures / f"{name}-{suffix}.png", problems)
            if username != ADMIN[0]:
                expect(page.get_by_role("menubar")).to_contain_text(MENU[language])
        context.close()

    page = new_context().new_page()
    page.goto(f"{cast.url}/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    page.screenshot(path=str(pictures / "graphiql.png"))
    assert re.search(r"GraphiQL", page.title())
