"""importEnterprises: the bulk register over GraphQL, at most 1,000 rows a call, all or
nothing unless partial, accounts with one-time passwords shown once."""

from __future__ import annotations

from typing import Any

from models import Enterprise, User
from services.codes import make_credit_code
from tests.conftest import GraphQLClient, World
from tests.schema.allocation_support import unchanged_anywhere
from tests.schema.support import payload, refused, refused_unread, succeeded, unauthenticated

IMPORT = """
mutation($rows: [EnterpriseRowInput!]!, $partial: Boolean! = false) {
  importEnterprises(rows: $rows, partial: $partial) {
    errors { code field message }
    written errorCount created updated
    rowErrors { line code field message }
    accounts { line creditCode username oneTimePassword }
  }
}
"""
SIGN_IN = """
mutation($u: String!, $p: String!) { login(username: $u, password: $p) { errors { code } user { mustChangePassword } } }
"""


def row(n: int, **values: Any) -> dict[str, Any]:
    return {
        "creditCode": make_credit_code("440113", f"GQ{n:06d}"),
        "name": f"广州{n}号热电",
        "regionCode": "440113",
        "industryCode": "4411",
        "sector": "POWER",
        **values,
    }


async def test_a_regulator_registers_enterprises_and_an_account(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator("44")
    rows = [row(1, username="gz.rd1"), row(2, sector="CEMENT", industryCode="3011")]
    body = succeeded(await gql(IMPORT, {"rows": rows}, actor=regulator), "importEnterprises")
    assert (body["written"], body["errorCount"], body["created"], body["updated"], body["rowErrors"]) == (2, 0, 2, 0, [])  # fmt: skip
    assert sorted(await Enterprise.all().values_list("credit_code", "name", "sector")) == sorted(
        (r["creditCode"], r["name"], r["sector"]) for r in rows
    )
    [account] = body["accounts"]
    assert (account["line"], account["creditCode"], account["username"]) == (
        1,
        rows[0]["creditCode"],
        "gz.rd1",
    )
    signed_in = payload(await gql(SIGN_IN, {"u": "gz.rd1", "p": account["oneTimePassword"]}), "login")
    assert signed_in["user"] == {"mustChangePassword": True}


async def test_bad_rows_are_reported_with_their_positions_and_nothing_is_written(
    gql: GraphQLClient, world: World
) -> None:
    regulator = await world.regulator("4401")
    rows = [
        row(1),
        row(2, creditCode="91440113XXXXXXXXXX"),
        row(3, regionCode="110101"),
        row(4, username="ab"),
    ]
    async with unchanged_anywhere():
        body = payload(await gql(IMPORT, {"rows": rows}, actor=regulator), "importEnterprises")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("INVALID_ROW", "rows")]
    assert [(e["line"], e["code"], e["field"]) for e in body["rowErrors"]] == [
        (2, "INVALID_CREDIT_CODE", "creditCode"),
        (3, "PERMISSION_DENIED", "regionCode"),
        (4, "INVALID_USERNAME", "username"),
    ]
    assert (body["written"], body["created"], body["accounts"]) == (0, 0, [])
    partial = payload(
        await gql(IMPORT, {"rows": rows, "partial": True}, actor=regulator), "importEnterprises"
    )
    assert (partial["errors"], partial["written"], partial["created"]) == ([], 1, 1)


async def test_more_than_a_thousand_rows_are_refused(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    async with unchanged_anywhere():
        result = await gql(IMPORT, {"rows": [row(n) for n in range(1001)]}, actor=admin)
    refused_unread(result, "TOO_MANY_ITEMS", "rows")  # as the request is parsed (@maxItems)


async def test_enterprise_users_and_strangers_may_not_register(gql: GraphQLClient, world: World) -> None:
    member = await world.member(await world.enterprise())
    async with unchanged_anywhere():
        refused(await gql(IMPORT, {"rows": [row(1)]}, actor=member), "importEnterprises", "PERMISSION_DENIED")
        unauthenticated(await gql(IMPORT, {"rows": [row(1)]}), "importEnterprises")
    assert not await User.filter(username="gz.rd1").exists()
