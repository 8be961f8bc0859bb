"""Everyday files on every import route: GB18030/GBK CSV (Chinese Excel's default), UTF-8 with
or without a BOM, a declared charset, quoted line breaks, and .xlsx workbooks whose row
errors name the sheet and row. The files are generated here; what is stored is compared
with the rows as written, computed in the test."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from openpyxl import Workbook

from models import EnergyRecord, Enterprise, HistoricalEmission, HistoricalEnergy, Sector, User
from services.access import Actor
from services.codes import make_credit_code
from tests.conftest import World
from tests.schema.allocation_support import unchanged_anywhere
from tests.schema.support import auth
from tests.services.conftest import fast_password_hashing  # noqa: F401

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENTERPRISES = "/import/enterprises.csv"
ROUTES = {
    "/import/history.csv": "credit_code,year,kind,item,quantity,unit",
    "/import/energy.csv": "credit_code,period,energy_type,quantity,unit",
    ENTERPRISES: "credit_code,name,region_code,industry_code,sector",
}


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    actor: Actor,
    content_type: str = "text/csv",
    query: str = "",
) -> httpx.Response:
    return await http.post(url + query, content=body, headers={"content-type": content_type, **auth(actor)})


def as_csv(rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # as Excel writes it: CRLF, quotes where needed
    return out.getvalue()


def as_xlsx(
    rows: Sequence[Sequence[object]], title: str = "Sheet1", month_cells: Sequence[str] = ()
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for values in rows:
        sheet.append(list(values))
    for ref in month_cells:
        sheet[ref].number_format = "yyyy-mm"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_rows(count: int) -> list[list[str]]:
    header = ["credit_code", "name", "region_code", "industry_code", "sector", "username", "备注"]
    regions = ["440113", "440300", "440604"]
    return [header] + [
        [
            make_credit_code(regions[n % 3], f"FL{n:06d}"),
            f"广东{n}号电厂（二期）",
            regions[n % 3],
            "4411",
            "POWER" if n % 2 else "steel",
            f"user{n}" if n % 4 == 0 else "",
            f"地址：广州市\n第{n}号",  # a remark over two lines, quoted
        ]
        for n in range(count)
    ]


def stored_expectation(rows: list[list[str]]) -> list[tuple[str, str, str, str, Sector]]:
    return sorted((r[0], r[1], r[2], r[3], Sector(r[4].upper())) for r in rows[1:])


async def registered() -> list[tuple[str, str, str, str, Sector]]:
    return sorted(
        await Enterprise.all().values_list("credit_code", "name", "region_code", "industry_code", "sector")
    )


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
async def test_the_register_reads_chinese_excel_csv_in_any_of_its_encodings(
    http: httpx.AsyncClient, regulator: Actor, encoding: str
) -> None:
    rows = register_rows(12)
    response = await post(http, ENTERPRISES, as_csv(rows).encode(encoding), regulator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["written"], body["created"], body["updated"], body["errorCount"]) == (12, 12, 0, 0)
    assert await registered() == stored_expectation(rows)
    wanted = [(n + 2, r[0], r[5]) for n, r in enumerate(rows[1:]) if r[5]]
    assert [(a["line"], a["creditCode"], a["username"]) for a in body["accounts"]] == wanted
    assert all(len(a["oneTimePassword"]) == 19 for a in body["accounts"])
    assert await User.filter(must_change_password=True, username__startswith="user").count() == len(wanted)


async def test_a_declared_charset_wins_over_detection(http: httpx.AsyncClient, regulator: Actor) -> None:
    data = as_csv(register_rows(3)).encode("gbk")
    async with unchanged_anywhere():
        refused = await post(http, ENTERPRISES, data, regulator, "text/csv; charset=utf-8")
    assert refused.status_code == 400
    assert refused.json()["code"] == "UNDECODABLE_FILE" and "UTF-8" in refused.json()["message"]
    accepted = await post(http, ENTERPRISES, data, regulator, "text/csv; charset=GBK")
    assert accepted.json()["created"] == 3


async def test_the_register_reads_a_workbook_and_names_sheet_and_row_of_each_error(
    http: httpx.AsyncClient, regulator: Actor
) -> None:
    rows: list[list[object]] = [list(r) for r in register_rows(6)]
    rows[3][4] = "NUCLEAR"  # row 4 of the sheet
    rows[5][2] = 110101  # row 6: a number cell, and Beijing is outside Guangdong
    async with unchanged_anywhere():
        response = await post(http, ENTERPRISES, as_xlsx(rows, "企业名录"), regulator, XLSX)
    assert response.status_code == 422
    body = response.json()
    assert body["sheet"] == "企业名录" and body["accounts"] == []
    assert [(e["sheet"], e["line"], e["code"], e["field"]) for e in body["errors"]] == [
        ("企业名录", 4, "INVALID_SECTOR", "sector"),
        ("企业名录", 6, "PERMISSION_DENIED", "region_code"),
    ]
    good = [r for n, r in enumerate(rows) if n not in (3, 5)]
    response = await post(http, ENTERPRISES, as_xlsx(good), regulator, "application/octet-stream")
    assert (response.status_code, response.json()["created"]) == (200, 4)
    assert await registered() == stored_expectation([[str(c) for c in r] for r in good])


async def test_an_enterprise_user_may_not_register_enterprises(http: httpx.AsyncClient, world: World) -> None:
    member = await world.member(await world.enterprise())
    async with unchanged_anywhere():
        response = await post(http, ENTERPRISES, as_csv(register_rows(2)).encode(), member)
    assert (response.status_code, response.json()["code"]) == (403, "PERMISSION_DENIED")


async def test_history_in_gbk_with_chinese_units_is_read(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    rows: list[list[object]] = [
        ["credit_code", "year", "kind", "item", "quantity", "unit", "说明"],
        [code, 2022, "ENERGY", "ELECTRICITY", 1_500_000, "千瓦时", "年度合计，\n含外购"],
        [code, 2022, "EMISSIONS", "", 2900, "吨", ""],
    ]
    response = await post(http, "/import/history.csv", as_csv(rows).encode("gbk"), regulator)
    assert (response.status_code, response.json()["written"]) == (200, 2)
    assert await HistoricalEnergy.all().values_list("quantity", flat=True) == [Decimal(1_500_000) / 1000]
    assert await HistoricalEmission.all().values_list("verified_emissions", flat=True) == [2900]


async def test_energy_from_a_workbook_with_month_cells_is_read(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    readings = [(datetime(2024, month, 1), 1000 * month + 0.5) for month in range(1, 13)]
    rows: list[list[object]] = [["Credit_Code", "Period", "Energy_Type", "Quantity", "Unit"]]
    rows += [[code, when, "ELECTRICITY", kwh, "kWh"] for when, kwh in readings]
    data = as_xlsx(rows, "2024年用电", month_cells=[f"B{n}" for n in range(2, 14)])
    response = await post(http, "/import/energy.csv", data, regulator, XLSX)
    assert (response.status_code, response.json()["written"]) == (200, 12), response.text
    stored = sorted(await EnergyRecord.all().values_list("year", "month", "day", "amount"))
    # kWh to millionths of a MWh: x 1000 / 1000 000 ... = x 1000
    assert stored == [(2024, when.month, 0, int(Decimal(str(kwh)) * 1000)) for when, kwh in readings]


@pytest.mark.parametrize("url", list(ROUTES))
async def test_every_route_refuses_an_undecodable_file_whole(
    http: httpx.AsyncClient, world: World, regulator: Actor, url: str
) -> None:
    await world.enterprise("440113")
    data = (ROUTES[url] + "\r\n").encode() + b"A,\xff\xfe,1,2,3\r\n"
    async with unchanged_anywhere():
        response = await post(http, url, data, regulator)
    assert response.status_code == 400
    # Named in the reader's language, Chinese by default: the row, and the encoding tried.
    assert response.json()["code"] == "UNDECODABLE_FILE" and "第 2 行" in response.json()["message"]
    assert "UTF-8" in response.json()["message"]


@pytest.mark.parametrize("url", list(ROUTES))
async def test_every_route_refuses_a_file_that_is_no_workbook(
    http: httpx.AsyncClient, regulator: Actor, url: str
) -> None:
    async with unchanged_anywhere():
        response = await post(http, url, b"PK\x03\x04 broken", regulator, XLSX)
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_SPREADSHEET")
