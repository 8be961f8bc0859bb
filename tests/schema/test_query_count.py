"""No N+1: a page of notices (enterprises, messages, alarms) with every nested field costs the
same number of SQL statements whether it holds 2 items or 20."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tortoise import connections

from models import Enterprise
from services.access import Actor
from services.compliance import alarms, applications, notices
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from tests.conftest import GraphQLClient, World, pdf
from tests.schema.support import overdue_acknowledgement
from tests.services.cycle import issue

NOTICES = """
query($first: Int!) {
  notices(first: $first) {
    edges { node {
      id status
      enterprise { id name allowance(year: 2025) { amount } }
      document { id url }
      applications { id balance report { id } notice { id } }
      latestApplication { id status }
      applicationStatus rejectionReason
      timeline { action actorName }
      allowedActions
    } }
  }
}
"""
ENTERPRISES = """
query($first: Int!) {
  enterprises(first: $first) { edges { node { id allowance(year: 2025) { amount enterprise { id } } } } }
}
"""
MESSAGES = """
query($first: Int!) { messages(first: $first) { edges { node { id notice { id enterprise { id } } } } } }
"""


@contextmanager
def counting_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement the default connection executes meanwhile. The real client runs
    each one; its methods are only wrapped, on this one instance, to note the SQL first."""
    client = connections.get("default")
    statements: list[str] = []
    with monkeypatch.context() as patch:
        for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
            method = getattr(client, name)

            def counted(sql: str, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
                statements.append(sql)
                return _method(sql, *args, **kwargs)

            patch.setattr(client, name, counted)
        yield statements


class Growth:
    """Adds notices in every stage of the workflow: ISSUED, UNDER_REVIEW and REJECTED in turn."""

    def __init__(self, world: World, files: FileStore, regulator: Actor) -> None:
        self.world, self.files, self.regulator = world, files, regulator
        self.added = 0
        self.enterprise: Enterprise | None = None
        self.member: Actor | None = None

    async def notice(self, *, same_enterprise: bool) -> None:
        """One more notice: for a new Guangdong enterprise, or the next year of the same one."""
        if self.enterprise is None or not same_enterprise:
            self.enterprise = await self.world.enterprise("440113")
            self.member = await self.world.member(self.enterprise)
        year = 2025 + self.added if same_enterprise else 2025
        assert self.member is not None
        await self.world.allowance(self.regulator, self.enterprise, 1000, year=year)
        notice = await issue(self.regulator, self.files, self.enterprise, year=year)
        stage, self.added = self.added % 3, self.added + 1
        if stage == 0:
            return
        await notices.acknowledge_notice(self.member, notice.id)
        application = await applications.submit_application(
            self.member,
            self.files,
            notice_id=notice.id,
            verified_emissions=900,
            offsets=0,
            purchased_allowances=0,
            report=pdf(),
        )
        if stage == 2:
            await applications.review_application(
                self.regulator, application_id=application.id, decision=Action.REJECT, reason="seal missing"
            )


async def statements_for(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, query: str, actor: Actor, expected: int
) -> list[str]:
    with counting_statements(monkeypatch) as statements:
        result = await gql(query, {"first": 20}, actor=actor)
    assert "errors" not in result, result
    assert len(next(iter(result["data"].values()))["edges"]) == expected
    return statements


@pytest.mark.parametrize(
    ("query", "per_notice"),
    [(NOTICES, 1), (ENTERPRISES, 1), (MESSAGES, 2)],
    ids=["notices with every nested field", "enterprises with allowances", "messages with notices"],
)
async def test_a_page_of_20_costs_the_same_statements_as_a_page_of_2(
    gql: GraphQLClient,
    world: World,
    files: FileStore,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    per_notice: int,
) -> None:
    growth = Growth(world, files, await world.regulator("44"))
    inbox = query == MESSAGES  # the inbox is one enterprise's: its notices are for successive years

    async def grow_to(items: int) -> Actor:
        while growth.added * per_notice < items:
            await growth.notice(same_enterprise=inbox)
        assert growth.member is not None
        return growth.member if inbox else growth.regulator

    actor = await grow_to(2)
    small = await statements_for(gql, monkeypatch, query, actor, 2)
    await grow_to(20)
    large = await statements_for(gql, monkeypatch, query, actor, 20)
    assert len(large) == len(small), "\n".join(large)
    # At most one statement per kind of row: the caller, the page, then one batch per loader
    # (enterprises, allowances, documents, reports, applications, events, notices, usernames).
    assert len(large) <= 10, "\n".join(large)


ALARMS = """
query($first: Int!) {
  alarms(first: $first) { edges { node {
    id kind status resolvedBy
    notice { id status enterprise { id } }
    enterprise { id name allowance(year: 2025) { amount } }
  } } }
}
"""


async def test_a_page_of_20_alarms_costs_the_same_statements_as_a_page_of_2(
    gql: GraphQLClient, world: World, files: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    regulators = [await world.regulator("44"), await world.regulator("4401")]
    raised = 0

    async def grow_to(count: int) -> None:
        """Alarms for new Guangzhou enterprises; every other one resolved, by either regulator."""
        nonlocal raised
        while raised < count:
            enterprise = await world.enterprise("440113")
            await world.allowance(regulators[0], enterprise, 1000)
            alarm = await overdue_acknowledgement(await issue(regulators[0], files, enterprise))
            if raised % 2:
                await alarms.resolve_alarm(regulators[raised % 4 // 2], alarm.id, "called them")
            raised += 1

    await grow_to(2)
    small = await statements_for(gql, monkeypatch, ALARMS, regulators[0], 2)
    await grow_to(20)
    large = await statements_for(gql, monkeypatch, ALARMS, regulators[0], 20)
    assert len(large) == len(small), "\n".join(large)
    # The caller, the page, then one batch each: notices, enterprises, allowances, usernames.
    assert len(large) <= 6, "\n".join(large)
