"""The three-party cycle in three browsers side by side: a regulator assigns a verification
body, the enterprise reports, the verifier raises a finding, the enterprise answers and
resubmits, the verifier concludes; the enterprise's application then carries the verifier's
figure, and the regulator approves it seeing the conclusion. Each sees the others' steps live.
Set CCMS_SCREENSHOTS to a directory to keep pictures of the three parties' screens."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from services.codes import make_credit_code
from tests.browser.conftest import ADMIN, REGULATOR, Cast
from tests.browser.support import (
    PDF,
    YEAR,
    choose,
    fill_number,
    mark_page,
    settled,
    sign_in,
    still_same_document,
)

STEEL = ("b_steel", "password-123")
VERIFIER = ("b_verifier", "password-123")
BODY = "南方碳核查中心"
STEELWORKS = "佛山示范钢铁厂"
CREATE_BODY = """mutation($i: CreateVerificationBodyInput!) {
  createVerificationBody(input: $i) { body { id } errors { code } } }"""
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { errors { code } } }"
# The steelworks' notice of YEAR belongs to other tests of the same cast (test_language).
VERIFIED_YEAR = YEAR + 1

ALLOWANCE = """mutation($e: ID!, $y: Int!) {
  setInitialAllowance(enterpriseId: $e, year: $y, amount: 1000) { errors { code } } }"""
ISSUE = "mutation($input: IssueNoticeInput!) { issueNotice(input: $input) { notice { id } errors { code } } }"
ACKNOWLEDGE = "mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code } } }"


def prepare(cast: Cast) -> str:
    """A steel-accredited body and its verifier, the steelworks' member, and its acknowledged
    notice (verification required, the default). Returns the notice's id."""
    api, steelworks = cast.api, cast.enterprise_ids[2]
    admin = api.login(*ADMIN)
    body = api.query(
        CREATE_BODY,
        {
            "i": {
                "name": BODY,
                "creditCode": make_credit_code("440106", "MB000009"),
                "accreditationNumber": "CNAS-V-9",
                "sectors": ["STEEL"],
            }
        },
        token=admin,
    )["createVerificationBody"]
    assert body["errors"] == [], body
    for values in (
        {"username": STEEL[0], "password": STEEL[1], "role": "ENTERPRISE", "enterpriseId": steelworks},
        {
            "username": VERIFIER[0],
            "password": VERIFIER[1],
            "role": "VERIFIER",
            "verificationBodyId": body["body"]["id"],
        },
    ):
        assert api.query(CREATE_USER, {"i": values}, token=admin)["createUser"]["errors"] == []
    regulator = api.login(*REGULATOR)
    assert (
        api.query(ALLOWANCE, {"e": steelworks, "y": VERIFIED_YEAR}, token=regulator)["setInitialAllowance"][
            "errors"
        ]
        == []
    )
    notice = {
        "enterpriseId": steelworks,
        "year": VERIFIED_YEAR,
        "deadline": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        "ackWindowHours": 240,
        "title": f"{VERIFIED_YEAR} 年度履约通知书（{STEELWORKS}）",
        "document": None,
    }
    issued = api.upload(
        ISSUE, {"input": notice}, {"input.document": ("通知书.pdf", PDF, "application/pdf")}, token=regulator
    )["issueNotice"]
    assert issued["errors"] == [], issued
    member = api.login(*STEEL)
    assert (
        api.query(ACKNOWLEDGE, {"id": issued["notice"]["id"]}, token=member)["acknowledgeNotice"]["errors"]
        == []
    )
    return str(issued["notice"]["id"])


