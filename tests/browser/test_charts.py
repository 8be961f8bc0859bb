"""Charts draw the server's figures: the allocation trend and a rule preview, and the statistics
explorer, whose CSV download by click holds the rows of the GraphQL query."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, expect

from services.codes import make_credit_code
from tests.browser.conftest import ARTIFACTS, ENTERPRISES, HISTORY, REGULATOR, Cast, verified
from tests.browser.support import YEAR, choose, fill_number, save_screenshots, sign_in

PREVIEW = """
mutation($input: AllocationInput!) {
  previewAllocation(input: $input) { errors { code } lines { enterprise { name } amount } }
}
"""
STATISTICS = """
query { statistics(groupBy: [YEAR], first: 100) { edges { node { year emissions energyTce } } } }
"""


def tonnes(text: str) -> int:
    """'1,234,567 吨' -> 1234567"""
    return int("".join(ch for ch in text if ch.isdigit()))


def test_the_trend_chart_and_a_rule_preview_show_the_figures(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/allocation")

    trend = page.get_by_test_id("trend")
    expect(trend.locator("canvas")).to_have_count(1)
    last = sum(verified(i, 1) for i in HISTORY)  # YEAR - 1
    row = trend.get_by_test_id("trend-table").locator("tr", has_text=str(YEAR - 1))
    expect(row).to_contain_text(f"{last:,} 吨CO₂")
    expect(trend.get_by_test_id("forecast")).to_contain_text("吨CO₂")

    panel = page.get_by_test_id("preview-A")
    fill_number(page, "A-total", 2_000_000)
    panel.get_by_role("button", name="预览").click()
    amounts = panel.get_by_test_id("amount")
    expect(amounts).to_have_count(3)
    expect(panel.locator("canvas")).to_have_count(1)
    shown = {
        line.locator("td").first.inner_text(): tonnes(line.get_by_test_id("amount").inner_text())
        for line in panel.get_by_test_id("lines-A").locator("tbody tr").all()
    }
    answer = cast.api.query(
        PREVIEW,
        {"input": {"year": YEAR, "rule": "HISTORICAL_EMISSIONS", "total": 2_000_000}},
        token=cast.regulator_token,
    )["previewAllocation"]
    assert answer["errors"] == []
    assert shown == {line["enterprise"]["name"]: line["amount"] for line in answer["lines"]}
    assert sum(shown.values()) == 2_000_000


def test_the_statistics_chart_and_its_csv_download_hold_the_querys_rows(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/statistics")

    expect(page.locator(".chart canvas")).to_have_count(1)
    table = page.get_by_test_id("statistics-table")
    expect(table.locator("tbody tr")).to_have_count(2)  # YEAR - 1 and YEAR
    with page.expect_download() as download:
        page.get_by_test_id("download-csv").click()
    assert download.value.suggested_filename == "statistics.csv"
    with open(download.value.path(), encoding="utf-8") as file:
        downloaded = list(csv.DictReader(io.StringIO(file.read())))

    rows = cast.api.query(STATISTICS, token=cast.regulator_token)["statistics"]["edges"]
    expected = [
        (str(r["node"]["year"]), Decimal(r["node"]["emissions"]), Decimal(r["node"]["energyTce"]))
        for r in rows
    ]
    assert [(r["year"], Decimal(r["emissions"]), Decimal(r["energy_tce"])) for r in downloaded] == expected
    assert [r[0] for r in expected] == [str(YEAR - 1), str(YEAR)]
    # The table shows the same figures, formatted.
    first = f"{float(expected[0][1]):,.1f}".rstrip("0").rstrip(".")
    expect(table.locator("tbody tr").first).to_contain_text(f"{first} 吨CO₂")


TREND = """
query($from: Int!, $to: Int!) {
  emissionTrend(fromYear: $from, toYear: $to) { points { year coverage inFit } excludedYears scopeEnterprises }
}
"""


def test_the_trend_shows_each_years_coverage_of_the_scope_as_the_server_gives_it(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/allocation")
    trend = page.get_by_test_id("trend")
    expect(trend.locator("canvas")).to_have_count(1)
    shown = datetime.now(ZoneInfo("Asia/Shanghai")).year  # the panel's default range, as the console picks it
    answer = cast.api.query(TREND, {"from": shown - 6, "to": shown - 1}, token=cast.regulator_token)[
        "emissionTrend"
    ]
    for point in answer["points"]:
        cell = trend.get_by_test_id(f"coverage-{point['year']}")
        if point["coverage"] is None:
            expect(cell).to_contain_text("—")
        else:
            expect(cell).to_contain_text(f"{round(point['coverage'] * 100, 1):g}%")
        if not point["inFit"] and point["year"] in answer["excludedYears"]:
            expect(cell).to_contain_text("未拟合")
    if answer["excludedYears"]:
        expect(trend.get_by_test_id("coverage-note")).to_contain_text(str(answer["excludedYears"][0]))
    page.screenshot(path="var/browser-trend.png", full_page=True)


def test_the_factor_list_shows_effective_dates_and_rows_without_a_value(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/energy")
    factors = page.get_by_test_id("factors")
    expect(factors.get_by_role("row", name="外购热力 2026-07-01")).to_contain_text("0.11")
    expect(factors.locator("tbody tr", has_text="2019-01-01").first).to_be_visible()
    expect(factors).to_contain_text("未能核实")
    expect(factors).to_contain_text("环办气候函〔2023〕43号")
    page.screenshot(path="var/browser-factors.png", full_page=True)
    page.get_by_role("tab", name="基准值").click()
    coal = page.get_by_test_id("benchmarks").get_by_role("row", name="POWER_COAL_GT300 2024")
    expect(coal).to_contain_text("0.791")


def test_a_direct_rule_preview_takes_its_amounts_from_a_csv_and_names_the_bad_line(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    codes = [make_credit_code(region, body) for _, region, body, *_ in ENTERPRISES]
    amounts = {ENTERPRISES[0][0]: 510_000, ENTERPRISES[1][0]: 230_500}
    good = f"credit_code,amount\n{codes[0]},510000\n{codes[1]},230500\n"
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/allocation")
    panel = page.get_by_test_id("preview-B")
    choose(page, "B-rule", "直接录入")

    panel.locator("#B-direct").set_input_files(
        {"name": "a.csv", "mimeType": "text/csv", "buffer": good.encode()}
    )
    panel.get_by_role("button", name="预览").click()
    expect(panel.get_by_test_id("amount")).to_have_count(2)
    shown = {
        line.locator("td").first.inner_text(): tonnes(line.get_by_test_id("amount").inner_text())
        for line in panel.get_by_test_id("lines-B").locator("tbody tr").all()
    }
    assert shown == amounts

    bad = good + f"{codes[2]},lots\n"
    panel.locator("#B-direct").set_input_files(
        {"name": "b.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    panel.get_by_role("button", name="预览").click()
    expect(panel.locator(".el-alert--error")).to_be_visible()
    expect(panel.get_by_test_id("bad-lines")).to_contain_text("4")  # the header is line 1
    expect(panel.get_by_test_id("amount")).to_have_count(0)
    save_screenshots([page.context], ARTIFACTS / "screens", "direct-preview")
