"""POST /import/energy.csv (a streamed CSV body, session token) and POST /ingest/energy (a JSON
batch from a meter gateway, INGEST API token or session token): energy records written all
or nothing unless partial, in the caller's scope, with each bad row's line and reason."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.app import MULTIPART_OVERHEAD
from models import AuditEvent, EnergyRecord, EnergySource, Enterprise, StaleMonth, TokenScope
from services.access import Actor
from services.identity import api_tokens
from tests.conftest import World
from tests.schema.allocation_support import unchanged_anywhere
from tests.schema.support import UPLOAD_LIMIT, auth
from tests.services.conftest import fast_password_hashing  # noqa: F401

CSV_URL, BATCH_URL = "/import/energy.csv", "/ingest/energy"
HEADER = "credit_code,period,energy_type,quantity,unit\n"
CSV = {"content-type": "text/csv"}


def text(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(f"{line}\n" for line in lines)).encode()


async def post_csv(
    http: httpx.AsyncClient, body: bytes, actor: Actor | None, query: str = ""
) -> httpx.Response:
    return await http.post(CSV_URL + query, content=body, headers={**CSV, **(auth(actor) if actor else {})})


async def post_batch(
    http: httpx.AsyncClient, body: Any, secret: str | None, *, raw: bytes | None = None
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    content = raw if raw is not None else json.dumps(body).encode()
    return await http.post(BATCH_URL, content=content, headers=headers)


async def ingest_token(actor: Actor, scope: TokenScope = TokenScope.INGEST) -> str:
    _, secret = await api_tokens.create(actor, "meter gateway", scope)
    return secret


def item(enterprise: Enterprise, **values: Any) -> dict[str, Any]:
    return {
        "creditCode": enterprise.credit_code,
        "period": "2024-03",
        "energyType": "ELECTRICITY",
        "quantity": "1000",
        "unit": "MWh",
        **values,
    }


async def stored() -> list[tuple[Any, ...]]:
    """Every record as (enterprise, year, month, day, type, source, quantity, unit, amount, emissions)."""
    return [
        tuple(r)
        for r in await EnergyRecord.all()
        .order_by("enterprise_id", "year", "month", "day", "energy_type_id", "source")
        .values_list(
            "enterprise_id",
            "year",
            "month",
            "day",
            "energy_type_id",
            "source",
            "quantity",
            "unit",
            "amount",
            "emissions",
        )
    ]


@asynccontextmanager
async def nothing_written() -> AsyncIterator[None]:
    """No energy record or stale month added or changed, and no audit event (or anything else
    unchanged_anywhere watches) either."""
    before = (await stored(), await StaleMonth.all().count())
    async with unchanged_anywhere():
        yield
    assert (await stored(), await StaleMonth.all().count()) == before


def lines_of(response: httpx.Response) -> list[tuple[int, str, str | None]]:
    return [(e["line"], e["code"], e["field"]) for e in response.json()["errors"]]


@pytest.fixture
async def guangzhou(world: World) -> Enterprise:
    return await world.enterprise("440113")


@pytest.fixture
async def regulator(world: World) -> Actor:
    return await world.regulator("44")


# /import/energy.csv


async def test_a_good_file_is_written_with_its_emissions_and_missing_factors(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    body = text(f"{code},2022-03,ELECTRICITY,1000000,kWh", f"{code},2024-03-15,RAW_COAL,12,t")
    response = await post_csv(http, body, regulator)
    assert response.status_code == 200
    report = response.json()
    assert report == {
        "written": 2,
        "errorCount": 0,
        "errors": [],
        "missingFactors": 1,
        "warnings": [
            {
                "line": 3,
                "code": "FACTOR_MISSING",
                "field": "energy_type",
                "message": report["warnings"][0]["message"],
            }
        ],
    }
    # 1,000 MWh at 0.5703 tCO2/MWh; the file's records are IMPORT unless a column says otherwise.
    assert await stored() == [
        (
            guangzhou.id,
            2022,
            3,
            0,
            "ELECTRICITY",
            EnergySource.IMPORT,
            Decimal(1_000_000),
            "kWh",
            1_000_000_000,
            570_300_000,
        ),
        (guangzhou.id, 2024, 3, 15, "RAW_COAL", EnergySource.IMPORT, Decimal(12), "t", 12_000_000, None),
    ]
    event = await AuditEvent.get(action="energy.imported")
    assert (event.actor_id, event.data) == (regulator.user_id, {"written": 2, "errors": 0, "partial": False})


async def test_a_source_column_overrides_the_files_default(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    body = text(
        f"PLATFORM,{code},2024-01,DIESEL,2,t",
        f",{code},2024-01,DIESEL,3,t",  # empty: the file's default
        f"iot,{code},2024-01,DIESEL,4,t",
        header="source," + HEADER,
    )
    response = await post_csv(http, body, regulator)
    assert (response.status_code, response.json()["written"]) == (200, 3)
    assert sorted(await EnergyRecord.all().values_list("source", "quantity")) == [
        (EnergySource.IMPORT, Decimal(3)),
        (EnergySource.IOT, Decimal(4)),
        (EnergySource.PLATFORM, Decimal(2)),
    ]


async def test_bad_rows_are_reported_with_their_line_numbers_and_nothing_is_written(
    http: httpx.AsyncClient, world: World, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    beijing = await world.enterprise("110101")
    body = text(
        f"{code},2024-01,ELECTRICITY,10,MWh,",
        "",  # a blank line still counts, as in a spreadsheet
        f"{code},2024-01,ELECTRICITY,lots,MWh,",
        f"{code},2024-02,DIESEL,10,kWh,",
        f"{code},2024-01,ELECTRICITY,12,MWh,",
        f"{beijing.credit_code},2024-01,ELECTRICITY,10,MWh,",
        f"{code},2024-13,ELECTRICITY,10,MWh,",
        f"{code},2024-04,ELECTRICITY,10,MWh,SOLAR",
        header="credit_code,period,energy_type,quantity,unit,source\n",
    )
    async with nothing_written():
        response = await post_csv(http, body, regulator)
    assert response.status_code == 422
    report = response.json()
    assert (report["written"], report["errorCount"], report["missingFactors"], report["warnings"]) == (
        0,
        6,
        0,
        [],
    )
    assert lines_of(response) == [
        (4, "INVALID_QUANTITY", "quantity"),
        (5, "INCOMPATIBLE_UNIT", "unit"),
        (6, "DUPLICATE_ROW", None),
        (7, "NOT_FOUND", "credit_code"),
        (8, "INVALID_PERIOD", "period"),
        (9, "INVALID_SOURCE", "source"),
    ]
    assert report["errors"][2]["message"] == "与第 2 行重复"


async def test_with_partial_the_good_rows_are_written(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    body = text(f"{code},2024-01,DIESEL,10,t", f"{code},2024-02,DIESEL,-3,t", f"{code},2024-03,DIESEL,30,t")
    response = await post_csv(http, body, regulator, "?partial=true")
    assert response.status_code == 200
    assert (response.json()["written"], lines_of(response)) == (2, [(3, "NEGATIVE_QUANTITY", "quantity")])
    assert sorted(await EnergyRecord.all().values_list("month", flat=True)) == [1, 3]


@pytest.mark.parametrize(
    "header",
    ["credit_code,period,energy_type,quantity\n", "creditCode,period,energyType,quantity,unit\n", ""],
    ids=["no-unit", "camel-case", "empty"],
)
async def test_a_file_without_the_columns_is_refused_with_a_coded_error(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor, header: str
) -> None:
    async with nothing_written():
        response = await post_csv(
            http, text(f"{guangzhou.credit_code},2024-01,DIESEL,10,t", header=header), regulator
        )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("INVALID_ROW", "file")
    assert response.json()["message"].startswith("第 1 行：缺少列 ")


async def test_a_file_from_excel_with_a_bom_and_chinese_units_is_read(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    body = (
        "\ufeffCredit_Code,Period,Energy_Type,Quantity,Unit\r\n"
        f"{code},2024-01,ELECTRICITY,2000000,千瓦时\r\n"
        f"{code},2024-01,NATURAL_GAS,30,万立方米\r\n"
    )
    response = await post_csv(http, body.encode(), regulator)
    assert (response.status_code, response.json()["written"]) == (200, 2)
    assert sorted(await EnergyRecord.all().values_list("energy_type_id", "unit", "amount")) == [
        ("ELECTRICITY", "千瓦时", 2_000_000_000),  # 2,000 MWh
        ("NATURAL_GAS", "万立方米", 30_000_000),  # 30 x 10^4 Nm3
    ]


async def test_a_file_larger_than_the_request_limit_still_streams_in(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    """The CSV route is exempt from the body-size limit every other route has: the same number
    of bytes sent to the JSON endpoint is refused before it is read."""
    limit = UPLOAD_LIMIT + MULTIPART_OVERHEAD
    note = "x" * 6_000  # a spreadsheet's own column, which the importer ignores
    code = guangzhou.credit_code
    periods = [f"{year}-{month:02d}" for year in range(2010, 2027) for month in range(1, 13)]
    body = text(
        *(f"{code},{period},DIESEL,1,t,{note}" for period in periods),
        header="credit_code,period,energy_type,quantity,unit,note\n",
    )
    assert len(body) > limit
    response = await post_csv(http, body, regulator)
    assert (response.status_code, response.json()["written"]) == (200, len(periods))

    secret = await ingest_token(regulator)
    padded = json.dumps({"records": [item(guangzhou)], "note": note * len(periods)}).encode()
    assert len(padded) > limit
    response = await post_batch(http, None, secret, raw=padded)
    assert response.status_code == 413
    assert await EnergyRecord.all().count() == len(periods)


async def test_a_line_too_long_to_be_a_row_is_a_row_error_and_an_endless_line_is_refused(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    code = guangzhou.credit_code
    long_line = f"{code},2024-02,DIESEL,1,t,{'x' * 70_000}"
    body = text(
        f"{code},2024-01,DIESEL,1,t,", long_line, header="credit_code,period,energy_type,quantity,unit,note\n"
    )
    response = await post_csv(http, body, regulator, "?partial=true")
    assert response.status_code == 200
    assert [(e["line"], e["code"]) for e in response.json()["errors"]] == [(3, "INVALID_ROW")]
    assert await EnergyRecord.all().count() == 1
    endless = (
        f"credit_code,period,energy_type,quantity,unit\n{code},2024-03,DIESEL,1,t,{'y' * 200_000}".encode()
    )
    response = await post_csv(http, endless, regulator)
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ROW")
    assert await EnergyRecord.all().count() == 1


async def test_an_enterprise_user_uploads_its_own_records_only(
    http: httpx.AsyncClient, world: World, guangzhou: Enterprise
) -> None:
    other = await world.enterprise("440113")
    member = await world.member(guangzhou)
    async with nothing_written():
        response = await post_csv(
            http,
            text(f"{guangzhou.credit_code},2024-01,DIESEL,1,t", f"{other.credit_code},2024-01,DIESEL,1,t"),
            member,
        )
    assert (response.status_code, lines_of(response)) == (422, [(3, "NOT_FOUND", "credit_code")])
    response = await post_csv(http, text(f"{guangzhou.credit_code},2024-01,DIESEL,1,t"), member)
    assert response.json()["written"] == 1
    assert await EnergyRecord.all().values_list("enterprise_id", flat=True) == [guangzhou.id]


async def test_an_admin_may_not_upload(http: httpx.AsyncClient, world: World, guangzhou: Enterprise) -> None:
    admin = await world.admin()
    async with nothing_written():
        response = await post_csv(http, text(f"{guangzhou.credit_code},2024-01,DIESEL,1,t"), admin)
    assert (response.status_code, response.json()["code"]) == (403, "PERMISSION_DENIED")


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
async def test_without_a_session_token_no_file_is_read(
    http: httpx.AsyncClient, guangzhou: Enterprise, authorization: str | None
) -> None:
    headers = {**CSV, **({"authorization": authorization} if authorization else {})}
    async with nothing_written():
        response = await http.post(
            CSV_URL, content=text(f"{guangzhou.credit_code},2024-01,DIESEL,1,t"), headers=headers
        )
    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_ingest_api_token_is_not_a_session_for_the_file_upload(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    secret = await ingest_token(regulator)
    headers = {**CSV, "authorization": f"Bearer {secret}"}
    async with nothing_written():
        response = await http.post(
            CSV_URL, content=text(f"{guangzhou.credit_code},2024-01,DIESEL,1,t"), headers=headers
        )
    assert response.status_code == 401


# /ingest/energy


async def test_a_gateway_with_an_ingest_token_sends_records_from_its_meters(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    secret = await ingest_token(regulator)
    records = [
        item(guangzhou, period="2024-03-01", quantity=1000),  # JSON numbers are quantities too
        item(guangzhou, period="2024-03-02", quantity=12.5, unit="万千瓦时"),  # 125 MWh
        item(guangzhou, period="2024-03-03", energyType="DIESEL", unit="t", source="PLATFORM"),
    ]
    response = await post_batch(http, {"records": records}, secret)
    assert response.status_code == 200
    assert response.json() == {
        "written": 3,
        "errorCount": 0,
        "errors": [],
        "missingFactors": 0,
        "warnings": [],
    }
    # Electricity at the 2023 South China grid factor 0.4042, diesel at 3.09591 tCO2/t.
    assert await stored() == [
        (guangzhou.id, 2024, 3, 1, "ELECTRICITY", EnergySource.IOT, Decimal(1000), "MWh", 10**9, 404_200_000),
        (
            guangzhou.id,
            2024,
            3,
            2,
            "ELECTRICITY",
            EnergySource.IOT,
            Decimal("12.5"),
            "万千瓦时",
            125_000_000,
            50_525_000,
        ),
        (guangzhou.id, 2024, 3, 3, "DIESEL", EnergySource.PLATFORM, Decimal(1000), "t", 10**9, 3_095_909_637),
    ]


async def test_a_gateway_sending_the_same_records_again_updates_them(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    secret = await ingest_token(regulator)
    days = [f"2024-01-{day:02d}" for day in range(1, 6)]
    first = await post_batch(
        http, {"records": [item(guangzhou, period=d, quantity=10) for d in days]}, secret
    )
    assert first.json()["written"] == 5
    again = await post_batch(
        http, {"records": [item(guangzhou, period=d, quantity=20) for d in days]}, secret
    )
    assert (again.status_code, again.json()["written"]) == (200, 5)
    # 20 MWh at the 2023 South China grid factor 0.4042: 8.084 t each.
    assert await EnergyRecord.all().order_by("day").values_list("day", "quantity", "emissions") == [
        (day, Decimal(20), 8_084_000) for day in range(1, 6)
    ]


async def test_a_session_token_may_send_a_batch_too(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    response = await http.post(BATCH_URL, json={"records": [item(guangzhou)]}, headers=auth(regulator))
    assert (response.status_code, response.json()["written"]) == (200, 1)
    assert await EnergyRecord.all().values_list("source", flat=True) == [EnergySource.IOT]


async def test_with_partial_the_good_records_are_written(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    records = [item(guangzhou, period="2024-01"), item(guangzhou, period="2024-02", quantity=-1), "junk"]
    response = await post_batch(http, {"records": records, "partial": True}, await ingest_token(regulator))
    assert response.status_code == 200
    assert response.json()["written"] == 1
    assert lines_of(response) == [(2, "NEGATIVE_QUANTITY", "quantity"), (3, "INVALID_ROW", None)]


async def test_bad_records_are_reported_by_their_position_and_nothing_is_written(
    http: httpx.AsyncClient, world: World, guangzhou: Enterprise, regulator: Actor
) -> None:
    beijing = await world.enterprise("110101")
    records = [
        item(guangzhou, period="2024-01"),
        ["not", "an", "object"],
        item(guangzhou, period="2024-02", quantity="abc"),
        item(guangzhou, period="2024-03", quantity=None),
        item(beijing),
        item(guangzhou, period="2024-04", energyType="DIESEL", unit="kWh"),
        {"creditCode": guangzhou.credit_code},
    ]
    secret = await ingest_token(regulator)
    async with nothing_written():
        response = await post_batch(http, {"records": records}, secret)
    assert response.status_code == 422
    assert lines_of(response) == [
        (2, "INVALID_ROW", None),
        (3, "INVALID_QUANTITY", "quantity"),
        (4, "INVALID_QUANTITY", "quantity"),
        (5, "NOT_FOUND", "creditCode"),
        (6, "INCOMPATIBLE_UNIT", "unit"),
        (7, "INVALID_PERIOD", "period"),
    ]
    assert response.json()["written"] == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"credit_code,period\n", "body"),
        (b"", "body"),
        (b'{"records": ', "body"),
        (b"\xff\xfe{}", "body"),
        (b"{}", "records"),
        (b'{"items": []}', "records"),
        (b'{"records": {"creditCode": "x"}}', "records"),
        (b"[]", "records"),
    ],
    ids=["csv", "empty", "truncated", "not-utf8", "no-records", "other-key", "records-object", "array"],
)
async def test_a_body_that_is_not_a_batch_is_refused(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor, raw: bytes, field: str
) -> None:
    secret = await ingest_token(regulator)
    async with nothing_written():
        response = await post_batch(http, None, secret, raw=raw)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("INVALID_BODY", field)


async def test_more_than_ten_thousand_records_are_refused_before_any_is_read(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    secret = await ingest_token(regulator)
    async with nothing_written():
        response = await post_batch(http, {"records": [{}] * 10_001}, secret)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("TOO_MANY_ITEMS", "records")
    # Ten thousand are not too many: each is read (and here refused as incomplete).
    response = await post_batch(http, {"records": [{}] * 10_000}, secret)
    assert (response.status_code, response.json()["errorCount"]) == (422, 10_000)


async def test_a_members_token_sends_its_own_enterprises_records_only(
    http: httpx.AsyncClient, world: World, guangzhou: Enterprise
) -> None:
    other = await world.enterprise("440113")
    secret = await ingest_token(await world.member(guangzhou))
    async with nothing_written():
        response = await post_batch(http, {"records": [item(guangzhou), item(other)]}, secret)
    assert (response.status_code, lines_of(response)) == (422, [(2, "NOT_FOUND", "creditCode")])
    response = await post_batch(http, {"records": [item(guangzhou)]}, secret)
    assert (response.status_code, response.json()["written"]) == (200, 1)
    assert await EnergyRecord.all().values_list("enterprise_id", flat=True) == [guangzhou.id]


async def test_an_admins_ingest_token_may_not_send_records(
    http: httpx.AsyncClient, world: World, guangzhou: Enterprise
) -> None:
    secret = await ingest_token(await world.admin())
    async with nothing_written():
        response = await post_batch(http, {"records": [item(guangzhou)]}, secret)
    assert (response.status_code, response.json()["code"]) == (403, "PERMISSION_DENIED")


async def test_an_export_token_a_revoked_token_or_none_is_refused(
    http: httpx.AsyncClient, guangzhou: Enterprise, regulator: Actor
) -> None:
    export = await ingest_token(regulator, TokenScope.EXPORT)
    revoked_token, revoked = await api_tokens.create(regulator, "old gateway", TokenScope.INGEST)
    await api_tokens.revoke(regulator, revoked_token.id)
    for secret in (export, revoked, None, "ccms_not-a-token", "not-a-jwt"):
        async with nothing_written():
            response = await post_batch(http, {"records": [item(guangzhou)]}, secret)
        assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED"), secret
        assert response.headers["www-authenticate"] == "Bearer"
