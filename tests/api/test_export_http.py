"""GET /export/statistics.csv and .json: the statistics query for BI tools, authenticated by an
EXPORT API token (or a session token), in the caller's scope, validated before the first byte
and streamed page by page."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api import export as export_routes
from models import ApiToken, EnergyMonthly, EnergyType, Enterprise, TokenScope, User
from services.access import Actor
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from services.energy import aggregates, ingest
from services.identity import api_tokens
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.page import Row, stream
from tests.conftest import World, token_for
from tests.schema.allocation_support import many_enterprises
from tests.services.conftest import fast_password_hashing  # noqa: F401
from tests.services.cycle import Cycle

CSV_URL, JSON_URL = "/export/statistics.csv", "/export/statistics.json"
FIGURES = [
    "energy_tce",
    "emissions",
    "records_missing_factor",
    "completeness",
    "allowances",
    "verified_emissions",
    "surplus",
    "shortfalls",
    "notices_due",
    "notices_fulfilled",
    "notices_overdue",
    "compliance_rate",
]
BOM = b"\xef\xbb\xbf"


@dataclass
class Tenants:
    """Three Guangdong enterprises and one in Beijing, with energy records, allowances and one
    approved application; a national and a Guangdong regulator, and a member of 广州电厂."""

    guangzhou: Enterprise  # 440113, the cycle's enterprise: notice FULFILLED, 1000 t for 2025
    steel: Enterprise  # 440106
    shenzhen: Enterprise  # 440305
    beijing: Enterprise  # 110105
    national: Actor
    guangdong: Actor
    member: Actor


@pytest.fixture
async def tenants(world: World, files: FileStore) -> Tenants:
    cycle = await Cycle.start(world, files)
    guangzhou = cycle.enterprise
    await Enterprise.filter(id=guangzhou.id).update(name="广州电厂")
    await guangzhou.refresh_from_db()
    steel = await world.enterprise("440106", name="广州钢铁")
    shenzhen = await world.enterprise("440305", name="深圳能源")
    beijing = await world.enterprise("110105", name="北京热电")
    national = await world.regulator("")
    records = [
        (guangzhou, "2022-03", "ELECTRICITY", "1000", "MWh"),
        (guangzhou, "2022-05", "ELECTRICITY", "500", "MWh"),
        (guangzhou, "2025-01", "ELECTRICITY", "200", "MWh"),
        (guangzhou, "2025-02", "DIESEL", "10", "t"),
        (steel, "2025-01", "ELECTRICITY", "300", "MWh"),
        (steel, "2025-03", "NATURAL_GAS", "5", "1e4Nm3"),
        (shenzhen, "2025-06", "RAW_COAL", "100", "t"),
        (beijing, "2023-07", "ELECTRICITY", "100", "MWh"),
        (beijing, "2025-01", "ELECTRICITY", "400", "MWh"),
    ]
    result = await ingest.import_rows(
        national,
        [
            {"credit_code": e.credit_code, "period": p, "energy_type": t, "quantity": q, "unit": u}
            for e, p, t, q, u in records
        ],
    )
    assert (result.written, result.error_count) == (len(records), 0)
    await aggregates.rebuild()
    await world.allowance(cycle.regulator, steel, 500)
    await world.allowance(national, beijing, 800)
    application = await cycle.under_review()  # 1,100 t verified against 1,000 allowed
    await cycle.review(application, Action.APPROVE)
    return Tenants(guangzhou, steel, shenzhen, beijing, national, cycle.regulator, cycle.member)


async def secret_for(actor: Actor, scope: TokenScope = TokenScope.EXPORT) -> str:
    return (await api_tokens.create(actor, "BI", scope))[1]


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


async def export(http: httpx.AsyncClient, url: str, query: str, actor: Actor) -> httpx.Response:
    response = await http.get(f"{url}?{query}", headers=bearer(await secret_for(actor)))
    assert response.status_code == 200, response.text
    return response


def table(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


async def rows_of(actor: Actor, group_by: list[Dimension], where: StatisticsFilter) -> list[Row]:
    return [row async for row in stream(actor, group_by, where)]


async def every_type() -> list[tuple[str, str]]:
    return list(await EnergyType.all().order_by("code").values_list("code", "canonical_unit"))


def same_in_csv(cell: str, value: object) -> bool:
    """The cell holds exactly this value: empty for None, exact for decimals."""
    if value is None:
        return cell == ""
    if isinstance(value, Decimal):
        return cell != "" and Decimal(cell) == value and "E" not in cell
    if isinstance(value, int):
        return cell == str(value)
    return cell == str(value)


def same_in_json(item: object, value: object) -> bool:
    """Decimals as strings, counts and whole tonnes as numbers, None as null."""
    if isinstance(value, Decimal):
        return isinstance(item, str) and Decimal(item) == value and "E" not in item
    if value is None or isinstance(value, int):
        return item == value and type(item) is type(value)
    return item == str(value)


# -- content --------------------------------------------------------------------------------


async def test_the_csv_has_the_grouped_keys_the_figures_and_a_quantity_column_per_type(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    # Hand-checked: 1,000 MWh of electricity in 2022 at the 0.5703 factor is 570.3 t, at
    # 0.1229 tce/MWh 122.9 tce; 500 MWh half of that. No compliance figures by month.
    response = await export(
        http,
        CSV_URL,
        f"groupBy=MONTH,ENTERPRISE&from=2022-01&to=2022-12&energyTypes=ELECTRICITY,DIESEL"
        f"&enterpriseIds={tenants.guangzhou.id}",
        tenants.national,
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="statistics.csv"'
    gz = tenants.guangzhou.id
    assert response.content.decode() == (
        "year,month,enterprise_id,enterprise_name,energy_tce,emissions,records_missing_factor,completeness,"
        "allowances,verified_emissions,surplus,shortfalls,notices_due,notices_fulfilled,notices_overdue,"
        "compliance_rate,ELECTRICITY (MWh),DIESEL (t)\r\n"
        f"2022,3,{gz},广州电厂,122.9,570.3,0,1,,,,,,,,,1000,\r\n"
        f"2022,5,{gz},广州电厂,61.45,285.15,0,1,,,,,,,,,500,\r\n"
    )


async def test_the_same_month_from_more_sources_is_exported_once(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    # March 2022 again from a file (in kWh) and from the meter, by the day: still 1,000 MWh and
    # 570.3 t, the figure typed in, which ranks first by default.
    code = tenants.guangzhou.credit_code
    rows = [{"credit_code": code, "period": "2022-03", "energy_type": "ELECTRICITY", "quantity": "1000000", "unit": "kWh", "source": "IMPORT"}]  # fmt: skip
    rows += [
        {
            "credit_code": code,
            "period": f"2022-03-{d:02d}",
            "energy_type": "ELECTRICITY",
            "quantity": "31",
            "unit": "MWh",
            "source": "IOT",
        }
        for d in range(1, 32)
    ]
    assert (await ingest.import_rows(tenants.national, rows)).error_count == 0
    await aggregates.refresh()
    response = await export(
        http,
        CSV_URL,
        f"groupBy=MONTH,ENTERPRISE&from=2022-03&to=2022-03&energyTypes=ELECTRICITY&enterpriseIds={tenants.guangzhou.id}",
        tenants.national,
    )
    [march] = table(response)
    assert (march["ELECTRICITY (MWh)"], march["emissions"], march["completeness"]) == ("1000", "570.3", "1")


async def test_by_year_the_csv_carries_the_compliance_figures(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    response = await export(
        http, CSV_URL, f"groupBy=YEAR,ENTERPRISE&enterpriseIds={tenants.guangzhou.id}", tenants.national
    )
    [y2022, y2025] = table(response)
    assert (y2022["year"], y2022["energy_tce"], y2022["emissions"], y2022["ELECTRICITY (MWh)"]) == (
        "2022",
        "184.35",
        "855.45",
        "1500",
    )
    # 2025: one notice, fulfilled; 1,000 t allowed, 50 t bought, 100 t of offsets of which 55 t
    # usable (5 % of 1,100 t), 1,100 t verified: the application's balance, 1000 + 50 + 55 - 1100.
    assert {k: y2025[k] for k in FIGURES[4:]} == {
        "allowances": "1000",
        "verified_emissions": "1100",
        "surplus": "5",
        "shortfalls": "0",
        "notices_due": "1",
        "notices_fulfilled": "1",
        "notices_overdue": "0",
        "compliance_rate": "1",
    }
    assert (y2025["ELECTRICITY (MWh)"], y2025["DIESEL (t)"], y2025["NATURAL_GAS (1e4Nm3)"]) == (
        "200",
        "10",
        "",
    )


def _ids(t: Tenants) -> str:
    return f"{t.guangzhou.id},{t.beijing.id}"


CASES: list[tuple[str, list[Dimension], list[str], Any]] = [
    (
        "groupBy=YEAR,ENTERPRISE",
        [Dimension.YEAR, Dimension.ENTERPRISE],
        ["year", "enterprise_id", "enterprise_name"],
        lambda t: StatisticsFilter(),
    ),
    (
        "groupBy=province,sector&from=2025-01&to=2025-12",
        [Dimension.PROVINCE, Dimension.SECTOR],
        ["province", "sector"],
        lambda t: StatisticsFilter(from_=date(2025, 1, 1), to=date(2025, 12, 31)),
    ),
    (
        "groupBy=QUARTER,CITY&energyTypes=ELECTRICITY,DIESEL",
        [Dimension.QUARTER, Dimension.CITY],
        ["year", "quarter", "city"],
        lambda t: StatisticsFilter(energy_types=["ELECTRICITY", "DIESEL"]),
    ),
    (
        "groupBy=ENERGY_TYPE,REGION&regionPrefix=44",
        [Dimension.ENERGY_TYPE, Dimension.REGION],
        ["energy_type", "region_code"],
        lambda t: StatisticsFilter(region_prefix="44"),
    ),
    (
        "groupBy=INDUSTRY,YEAR,MONTH&enterpriseIds={ids}&from=2022-03-15&to=2025-01",
        [Dimension.INDUSTRY, Dimension.YEAR, Dimension.MONTH],
        ["industry_code", "year", "month"],
        lambda t: StatisticsFilter(
            from_=date(2022, 3, 1), to=date(2025, 1, 31), enterprise_ids=[t.guangzhou.id, t.beijing.id]
        ),
    ),
]


@pytest.mark.parametrize(("query", "group_by", "keys", "where"), CASES, ids=[c[0] for c in CASES])
async def test_csv_and_json_hold_exactly_the_statistics_rows(
    http: httpx.AsyncClient,
    tenants: Tenants,
    query: str,
    group_by: list[Dimension],
    keys: list[str],
    where: Any,
) -> None:
    query = query.format(ids=_ids(tenants))
    filter_ = where(tenants)
    expected = await rows_of(tenants.national, group_by, filter_)
    assert len(expected) >= 2  # the case exercises something
    types = (
        [(c, u) for c in filter_.energy_types for c2, u in await every_type() if c == c2]
        if filter_.energy_types
        else await every_type()
    )

    records = table(await export(http, CSV_URL, query, tenants.national))
    assert list(records[0]) == [*keys, *FIGURES, *(f"{code} ({unit})" for code, unit in types)]
    assert len(records) == len(expected)
    for record, row in zip(records, expected, strict=True):
        for column in [*keys, *FIGURES]:
            assert same_in_csv(record[column], getattr(row, column)), (column, record, row)
        quantities = {use.energy_type: use.quantity for use in row.energy}
        assert set(quantities) <= {code for code, _ in types}
        for code, unit in types:
            assert same_in_csv(record[f"{code} ({unit})"], quantities.get(code)), (code, record, row)

    response = await export(http, JSON_URL, query, tenants.national)
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["groupBy"] == [d.value for d in group_by]
    assert len(document["rows"]) == len(expected)
    camel = {
        name: name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:]) for name in keys + FIGURES
    }
    for item, row in zip(document["rows"], expected, strict=True):
        assert set(item) == {*camel.values(), "energy"}
        for name, key in camel.items():
            assert same_in_json(item[key], getattr(row, name)), (key, item, row)
        assert len(item["energy"]) == len(row.energy)
        for given, use in zip(item["energy"], row.energy, strict=True):
            assert (given["energyType"], given["unit"]) == (use.energy_type, use.unit)
            for name in ("quantity", "tce", "emissions"):
                assert same_in_json(given[name], getattr(use, name))


async def test_a_group_without_data_is_an_empty_export(http: httpx.AsyncClient, tenants: Tenants) -> None:
    query = "groupBy=YEAR&from=2030-01&to=2030-12"
    records = (await export(http, CSV_URL, query, tenants.national)).content.decode().splitlines()
    assert len(records) == 1 and records[0].startswith("year,energy_tce,")
    assert (await export(http, JSON_URL, query, tenants.national)).json() == {"groupBy": ["YEAR"], "rows": []}


# -- encoding ------------------------------------------------------------------------------------


async def test_a_bom_only_when_asked_and_chinese_names_round_trip_in_utf8(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    query = "groupBy=ENTERPRISE&regionPrefix=44"
    plain = (await export(http, CSV_URL, query, tenants.national)).content
    with_bom = (await export(http, CSV_URL, query + "&bom=true", tenants.national)).content
    assert plain.startswith(b"enterprise_id,") and BOM not in plain
    assert with_bom == BOM + plain
    names = {r["enterprise_name"] for r in csv.DictReader(io.StringIO(with_bom.decode("utf-8-sig")))}
    assert names == {"广州电厂", "广州钢铁", "深圳能源"}
    assert "广州电厂".encode() in plain

    raw = (await export(http, JSON_URL, query, tenants.national)).content
    assert "深圳能源".encode() in raw and b"\\u" not in raw and not raw.startswith(BOM)


async def test_a_name_that_looks_like_a_formula_is_shown_not_run(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    await Enterprise.filter(id=tenants.steel.id).update(name='=HYPERLINK("http://x","y")')
    query = f"groupBy=ENTERPRISE&enterpriseIds={tenants.steel.id}"
    [record] = table(await export(http, CSV_URL, query, tenants.national))
    assert record["enterprise_name"] == '\'=HYPERLINK("http://x","y")'
    [item] = (await export(http, JSON_URL, query, tenants.national)).json()["rows"]
    assert item["enterpriseName"] == '=HYPERLINK("http://x","y")'


# -- scope -----------------------------------------------------------------------------------


async def test_an_enterprise_token_exports_its_own_enterprise_only(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    for query in (
        "groupBy=ENTERPRISE",
        f"groupBy=ENTERPRISE&enterpriseIds={tenants.beijing.id},{tenants.steel.id},{tenants.guangzhou.id}",
    ):
        records = table(await export(http, CSV_URL, query, tenants.member))
        assert [r["enterprise_id"] for r in records] == [str(tenants.guangzhou.id)]
    # Grouped by province, the figures are its own, not Guangdong's.
    [province] = table(await export(http, CSV_URL, "groupBy=PROVINCE", tenants.member))
    [own] = table(
        await export(
            http, CSV_URL, f"groupBy=ENTERPRISE&enterpriseIds={tenants.guangzhou.id}", tenants.national
        )
    )
    assert province["province"] == "44"
    assert [province[k] for k in FIGURES] == [own[k] for k in FIGURES]
    assert "RAW_COAL" not in str(
        (await export(http, JSON_URL, "groupBy=PROVINCE", tenants.member)).json()["rows"][0]["energy"]
    )


async def test_a_guangdong_regulators_token_never_shows_beijing(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    regulator = tenants.guangdong
    assert [r["province"] for r in table(await export(http, CSV_URL, "groupBy=PROVINCE", regulator))] == [
        "44"
    ]
    names = [
        r["enterprise_name"] for r in table(await export(http, CSV_URL, "groupBy=ENTERPRISE", regulator))
    ]
    assert sorted(names) == ["广州电厂", "广州钢铁", "深圳能源"]
    # Asking for Beijing narrows to nothing rather than widening the scope.
    for query in ("groupBy=ENTERPRISE&regionPrefix=11", f"groupBy=YEAR&enterpriseIds={tenants.beijing.id}"):
        assert (await export(http, JSON_URL, query, regulator)).json()["rows"] == []
    # The country's 2025 total, seen from Guangdong, leaves out Beijing's 800 t allowance.
    [year] = table(await export(http, CSV_URL, "groupBy=YEAR&from=2025-01&to=2025-12", regulator))
    assert year["allowances"] == "1500"


# -- refusals -------------------------------------------------------------------------------------


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("", "INVALID_GROUP_BY", "groupBy"),
        ("groupBy=", "INVALID_GROUP_BY", "groupBy"),
        ("groupBy=YEAR,WEEK", "INVALID_GROUP_BY", "groupBy"),
        ("groupBy=YEAR,YEAR", "INVALID_GROUP_BY", "groupBy"),
        ("groupBy=YEAR&from=2024-13", "INVALID_DATETIME", "from"),
        ("groupBy=YEAR&from=2024-02-30", "INVALID_DATETIME", "from"),
        ("groupBy=YEAR&to=yesterday", "INVALID_DATETIME", "to"),
        ("groupBy=YEAR&to=20240101", "INVALID_DATETIME", "to"),
        ("groupBy=YEAR&from=2025-01&to=2024-12", "INVALID_DATE_RANGE", "from"),
        ("groupBy=YEAR&sector=BANKING", "INVALID_SECTOR", "sector"),
        ("groupBy=YEAR&regionprefix=44", "UNKNOWN_PARAMETER", "regionprefix"),
        ("groupBy=YEAR&industryCode=44x", "INVALID_INDUSTRY_CODE", "industryCode"),
        ("groupBy=YEAR&regionPrefix=4", "INVALID_REGION_CODE", "regionPrefix"),
        ("groupBy=YEAR&enterpriseIds=1,x", "NOT_FOUND", "enterpriseIds"),
        ("groupBy=YEAR&enterpriseIds=0", "NOT_FOUND", "enterpriseIds"),
        ("groupBy=YEAR&energyTypes=ELECTRICITY,PLUTONIUM", "UNKNOWN_ENERGY_TYPE", "energyTypes"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(
    http: httpx.AsyncClient, regulator: Actor, url: str, query: str, code: str, field: str
) -> None:
    response = await http.get(f"{url}?{query}", headers=bearer(await secret_for(regulator)))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["code"], body["field"]) == (code, field) and body["message"]


async def test_months_and_days_are_both_accepted(http: httpx.AsyncClient, tenants: Tenants) -> None:
    by_month = await export(http, CSV_URL, "groupBy=YEAR&from=2022-03&to=2022-03", tenants.national)
    by_day = await export(http, CSV_URL, "groupBy=year&from=2022-03-01&to=2022-03-31", tenants.national)
    assert by_month.content == by_day.content
    [record] = table(by_month)
    assert (record["year"], record["ELECTRICITY (MWh)"]) == ("2022", "1000")


async def _refused_token(world: World, regulator: Actor, kind: str) -> str:
    if kind == "missing":
        return ""
    if kind == "basic":
        return "Basic cmVndWxhdG9yOnBhc3N3b3Jk"
    if kind in ("garbage", "unknown"):
        return "Bearer not-a-token" if kind == "garbage" else "Bearer ccms_" + "A" * 43
    if kind == "ingest":
        return "Bearer " + await secret_for(regulator, TokenScope.INGEST)
    token, secret = await api_tokens.create(regulator, "BI", TokenScope.EXPORT)
    if kind == "revoked":
        await api_tokens.revoke(regulator, token.id)
    elif kind == "expired":
        await ApiToken.filter(id=token.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    elif kind == "deactivated":
        await User.filter(id=regulator.user_id).update(is_active=False)
    return "Bearer " + secret


@pytest.mark.parametrize("url", [CSV_URL, JSON_URL])
@pytest.mark.parametrize(
    "kind", ["missing", "basic", "garbage", "unknown", "ingest", "revoked", "expired", "deactivated"]
)
async def test_without_a_valid_export_token_the_answer_is_401(
    http: httpx.AsyncClient, world: World, regulator: Actor, url: str, kind: str
) -> None:
    authorization = await _refused_token(world, regulator, kind)
    headers = {"authorization": authorization} if authorization else {}
    response = await http.get(f"{url}?groupBy=YEAR", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "UNAUTHENTICATED" and response.json()["message"]


async def test_a_401_comes_before_the_parameters_are_judged(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{CSV_URL}?groupBy=WEEK")
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")


async def test_a_session_token_downloads_too(http: httpx.AsyncClient, tenants: Tenants) -> None:
    response = await http.get(f"{CSV_URL}?groupBy=PROVINCE", headers=bearer(token_for(tenants.guangdong)))
    assert response.status_code == 200
    assert [r["province"] for r in table(response)] == ["44"]


async def test_an_export_records_the_tokens_use(http: httpx.AsyncClient, regulator: Actor) -> None:
    token, secret = await api_tokens.create(regulator, "BI", TokenScope.EXPORT)
    assert (await http.get(f"{JSON_URL}?groupBy=YEAR", headers=bearer(secret))).status_code == 200
    assert (await ApiToken.get(id=token.id)).last_used_at is not None


# -- streaming ------------------------------------------------------------------------------------


async def get_in_messages(app: Any, path: str, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Call the app as a server would and keep every ASGI message it sends (httpx's test
    transport joins the body parts, hiding how it was sent)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append({**message, "rows_read": rows_read})

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("ccms.test", 80),
        "state": {},
    }
    rows_read = 0
    real_stream = export_routes.stream

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal rows_read
        async for row in real_stream(*args, **kwargs):
            rows_read += 1
            yield row

    export_routes.stream = counted  # type: ignore[assignment]
    try:
        await app(scope, receive, send)
    finally:
        export_routes.stream = real_stream  # type: ignore[assignment]
    return messages


async def test_many_rows_are_streamed_in_several_chunks_across_pages(app: Any, regulator: Actor) -> None:
    enterprises = await many_enterprises(100)
    months = [(year, month) for year in (2023, 2024, 2025) for month in range(1, 13)][:25]
    await EnergyMonthly.bulk_create(
        [
            EnergyMonthly(
                enterprise_id=e.id,
                year=year,
                month=month,
                energy_type_id="ELECTRICITY",
                amount=1_000_000 * (month + e.id % 7),
                tce=122_900 * (month + e.id % 7),
                emissions=570_300 * (month + e.id % 7),
                records=1,
                missing_factors=0,
                missing_tce=0,
            )
            for e in enterprises
            for year, month in months
        ],
        batch_size=1000,
    )
    expected = sorted((e.id, y, m) for e in enterprises for y, m in months)
    headers = bearer(await secret_for(regulator))
    for path in (CSV_URL, JSON_URL):
        messages = await get_in_messages(app, path, "groupBy=ENTERPRISE,MONTH", headers)
        start, *parts = messages
        assert start["status"] == 200
        assert b"content-length" not in dict(start["headers"])
        # Several writes, the first made long before the last of the 2,500 groups was read
        # (the service reads them 1,000 at a time).
        assert len(parts) >= 4 and [p["more_body"] for p in parts][-1] is False
        assert parts[0]["rows_read"] < len(expected) == parts[-1]["rows_read"]
        body = b"".join(p["body"] for p in parts).decode()
        if path == CSV_URL:
            records = list(csv.DictReader(io.StringIO(body)))
            keys = [(int(r["enterprise_id"]), int(r["year"]), int(r["month"])) for r in records]
        else:
            items = json.loads(body)["rows"]
            keys = [(i["enterpriseId"], i["year"], i["month"]) for i in items]
        assert keys == expected  # each group once, in key order, across the pages