def picture(page: Page, name: str) -> None:
    directory = os.environ.get("CCMS_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        settled(page).screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def report(page: Page, tonnes: int, name: str) -> None:
    fill_number(page, "r-tonnes", tonnes)
    page.locator("#r-file").set_input_files({"name": name, "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_test_id("submit-report").click()


def test_the_verifier_concludes_and_the_application_carries_its_figure(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    notice_id = prepare(cast)
    regulator, enterprise, verifier = (new_context().new_page() for _ in range(3))
    sign_in(regulator, cast.url, *REGULATOR)
    sign_in(enterprise, cast.url, *STEEL)
    sign_in(verifier, cast.url, *VERIFIER)
    expect(verifier).to_have_url(re.compile(r"/verifications$"))
    expect(verifier.get_by_test_id("verifications")).to_contain_text("暂无核查任务")
    mark_page(verifier)

    # The regulator assigns the body; the verifier's list shows it without reloading.
    regulator.goto(f"{cast.url}/verifications")
    choose(regulator, "v-enterprise", STEELWORKS)
    fill_number(regulator, "v-year", VERIFIED_YEAR)
    choose(regulator, "v-body", BODY)
    regulator.get_by_test_id("assign").click()
    expect(regulator).to_have_url(re.compile(r"/verifications/\d+$"))
    verification_url = regulator.url
    expect(verifier.get_by_test_id("verification-link")).to_have_text(STEELWORKS)
    assert still_same_document(verifier), "the verifier's list reloaded instead of updating live"
    verifier.get_by_test_id("verification-link").click()
    expect(verifier.get_by_test_id("verification-title")).to_contain_text(STEELWORKS)
    mark_page(verifier)

    # The enterprise reports; the verifier sees the report and the computed emissions beside it.
    enterprise.goto(verification_url)
    report(enterprise, 1200, "排放报告.pdf")
    expect(verifier.get_by_test_id("reported")).to_have_text("1,200 吨")
    expect(verifier.get_by_test_id("computed")).not_to_have_text("—")

    # A finding with a reduction suggestion; the enterprise answers and resubmits.
    verifier.get_by_label("核查发现", exact=True).fill("4 月电表读数缺失")
    verifier.get_by_label("减排建议").fill("高炉鼓风机加装分表计量")
    verifier.get_by_test_id("add-finding").click()
    expect(enterprise.get_by_test_id("findings")).to_contain_text("4 月电表读数缺失")
    enterprise.get_by_test_id("answer-input").fill("已补录 4 月读数，排放量增加 10 吨")
    enterprise.get_by_test_id("answer-finding").click()
    expect(verifier.get_by_test_id("answer")).to_have_text("已补录 4 月读数，排放量增加 10 吨")
    report(enterprise, 1210, "排放报告（整改后）.pdf")
    expect(verifier.get_by_test_id("reported")).to_have_text("1,210 吨")

    # The verifier concludes: immutable, with the report's hash, the verifier and the time.
    fill_number(verifier, "c-tonnes", 1210)
    verifier.locator("#c-file").set_input_files(
        {"name": "核查结论报告.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    verifier.get_by_test_id("conclude").click()
    expect(verifier.get_by_test_id("verified")).to_have_text("1,210 吨")
    expect(verifier.get_by_test_id("conclusion-form")).to_contain_text("更正核查结论")
    assert still_same_document(verifier)
    picture(verifier, "verification-verifier")

    # The application takes the verified figure and the conclusion report; the regulator sees
    # the conclusion, the opinion and the finding, and approves.
    enterprise.goto(f"{cast.url}/notices/{notice_id}")
    expect(enterprise.get_by_test_id("verified-from-conclusion")).to_have_text("1,210 吨")
    fill_number(enterprise, "a-purchased", 300)
    picture(enterprise, "verification-application")
    regulator.goto(f"{cast.url}/review")
    regulator.wait_for_load_state("networkidle")  # the queue as it stands, before the submission
    count = regulator.get_by_test_id("queue-count")
    expect(count).to_have_text(re.compile(r"^\d+$"))
    expect(regulator.get_by_test_id("review-queue")).not_to_contain_text(STEELWORKS)
    waiting = int(count.inner_text())
    mark_page(regulator)
    enterprise.get_by_role("button", name="提交申请").click()
    expect(count).to_have_text(str(waiting + 1))
    expect(enterprise.get_by_test_id("notice-status")).to_have_text("审核中")
    regulator.get_by_test_id("review-queue").get_by_text(STEELWORKS).click()
    detail = regulator.get_by_test_id("review-detail")
    expect(detail).to_contain_text(STEELWORKS)
    expect(detail.get_by_test_id("conclusion-opinion")).to_have_text("无保留意见")
    expect(detail.get_by_test_id("conclusion-by")).to_have_text(f"{VERIFIER[0]} · {BODY}")
    expect(detail.get_by_test_id("conclusion-finding")).to_contain_text("高炉鼓风机加装分表计量")
    expect(detail.get_by_test_id("balance")).to_have_text("90 吨")  # 1,000 + 300 bought - 1,210
    assert still_same_document(regulator)
    picture(regulator, "verification-review")
    detail.get_by_role("button", name="批准").click()
    expect(enterprise.get_by_test_id("notice-status")).to_have_text("已履约")
    regulator.goto(verification_url)
    expect(regulator.get_by_test_id("timeline")).to_contain_text("核查机构出具核查结论")
    expect(regulator.get_by_test_id("timeline")).to_contain_text(VERIFIER[0])
