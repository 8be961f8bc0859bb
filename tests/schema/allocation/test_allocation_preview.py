"""previewAllocation: each rule's split, computed and audited, never saved."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from models import AllocationPlan, AuditEvent
from tests.conftest import GraphQLClient, World
from tests.schema.allocation_support import (
    PREVIEW,
    Region,
    allocation_input,
    emissions,
    energy,
    ids,
    many_enterprises,
    output,
    preview_lines,
    unchanged_anywhere,
)
from tests.schema.support import refused, succeeded, unauthenticated
from tests.schema.test_query_count import counting_statements


@pytest.fixture
async def region(world: World) -> Region:
    """a and b have history, c has none; Beijing is another regulator's."""
    region = await Region.build(world)
    await emissions(region.a, {2022: 1100, 2023: 1000, 2024: 1200})
    await emissions(region.b, {2022: 2000, 2023: 2000, 2024: 2000})
    await emissions(region.beijing, {2024: 9000})
    await output(region.a, "POWER_COAL_GT300", {2024: 1000})  # x 0.7910 = 791 t
    await output(region.b, "POWER_GAS", {2024: 2000})  # x 0.3288 = 657.6 t
    await energy(region.a, "DIESEL", {2024: 100})  # x 1.4571 = 145.71 tce
    await energy(region.b, "ELECTRICITY", {2024: 1000})  # x 0.1229 = 122.9 tce
    return region


async def preview(gql: GraphQLClient, region: Region, **values: Any) -> dict[str, Any]:
    result = await gql(PREVIEW, {"input": allocation_input(**values)}, actor=region.regulator)
    return succeeded(result, "previewAllocation")


async def test_historical_emissions_shares_the_total_by_average_emissions(
    gql: GraphQLClient, region: Region
) -> None:
    body = await preview(gql, region, total=3100)
    assert (body["year"], body["rule"], body["total"], body["allocated"]) == (
        2026,
        "HISTORICAL_EMISSIONS",
        3100,
        3100,
    )
    assert body["baseYears"] == [2022, 2023, 2024]
    assert body["lines"] == [
        {"amount": 1100, "basis": "1100", "enterprise": {"id": str(region.a.id)}},
        {"amount": 2000, "basis": "2000", "enterprise": {"id": str(region.b.id)}},
    ]
    # c has no history: listed for manual input, never silently given 0.
    assert body["manual"] == [
        {"reason": "no verified emissions in the base years", "enterprise": {"id": str(region.c.id)}}
    ]
    assert not await AllocationPlan.exists()


async def test_whole_tonnes_sum_exactly_to_the_total_by_largest_remainder(
    gql: GraphQLClient, region: Region
) -> None:
    # 1000 x 1100/3100 = 354.84 and 1000 x 2000/3100 = 645.16: the spare tonne goes to a.
    body = await preview(gql, region, total=1000)
    assert preview_lines(body) == {str(region.a.id): 355, str(region.b.id): 645}
    assert body["allocated"] == 1000


async def test_without_a_total_historical_emissions_reduces_the_average_by_a_rate(
    gql: GraphQLClient, region: Region
) -> None:
    body = await preview(gql, region, reductionRate="0.1")
    assert (body["total"], body["allocated"]) == (2790, 2790)
    assert preview_lines(body) == {str(region.a.id): 990, str(region.b.id): 1800}


async def test_base_years_can_be_chosen(gql: GraphQLClient, region: Region) -> None:
    body = await preview(gql, region, total=3200, baseYears=[2024])
    assert body["baseYears"] == [2024]
    assert preview_lines(body) == {str(region.a.id): 1200, str(region.b.id): 2000}


async def test_benchmark_multiplies_output_by_the_products_benchmark(
    gql: GraphQLClient, region: Region
) -> None:
    body = await preview(gql, region, rule="BENCHMARK")
    assert (body["total"], body["allocated"], body["scaleFactor"], body["baseYears"]) == (
        None,
        1449,
        "1",
        [2024],
    )
    assert preview_lines(body) == {str(region.a.id): 791, str(region.b.id): 658}
    assert [line["basis"] for line in body["lines"]] == ["791", "657.6"]
    assert body["manual"] == [
        {"reason": "no production output in 2024", "enterprise": {"id": str(region.c.id)}}
    ]


