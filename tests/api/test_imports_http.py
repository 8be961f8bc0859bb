"""POST /import/history.csv: historical data as a CSV body of any size, streamed into the
importer as it arrives, all or nothing unless ?partial=true."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from models import AuditEvent, Enterprise, HistoricalEmission, HistoricalEnergy
from services.access import Actor
from tests.conftest import World
from tests.schema.allocation_support import many_enterprises, unchanged_anywhere
from tests.schema.support import auth
from tests.services.conftest import fast_password_hashing  # noqa: F401

URL = "/import/history.csv"
HEADER = "credit_code,year,kind,item,quantity,unit,note\n"
CSV = {"content-type": "text/csv"}
KINDS = [
    ("ENERGY", "DIESEL"),
    ("ENERGY", "GASOLINE"),
    ("ENERGY", "LPG"),
    ("ENERGY", "RAW_COAL"),
    ("EMISSIONS", ""),
]
# Spreadsheets carry columns of their own; the importer ignores them. This one makes each row
# about 400 bytes, so 50,000 rows are a 20 MB body.
NOTE = "verified by the provincial centre; " * 10


async def post(
    http: httpx.AsyncClient, body: bytes | AsyncIterator[bytes], actor: Actor | None, query: str = ""
):
    headers = {**CSV, **(auth(actor) if actor else {})}
    return await http.post(URL + query, content=body, headers=headers)


async def rows_of(codes: list[str], years: range, *, bad_line: int | None = None) -> AsyncIterator[bytes]:
    """The file, generated as it is sent, 1,000 rows a chunk: it never exists whole."""
    yield HEADER.encode()
    chunk: list[str] = []
    line = 1
    for code in codes:
        for year in years:
            for kind, item in KINDS:
                line += 1
                quantity = "-1" if line == bad_line else str(year - 1000)
                chunk.append(f"{code},{year},{kind},{item},{quantity},t,{NOTE}\n")
                if len(chunk) == 1000:
                    yield "".join(chunk).encode()
                    chunk = []
    yield "".join(chunk).encode()


def text(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(f"{line}\n" for line in lines)).encode()


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


async def test_a_50000_row_file_streams_in_bounded_memory_and_is_all_or_nothing(
    http: httpx.AsyncClient, regulator: Actor
) -> None:
    codes = [e.credit_code for e in await many_enterprises(100)]
    years = range(1990, 2090)  # 100 enterprises x 100 years x 5 kinds = 50,000 rows
    size = sum([len(chunk) async for chunk in rows_of(codes, years)])
    assert size > 19_000_000  # far above the body limit of every other route

    tracemalloc.start()
    try:
        response = await post(http, rows_of(codes, years, bad_line=50_001), regulator)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The last row is bad: nothing of the other 49,999 stays written.
    assert response.status_code == 422
    assert response.json() == {
        "written": 0,
        "errorCount": 1,
        "errors": [
            {
                "line": 50_001,
                "code": "NEGATIVE_QUANTITY",
                "field": "quantity",
                "message": "quantity 不能为负",
            }
        ],
    }
    assert not await HistoricalEnergy.exists() and not await HistoricalEmission.exists()
    # The body never sat in memory: the importer held its index of rows and one batch.
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"

    response = await post(http, rows_of(codes, years), regulator)
    assert (response.status_code, response.json()) == (
        200,
        {"written": 50_000, "errorCount": 0, "errors": []},
    )
    assert await HistoricalEnergy.all().count() == 40_000
    assert await HistoricalEmission.all().count() == 10_000


async def test_a_bad_row_is_reported_with_its_line_number_and_reason(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    enterprise = await world.enterprise("440113")
    code = enterprise.credit_code
    body = text(
        f"{code},2023,ENERGY,DIESEL,10,t,",
        "",  # a blank line still counts as a line, as in a spreadsheet
        f"{code},2023,ENERGY,ELECTRICITY,lots,MWh,",
        f"{code},2023,OUTPUT,WIDGETS,10,t,",
        f"{code},2023,ENERGY,DIESEL,12,t,",
        "91440113MA0000000X,2023,EMISSIONS,,10,t,",
    )
    async with unchanged_anywhere():
        response = await post(http, body, regulator)
    assert response.status_code == 422
    report = response.json()
    assert (report["written"], report["errorCount"]) == (0, 4)
    assert [(e["line"], e["code"], e["field"]) for e in report["errors"]] == [
        (4, "INVALID_QUANTITY", "quantity"),
        (5, "UNKNOWN_PRODUCT", "item"),
        (6, "DUPLICATE_ROW", None),
        (7, "NOT_FOUND", "credit_code"),
    ]
    assert [e["message"] for e in report["errors"]] == [
        "quantity 'lots' 不是数字",
        "未知产品 'WIDGETS'",
        "与第 2 行重复",
        "您的管辖范围内没有企业 91440113MA0000000X",
    ]


async def test_a_report_asked_for_in_english_is_in_english(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    body = text(f"{code},2023,ENERGY,DIESEL,10,t,", f"{code},2023,ENERGY,DIESEL,12,t,")
    response = await http.post(URL, content=body, headers={**CSV, **auth(regulator), "accept-language": "en"})
    assert response.status_code == 422
    assert [(e["line"], e["code"], e["message"]) for e in response.json()["errors"]] == [
        (3, "DUPLICATE_ROW", "repeats line 2")
    ]


async def test_with_partial_the_good_rows_are_written(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    body = text(
        f"{code},2023,ENERGY,DIESEL,10,t,", f"{code},2023,EMISSIONS,,-3,t,", f"{code},2024,EMISSIONS,,30,t,"
    )
    response = await post(http, body, regulator, "?partial=true")
    assert response.status_code == 200
    assert (response.json()["written"], response.json()["errorCount"]) == (2, 1)
    assert await HistoricalEmission.all().values_list("year", "verified_emissions") == [(2024, 30)]


async def test_importing_a_file_again_updates_its_rows(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    first = text(f"{code},2023,ENERGY,NATURAL_GAS,200000,m3,", f"{code},2023,EMISSIONS,,500,t,")
    again = text(f"{code},2023,ENERGY,NATURAL_GAS,30,万立方米,", f"{code},2023,EMISSIONS,,510,t,")
    assert (await post(http, first, regulator)).json()["written"] == 2
    assert (await post(http, again, regulator)).json()["written"] == 2
    assert await HistoricalEnergy.all().values_list("quantity", flat=True) == [Decimal(30)]
    assert await HistoricalEmission.all().values_list("verified_emissions", flat=True) == [510]
    assert await AuditEvent.filter(action="history.imported").count() == 2


async def test_a_file_from_excel_with_a_bom_and_crlf_line_endings_is_read(
    http: httpx.AsyncClient, world: World, regulator: Actor
) -> None:
    code = (await world.enterprise("440113")).credit_code
    body = "\ufeffCredit_Code,Year,Kind,Item,Quantity,Unit\r\n" + f"{code},2023,EMISSIONS,,700,吨\r\n"
    response = await post(http, body.encode(), regulator)
    assert (response.status_code, response.json()["written"]) == (200, 1)
    assert await HistoricalEmission.all().values_list("verified_emissions", flat=True) == [700]


@pytest.mark.parametrize(
    "header",
    ["credit_code,year,kind,item,quantity\n", "not,a,header\n", ""],
    ids=["no-unit", "junk", "empty"],
)
async def test_a_file_without_the_columns_is_refused_with_a_coded_error(
    http: httpx.AsyncClient, world: World, regulator: Actor, header: str
) -> None:
    code = (await world.enterprise("440113")).credit_code
    async with unchanged_anywhere():
        response = await post(http, text(f"{code},2023,EMISSIONS,,700,t", header=header), regulator)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ROW" and response.json()["field"] == "file"
    assert response.json()["message"].startswith("第 1 行：缺少列 ")


async def test_an_enterprise_user_imports_only_its_own_rows(http: httpx.AsyncClient, world: World) -> None:
    own, other = await world.enterprise("440113"), await world.enterprise("440113")
    member = await world.member(own)
    mixed = text(f"{own.credit_code},2023,EMISSIONS,,100,t,", f"{other.credit_code},2023,EMISSIONS,,100,t,")
    async with unchanged_anywhere():
        response = await post(http, mixed, member)
    assert response.status_code == 422
    assert [(e["line"], e["code"]) for e in response.json()["errors"]] == [(3, "NOT_FOUND")]
    response = await post(http, text(f"{own.credit_code},2023,EMISSIONS,,100,t,"), member)
    assert response.json()["written"] == 1
    assert await HistoricalEmission.all().values_list("enterprise_id", flat=True) == [own.id]


async def test_a_regulator_imports_only_its_regions_rows(http: httpx.AsyncClient, world: World) -> None:
    beijing = await world.enterprise("110101")
    response = await post(
        http, text(f"{beijing.credit_code},2023,EMISSIONS,,100,t,"), await world.regulator("44")
    )
    assert [(e["line"], e["code"]) for e in response.json()["errors"]] == [(2, "NOT_FOUND")]
    assert not await HistoricalEmission.exists()


async def test_an_admin_may_not_import(http: httpx.AsyncClient, world: World) -> None:
    code = (await world.enterprise("440113")).credit_code
    response = await post(http, text(f"{code},2023,EMISSIONS,,100,t,"), await world.admin())
    assert response.status_code == 403 and response.json()["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
async def test_without_a_valid_token_nothing_is_read(
    http: httpx.AsyncClient, world: World, authorization: str | None
) -> None:
    code = (await world.enterprise("440113")).credit_code
    headers = {**CSV, **({"authorization": authorization} if authorization else {})}
    async with unchanged_anywhere():
        response = await http.post(URL, content=text(f"{code},2023,EMISSIONS,,100,t,"), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"
    assert not await Enterprise.filter(historical_emissions__id__gt=0).exists()
