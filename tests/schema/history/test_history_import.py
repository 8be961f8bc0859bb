"""importHistoricalData: energy use, verified emissions and output per enterprise and year,
at most 1,000 rows a call, all or nothing unless partial."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from models import AuditEvent, HistoricalEmission, HistoricalEnergy, HistoricalOutput
from tests.conftest import GraphQLClient, World
from tests.schema.allocation_support import Region, unchanged_anywhere
from tests.schema.support import payload, refused, refused_unread, succeeded, unauthenticated

IMPORT = """
mutation($rows: [HistoricalRowInput!]!, $partial: Boolean! = false) {
  importHistoricalData(rows: $rows, partial: $partial) {
    errors { code field message }
    written errorCount
    rowErrors { line code field message }
  }
}
"""


@pytest.fixture
async def region(world: World) -> Region:
    return await Region.build(world)


TONNE_TYPES = ["DIESEL", "GASOLINE", "FUEL_OIL", "LPG", "RAW_COAL", "BITUMINOUS_COAL", "ANTHRACITE", "WATER"]


def row(credit_code: str, **values: Any) -> dict[str, Any]:
    return {
        "creditCode": credit_code,
        "year": 2024,
        "kind": "ENERGY",
        "item": "DIESEL",
        "quantity": "120.5",
        "unit": "t",
        **values,
    }


async def test_a_regulator_imports_energy_emissions_and_output(gql: GraphQLClient, region: Region) -> None:
    code = region.a.credit_code
    rows = [
        row(code, item="ELECTRICITY", quantity="1500000", unit="kWh"),
        row(code, item="NATURAL_GAS", quantity=250000, unit="m3"),
        row(code, kind="EMISSIONS", item="", quantity=2900, unit="t"),
        row(code, kind="OUTPUT", item="POWER_COAL_GT300", quantity="3600000.5", unit="MWh"),
    ]
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importHistoricalData")
    assert (body["written"], body["errorCount"], body["rowErrors"]) == (4, 0, [])
    # Converted to each type's canonical unit on the way in.
    assert sorted(await HistoricalEnergy.all().values_list("energy_type_id", "quantity")) == [
        ("ELECTRICITY", Decimal("1500")),
        ("NATURAL_GAS", Decimal("25")),
    ]
    assert await HistoricalEmission.all().values_list("year", "verified_emissions") == [(2024, 2900)]
    assert await HistoricalOutput.all().values_list("product_id", "quantity") == [
        ("POWER_COAL_GT300", Decimal("3600000.5"))
    ]
    event = await AuditEvent.get(action="history.imported")
    assert (event.actor_id, event.data) == (
        region.regulator.user_id,
        {"written": 4, "errors": 0, "partial": False},
    )


async def test_importing_the_same_row_again_updates_it(gql: GraphQLClient, region: Region) -> None:
    code = region.a.credit_code
    succeeded(
        await gql(IMPORT, {"rows": [row(code, quantity="100")]}, actor=region.regulator),
        "importHistoricalData",
    )
    body = succeeded(
        await gql(IMPORT, {"rows": [row(code, quantity="80", unit="kg")]}, actor=region.regulator),
        "importHistoricalData",
    )
    assert body["written"] == 1
    assert await HistoricalEnergy.all().values_list("quantity", flat=True) == [Decimal("0.08")]


@pytest.mark.parametrize(
    ("bad", "code", "field"),
    [
        ({"creditCode": "91440113MA0000000X"}, "NOT_FOUND", "creditCode"),
        ({"creditCode": ""}, "REQUIRED", "creditCode"),
        ({"item": "UNOBTAINIUM"}, "UNKNOWN_ENERGY_TYPE", "item"),
        ({"unit": "barrels"}, "UNKNOWN_UNIT", "unit"),
        ({"unit": "kWh"}, "INCOMPATIBLE_UNIT", "unit"),
        ({"quantity": "-1"}, "NEGATIVE_QUANTITY", "quantity"),
        ({"quantity": "lots"}, "INVALID_QUANTITY", "quantity"),
        ({"quantity": "1e20"}, "INVALID_QUANTITY", "quantity"),
        ({"year": 1800}, "INVALID_YEAR", "year"),
        ({"kind": "OUTPUT", "item": "WIDGETS"}, "UNKNOWN_PRODUCT", "item"),
        ({"kind": "OUTPUT", "item": "CLINKER", "unit": "MWh"}, "INCOMPATIBLE_UNIT", "unit"),
        ({"kind": "EMISSIONS", "item": "", "quantity": "10.5"}, "INVALID_QUANTITY", "quantity"),
        ({"kind": "EMISSIONS", "item": "", "unit": "GJ"}, "INCOMPATIBLE_UNIT", "unit"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_bad_row_is_reported_with_its_position_and_nothing_is_written(
    gql: GraphQLClient, region: Region, bad: dict[str, Any], code: str, field: str
) -> None:
    rows = [row(region.a.credit_code), row(region.b.credit_code, **bad), row(region.c.credit_code)]
    async with unchanged_anywhere():
        body = payload(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importHistoricalData")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("INVALID_ROW", "rows")]
    assert (body["written"], body["errorCount"]) == (0, 1)
    [error] = body["rowErrors"]
    assert (error["line"], error["code"], error["field"]) == (2, code, field)
    assert error["message"].strip()


async def test_a_repeated_row_is_a_duplicate_of_the_first(gql: GraphQLClient, region: Region) -> None:
    code = region.a.credit_code
    rows = [row(code), row(code, item="ELECTRICITY", unit="MWh"), row(code, quantity="7")]
    body = payload(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importHistoricalData")
    assert [(e["line"], e["code"], e["message"]) for e in body["rowErrors"]] == [
        (3, "DUPLICATE_ROW", "与第 1 行重复")
    ]
    assert not await HistoricalEnergy.exists()


async def test_with_partial_the_good_rows_are_written_and_the_bad_ones_reported(
    gql: GraphQLClient, region: Region
) -> None:
    rows = [row(region.a.credit_code), row(region.b.credit_code, quantity="-5"), row(region.c.credit_code)]
    body = succeeded(
        await gql(IMPORT, {"rows": rows, "partial": True}, actor=region.regulator), "importHistoricalData"
    )
    assert (body["written"], body["errorCount"]) == (2, 1)
    assert [(e["line"], e["code"]) for e in body["rowErrors"]] == [(2, "NEGATIVE_QUANTITY")]
    assert sorted(await HistoricalEnergy.all().values_list("enterprise_id", flat=True)) == sorted(
        [region.a.id, region.c.id]
    )


async def test_a_thousand_rows_are_accepted_and_one_more_is_refused(
    gql: GraphQLClient, region: Region
) -> None:
    code, years = region.a.credit_code, range(1990, 2090)
    rows = [row(code, year=y, item=t) for t in TONNE_TYPES for y in years]
    rows += [row(code, year=y, kind="EMISSIONS", item="", quantity=y) for y in years]
    rows += [row(code, year=y, kind="OUTPUT", item="CLINKER", quantity=y) for y in years]
    assert len(rows) == 1000
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importHistoricalData")
    assert body["written"] == 1000
    async with unchanged_anywhere():
        result = await gql(IMPORT, {"rows": [*rows, row(region.b.credit_code)]}, actor=region.regulator)
    refused_unread(result, "TOO_MANY_ITEMS", "rows")


async def test_an_enterprise_user_imports_its_own_history_only(gql: GraphQLClient, region: Region) -> None:
    own = succeeded(
        await gql(IMPORT, {"rows": [row(region.a.credit_code)]}, actor=region.member), "importHistoricalData"
    )
    assert own["written"] == 1
    async with unchanged_anywhere():
        body = payload(
            await gql(IMPORT, {"rows": [row(region.b.credit_code)]}, actor=region.member),
            "importHistoricalData",
        )
    assert [(e["line"], e["code"], e["field"]) for e in body["rowErrors"]] == [(1, "NOT_FOUND", "creditCode")]


async def test_a_regulator_cannot_import_for_another_region(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        body = payload(
            await gql(IMPORT, {"rows": [row(region.a.credit_code)]}, actor=region.beijing_regulator),
            "importHistoricalData",
        )
    assert [(e["code"], e["field"]) for e in body["rowErrors"]] == [("NOT_FOUND", "creditCode")]


async def test_an_admin_may_not_import(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        result = await gql(IMPORT, {"rows": [row(region.a.credit_code)]}, actor=region.admin)
    refused(result, "importHistoricalData", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_imported(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        unauthenticated(await gql(IMPORT, {"rows": [row(region.a.credit_code)]}), "importHistoricalData")
