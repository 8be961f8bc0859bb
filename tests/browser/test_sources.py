"""The data-source screen: a regulator sees where the meters and the reported figures disagree
and the order of sources with its reasons; a provincial regulator's change of the order is
refused with the server's message; an administrator reorders the sources and the counted
figure changes; statistics show completeness and the records missing a factor."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from services.codes import make_credit_code
from tests.browser.conftest import ADMIN, ENTERPRISES, REGULATOR, Cast
from tests.browser.support import YEAR, settled, sign_in
from tests.e2e.server import REPO

IMPORT = """mutation($rows: [EnergyRecordInput!]!) {
  importEnergyRecords(rows: $rows) { written errors { code } } }"""
SET_ORDER = "mutation($o: [EnergySource!]!) { setSourcePrecedence(order: $o) { errors { code } } }"
DEFAULT = ["MANUAL", "IMPORT", "PLATFORM", "IOT"]
PICTURES = REPO / "var" / "screenshots"
# The cast imported 1,004 MWh for the first enterprise in April of the year before YEAR; its
# meter reads 30 MWh on each of April's 30 days: 900 MWh, 10.4 % short.
APRIL = f"{YEAR - 1}-04"


@pytest.fixture(scope="module")
def metered(cast: Cast) -> Iterator[Cast]:
    code = make_credit_code(ENTERPRISES[0][1], ENTERPRISES[0][2])
    rows = [
        {"creditCode": code, "period": f"{APRIL}-{day:02d}", "energyType": "ELECTRICITY", "quantity": "30", "unit": "MWh", "source": "IOT"}
        for day in range(1, 31)
    ]  # fmt: skip
    result = cast.api.query(IMPORT, {"rows": rows}, token=cast.regulator_token)["importEnergyRecords"]
    assert (result["written"], result["errors"]) == (30, []), result
    yield cast
    admin = cast.api.login(*ADMIN)
    assert cast.api.query(SET_ORDER, {"o": DEFAULT}, token=admin)["setSourcePrecedence"]["errors"] == []


def test_a_regulator_sees_the_discrepancy_and_an_administrator_reorders_the_sources(
    metered: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    PICTURES.mkdir(parents=True, exist_ok=True)
    page = new_context().new_page()
    sign_in(page, metered.url, *REGULATOR)
    page.get_by_role("menuitem", name="数据来源").click()
    order = page.locator("[data-test=precedence] li")
    expect(order).to_have_count(4)
    expect(order.first).to_contain_text("人工录入")
    expect(order.last).to_contain_text("物联网")
    table = page.locator("[data-test=discrepancies]")
    row = table.locator("tbody tr", has_text=ENTERPRISES[0][0])
    expect(row).to_have_count(1)
    expect(row).to_contain_text(APRIL)
    expect(row).to_contain_text("文件导入")
    expect(row.locator("[data-test=deviation]")).to_have_text("10.4%")
    expect(row).to_contain_text("（30 条记录）")
    settled(page).screenshot(path=str(PICTURES / "sources-zh.png"), full_page=True)

    # Above 15 % the meter's shortfall is not listed.
    threshold = page.locator("#d-share")
    threshold.fill("15")
    threshold.press("Tab")
    expect(table.locator("tbody tr", has_text=ENTERPRISES[0][0])).to_have_count(0)

    # A provincial regulator may not decide a national rule: the server's refusal, in Chinese.
    page.get_by_role("button", name="将“物联网”上移").click()
    page.locator("[data-test=save-order]").click()
    expect(page.locator("[data-code=PERMISSION_DENIED]")).to_be_visible()

    admin = new_context().new_page()
    sign_in(admin, metered.url, *ADMIN)
    admin.goto(f"{metered.url}/sources")
    for _ in range(3):
        admin.get_by_role("button", name="将“物联网”上移").click()
    expect(admin.locator("[data-test=precedence] li").first).to_contain_text("物联网")
    admin.locator("[data-test=save-order]").click()
    expect(admin.get_by_role("status")).to_contain_text("已保存")
    # The meter now counts: the row's counted source is IOT, and the file's 1,004 MWh is the other.
    moved = admin.locator("[data-test=discrepancies] tbody tr", has_text=ENTERPRISES[0][0])
    expect(moved).to_contain_text("物联网")
    expect(moved.locator("[data-test=deviation]")).to_have_text("11.6%")  # 104 / 900
    settled(admin).screenshot(path=str(PICTURES / "sources-admin-zh.png"), full_page=True)


def test_statistics_show_completeness_and_records_missing_a_factor(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/statistics")
    table = page.locator("[data-test=statistics-table]")
    expect(table).to_contain_text("完整度")
    expect(table).to_contain_text("缺因子记录")
    first = table.locator("tbody tr").first
    expect(first.locator("[data-test=completeness]")).to_have_text("100%")
    expect(first.locator("[data-test=missing-factor]")).to_have_text("0")
    settled(page).screenshot(path=str(PICTURES / "statistics-completeness-zh.png"), full_page=True)
