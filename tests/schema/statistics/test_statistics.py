"""statistics: grouped energy and compliance figures over GraphQL, paged by cursor, scoped to
the caller, with coded top-level errors for bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from models import Notice, NoticeStatus, Sector
from services.access import Actor
from tests.conftest import GraphQLClient, World
from tests.schema.support import top_level_error, unauthenticated
from tests.services.statistics.test_statistics import ingest, statements

STATISTICS = """
query($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilterInput, $first: Int, $after: String) {
  statistics(groupBy: $groupBy, filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      year quarter month province city regionCode industryCode sector energyType
      enterprise { id name }
      energy { energyType unit quantity tce emissions }
      energyTce emissions recordsMissingFactor completeness
      allowances verifiedEmissions surplus shortfalls noticesDue noticesFulfilled noticesOverdue complianceRate
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def statistics(
    gql: GraphQLClient, actor: Actor, group_by: list[str], **variables: Any
) -> dict[str, Any]:
    result = await gql(STATISTICS, {"groupBy": group_by, **variables}, actor=actor)
    assert "errors" not in result, result
    return result["data"]["statistics"]


async def nodes(
    gql: GraphQLClient, actor: Actor, group_by: list[str], **variables: Any
) -> list[dict[str, Any]]:
    """Every row, following the cursors."""
    found, after = [], None
    for _ in range(100):
        page = await statistics(gql, actor, group_by, after=after, **variables)
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the cursor does not move on")


def electricity(credit_code: str, period: str, quantity: str, unit: str = "MWh") -> dict[str, str]:
    return {
        "credit_code": credit_code,
        "period": period,
        "energy_type": "ELECTRICITY",
        "quantity": quantity,
        "unit": unit,
        "source": "",
    }


async def notices(regulator: Actor, enterprise_id: int, statuses: dict[int, NoticeStatus]) -> None:
    now = datetime.now(UTC)
    await Notice.bulk_create(
        [
            Notice(
                enterprise_id=enterprise_id,
                year=year,
                status=status,
                allowance=100,
                deadline=now,
                ack_window_hours=72,
                offset_cap_ratio=Decimal("0.05"),
                title="-",
                body="-",
                issued_by_id=regulator.user_id,
                issued_at=now,
            )
            for year, status in statuses.items()
        ]
    )


async def test_a_year_of_electricity_gives_its_emissions_tce_and_compliance_figures(
    gql: GraphQLClient, world: World
) -> None:
    company = await world.enterprise("440113", name="广州发电")
    regulator = await world.regulator("44")
    await world.allowance(regulator, company, 600, year=2022)
    await ingest(
        regulator,
        [
            electricity(company.credit_code, "2022-03", "600000", "kWh"),
            electricity(company.credit_code, "2022-11-02", "400"),
            # No factor is published for raw coal as such: counted as missing, not guessed.
            {**electricity(company.credit_code, "2022-05", "10", "t"), "energy_type": "RAW_COAL"},
        ],
    )
    await notices(regulator, company.id, {2022: NoticeStatus.OVERDUE})
    [row] = await nodes(gql, regulator, ["ENTERPRISE", "YEAR"])
    assert row == {
        "year": 2022,
        "quarter": None,
        "month": None,
        "province": None,
        "city": None,
        "regionCode": None,
        "industryCode": None,
        "sector": None,
        "energyType": None,
        "enterprise": {"id": str(company.id), "name": "广州发电"},
        "energy": [
            {"energyType": "ELECTRICITY", "unit": "MWh", "quantity": "1000", "tce": "122.9", "emissions": "570.3"},
            {"energyType": "RAW_COAL", "unit": "t", "quantity": "10", "tce": "7.143", "emissions": "0"},
        ],
        "energyTce": "130.043",
        "emissions": "570.3",
        "recordsMissingFactor": 1,
        "completeness": "0.6666",  # 2 of 3 records, rounded down: never complete-looking when not
        "allowances": 600,
        "verifiedEmissions": None,
        "surplus": None,
        "shortfalls": None,
        "noticesDue": 1,
        "noticesFulfilled": 0,
        "noticesOverdue": 1,
        "complianceRate": "0",
    }  # fmt: skip


async def test_30_fulfilled_of_100_due_is_a_rate_of_0_3(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("44")
    for n in range(10):
        company = await world.enterprise("440113", sector=Sector.STEEL)
        statuses = [NoticeStatus.FULFILLED] * 3 + [NoticeStatus.ISSUED] * 7
        await notices(regulator, company.id, {2015 + (n + i) % 10: s for i, s in enumerate(statuses)})
    [row] = await nodes(gql, regulator, ["SECTOR"])
    assert (row["sector"], row["noticesDue"], row["noticesFulfilled"], row["complianceRate"]) == (
        "STEEL",
        100,
        30,
        "0.3",
    )


async def test_compliance_figures_are_null_by_month(gql: GraphQLClient, world: World) -> None:
    company = await world.enterprise("440113")
    regulator = await world.regulator("44")
    await ingest(regulator, [electricity(company.credit_code, "2023-02", "10")])
    await notices(regulator, company.id, {2023: NoticeStatus.FULFILLED})
    [row] = await nodes(gql, regulator, ["MONTH"])
    assert (row["year"], row["month"], row["emissions"]) == (
        2023,
        2,
        "4.042",
    )  # the 2023 South China grid factor, 0.4042 t/MWh
    assert [row[k] for k in ("allowances", "noticesDue", "complianceRate", "surplus")] == [None] * 4


async def test_pages_follow_one_another_by_cursor(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("")
    rows = []
    for region in ("440113", "110105", "310115", "320102", "440305"):
        company = await world.enterprise(region)
        rows += [electricity(company.credit_code, f"2023-{m:02d}", str(m)) for m in (1, 5, 9)]
    await ingest(regulator, rows)
    first = await statistics(gql, regulator, ["PROVINCE", "QUARTER"], first=4)
    assert [(e["node"]["province"], e["node"]["quarter"]) for e in first["edges"]] == [
        ("11", 1), ("11", 2), ("11", 3), ("31", 1)
    ]  # fmt: skip
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    rest = await statistics(
        gql, regulator, ["PROVINCE", "QUARTER"], first=100, after=first["pageInfo"]["endCursor"]
    )
    assert [(e["node"]["province"], e["node"]["quarter"]) for e in rest["edges"]] == [
        ("31", 2), ("31", 3), ("32", 1), ("32", 2), ("32", 3), ("44", 1), ("44", 2), ("44", 3)
    ]  # fmt: skip
    assert rest["pageInfo"]["hasNextPage"] is False
    [guangdong] = [
        e["node"] for e in rest["edges"] if e["node"]["province"] == "44" and e["node"]["quarter"] == 3
    ]
    assert guangdong["energy"][0]["quantity"] == "18"  # September in both Guangdong enterprises
    # Without `first`, a page holds up to 20 rows.
    assert len((await statistics(gql, regulator, ["PROVINCE", "QUARTER"]))["edges"]) == 12


async def test_filters_narrow_the_rows(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("")
    a = await world.enterprise("440113", sector=Sector.POWER)
    b = await world.enterprise("110105", sector=Sector.STEEL)
    await ingest(
        regulator,
        [electricity(c.credit_code, p, "1") for c in (a, b) for p in ("2022-12", "2023-01", "2023-06")]
        + [{**electricity(a.credit_code, "2023-01", "5", "t"), "energy_type": "WATER"}],
    )

    async def enterprises(**filter: Any) -> list[tuple[str, str]]:
        found = await nodes(gql, regulator, ["ENTERPRISE", "ENERGY_TYPE"], filter=filter)
        return [(r["enterprise"]["id"], r["energyType"]) for r in found]

    both = [(str(a.id), "ELECTRICITY"), (str(a.id), "WATER"), (str(b.id), "ELECTRICITY")]
    assert await enterprises() == both
    assert await enterprises(regionPrefix="44") == both[:2]
    assert await enterprises(sector="STEEL") == both[2:]
    assert await enterprises(industryCode="44") == both  # world.enterprise gives 4411
    assert await enterprises(industryCode="30") == []
    assert await enterprises(enterpriseIds=[str(b.id), "not-an-id", "99999999999"]) == both[2:]
    assert await enterprises(energyTypes=["WATER"]) == both[1:2]
    assert await enterprises(**{"from": "2023-02-15", "to": "2023-12-01"}) == [both[0], both[2]]
    [year] = await nodes(gql, regulator, ["YEAR"], filter={"from": "2023-01-31", "to": "2023-01-01"})
    assert (year["year"], year["energy"][0]["quantity"]) == (2023, "2")  # January only, the day ignored


async def test_an_enterprise_user_sees_only_its_own_enterprise(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("")
    mine, theirs = await world.enterprise("440113"), await world.enterprise("440113")
    await ingest(regulator, [electricity(c.credit_code, "2023-01", "1") for c in (mine, theirs)])
    member = await world.member(mine)
    for group_by in (["ENTERPRISE"], ["PROVINCE"], ["YEAR", "ENERGY_TYPE"]):
        [row] = await nodes(gql, member, group_by)
        assert row["energy"][0]["quantity"] == "1", group_by
    [row] = await nodes(gql, member, ["ENTERPRISE"], filter={"enterpriseIds": [str(theirs.id), str(mine.id)]})
    assert row["enterprise"]["id"] == str(mine.id)


BAD = [
    ("no groupBy", {"groupBy": []}, "INVALID_GROUP_BY"),
    ("twice", {"groupBy": ["YEAR", "YEAR"]}, "INVALID_GROUP_BY"),
    ("from after to", {"filter": {"from": "2024-02-01", "to": "2024-01-01"}}, "INVALID_DATE_RANGE"),
    ("101 years", {"filter": {"from": "1990-01-01", "to": "2090-12-01"}}, "INVALID_DATE_RANGE"),
    ("region", {"filter": {"regionPrefix": "4"}}, "INVALID_REGION_CODE"),
    ("industry", {"filter": {"industryCode": "C"}}, "INVALID_INDUSTRY_CODE"),
    ("energy type", {"filter": {"energyTypes": ["PEAT"]}}, "UNKNOWN_ENERGY_TYPE"),
    ("first 101", {"first": 101}, "INVALID_PAGINATION"),
    ("first -1", {"first": -1}, "INVALID_PAGINATION"),
    ("cursor", {"after": "bm9wZQ=="}, "INVALID_CURSOR"),
]


@pytest.mark.parametrize(("variables", "code"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
async def test_bad_input_is_a_coded_top_level_error(
    gql: GraphQLClient, world: World, variables: dict[str, Any], code: str
) -> None:
    regulator = await world.regulator("44")
    result = await gql(STATISTICS, {"groupBy": ["YEAR"], **variables}, actor=regulator)
    error = top_level_error(result)
    assert (error["extensions"], error["path"]) == ({"code": code}, ["statistics"])
    assert error["message"].strip()


async def test_statistics_need_a_token(gql: GraphQLClient, world: World) -> None:
    unauthenticated(await gql(STATISTICS, {"groupBy": ["YEAR"]}), "statistics")


async def test_a_page_of_20_enterprises_costs_the_same_statements_as_a_page_of_2(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    regulator = await world.regulator("44")
    companies = [await world.enterprise("440113") for _ in range(20)]

    async def count(size: int) -> int:
        with statements(monkeypatch) as seen:
            page = await statistics(gql, regulator, ["ENTERPRISE", "YEAR"], first=size)
        assert len(page["edges"]) == size
        assert all(e["node"]["enterprise"] and e["node"]["energy"] for e in page["edges"])
        return len(seen)

    await ingest(regulator, [electricity(c.credit_code, "2023-01", "1") for c in companies[:2]])
    small = await count(2)
    await ingest(regulator, [electricity(c.credit_code, "2023-01", "1") for c in companies[2:]])
    assert await count(20) == small
