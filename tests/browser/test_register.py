"""The bulk enterprise register in the console: a regulator uploads a workbook, sees each bad
row by sheet and row, fixes it, uploads a GBK CSV from Chinese Excel, and reads the accounts
made with their one-time passwords; the import screens' file pickers take .xlsx."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import BrowserContext, expect

from services.codes import make_credit_code
from tests.browser.conftest import ADMIN, REGULATOR, Cast
from tests.browser.support import settled, sign_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["credit_code", "name", "region_code", "industry_code", "sector", "username"]
COUNT = "query($f: EnterpriseFilter) { enterprises(filter: $f, first: 50) { edges { node { creditCode name } } } }"


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    return Path(os.environ["CCMS_SCREENSHOTS"]) if os.environ.get("CCMS_SCREENSHOTS") else tmp_path


def rows(tag: str) -> list[list[object]]:
    return [
        [
            make_credit_code("440106", f"{tag}{n:06d}"),
            f"广州天河{n}号热电有限公司",
            "440106",
            "4411",
            "POWER",
            f"{tag.lower()}{n}",
        ]
        for n in range(1, 4)
    ]


def workbook(data: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "企业名录"
    sheet.append(HEADER)
    for values in data:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_regulator_imports_enterprises_and_sees_each_bad_row_and_the_accounts(
    cast: Cast, new_context: Callable[..., BrowserContext], pictures: Path
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.get_by_role("menuitem", name="企业批量导入").click()
    expect(page).to_have_url(re.compile(r"/enterprise-import$"))
    expect(page.locator("#r-file")).to_have_attribute("accept", re.compile(r"\.xlsx"))

    # A workbook with two bad rows: nothing is written, and each is named by sheet and row.
    bad = rows("BW")
    bad[1][4] = "NUCLEAR"
    bad[2][2] = "110101"
    page.locator("#r-file").set_input_files(
        {"name": "企业名录.xlsx", "mimeType": XLSX, "buffer": workbook(bad)}
    )
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-result")).to_contain_text("错误 2 行")
    errors = page.get_by_test_id("register-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("企业名录")
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(1)).to_contain_text("4")
    expect(errors.nth(1)).to_contain_text("region_code")
    settled(page).screenshot(path=str(pictures / "enterprise-import-errors-zh.png"), full_page=True)

    # The same rows fixed, saved by Chinese Excel as plain CSV: GB18030 bytes.
    good = rows("BC")
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *good])
    page.locator("#r-file").set_input_files(
        {"name": "企业名录.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode("gb18030")}
    )
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-result")).to_contain_text("新增 3 家")
    accounts = page.get_by_test_id("register-accounts").locator("tbody tr")
    expect(accounts).to_have_count(3)
    expect(accounts.nth(0)).to_contain_text(str(good[0][5]))
    password = accounts.nth(0).locator("code").inner_text().strip()
    assert re.fullmatch(r"([A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}", password)
    settled(page).screenshot(path=str(pictures / "enterprise-import-zh.png"), full_page=True)

    admin = cast.api.login(*ADMIN)
    listed = cast.api.query(COUNT, {"f": {"regionPrefix": "440106"}}, token=admin)["enterprises"]["edges"]
    assert {(e["node"]["creditCode"], e["node"]["name"]) for e in listed} >= {(r[0], r[1]) for r in good}
    assert not {e["node"]["creditCode"] for e in listed} & {r[0] for r in bad}
    assert cast.api.login(str(good[0][5]), password)  # the one-time password signs in


def test_the_energy_upload_takes_a_workbook(cast: Cast, new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    page.goto(f"{cast.url}/energy")
    expect(page.locator("#e-file")).to_have_attribute("accept", re.compile(r"\.xlsx"))
