"""The patent's whole cycle in two browsers side by side: a regulator and an enterprise, each
seeing the other's steps arrive live, without reloading."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Locator, Page, Response, expect

from tests.browser.conftest import MEMBER, REGULATOR, Cast
from tests.browser.support import PDF, YEAR, choose, fill_number, mark_page, sign_in, still_same_document

TITLE = f"{YEAR} 年度碳排放配额履约通知书"
REASON = "核查报告缺少核查机构签章"


def submit_application(page: Page, verified: int, offsets: int, purchased: int, report: str) -> None:
    fill_number(page, "a-verified", verified)
    fill_number(page, "a-offsets", offsets)
    fill_number(page, "a-purchased", purchased)
    page.locator("#a-report").set_input_files({"name": report, "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="提交申请").click()


def test_a_regulator_and_an_enterprise_complete_the_cycle_live(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    regulator = new_context().new_page()
    enterprise = new_context().new_page()
    sign_in(regulator, cast.url, *REGULATOR)
    sign_in(enterprise, cast.url, *MEMBER)

    # The enterprise watches its inbox while the regulator issues the notice with its PDF.
    enterprise.goto(f"{cast.url}/inbox")
    expect(enterprise.get_by_test_id("unread-count")).to_have_text("未读 0")
    mark_page(enterprise)
    regulator.goto(f"{cast.url}/notices/new")
    choose(regulator, "i-enterprise", "华南示范电厂")
    expect(regulator.get_by_test_id("chosen-allowance")).to_have_text("当年配额：1,000 吨")
    regulator.get_by_label("标题").fill(TITLE)
    regulator.get_by_label("截止时间（北京时间）").fill(f"{YEAR + 1}-12-31T23:59")
    regulator.get_by_role("radio", name="10 天").check(force=True)
    # The two-party cycle: the enterprise states its verified figure (test_verification.py has
    # the verifier's).
    regulator.get_by_test_id("require-verification").click()
    regulator.locator("#i-document").set_input_files(
        {"name": "通知书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    regulator.get_by_role("button", name="下发", exact=True).click()
    expect(regulator).to_have_url(re.compile(r"/notices/\d+$"))
    notice_url = regulator.url
    expect(regulator.get_by_test_id("notice-status")).to_have_text("已下发")
    expect(regulator.get_by_test_id("deadline")).to_have_text(f"{YEAR + 1}/12/31 23:59")

    message = enterprise.get_by_test_id("message-link").filter(has_text=TITLE)
    expect(message).to_be_visible()
    expect(enterprise.get_by_test_id("unread-count")).to_have_text(re.compile(r"未读 [1-9]"))
    assert still_same_document(enterprise), "the inbox reloaded instead of updating live"

    # The enterprise acknowledges and applies with the verifier's report, while the
    # regulator watches the review queue.
    regulator.goto(f"{cast.url}/review")
    expect(regulator.get_by_test_id("queue-count")).to_have_text("0")
    mark_page(regulator)
    message.click()
    enterprise.get_by_role("button", name="确认收到").click()
    expect(enterprise.get_by_test_id("notice-status")).to_have_text("已确认")
    submit_application(enterprise, 1100, 100, 50, "核查报告.pdf")
    expect(enterprise.get_by_test_id("notice-status")).to_have_text("审核中")

    expect(regulator.get_by_test_id("queue-count")).to_have_text("1")
    detail = regulator.get_by_test_id("review-detail")
    expect(detail).to_contain_text("华南示范电厂")
    # 1,000 allowance + 50 bought + 55 of the 100 offsets (5 % of 1,100) - 1,100 = 5
    expect(detail.get_by_test_id("balance")).to_have_text("5 吨")
    expect(detail.get_by_test_id("over-cap")).to_be_visible()
    assert still_same_document(regulator), "the review queue reloaded instead of updating live"

    # The report opens inline in the browser, through a signed link.
    opened = _open_report(regulator, detail)
    assert opened.status == 200
    assert opened.headers["content-type"].startswith("application/pdf")
    assert opened.headers["content-disposition"].startswith("inline;")
    assert "link=" in opened.url and "authorization" not in opened.request.headers

    # Rejected with a reason: the enterprise sees it without reloading.
    mark_page(enterprise)
    detail.get_by_label("理由").fill(REASON)
    detail.get_by_role("button", name="驳回").click()
    expect(regulator.get_by_test_id("queue-count")).to_have_text("0")
    expect(enterprise.get_by_test_id("application-status")).to_have_text("未通过")
    expect(enterprise.get_by_test_id("rejection-reason")).to_have_text(REASON)
    assert still_same_document(enterprise)

    # Resubmitted and approved; both see the final status.
    submit_application(enterprise, 1000, 0, 0, "核查报告（修订）.pdf")
    expect(enterprise.get_by_test_id("application-status")).to_have_text("审核中")
    expect(regulator.get_by_test_id("queue-count")).to_have_text("1")
    expect(detail.get_by_test_id("balance")).to_have_text("0 吨")
    detail.get_by_role("button", name="批准").click()
    expect(regulator.get_by_test_id("queue-count")).to_have_text("0")
    expect(enterprise.get_by_test_id("notice-status")).to_have_text("已履约")
    expect(enterprise.get_by_test_id("application-status")).to_have_text("已通过")
    regulator.goto(notice_url)
    expect(regulator.get_by_test_id("notice-status")).to_have_text("已履约")
    expect(regulator.get_by_test_id("timeline")).to_contain_text("审核驳回")
    expect(regulator.get_by_test_id("timeline")).to_contain_text("审核通过")


def _open_report(page: Page, detail: Locator) -> Response:
    with (
        page.context.expect_event("response", lambda r: "/documents/" in r.url) as response,
        page.context.expect_page() as popup,
    ):
        detail.get_by_role("button", name="查看核查报告").click()
    popup.value.close()
    return response.value
