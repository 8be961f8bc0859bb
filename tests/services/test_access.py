"""The scope rule in every form agrees: for generated enterprises and every kind of actor, the ORM
filter, the Python predicate, the SQL conditions run as raw SQL and the delivery of a notice
event select the same enterprises."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from models import Enterprise, Role
from services.access import Actor, enterprise_scope, scope_conditions, sees
from services.live.events import NOTICE_EVENTS, Event, EventType, visible_to
from services.sql import Binder
from tests.conftest import World

EXAMPLES = int(os.environ.get("CCMS_HYPOTHESIS_EXAMPLES", "25"))
WITH_DB = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

DIGITS = "0123456789"
# Region codes near the regulators' prefixes as often as anywhere else.
region_codes = st.builds(
    lambda head, tail: (head + tail)[:6],
    st.sampled_from(["", "44", "4401", "4401", "4403", "11"]),
    st.text(DIGITS, min_size=6, max_size=6),
)
prefixes = st.sampled_from([2, 4, 6]).flatmap(lambda n: st.text(DIGITS, min_size=n, max_size=n))

ADMIN = Actor(1, "admin", Role.ADMIN)
NATIONAL = Actor(2, "national", Role.REGULATOR, region_prefix="")
PROVINCIAL = Actor(3, "guangdong", Role.REGULATOR, region_prefix="44")
CITY = Actor(4, "guangzhou", Role.REGULATOR, region_prefix="4401")
NO_ENTERPRISE = Actor(5, "orphan", Role.ENTERPRISE, enterprise_id=None)


def members(enterprises: list[Enterprise]) -> list[Actor]:
    """A user of each enterprise, and one of an enterprise that does not exist."""
    missing = max((e.id for e in enterprises), default=0) + 1
    ids = [e.id for e in enterprises] + [missing]
    return [Actor(100 + i, f"member{i}", Role.ENTERPRISE, enterprise_id=i) for i in ids]


async def by_orm(actor: Actor) -> set[int]:
    return {e.id for e in await Enterprise.filter(enterprise_scope(actor))}


async def by_sql(actor: Actor) -> set[int]:
    connection = connections.get("default")
    bind = Binder(connection.capabilities.dialect == "postgres")
    conditions = scope_conditions(actor, bind, "e.id", "e.region_code")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = await connection.execute_query_dict(f"SELECT e.id FROM enterprises e{where}", bind.params)
    return {row["id"] for row in rows}


@WITH_DB
@given(
    regions=st.lists(region_codes, max_size=8),
    prefix=prefixes,
    type=st.sampled_from(sorted(NOTICE_EVENTS)),
)
async def test_every_form_of_the_scope_selects_the_same_enterprises(
    world: World, regions: list[str], prefix: str, type: EventType
) -> None:
    await Enterprise.all().delete()  # the examples of a test share its database
    enterprises = [await world.enterprise(region) for region in regions]
    regional = Actor(6, "regulator", Role.REGULATOR, region_prefix=prefix)
    for actor in [ADMIN, NATIONAL, PROVINCIAL, CITY, regional, NO_ENTERPRISE, *members(enterprises)]:
        python = {e.id for e in enterprises if sees(actor, e.id, e.region_code)}
        assert {e.id for e in enterprises if actor.sees_enterprise(e)} == python
        notified = {e.id for e in enterprises if visible_to(Event(type, e.id, e.region_code, 1), actor)}
        assert await by_orm(actor) == python == await by_sql(actor) == notified, actor


@WITH_DB
@given(regions=st.lists(region_codes, min_size=1, max_size=8))
async def test_admins_see_every_enterprise_and_regulators_those_under_their_prefix(
    world: World, regions: list[str]
) -> None:
    await Enterprise.all().delete()
    enterprises = [await world.enterprise(region) for region in regions]
    everything = {e.id for e in enterprises}
    assert await by_orm(ADMIN) == await by_orm(NATIONAL) == everything
    assert await by_orm(PROVINCIAL) == {e.id for e in enterprises if e.region_code[:2] == "44"}
    assert await by_orm(CITY) == {e.id for e in enterprises if e.region_code[:4] == "4401"}
    assert await by_orm(NO_ENTERPRISE) == set()
    for member, enterprise in zip(members(enterprises), enterprises, strict=False):
        assert await by_orm(member) == {enterprise.id}
