"""Energy records, energy types and emission factors over GraphQL: importEnergyRecords, the
scoped energyRecords list, setEmissionFactor with emissionFactors, and addEnergyType."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from models import AuditEvent, EmissionFactor, EnergyRecord, EnergyType, Enterprise, StaleMonth
from services.access import Actor
from services.energy import factors, ingest
from services.energy.seeds import rows_of
from tests.conftest import GraphQLClient, World
from tests.schema.allocation_support import Region, unchanged_anywhere
from tests.schema.support import payload, refused, refused_unread, succeeded, top_level_error, unauthenticated
from tests.schema.test_query_count import counting_statements

ERRORS = "errors { code field message }"
ROW_ERROR = "line code field message"
IMPORT = f"""
mutation($rows: [EnergyRecordInput!]!, $partial: Boolean! = false) {{
  importEnergyRecords(rows: $rows, partial: $partial) {{
    {ERRORS} written errorCount missingFactors
    rowErrors {{ {ROW_ERROR} }} rowWarnings {{ {ROW_ERROR} }}
  }}
}}
"""
RECORDS = """
query($filter: EnergyRecordFilter, $first: Int, $after: String) {
  energyRecords(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id period energyType source quantity unit canonicalQuantity tce emissions
      factor { id value effectiveYear regionPrefix version }
      enterprise { id }
    } }
  }
}
"""
SET_FACTOR = f"""
mutation($input: EmissionFactorInput!) {{
  setEmissionFactor(input: $input) {{
    {ERRORS}
    factor {{
      id energyType effectiveYear regionPrefix version value unit
      netCalorificValue carbonContent oxidationRate source appliedAt
    }}
  }}
}}
"""
FACTORS = """
query($filter: EmissionFactorFilter) {
  emissionFactors(filter: $filter) { id energyType effectiveYear regionPrefix version value appliedAt }
}
"""
ADD_TYPE = f"""
mutation($code: String!, $name: String!, $unit: String!, $emits: Boolean! = true) {{
  addEnergyType(code: $code, name: $name, canonicalUnit: $unit, emits: $emits) {{
    {ERRORS} energyType {{ code name canonicalUnit emits }}
  }}
}}
"""
TYPES = "{ energyTypes { code name canonicalUnit emits } }"


def row(enterprise: Enterprise, **values: Any) -> dict[str, Any]:
    return {
        "creditCode": enterprise.credit_code,
        "period": "2024-03",
        "energyType": "ELECTRICITY",
        "quantity": "1000",
        "unit": "MWh",
        **values,
    }


async def seed(actor: Actor, *rows: dict[str, Any]) -> None:
    """Records written through the service, as the GraphQL rows above would be."""
    raw = [
        {
            "credit_code": r["creditCode"],
            "period": r["period"],
            "energy_type": r["energyType"],
            "quantity": str(r["quantity"]),
            "unit": r["unit"],
            "source": r.get("source", ""),
        }
        for r in rows
    ]
    result = await ingest.import_rows(actor, raw)
    assert (result.error_count, result.written) == (0, len(rows)), result.errors


async def stored() -> list[tuple[Any, ...]]:
    """Every record with what a write could change."""
    return [
        tuple(r)
        for r in await EnergyRecord.all()
        .order_by("id")
        .values_list("id", "quantity", "unit", "amount", "emissions", "factor_id")
    ]


@asynccontextmanager
async def nothing_written() -> AsyncIterator[None]:
    """No energy record, stale month, factor version or energy type was added, changed or
    removed, and nothing unchanged_anywhere watches (the audit trail among it) either."""

    async def snapshot() -> tuple[Any, ...]:
        return (
            await stored(),
            await StaleMonth.all().count(),
            await EmissionFactor.all().count(),
            await EnergyType.all().count(),
        )

    before = await snapshot()
    async with unchanged_anywhere():
        yield
    assert await snapshot() == before


def nodes(result: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["energyRecords"]["edges"]]


def errors_of(body: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    return [(e["line"], e["code"], e["field"]) for e in body["rowErrors"]]


@pytest.fixture(autouse=True)
async def factors_removed(world: World) -> AsyncIterator[None]:
    """Factor versions are reference data the suite keeps, and point at the user who set them:
    the ones a test adds go, with the records using them, before its users do."""
    yield
    await EnergyRecord.all().delete()
    await EmissionFactor.filter(created_by_id__isnull=False).delete()


@pytest.fixture
async def region(world: World) -> Region:
    return await Region.build(world)


@pytest.fixture
async def national(world: World) -> Actor:
    return await world.regulator("")


# importEnergyRecords


async def test_an_import_converts_to_canonical_units_and_emissions_with_the_factor_it_names(
    gql: GraphQLClient, region: Region
) -> None:
    rows = [
        # 1,000,000 kWh = 1,000 MWh at the 2022 national grid factor 0.5703 = 570.3 t.
        row(region.a, period="2022-03", quantity=1_000_000, unit="kWh"),
        # No emission factor for raw coal: written, counted, and warned about.
        row(region.a, period="2024-03-15", energyType="raw_coal", quantity="12.5", unit="t", source="IOT"),
    ]
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importEnergyRecords")
    assert (body["written"], body["errorCount"], body["missingFactors"], body["rowErrors"]) == (2, 0, 1, [])
    [warning] = body["rowWarnings"]
    assert (warning["line"], warning["code"], warning["field"]) == (2, "FACTOR_MISSING", "energyType")
    assert "RAW_COAL" in warning["message"]

    electricity, coal = nodes(await gql(RECORDS, actor=region.regulator))
    assert electricity == {
        "id": electricity["id"],
        "period": "2022-03",
        "energyType": "ELECTRICITY",
        "source": "MANUAL",  # the GraphQL default
        "quantity": "1000000",
        "unit": "kWh",
        "canonicalQuantity": "1000",
        "tce": "122.9",  # 0.1229 tce/MWh
        "emissions": "570.3",
        "factor": {
            "id": electricity["factor"]["id"],
            "value": "0.5703",
            "effectiveYear": 2022,
            "regionPrefix": "",
            "version": 1,
        },
        "enterprise": {"id": str(region.a.id)},
    }
    assert (coal["period"], coal["energyType"], coal["source"]) == ("2024-03-15", "RAW_COAL", "IOT")
    # 12.5 t at 0.7143 tce/t; no emissions rather than a guess, and the factor row says why.
    assert (coal["canonicalQuantity"], coal["tce"], coal["emissions"]) == ("12.5", "8.92875", None)
    assert (coal["factor"]["value"], coal["factor"]["effectiveYear"]) == (None, 2019)
    event = await AuditEvent.get(action="energy.imported")
    assert (event.actor_id, event.data) == (
        region.regulator.user_id,
        {"written": 2, "errors": 0, "partial": False},
    )


async def test_a_record_takes_its_regions_factor_of_the_latest_year_not_after_its_own(
    gql: GraphQLClient, region: Region, national: Actor
) -> None:
    rows = [
        row(region.a, period="2024-01", quantity="200"),  # Guangdong: South China grid 2023
        row(region.beijing, period="2024-01", quantity="50"),  # Beijing: North China grid 2023
        row(region.a, period="2023-12", energyType="NATURAL_GAS", quantity="3", unit="10^4Nm3"),
    ]
    succeeded(await gql(IMPORT, {"rows": rows}, actor=national), "importEnergyRecords")
    found = {
        (n["enterprise"]["id"], n["energyType"]): (
            n["emissions"],
            n["factor"] and (n["factor"]["regionPrefix"], n["factor"]["effectiveYear"]),
        )
        for n in nodes(await gql(RECORDS, actor=national))
    }
    assert found == {
        (str(region.a.id), "ELECTRICITY"): ("80.84", ("44", 2023)),  # 200 x 0.4042
        (str(region.beijing.id), "ELECTRICITY"): ("31.805", ("11", 2023)),  # 50 x 0.6361
        # The 2024 gas factor is later than the record: the earlier guideline's applies to 2023.
        (str(region.a.id), "NATURAL_GAS"): ("64.865664", ("", 2019)),  # 3 x 21.62188809
    }


async def test_sending_a_record_again_updates_it(gql: GraphQLClient, region: Region) -> None:
    succeeded(await gql(IMPORT, {"rows": [row(region.a)]}, actor=region.member), "importEnergyRecords")
    body = succeeded(
        await gql(IMPORT, {"rows": [row(region.a, quantity="1.5", unit="GWh")]}, actor=region.member),
        "importEnergyRecords",
    )
    assert body["written"] == 1
    [record] = nodes(await gql(RECORDS, actor=region.member))
    # 1,500 MWh at the 2023 South China grid factor 0.4042.
    assert (record["quantity"], record["unit"], record["canonicalQuantity"], record["emissions"]) == (
        "1.5",
        "GWh",
        "1500",
        "606.3",
    )


@pytest.mark.parametrize(
    ("bad", "code", "field"),
    [
        ({"creditCode": "91440113MA0000000X"}, "NOT_FOUND", "creditCode"),
        ({"creditCode": " "}, "REQUIRED", "creditCode"),
        ({"energyType": "UNOBTAINIUM"}, "UNKNOWN_ENERGY_TYPE", "energyType"),
        ({"period": "2024-13"}, "INVALID_PERIOD", "period"),
        ({"period": "2024/03"}, "INVALID_PERIOD", "period"),
        ({"period": "2023-02-29"}, "INVALID_PERIOD", "period"),
        ({"quantity": "abc"}, "INVALID_QUANTITY", "quantity"),
        ({"quantity": "-5"}, "NEGATIVE_QUANTITY", "quantity"),
        ({"quantity": -5}, "NEGATIVE_QUANTITY", "quantity"),
        ({"quantity": "1e20"}, "INVALID_QUANTITY", "quantity"),
        ({"unit": "barrels"}, "UNKNOWN_UNIT", "unit"),
        ({"unit": ""}, "REQUIRED", "unit"),
        ({"energyType": "DIESEL", "unit": "kWh"}, "INCOMPATIBLE_UNIT", "unit"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_bad_row_is_reported_with_its_line_and_field_and_nothing_is_written(
    gql: GraphQLClient, region: Region, bad: dict[str, Any], code: str, field: str
) -> None:
    rows = [row(region.a), row(region.b, **bad), row(region.c)]
    async with nothing_written():
        body = payload(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importEnergyRecords")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("INVALID_ROW", "rows")]
    assert (body["written"], body["errorCount"], body["missingFactors"], body["rowWarnings"]) == (0, 1, 0, [])
    [error] = body["rowErrors"]
    assert (error["line"], error["code"], error["field"]) == (2, code, field)
    assert error["message"].strip()


async def test_every_bad_row_is_reported_in_order(gql: GraphQLClient, region: Region) -> None:
    rows = [
        row(region.beijing),  # out of the Guangdong regulator's scope: found a batch later
        row(region.a, quantity="abc"),
        row(region.a),
        row(region.a, quantity="7"),  # the same enterprise, period, type and source as line 3
        row(region.b, period="2024-3"),
    ]
    async with nothing_written():
        body = payload(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importEnergyRecords")
    assert errors_of(body) == [
        (1, "NOT_FOUND", "creditCode"),
        (2, "INVALID_QUANTITY", "quantity"),
        (4, "DUPLICATE_ROW", None),
        (5, "INVALID_PERIOD", "period"),
    ]
    assert body["errorCount"] == 4


async def test_with_partial_the_good_rows_are_written(gql: GraphQLClient, region: Region) -> None:
    rows = [row(region.a), row(region.b, quantity="-5"), row(region.c, energyType="LPG", unit="t")]
    body = succeeded(
        await gql(IMPORT, {"rows": rows, "partial": True}, actor=region.regulator), "importEnergyRecords"
    )
    assert (body["written"], body["errorCount"], body["missingFactors"]) == (2, 1, 0)
    assert errors_of(body) == [(2, "NEGATIVE_QUANTITY", "quantity")]
    assert sorted(await EnergyRecord.all().values_list("enterprise_id", "energy_type_id")) == sorted(
        [(region.a.id, "ELECTRICITY"), (region.c.id, "LPG")]
    )


async def test_a_thousand_rows_are_accepted_and_one_more_is_refused(
    gql: GraphQLClient, region: Region
) -> None:
    periods = [f"{year}-{month:02d}" for year in range(2000, 2084) for month in range(1, 13)]
    rows = [row(region.a, period=p, energyType="WATER", unit="m3") for p in periods[:1000]]
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=region.regulator), "importEnergyRecords")
    assert (body["written"], body["missingFactors"]) == (1000, 0)  # water emits nothing without a factor
    assert await EnergyRecord.all().count() == 1000
    async with nothing_written():
        result = await gql(IMPORT, {"rows": [*rows, row(region.b)]}, actor=region.regulator)
    refused_unread(result, "TOO_MANY_ITEMS", "rows")


async def test_an_enterprise_user_imports_its_own_records_only(gql: GraphQLClient, region: Region) -> None:
    body = succeeded(await gql(IMPORT, {"rows": [row(region.a)]}, actor=region.member), "importEnergyRecords")
    assert body["written"] == 1
    async with nothing_written():
        body = payload(
            await gql(
                IMPORT, {"rows": [row(region.a, period="2024-04"), row(region.b)]}, actor=region.member
            ),
            "importEnergyRecords",
        )
    assert errors_of(body) == [(2, "NOT_FOUND", "creditCode")]
    assert await EnergyRecord.all().values_list("enterprise_id", flat=True) == [region.a.id]


async def test_a_regulator_cannot_import_for_another_region(gql: GraphQLClient, region: Region) -> None:
    async with nothing_written():
        body = payload(
            await gql(IMPORT, {"rows": [row(region.a)]}, actor=region.beijing_regulator),
            "importEnergyRecords",
        )
    assert errors_of(body) == [(1, "NOT_FOUND", "creditCode")]


async def test_an_admin_may_not_import(gql: GraphQLClient, region: Region) -> None:
    async with nothing_written():
        result = await gql(IMPORT, {"rows": [row(region.a)]}, actor=region.admin)
    refused(result, "importEnergyRecords", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_imported(gql: GraphQLClient, region: Region) -> None:
    async with nothing_written():
        unauthenticated(await gql(IMPORT, {"rows": [row(region.a)]}), "importEnergyRecords")


# energyRecords


@dataclass
class Records:
    """Six records: four of Guangdong's a (one without a factor, one from a meter), one of b and
    one of Beijing."""

    region: Region
    national: Actor

    def label(self, node: dict[str, Any]) -> str:
        names = {
            str(e.id): n for n, e in [("a", self.region.a), ("b", self.region.b), ("bj", self.region.beijing)]
        }
        return f"{names[node['enterprise']['id']]} {node['period']} {node['energyType']}"


A_RECORDS = ["a 2023-12 ELECTRICITY", "a 2024-01 ELECTRICITY", "a 2024-02 RAW_COAL", "a 2024-03-15 DIESEL"]
ALL_RECORDS = [*A_RECORDS, "b 2024-01 NATURAL_GAS", "bj 2024-01 ELECTRICITY"]


@pytest.fixture
async def records(region: Region, national: Actor) -> Records:
    await seed(
        national,
        row(region.a, period="2023-12", quantity="100"),
        row(region.a, period="2024-01", quantity="200"),
        row(region.a, period="2024-02", energyType="RAW_COAL", quantity="10", unit="t"),
        row(region.a, period="2024-03-15", energyType="DIESEL", quantity="5", unit="t", source="IOT"),
        row(region.b, period="2024-01", energyType="NATURAL_GAS", quantity="3", unit="万立方米"),
        row(region.beijing, period="2024-01", quantity="50"),
    )
    return Records(region, national)


async def listed(gql: GraphQLClient, records: Records, actor: Actor, where: Any = None) -> list[str]:
    result = await gql(RECORDS, {"filter": where, "first": 100}, actor=actor)
    return sorted(records.label(node) for node in nodes(result))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("member", A_RECORDS),
        ("regulator", [*A_RECORDS, "b 2024-01 NATURAL_GAS"]),
        ("beijing_regulator", ["bj 2024-01 ELECTRICITY"]),
        ("national", ALL_RECORDS),
    ],
)
async def test_each_caller_lists_the_records_in_its_scope(
    gql: GraphQLClient, records: Records, who: str, expected: list[str]
) -> None:
    actor = records.national if who == "national" else getattr(records.region, who)
    assert await listed(gql, records, actor) == sorted(expected)


async def test_another_regions_enterprise_filtered_by_id_lists_nothing(
    gql: GraphQLClient, records: Records
) -> None:
    where = {"enterpriseId": str(records.region.beijing.id)}
    assert await listed(gql, records, records.region.regulator, where) == []
    assert await listed(gql, records, records.region.member, {"enterpriseId": str(records.region.b.id)}) == []


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"enterpriseId": "b"}, ["b 2024-01 NATURAL_GAS"]),
        (
            {"fromPeriod": "2024-01", "toPeriod": "2024-02"},
            [
                "a 2024-01 ELECTRICITY",
                "a 2024-02 RAW_COAL",
                "b 2024-01 NATURAL_GAS",
                "bj 2024-01 ELECTRICITY",
            ],
        ),
        # Across a year boundary: December of one year and January of the next.
        (
            {"fromPeriod": "2023-12", "toPeriod": "2024-01"},
            [
                "a 2023-12 ELECTRICITY",
                "a 2024-01 ELECTRICITY",
                "b 2024-01 NATURAL_GAS",
                "bj 2024-01 ELECTRICITY",
            ],
        ),
        ({"fromPeriod": "2024-03"}, ["a 2024-03-15 DIESEL"]),  # a day record belongs to its month
        ({"toPeriod": "2023-12"}, ["a 2023-12 ELECTRICITY"]),
        ({"energyTypes": ["diesel", "NATURAL_GAS"]}, ["a 2024-03-15 DIESEL", "b 2024-01 NATURAL_GAS"]),
        ({"source": "IOT"}, ["a 2024-03-15 DIESEL"]),
        ({"source": "MANUAL", "energyTypes": ["DIESEL"]}, []),
        ({"missingFactor": True}, ["a 2024-02 RAW_COAL"]),
        ({"missingFactor": False}, [r for r in ALL_RECORDS if r != "a 2024-02 RAW_COAL"]),
        ({"enterpriseId": "a", "missingFactor": False, "toPeriod": "2024-01"}, A_RECORDS[:2]),
    ],
    ids=[
        "enterprise",
        "from-to",
        "across-years",
        "from",
        "to",
        "types",
        "source",
        "source-and-type",
        "missing",
        "not-missing",
        "combined",
    ],
)
async def test_the_filters_narrow_the_list(
    gql: GraphQLClient, records: Records, where: dict[str, Any], expected: list[str]
) -> None:
    if "enterpriseId" in where:
        enterprise = {"a": records.region.a, "b": records.region.b}[where["enterpriseId"]]
        where = {**where, "enterpriseId": str(enterprise.id)}
    assert await listed(gql, records, records.national, where) == sorted(expected)


@pytest.mark.parametrize(
    "where",
    [{"fromPeriod": "2024-13"}, {"toPeriod": "March"}, {"fromPeriod": "2024-1"}, {"toPeriod": "1800-01"}],
    ids=["month-13", "word", "one-digit-month", "year-1800"],
)
async def test_a_bad_period_in_the_filter_is_a_top_level_error(
    gql: GraphQLClient, records: Records, where: dict[str, Any]
) -> None:
    error = top_level_error(await gql(RECORDS, {"filter": where}, actor=records.national))
    assert error["extensions"] == {"code": "INVALID_PERIOD"} and error["path"] == ["energyRecords"]


async def test_records_are_listed_oldest_first_in_pages(gql: GraphQLClient, records: Records) -> None:
    first = (await gql(RECORDS, {"first": 4}, actor=records.national))["data"]["energyRecords"]
    assert (len(first["edges"]), first["pageInfo"]["hasNextPage"], first["totalCount"]) == (4, True, 6)
    second = (
        await gql(RECORDS, {"first": 4, "after": first["pageInfo"]["endCursor"]}, actor=records.national)
    )["data"]["energyRecords"]
    assert (len(second["edges"]), second["pageInfo"]["hasNextPage"]) == (2, False)
    pages = [edge["node"] for edge in first["edges"] + second["edges"]]
    assert [int(node["id"]) for node in pages] == sorted(
        await EnergyRecord.all().values_list("id", flat=True)
    )
    assert sorted(records.label(node) for node in pages) == sorted(ALL_RECORDS)


async def test_a_page_of_records_with_their_enterprises_and_factors_costs_a_fixed_number_of_statements(
    gql: GraphQLClient, world: World, national: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = (
        "{ energyRecords(first: 100) { edges { node { id enterprise { id name } factor { id version } } } } }"
    )

    async def statements() -> int:
        with counting_statements(monkeypatch) as seen:
            result = await gql(query, actor=national)
        assert "errors" not in result, result
        return len(seen)

    regions = ["440113", "110101", "310101", "510101"]  # four grid factors, and the national one
    first = await world.enterprise(regions[0])
    await seed(national, row(first, period="2024-01"), row(first, period="2022-01"))
    few = await statements()
    for n in range(8):
        enterprise = await world.enterprise(regions[n % 4])
        await seed(national, row(enterprise, period="2024-01"), row(enterprise, period="2022-01"))
    assert await EnergyRecord.all().count() == 18
    assert await statements() == few


# setEmissionFactor and emissionFactors


def factor_input(**values: Any) -> dict[str, Any]:
    return {"energyType": "ELECTRICITY", "effectiveYear": 2022, "value": "0.581", "source": "test", **values}


async def test_a_national_regulator_adds_a_version_of_a_factor(gql: GraphQLClient, national: Actor) -> None:
    body = succeeded(
        await gql(SET_FACTOR, {"input": factor_input(source="环办气候函 correction")}, actor=national),
        "setEmissionFactor",
    )
    factor = body["factor"]
    assert factor == {
        "id": factor["id"],
        "energyType": "ELECTRICITY",
        "effectiveYear": 2022,
        "regionPrefix": "",
        "version": 2,  # the shipped 0.5703 is version 1
        "value": "0.581",
        "unit": "tCO2/MWh",
        "netCalorificValue": None,
        "carbonContent": None,
        "oxidationRate": None,
        "source": "环办气候函 correction",
        "appliedAt": None,  # until the recompute job has run
    }
    event = await AuditEvent.get(action="emission_factor.set")
    assert (event.actor_id, event.data["version"], event.data["value"]) == (national.user_id, 2, "0.581")


async def test_an_admin_adds_a_regional_factor(gql: GraphQLClient, world: World) -> None:
    body = succeeded(
        await gql(
            SET_FACTOR,
            {"input": factor_input(effectiveYear=2025, regionPrefix="4401", value=0.39, unit="tCO2/MWh")},
            actor=await world.admin(),
        ),
        "setEmissionFactor",
    )
    factor = body["factor"]
    assert (factor["regionPrefix"], factor["effectiveYear"], factor["version"], factor["value"]) == (
        "4401",
        2025,
        1,
        "0.39",
    )


async def test_the_fuel_parameters_give_the_value(gql: GraphQLClient, national: Actor) -> None:
    parameters = {"netCalorificValue": "42.652", "carbonContent": "0.02020", "oxidationRate": "0.98"}
    body = succeeded(
        await gql(
            SET_FACTOR,
            {"input": factor_input(energyType="DIESEL", effectiveYear=2025, value=None, **parameters)},
            actor=national,
        ),
        "setEmissionFactor",
    )
    # 42.652 GJ/t x 0.0202 tC/GJ x 0.98 x 44/12 = 3.0959096373... tCO2/t
    factor = body["factor"]
    assert (factor["value"], factor["unit"], factor["netCalorificValue"], factor["oxidationRate"]) == (
        "3.0959096373",
        "tCO2/t",
        "42.652",
        "0.98",
    )
    # A stated value may round the derived one; the derivation is what is stored.
    body = succeeded(
        await gql(
            SET_FACTOR,
            {"input": factor_input(energyType="DIESEL", effectiveYear=2025, value="3.0959", **parameters)},
            actor=national,
        ),
        "setEmissionFactor",
    )
    assert (body["factor"]["value"], body["factor"]["version"]) == ("3.0959096373", 2)


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        (
            {
                "energyType": "DIESEL",
                "value": "3.2",
                "netCalorificValue": "42.652",
                "carbonContent": "0.0202",
                "oxidationRate": "0.98",
            },
            "FACTOR_PARAMETERS_MISMATCH",
            "value",
        ),
        ({"energyType": "UNOBTAINIUM"}, "UNKNOWN_ENERGY_TYPE", "energyType"),
        ({"regionPrefix": "4"}, "INVALID_REGION_CODE", "regionPrefix"),
        ({"unit": "tCO2/t"}, "INCOMPATIBLE_UNIT", "unit"),
        ({"effectiveYear": 1989}, "INVALID_YEAR", "effectiveYear"),
        ({"value": None}, "REQUIRED", "value"),
        ({"value": None, "netCalorificValue": "42.652"}, "REQUIRED", "carbonContent"),
        ({"value": "-0.5"}, "NEGATIVE_QUANTITY", "value"),
        ({"value": "lots"}, "INVALID_QUANTITY", "value"),
        ({"value": "0.12345678901"}, "INVALID_QUANTITY", "value"),
        (
            {"value": None, "netCalorificValue": "1", "carbonContent": "0.02", "oxidationRate": "1.5"},
            "INVALID_RATIO",
            "oxidationRate",
        ),
        ({"source": " "}, "REQUIRED", "source"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_bad_factor_is_refused_with_a_coded_error(
    gql: GraphQLClient, national: Actor, values: dict[str, Any], code: str, field: str
) -> None:
    async with nothing_written():
        result = await gql(SET_FACTOR, {"input": factor_input(**values)}, actor=national)
    refused(result, "setEmissionFactor", code, field)


@pytest.mark.parametrize("who", ["provincial regulator", "member"])
async def test_only_an_admin_or_a_national_regulator_sets_factors(
    gql: GraphQLClient, region: Region, who: str
) -> None:
    actor = region.regulator if who == "provincial regulator" else region.member
    async with nothing_written():
        result = await gql(SET_FACTOR, {"input": factor_input(regionPrefix="44")}, actor=actor)
    refused(result, "setEmissionFactor", "PERMISSION_DENIED")


async def test_without_a_token_no_factor_is_set(gql: GraphQLClient, region: Region) -> None:
    async with nothing_written():
        unauthenticated(await gql(SET_FACTOR, {"input": factor_input()}), "setEmissionFactor")


def versions(result: dict[str, Any]) -> list[tuple[str, int, str, int, str]]:
    assert "errors" not in result, result
    return [
        (f["energyType"], f["effectiveYear"], f["regionPrefix"], f["version"], f["value"])
        for f in result["data"]["emissionFactors"]
    ]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            {"energyTypes": ["ELECTRICITY"], "regionPrefix": "44", "effectiveYear": 2023},
            [("ELECTRICITY", 2023, "44", 1, "0.4042")],
        ),
        (
            {"energyTypes": ["ELECTRICITY"], "regionPrefix": ""},
            [
                ("ELECTRICITY", 2019, "", 1, None),  # none confirmed for 2019-2020
                ("ELECTRICITY", 2021, "", 1, "0.5568"),
                ("ELECTRICITY", 2022, "", 1, "0.5703"),
                ("ELECTRICITY", 2023, "", 1, "0.5306"),
            ],
        ),
        (
            {"energyTypes": ["natural_gas", "DIESEL"]},
            [
                ("DIESEL", 2019, "", 1, "3.1451224933"),
                ("DIESEL", 2024, "", 1, "3.0959096373"),
                ("NATURAL_GAS", 2019, "", 1, "21.62188809"),
                ("NATURAL_GAS", 2024, "", 1, "21.650151996"),
            ],
        ),
        ({"effectiveYear": 2026}, [("PURCHASED_HEAT", 2026, "", 1, "0.11")]),
        ({"energyTypes": ["RAW_COAL"]}, [("RAW_COAL", 2019, "", 1, None)]),  # none published
    ],
    ids=["grid-44-2023", "national-electricity", "types", "year", "none"],
)
async def test_the_shipped_factors_are_listed_by_type_region_and_year(
    gql: GraphQLClient, region: Region, where: dict[str, Any], expected: list[tuple[Any, ...]]
) -> None:
    # Reference data: an enterprise user reads the same list as a regulator.
    assert versions(await gql(FACTORS, {"filter": where}, actor=region.member)) == expected


async def test_every_shipped_factor_is_listed_without_a_filter(gql: GraphQLClient, region: Region) -> None:
    listed = versions(await gql(FACTORS, actor=region.regulator))
    assert len(listed) == len(rows_of("emission_factors.csv"))
    assert ("ELECTRICITY", 2023, "11", 1, "0.6361") in listed


async def test_current_only_lists_the_latest_version_of_each_key(gql: GraphQLClient, national: Actor) -> None:
    for value in ("0.58", "0.5811"):
        succeeded(
            await gql(SET_FACTOR, {"input": factor_input(value=value)}, actor=national), "setEmissionFactor"
        )
    where = {"energyTypes": ["ELECTRICITY"], "regionPrefix": "", "effectiveYear": 2022}
    assert versions(await gql(FACTORS, {"filter": where}, actor=national)) == [
        ("ELECTRICITY", 2022, "", 1, "0.5703"),
        ("ELECTRICITY", 2022, "", 2, "0.58"),
        ("ELECTRICITY", 2022, "", 3, "0.5811"),
    ]
    current = {"energyTypes": ["ELECTRICITY"], "regionPrefix": "", "currentOnly": True}
    assert versions(await gql(FACTORS, {"filter": current}, actor=national)) == [
        ("ELECTRICITY", 2019, "", 1, None),
        ("ELECTRICITY", 2021, "", 1, "0.5568"),
        ("ELECTRICITY", 2022, "", 3, "0.5811"),
        ("ELECTRICITY", 2023, "", 1, "0.5306"),
    ]


def emissions_by_record(result: dict[str, Any], records: dict[str, Enterprise]) -> dict[str, tuple[Any, ...]]:
    names = {str(e.id): name for name, e in records.items()}
    return {
        f"{names[n['enterprise']['id']]} {n['period']}": (
            n["emissions"],
            n["factor"]["regionPrefix"],
            n["factor"]["effectiveYear"],
            n["factor"]["version"],
        )
        for n in nodes(result)
    }


async def test_a_new_version_is_applied_to_exactly_the_records_it_covers_by_the_recompute(
    gql: GraphQLClient, region: Region, national: Actor
) -> None:
    await seed(
        national,
        row(region.a, period="2022-06"),
        row(region.beijing, period="2022-06"),
        row(region.a, period="2024-01"),  # the 2023 South China grid factor is more specific
    )
    named = {"gd": region.a, "bj": region.beijing}
    before = {
        "gd 2022-06": ("570.3", "", 2022, 1),
        "bj 2022-06": ("570.3", "", 2022, 1),
        "gd 2024-01": ("404.2", "44", 2023, 1),
    }
    assert emissions_by_record(await gql(RECORDS, actor=national), named) == before

    body = succeeded(
        await gql(SET_FACTOR, {"input": factor_input(value="0.6")}, actor=national), "setEmissionFactor"
    )
    # No job runs in the tests: the records keep the old version until the recompute.
    assert emissions_by_record(await gql(RECORDS, actor=national), named) == before

    assert await factors.recompute(int(body["factor"]["id"])) == 2
    assert emissions_by_record(await gql(RECORDS, actor=national), named) == {
        "gd 2022-06": ("600", "", 2022, 2),
        "bj 2022-06": ("600", "", 2022, 2),
        "gd 2024-01": ("404.2", "44", 2023, 1),
    }
    [factor] = (await gql(FACTORS, {"filter": {"effectiveYear": 2022, "currentOnly": True}}, actor=national))[
        "data"
    ]["emissionFactors"]
    assert (factor["version"], factor["appliedAt"] is not None) == (2, True)
    # Running it again changes nothing more.
    assert await factors.recompute(int(body["factor"]["id"])) == 0


async def test_a_regional_factor_applies_to_its_region_only(
    gql: GraphQLClient, region: Region, national: Actor
) -> None:
    await seed(national, row(region.a, period="2022-06"), row(region.beijing, period="2022-06"))
    body = succeeded(
        await gql(SET_FACTOR, {"input": factor_input(regionPrefix="44", value="0.5")}, actor=national),
        "setEmissionFactor",
    )
    assert await factors.recompute(int(body["factor"]["id"])) == 1
    assert emissions_by_record(
        await gql(RECORDS, actor=national), {"gd": region.a, "bj": region.beijing}
    ) == {
        "gd 2022-06": ("500", "44", 2022, 1),
        "bj 2022-06": ("570.3", "", 2022, 1),
    }


# addEnergyType and energyTypes


async def test_an_added_energy_type_is_importable_at_once_in_any_unit_of_its_dimension(
    gql: GraphQLClient, region: Region, national: Actor
) -> None:
    body = succeeded(
        await gql(
            ADD_TYPE,
            {"code": "coke_oven_gas", "name": "焦炉煤气 coke oven gas", "unit": "万立方米"},
            actor=national,
        ),
        "addEnergyType",
    )
    assert body["energyType"] == {
        "code": "COKE_OVEN_GAS",
        "name": "焦炉煤气 coke oven gas",
        "canonicalUnit": "1e4Nm3",  # the unit's own name, not the alias given
        "emits": True,
    }
    event = await AuditEvent.get(action="energy_type.added")
    assert (event.actor_id, event.data) == (
        national.user_id,
        {"code": "COKE_OVEN_GAS", "name": "焦炉煤气 coke oven gas", "canonicalUnit": "1e4Nm3", "emits": True},
    )
    listed = (await gql(TYPES, actor=region.member))["data"]["energyTypes"]
    assert {
        "code": "COKE_OVEN_GAS",
        "name": "焦炉煤气 coke oven gas",
        "canonicalUnit": "1e4Nm3",
        "emits": True,
    } in listed
    assert [t["code"] for t in listed] == sorted(t["code"] for t in listed)

    rows = [
        row(region.a, energyType="COKE_OVEN_GAS", quantity="50000", unit="m3"),
        row(region.a, energyType="COKE_OVEN_GAS", period="2024-04", quantity="0.001", unit="亿立方米"),
    ]
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=region.member), "importEnergyRecords")
    # No factor for it yet: written, and the regulator sees which are missing.
    assert (body["written"], body["missingFactors"]) == (2, 2)
    assert [(w["line"], w["code"]) for w in body["rowWarnings"]] == [
        (1, "FACTOR_MISSING"),
        (2, "FACTOR_MISSING"),
    ]
    found = nodes(await gql(RECORDS, {"filter": {"energyTypes": ["COKE_OVEN_GAS"]}}, actor=region.member))
    assert [(n["canonicalQuantity"], n["tce"], n["emissions"]) for n in found] == [
        ("5", None, None),
        ("10", None, None),
    ]

    async with nothing_written():
        body = payload(
            await gql(
                IMPORT, {"rows": [row(region.a, energyType="COKE_OVEN_GAS", unit="t")]}, actor=region.member
            ),
            "importEnergyRecords",
        )
    assert errors_of(body) == [(1, "INCOMPATIBLE_UNIT", "unit")]

    # Its first factor, and the next import has emissions: 5 x 7.5.
    succeeded(
        await gql(
            SET_FACTOR,
            {"input": factor_input(energyType="COKE_OVEN_GAS", effectiveYear=2024, value="7.5")},
            actor=national,
        ),
        "setEmissionFactor",
    )
    body = succeeded(await gql(IMPORT, {"rows": rows[:1]}, actor=region.member), "importEnergyRecords")
    assert (body["written"], body["missingFactors"]) == (1, 0)
    found = nodes(
        await gql(
            RECORDS,
            {"filter": {"toPeriod": "2024-03", "energyTypes": ["COKE_OVEN_GAS"]}},
            actor=region.member,
        )
    )
    assert [(n["emissions"], n["factor"]["value"]) for n in found] == [("37.5", "7.5")]


async def test_an_energy_type_that_does_not_emit_has_zero_emissions_without_a_factor(
    gql: GraphQLClient, region: Region, world: World
) -> None:
    body = succeeded(
        await gql(
            ADD_TYPE,
            {"code": "RECLAIMED_WATER", "name": "中水 reclaimed water", "unit": "t", "emits": False},
            actor=await world.admin(),
        ),
        "addEnergyType",
    )
    assert body["energyType"]["emits"] is False
    body = succeeded(
        await gql(
            IMPORT,
            {"rows": [row(region.a, energyType="RECLAIMED_WATER", unit="kg", quantity="2500")]},
            actor=region.member,
        ),
        "importEnergyRecords",
    )
    assert (body["written"], body["missingFactors"], body["rowWarnings"]) == (1, 0, [])
    [record] = nodes(await gql(RECORDS, actor=region.member))
    assert (record["canonicalQuantity"], record["emissions"], record["factor"]) == ("2.5", "0", None)


@pytest.mark.parametrize(
    ("code", "unit", "error", "field"),
    [
        ("ELECTRICITY", "MWh", "DUPLICATE_ENERGY_TYPE", "code"),
        ("electricity", "MWh", "DUPLICATE_ENERGY_TYPE", "code"),
        ("1COAL", "t", "INVALID_ENERGY_TYPE_CODE", "code"),
        ("COKE OVEN GAS", "t", "INVALID_ENERGY_TYPE_CODE", "code"),
        ("X", "t", "INVALID_ENERGY_TYPE_CODE", "code"),
        ("COKE_OVEN_GAS", "barrels", "UNKNOWN_UNIT", "canonicalUnit"),
    ],
    ids=["duplicate", "duplicate-lowercase", "digit-first", "spaces", "too-short", "unknown-unit"],
)
async def test_a_bad_energy_type_is_refused_with_a_coded_error(
    gql: GraphQLClient, national: Actor, code: str, unit: str, error: str, field: str
) -> None:
    async with nothing_written():
        result = await gql(ADD_TYPE, {"code": code, "name": "Some energy", "unit": unit}, actor=national)
    refused(result, "addEnergyType", error, field)


@pytest.mark.parametrize("who", ["provincial regulator", "member"])
async def test_only_an_admin_or_a_national_regulator_adds_energy_types(
    gql: GraphQLClient, region: Region, who: str
) -> None:
    actor = region.regulator if who == "provincial regulator" else region.member
    async with nothing_written():
        result = await gql(
            ADD_TYPE, {"code": "COKE_OVEN_GAS", "name": "焦炉煤气", "unit": "1e4Nm3"}, actor=actor
        )
    refused(result, "addEnergyType", "PERMISSION_DENIED")


async def test_without_a_token_no_energy_type_is_added(gql: GraphQLClient) -> None:
    async with nothing_written():
        result = await gql(ADD_TYPE, {"code": "COKE_OVEN_GAS", "name": "焦炉煤气", "unit": "1e4Nm3"})
    unauthenticated(result, "addEnergyType")
