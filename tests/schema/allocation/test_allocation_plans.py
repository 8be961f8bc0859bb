"""createAllocationPlan, commitAllocationPlan and the plan queries: a DRAFT is saved, a commit
writes the year's allowances and messages, and a committed plan is replaced only explicitly."""

from __future__ import annotations

from typing import Any

import pytest

from models import AllocationLine, AllocationPlan, Allowance, AuditEvent, Message, MessageKind, PlanStatus
from services.access import Actor
from services.allocation import plans
from tests.conftest import GraphQLClient, World, in_days, pdf
from tests.schema.allocation_support import (
    COMMIT,
    CREATE,
    Region,
    allocation_input,
    audit_actions,
    emissions,
    ids,
    lines_of,
    many_enterprises,
    output,
    unchanged_anywhere,
)
from tests.schema.support import payload, refused, succeeded, unauthenticated
from tests.schema.test_query_count import counting_statements
from tests.services.cycle import issue

PLAN = "query($id: ID!) { allocationPlan(id: $id) { id status allocated } }"
PLANS = """
query($year: Int, $status: PlanStatus, $first: Int, $after: String) {
  allocationPlans(year: $year, status: $status, first: $first, after: $after) {
    totalCount edges { node { id year status } } pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
async def region(world: World) -> Region:
    """a and b have three years of emissions, c none."""
    region = await Region.build(world)
    await emissions(region.a, {2023: 1000, 2024: 1200})
    await emissions(region.b, {2023: 2000, 2024: 2000})
    await output(region.a, "POWER_COAL_GT300", {2024: 1000})
    await output(region.b, "POWER_GAS", {2024: 2000})
    return region


async def create(gql: GraphQLClient, actor: Actor, **values: Any) -> dict[str, Any]:
    result = await gql(CREATE, {"input": {**allocation_input(total=3100), **values}}, actor=actor)
    return succeeded(result, "createAllocationPlan")["plan"]


async def commit(gql: GraphQLClient, actor: Actor | None, plan_id: str, **values: Any) -> dict[str, Any]:
    return await gql(COMMIT, {"id": plan_id, **values}, actor=actor)


async def test_a_regulator_saves_a_draft_that_changes_nothing_yet(gql: GraphQLClient, region: Region) -> None:
    plan = await create(gql, region.regulator, baseYears=[2023, 2024], scope={"regionPrefix": "44"})
    assert (plan["year"], plan["rule"], plan["status"], plan["total"], plan["allocated"]) == (
        2026,
        "HISTORICAL_EMISSIONS",
        "DRAFT",
        3100,
        3100,
    )
    assert plan["baseYears"] == [2023, 2024]
    assert plan["createdBy"] == region.regulator.username
    assert plan["committedAt"] is None and plan["supersededById"] is None
    assert plan["scope"] == {
        "regionPrefix": "44",
        "industryCode": None,
        "sector": None,
        "enterpriseIds": None,
    }
    assert plan["lines"]["totalCount"] == 2
    assert lines_of(plan) == {str(region.a.id): 1100, str(region.b.id): 2000}
    assert plan["manual"] == [
        {"reason": "no verified emissions in the base years", "enterprise": {"id": str(region.c.id)}}
    ]
    assert not await Allowance.exists() and not await Message.exists()
    event = await AuditEvent.get(action="allocation.plan_created")
    assert (event.entity_type, str(event.entity_id), event.actor_id) == (
        "AllocationPlan",
        plan["id"],
        region.regulator.user_id,
    )


async def test_a_benchmark_plan_keeps_its_parameters(gql: GraphQLClient, region: Region) -> None:
    plan = await create(
        gql,
        region.regulator,
        rule="BENCHMARK",
        total=1000,
        correctionFactor=1.05,
        floorRatio="0.2",
        scope={"sector": "POWER", "enterpriseIds": ids(region.a, region.b)},
    )
    assert (plan["correctionFactor"], plan["floorRatio"], plan["reductionRate"]) == ("1.05", "0.2", None)
    assert plan["scope"]["sector"] == "POWER"
    assert plan["scope"]["enterpriseIds"] == ids(region.a, region.b)
    assert 0 < float(plan["scaleFactor"]) < 1 and plan["allocated"] == 1000


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"total": -1}, "NEGATIVE_QUANTITY", "total"),
        ({"baseYears": [2015]}, "NO_BASE_YEAR_DATA", "baseYears"),
        ({"rule": "BENCHMARK", "floorRatio": "0.8", "total": 100}, "TOTAL_BELOW_FLOOR", "total"),
        ({"rule": "EQUAL", "total": None}, "TOTAL_REQUIRED", "total"),
        ({"rule": "DIRECT", "direct": [{"enterpriseId": "A", "amount": 1}]}, "NOT_FOUND", "direct"),
        ({"scope": {"industryCode": "9999"}}, "EMPTY_SCOPE", "scope"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_bad_plan_is_a_coded_error_and_nothing_is_saved(
    gql: GraphQLClient, region: Region, values: dict[str, Any], code: str, field: str
) -> None:
    async with unchanged_anywhere():
        result = await gql(
            CREATE, {"input": {**allocation_input(total=3100), **values}}, actor=region.regulator
        )
    refused(result, "createAllocationPlan", code, field)


async def test_a_product_without_a_benchmark_saves_nothing(gql: GraphQLClient, region: Region) -> None:
    await output(region.c, "CRUDE_STEEL", {2024: 10})
    async with unchanged_anywhere():
        result = await gql(CREATE, {"input": allocation_input(rule="BENCHMARK")}, actor=region.regulator)
    refused(result, "createAllocationPlan", "NO_BENCHMARK", "rule")


@pytest.mark.parametrize(("total", "code"), [(None, "DUPLICATE_ENTERPRISE"), (999, "TOTAL_MISMATCH")])
async def test_a_bad_direct_table_saves_nothing(
    gql: GraphQLClient, region: Region, total: int | None, code: str
) -> None:
    direct = [
        {"enterpriseId": str(region.a.id), "amount": 500},
        {"enterpriseId": str(region.b.id), "amount": 500},
        {"enterpriseId": str(region.a.id) if total is None else str(region.c.id), "amount": 1},
    ]
    async with unchanged_anywhere():
        result = await gql(
            CREATE,
            {"input": allocation_input(rule="DIRECT", direct=direct, total=total)},
            actor=region.regulator,
        )
    refused(result, "createAllocationPlan", code, "direct" if total is None else "total")


async def test_no_plan_is_saved_for_a_year_whose_notices_are_issued(
    gql: GraphQLClient, region: Region, files: Any
) -> None:
    await Allowance.create(
        enterprise_id=region.a.id, year=2026, amount=10, updated_by_id=region.regulator.user_id
    )
    await issue(region.regulator, files, region.a, year=2026, document=pdf())
    async with unchanged_anywhere():
        result = await gql(CREATE, {"input": allocation_input(total=3100)}, actor=region.regulator)
    refused(result, "createAllocationPlan", "PLAN_YEAR_LOCKED", "year")


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_a_regulator_may_save_a_plan(gql: GraphQLClient, region: Region, role: str) -> None:
    async with unchanged_anywhere():
        result = await gql(CREATE, {"input": allocation_input(total=3100)}, actor=getattr(region, role))
    refused(result, "createAllocationPlan", "PERMISSION_DENIED")


async def test_without_a_token_no_plan_is_saved(gql: GraphQLClient, region: Region) -> None:
    async with unchanged_anywhere():
        unauthenticated(await gql(CREATE, {"input": allocation_input(total=3100)}), "createAllocationPlan")


# -- commit -------------------------------------------------------------------------------------


async def test_committing_writes_the_allowances_and_tells_each_enterprise(
    gql: GraphQLClient, region: Region
) -> None:
    plan = await create(gql, region.regulator)
    committed = succeeded(await commit(gql, region.regulator, plan["id"]), "commitAllocationPlan")["plan"]
    assert (committed["id"], committed["status"], committed["allocated"]) == (plan["id"], "COMMITTED", 3100)
    assert committed["committedAt"] is not None
    assert sorted(await Allowance.filter(year=2026).values_list("enterprise_id", "amount")) == [
        (region.a.id, 1100),
        (region.b.id, 2000),
    ]
    # Each enterprise finds its allowance message (配额通告) in its inbox; c, left for manual
    # input, gets none.
    inbox = await gql("{ messages { edges { node { kind title body } } } }", actor=region.member)
    [message] = [edge["node"] for edge in inbox["data"]["messages"]["edges"]]
    assert message["kind"] == "ALLOWANCE" and "配额通告" in message["title"]
    assert "1100 吨二氧化碳" in message["body"]
    assert await Message.filter(kind=MessageKind.ALLOWANCE).count() == 2
    assert not await Message.filter(enterprise_id=region.c.id).exists()
    event = await AuditEvent.get(action="allocation.plan_committed")
    assert (str(event.entity_id), event.data) == (plan["id"], {"enterprises": 2, "allocated": 3100})


async def test_a_committed_plan_is_immutable(gql: GraphQLClient, region: Region) -> None:
    plan = await create(gql, region.regulator)
    succeeded(await commit(gql, region.regulator, plan["id"]), "commitAllocationPlan")
    async with unchanged_anywhere():
        refused(
            await commit(gql, region.regulator, plan["id"]),
            "commitAllocationPlan",
            "PLAN_NOT_DRAFT",
            "id",
        )


async def test_a_second_plan_replaces_the_first_only_when_superseding_with_a_reason(
    gql: GraphQLClient, region: Region
) -> None:
    first = await create(gql, region.regulator)
    succeeded(await commit(gql, region.regulator, first["id"]), "commitAllocationPlan")
    second = await create(gql, region.regulator, rule="EQUAL", total=3000)

    async with unchanged_anywhere():
        refused(
            await commit(gql, region.regulator, second["id"]),
            "commitAllocationPlan",
            "PLAN_EXISTS",
            "supersede",
        )
        refused(
            await commit(gql, region.regulator, second["id"], supersede=True),
            "commitAllocationPlan",
            "REQUIRED",
            "reason",
        )

    result = await commit(gql, region.regulator, second["id"], supersede=True, reason="Corrected 2024 data")
    assert succeeded(result, "commitAllocationPlan")["plan"]["status"] == "COMMITTED"
    old = await AllocationPlan.get(id=first["id"])
    assert (old.status, str(old.superseded_by_id)) == (PlanStatus.SUPERSEDED, second["id"])
    assert sorted(await Allowance.filter(year=2026).values_list("enterprise_id", "amount")) == [
        (region.a.id, 1000),
        (region.b.id, 1000),
        (region.c.id, 1000),
    ]
    superseded = await AuditEvent.get(action="allocation.plan_superseded")
    assert (str(superseded.entity_id), superseded.reason, superseded.data) == (
        first["id"],
        "Corrected 2024 data",
        {"by": int(second["id"])},
    )
    query = "query($id: ID!) { allocationPlan(id: $id) { status supersededById } }"
    shown = await gql(query, {"id": first["id"]}, actor=region.regulator)
    assert shown["data"]["allocationPlan"] == {"status": "SUPERSEDED", "supersededById": second["id"]}


async def test_no_plan_is_committed_once_the_years_notices_are_issued(
    gql: GraphQLClient, region: Region, files: Any
) -> None:
    first = await create(gql, region.regulator)
    second = await create(gql, region.regulator, rule="EQUAL", total=3000)
    succeeded(await commit(gql, region.regulator, first["id"]), "commitAllocationPlan")
    await plans.issue_notices_for_plan(
        region.regulator,
        files,
        int(first["id"]),
        deadline=in_days(60),
        ack_window_hours=72,
        title="2026 年度履约通知书",
        body="",
        document=pdf(),
    )
    async with unchanged_anywhere():
        result = await commit(gql, region.regulator, second["id"], supersede=True, reason="Too late")
    refused(result, "commitAllocationPlan", "PLAN_YEAR_LOCKED", "id")
    assert (await AllocationPlan.get(id=second["id"])).status == PlanStatus.DRAFT


async def test_another_regions_regulator_can_neither_see_nor_commit_a_plan(
    gql: GraphQLClient, region: Region
) -> None:
    plan = await create(gql, region.regulator)
    async with unchanged_anywhere():
        result = await commit(gql, region.beijing_regulator, plan["id"])
    refused(result, "commitAllocationPlan", "NOT_FOUND", "id")
    assert (await gql(PLAN, {"id": plan["id"]}, actor=region.beijing_regulator))["data"] == {
        "allocationPlan": None
    }
    listed = await gql(PLANS, {}, actor=region.beijing_regulator)
    assert listed["data"]["allocationPlans"]["edges"] == []


@pytest.mark.parametrize("plan_id", ["abc", "0", "99999999999"])
async def test_a_malformed_or_unknown_plan_is_not_found(
    gql: GraphQLClient, region: Region, plan_id: str
) -> None:
    refused(await commit(gql, region.regulator, plan_id), "commitAllocationPlan", "NOT_FOUND", "id")


async def test_an_enterprise_user_may_not_commit_nor_see_plans(gql: GraphQLClient, region: Region) -> None:
    plan = await create(gql, region.regulator)
    async with unchanged_anywhere():
        refused(await commit(gql, region.member, plan["id"]), "commitAllocationPlan", "PERMISSION_DENIED")
    assert (await gql(PLAN, {"id": plan["id"]}, actor=region.member))["data"] == {"allocationPlan": None}
    assert (await gql(PLANS, {}, actor=region.member))["data"]["allocationPlans"]["totalCount"] == 0


async def test_an_admin_sees_plans_but_may_not_commit_them(gql: GraphQLClient, region: Region) -> None:
    plan = await create(gql, region.regulator)
    assert (await gql(PLAN, {"id": plan["id"]}, actor=region.admin))["data"]["allocationPlan"]["id"] == plan[
        "id"
    ]
    async with unchanged_anywhere():
        refused(await commit(gql, region.admin, plan["id"]), "commitAllocationPlan", "PERMISSION_DENIED")


async def test_without_a_token_nothing_is_committed_or_shown(gql: GraphQLClient, region: Region) -> None:
    plan = await create(gql, region.regulator)
    async with unchanged_anywhere():
        unauthenticated(await commit(gql, None, plan["id"]), "commitAllocationPlan")
    for query, field, variables in (
        (PLAN, "allocationPlan", {"id": plan["id"]}),
        (PLANS, "allocationPlans", {}),
    ):
        result = await gql(query, variables)
        assert result["data"] in (None, {field: None})
        [error] = result["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED"} and error["path"] == [field]


# -- queries ------------------------------------------------------------------------------------


async def test_plans_are_listed_newest_first_and_filtered(gql: GraphQLClient, region: Region) -> None:
    first = await create(gql, region.regulator)
    second = await create(gql, region.regulator, rule="EQUAL", total=30)
    third = await create(gql, region.regulator, rule="EQUAL", total=30, year=2027)
    succeeded(await commit(gql, region.regulator, first["id"]), "commitAllocationPlan")

    async def listed(**variables: Any) -> list[str]:
        result = await gql(PLANS, variables, actor=region.regulator)
        return [edge["node"]["id"] for edge in result["data"]["allocationPlans"]["edges"]]

    assert await listed() == [third["id"], second["id"], first["id"]]
    assert await listed(year=2026) == [second["id"], first["id"]]
    assert await listed(status="COMMITTED") == [first["id"]]
    page = (await gql(PLANS, {"first": 2}, actor=region.regulator))["data"]["allocationPlans"]
    assert page["pageInfo"]["hasNextPage"] and page["totalCount"] == 3
    assert await listed(after=page["pageInfo"]["endCursor"]) == [first["id"]]


async def test_a_plans_lines_come_a_page_at_a_time(gql: GraphQLClient, region: Region, world: World) -> None:
    more = [await world.enterprise("440113") for _ in range(3)]
    plan = await create(gql, region.regulator, rule="EQUAL", total=50)
    query = """
    query($id: ID!, $after: String) {
      allocationPlan(id: $id) {
        lines(first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { amount enterprise { id } } }
        }
      }
    }
    """
    seen: list[str] = []
    after = None
    while True:
        result = await gql(query, {"id": plan["id"], "after": after}, actor=region.regulator)
        lines = result["data"]["allocationPlan"]["lines"]
        assert lines["totalCount"] == 6 and len(lines["edges"]) <= 2
        seen += [edge["node"]["enterprise"]["id"] for edge in lines["edges"]]
        if not lines["pageInfo"]["hasNextPage"]:
            break
        after = lines["pageInfo"]["endCursor"]
    assert seen == ids(region.a, region.b, region.c, *more)
    assert await AllocationLine.filter(plan_id=plan["id"]).count() == 6


async def test_every_step_is_audited(gql: GraphQLClient, region: Region) -> None:
    await gql(
        "mutation($i: AllocationInput!) { previewAllocation(input: $i) { errors { code } } }",
        {"i": allocation_input(total=3100)},
        actor=region.regulator,
    )
    first = await create(gql, region.regulator)
    succeeded(await commit(gql, region.regulator, first["id"]), "commitAllocationPlan")
    second = await create(gql, region.regulator)
    payload(
        await commit(gql, region.regulator, second["id"], supersede=True, reason="Redo"),
        "commitAllocationPlan",
    )
    assert await audit_actions() == [
        "allocation.previewed",
        "allocation.plan_created",
        "allocation.plan_committed",
        "allocation.plan_created",
        "allocation.plan_superseded",
        "allocation.plan_committed",
    ]


async def test_a_page_of_lines_costs_the_same_queries_however_many_enterprises(
    gql: GraphQLClient, region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """
    query($id: ID!) {
      allocationPlan(id: $id) {
        lines(first: 100) { edges { node { amount enterprise { id name } } } }
        manual { enterprise { id name } }
      }
    }
    """
    costs = []
    for added in (0, 40):
        await many_enterprises(added)
        plan = await create(gql, region.regulator)  # the new ones have no history: manual
        with counting_statements(monkeypatch) as statements:
            result = await gql(query, {"id": plan["id"]}, actor=region.regulator)
        shown = result["data"]["allocationPlan"]
        assert (len(shown["lines"]["edges"]), len(shown["manual"])) == (2, 1 + added)
        costs.append(len(statements))
    assert costs[0] == costs[1]