async def test_benchmark_over_a_total_is_scaled_by_one_factor(gql: GraphQLClient, region: Region) -> None:
    body = await preview(gql, region, rule="BENCHMARK", total=1000)
    assert (body["total"], body["allocated"]) == (1000, 1000)
    scale = float(body["scaleFactor"])
    assert scale == pytest.approx(1000 / 1448.6, abs=1e-9)
    assert preview_lines(body) == {str(region.a.id): 546, str(region.b.id): 454}


async def test_benchmark_with_a_correction_factor_and_a_floor(gql: GraphQLClient, region: Region) -> None:
    body = await preview(gql, region, rule="BENCHMARK", correctionFactor="1.1", floorRatio="0.8")
    # a: max(791 x 1.1, 0.8 x 1200) = 960; b: max(657.6 x 1.1, 0.8 x 2000) = 1600.
    assert preview_lines(body) == {str(region.a.id): 960, str(region.b.id): 1600}


async def test_energy_proportional_shares_by_energy_in_tce(gql: GraphQLClient, region: Region) -> None:
    # 145.71 and 122.9 tce: 542.46 and 457.54 -> the spare tonne goes to b.
    body = await preview(gql, region, rule="ENERGY_PROPORTIONAL", total=1000)
    assert preview_lines(body) == {str(region.a.id): 542, str(region.b.id): 458}
    assert [line["basis"] for line in body["lines"]] == ["145.71", "122.9"]
    assert body["manual"][0]["enterprise"] == {"id": str(region.c.id)}


async def test_equal_gives_the_spare_tonnes_to_the_lowest_ids(gql: GraphQLClient, region: Region) -> None:
    body = await preview(gql, region, rule="EQUAL", total=10)
    assert [line["amount"] for line in body["lines"]] == [4, 3, 3]
    assert [line["enterprise"]["id"] for line in body["lines"]] == ids(region.a, region.b, region.c)


async def test_direct_takes_the_amounts_entered(gql: GraphQLClient, region: Region) -> None:
    direct = [
        {"enterpriseId": str(region.b.id), "amount": 700},
        {"enterpriseId": str(region.a.id), "amount": "500"},
    ]
    body = await preview(gql, region, rule="DIRECT", direct=direct)
    assert (body["total"], body["allocated"]) == (1200, 1200)
    assert preview_lines(body) == {str(region.a.id): 500, str(region.b.id): 700}
    assert body["manual"] == [{"reason": "no amount entered", "enterprise": {"id": str(region.c.id)}}]


async def test_the_scope_narrows_the_enterprises(gql: GraphQLClient, region: Region, world: World) -> None:
    shenzhen = await world.enterprise("440305")
    body = await preview(gql, region, rule="EQUAL", total=9, scope={"regionPrefix": "4403"})
    assert preview_lines(body) == {str(shenzhen.id): 9}
    body = await preview(gql, region, rule="EQUAL", total=9, scope={"enterpriseIds": ids(region.a, region.c)})
    assert preview_lines(body) == {str(region.a.id): 5, str(region.c.id): 4}


async def test_a_preview_is_audited_with_its_parameters(gql: GraphQLClient, region: Region) -> None:
    await preview(gql, region, total=3100, baseYears=[2023, 2024], scope={"regionPrefix": "44"})
    event = await AuditEvent.get(action="allocation.previewed")
    assert event.actor_id == region.regulator.user_id
    assert event.data == {
        "year": 2026,
        "rule": "HISTORICAL_EMISSIONS",
        "total": 3100,
        "scope": {"region_prefix": "44"},
        "parameters": {"base_years": [2023, 2024]},
    }


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"total": -5}, "NEGATIVE_QUANTITY", "total"),
        ({"total": "12.5"}, "INVALID_QUANTITY", "total"),
        ({"total": 100, "baseYears": [2010, 2011]}, "NO_BASE_YEAR_DATA", "baseYears"),
        ({"total": 100, "baseYears": [2026]}, "INVALID_YEAR", "baseYears"),
        ({"total": 100, "year": 1999}, "INVALID_YEAR", "year"),
        ({"total": 100, "reductionRate": "0.1"}, "INVALID_RATIO", "reductionRate"),
        ({"rule": "EQUAL"}, "TOTAL_REQUIRED", "total"),
        ({"rule": "ENERGY_PROPORTIONAL"}, "TOTAL_REQUIRED", "total"),
        ({"rule": "BENCHMARK", "correctionFactor": "-1"}, "INVALID_RATIO", "correctionFactor"),
        ({"rule": "BENCHMARK", "floorRatio": "1.5"}, "INVALID_RATIO", "floorRatio"),
        ({"rule": "BENCHMARK", "total": 1000, "floorRatio": "0.8"}, "TOTAL_BELOW_FLOOR", "total"),
        ({"rule": "EQUAL", "total": 9, "scope": {"regionPrefix": "4499"}}, "EMPTY_SCOPE", "scope"),
        ({"rule": "EQUAL", "total": 9, "scope": {"enterpriseIds": ["x"]}}, "NOT_FOUND", "enterpriseIds"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_bad_input_is_a_coded_error_and_nothing_is_saved(
    gql: GraphQLClient, region: Region, values: dict[str, Any], code: str, field: str
) -> None:
    async with unchanged_anywhere():
        result = await gql(PREVIEW, {"input": allocation_input(**values)}, actor=region.regulator)
    refused(result, "previewAllocation", code, field)


async def test_a_product_without_a_benchmark_is_refused(gql: GraphQLClient, region: Region) -> None:
    await output(region.c, "CLINKER", {2024: 500})
    async with unchanged_anywhere():
        result = await gql(PREVIEW, {"input": allocation_input(rule="BENCHMARK")}, actor=region.regulator)
    error = refused(result, "previewAllocation", "NO_BENCHMARK", "rule")
    assert "CLINKER" in error["message"]


@pytest.mark.parametrize(
    ("direct", "total", "code"),
    [
        ([("a", 500), ("b", 700), ("a", 1)], None, "DUPLICATE_ENTERPRISE"),
        ([("a", 500), ("b", 700)], 1000, "TOTAL_MISMATCH"),
        ([("a", 500), ("beijing", 700)], None, "NOT_FOUND"),
        ([("a", -1)], None, "NEGATIVE_QUANTITY"),
    ],
    ids=["duplicate", "mismatch", "out-of-scope", "negative"],
)
async def test_a_bad_direct_table_is_refused(
    gql: GraphQLClient, region: Region, direct: list[tuple[str, int]], total: int | None, code: str
) -> None:
    entries = [{"enterpriseId": str(getattr(region, name).id), "amount": amount} for name, amount in direct]
    async with unchanged_anywhere():
        result = await gql(
            PREVIEW,
            {"input": allocation_input(rule="DIRECT", direct=entries, total=total)},
            actor=region.regulator,
        )
    assert [e["code"] for e in result["data"]["previewAllocation"]["errors"]] == [code]


async def test_a_direct_table_can_be_uploaded_as_csv(gql: GraphQLClient, region: Region) -> None:
    table = f"credit_code,amount\n{region.a.credit_code},500\n\n{region.b.credit_code.lower()},700\n"
    result = await gql.upload(
        PREVIEW,
        {"input": allocation_input(rule="DIRECT", directCsv=None)},
        files={"input.directCsv": ("direct.csv", table.encode(), "text/csv")},
        actor=region.regulator,
    )
    body = succeeded(result, "previewAllocation")
    assert preview_lines(body) == {str(region.a.id): 500, str(region.b.id): 700}


async def test_a_direct_table_may_come_from_chinese_excel_as_gbk_csv_or_as_a_workbook(
    gql: GraphQLClient, region: Region
) -> None:
    gbk = f"统一社会信用代码,配额\r\n{region.a.credit_code},500\r\n{region.b.credit_code},700\r\n".encode(
        "gbk"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["credit_code", "amount", "备注"])
    sheet.append([region.a.credit_code, 500])  # a number cell; the row is as wide as the widest
    sheet.append([region.b.credit_code, "700", None])
    out = io.BytesIO()
    book.save(out)
    for name, data, kind in [
        ("配额.csv", gbk, "text/csv"),
        ("配额.xlsx", out.getvalue(), "application/octet-stream"),
    ]:
        result = await gql.upload(
            PREVIEW,
            {"input": allocation_input(rule="DIRECT", directCsv=None)},
            files={"input.directCsv": (name, data, kind)},
            actor=region.regulator,
        )
        body = succeeded(result, "previewAllocation")
        assert preview_lines(body) == {str(region.a.id): 500, str(region.b.id): 700}


async def test_every_bad_line_of_an_uploaded_table_is_reported_with_its_number(
    gql: GraphQLClient, region: Region
) -> None:
    table = "\n".join(
        [
            "credit_code,amount",
            f"{region.a.credit_code},500",
            f"{region.b.credit_code},lots",
            f"{region.a.credit_code},1",
            f"{region.beijing.credit_code},5",
            "just one field",
            f"{region.c.credit_code},-2",
        ]
    )
    async with unchanged_anywhere():
        result = await gql.upload(
            PREVIEW,
            {"input": allocation_input(rule="DIRECT", directCsv=None)},
            files={"input.directCsv": ("direct.csv", table.encode(), "text/csv")},
            actor=region.regulator,
        )
    errors = result["data"]["previewAllocation"]["errors"]
    assert [(e["code"], e["field"], e["message"].split("：")[0]) for e in errors] == [
        ("INVALID_QUANTITY", "directCsv", "第 3 行"),
        ("DUPLICATE_ENTERPRISE", "directCsv", "第 4 行"),
        ("NOT_FOUND", "directCsv", "第 5 行"),
        ("INVALID_ROW", "directCsv", "第 6 行"),
        ("NEGATIVE_QUANTITY", "directCsv", "第 7 行"),
    ]
    # Each line's own reason, in the reader's language too.
    assert errors[1]["message"] == f"第 4 行：{region.a.credit_code} 与第 2 行重复"
    assert errors[4]["message"] == "第 7 行：amount 不能为负"


async def test_a_regulator_allocates_only_in_its_region(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        result = await gql(
            PREVIEW,
            {"input": allocation_input(rule="EQUAL", total=9, scope={"enterpriseIds": ids(region.beijing)})},
            actor=region.regulator,
        )
    refused(result, "previewAllocation", "NOT_FOUND", "enterpriseIds")
    body = succeeded(
        await gql(
            PREVIEW, {"input": allocation_input(rule="EQUAL", total=9)}, actor=region.beijing_regulator
        ),
        "previewAllocation",
    )
    assert preview_lines(body) == {str(region.beijing.id): 9}


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_a_regulator_may_preview(gql: GraphQLClient, region: Region, role: str) -> None:
    async with unchanged_anywhere():
        result = await gql(PREVIEW, {"input": allocation_input(total=100)}, actor=getattr(region, role))
    refused(result, "previewAllocation", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_previewed(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        unauthenticated(await gql(PREVIEW, {"input": allocation_input(total=100)}), "previewAllocation")


async def test_the_lines_enterprises_cost_one_query_however_many_lines(
    gql: GraphQLClient, region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = PREVIEW.replace("enterprise { id }", "enterprise { id name creditCode }")
    costs = []
    for added in (0, 30):
        await many_enterprises(added)
        with counting_statements(monkeypatch) as statements:
            body = succeeded(
                await gql(
                    query, {"input": allocation_input(rule="EQUAL", total=1000)}, actor=region.regulator
                ),
                "previewAllocation",
            )
        assert len(body["lines"]) == 3 + added
        costs.append(len(statements))
    assert costs[0] == costs[1]
