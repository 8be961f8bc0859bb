"""Limits before work and coded bad inputs, over HTTP against `ccms serve`, on SQLite and on
PostgreSQL with Redis: every input is answered with a coded error and nothing is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest_asyncio

from tests.e2e.deployment import SECRET
from tests.e2e.hardening import (
    ADMIN,
    Api,
    Client,
    api,  # noqa: F401  # the module's server, one per backend
    code_of,
    issue_notice,
    new_enterprise,
    new_member,
    new_regulator,
    signed_in,
)

HUGE = "1E+999999999"
OVERFLOWING = "9999-12-31T23:59:59-12:00"
RECORDS = "{ energyRecords(first: 0) { totalCount } }"
IMPORT = """
mutation($rows: [EnergyRecordInput!]!) {
  importEnergyRecords(rows: $rows) { written errors { code field } rowErrors { line code field } }
}
"""
ENERGY_HEADER = "credit_code,period,energy_type,quantity,unit\n"
HISTORY_HEADER = "credit_code,year,kind,item,quantity,unit\n"


@pytest_asyncio.fixture
async def admin(api: Api) -> AsyncIterator[Client]:  # noqa: F811
    client = await signed_in(api.server, *ADMIN)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def regulator(admin: Client) -> AsyncIterator[Client]:
    client = await new_regulator(admin)
    yield client
    await client.aclose()


def record(credit_code: str, quantity: str = "10", period: str = "2024-03") -> dict[str, str]:
    return {
        "creditCode": credit_code,
        "period": period,
        "energyType": "ELECTRICITY",
        "quantity": quantity,
        "unit": "MWh",
    }


async def records(client: Client) -> int:
    return (await client.data(RECORDS))["energyRecords"]["totalCount"]


# -- limits before work --------------------------------------------------------------------------


async def test_a_list_over_its_cap_is_refused_as_the_request_is_parsed(
    admin: Client, regulator: Client
) -> None:
    enterprise = await new_enterprise(admin)
    before = await records(regulator)
    rows = [
        record(enterprise["creditCode"], period=f"{2000 + n // 12}-{n % 12 + 1:02d}") for n in range(1001)
    ]
    body = await regulator(IMPORT, {"rows": rows})
    assert code_of(body) == "TOO_MANY_ITEMS"
    assert body["errors"][0]["extensions"]["field"] == "rows"
    # A literal list is held to the same cap as a variable.
    literal = ", ".join(["1"] * 101)
    body = await regulator(f"mutation {{ markMessagesRead(ids: [{literal}]) {{ errors {{ code }} }} }}")
    assert code_of(body) == "TOO_MANY_ITEMS"
    assert await records(regulator) == before


async def test_a_graphql_body_over_two_megabytes_is_refused_unread_unless_it_is_multipart(
    regulator: Client,
) -> None:
    padding = "x" * (2 * 1024 * 1024)
    response = await regulator.post(
        "/graphql", json={"query": "{ me { username } }", "variables": {"pad": padding}}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    # Multipart keeps the upload limit: the same padding goes through to GraphQL.
    response = await regulator.post(
        "/graphql",
        data={"operations": json.dumps({"query": "{ me { username } }", "variables": {}}), "map": "{}"},
        files={"pad": ("pad.bin", padding.encode(), "application/octet-stream")},
    )
    assert response.status_code == 200, response.text


# -- every bad input is coded, and nothing is written ----------------------------------------------


async def test_a_huge_quantity_is_coded_on_graphql_and_all_three_bulk_routes(
    admin: Client, regulator: Client
) -> None:
    code = (await new_enterprise(admin))["creditCode"]
    before = await records(regulator)
    payload = (await regulator.data(IMPORT, {"rows": [record(code, HUGE)]}))["importEnergyRecords"]
    assert payload["written"] == 0 and payload["rowErrors"] == [
        {"line": 1, "code": "INVALID_QUANTITY", "field": "quantity"}
    ]
    energy = await regulator.post(
        "/import/energy.csv", content=f"{ENERGY_HEADER}{code},2024-03,ELECTRICITY,{HUGE},MWh\n"
    )
    history = await regulator.post(
        "/import/history.csv", content=f"{HISTORY_HEADER}{code},2020,EMISSIONS,,{HUGE},t\n"
    )
    batch = await regulator.post("/ingest/energy", json={"records": [record(code, HUGE)]})
    number = await regulator.post(  # the same as a JSON number: Python reads it as infinity
        "/ingest/energy",
        content=json.dumps({"records": [record(code)]}).replace('"10"', HUGE),
        headers={"content-type": "application/json"},
    )
    for response in (energy, history, batch, number):
        assert response.status_code == 422, response.text
        assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
            ("INVALID_QUANTITY", "quantity")
        ]
        assert response.json()["written"] == 0
    assert await records(regulator) == before


async def test_an_instant_past_the_year_9999_is_coded_for_tokens_notices_and_deadlines(
    admin: Client, regulator: Client
) -> None:
    token = await regulator.data(
        'mutation($x: DateTime) { createApiToken(input: {name: "meter", scope: INGEST, expiresAt: $x}) '
        "{ errors { code field } } }",
        {"x": OVERFLOWING},
    )
    assert token["createApiToken"]["errors"] == [{"code": "INVALID_DATETIME", "field": "expiresAt"}]
    assert (await regulator.data("{ apiTokens { id } }"))["apiTokens"] == []

    enterprise = await new_enterprise(admin)
    allowance = await regulator.data(
        "mutation($e: ID!) { setInitialAllowance(enterpriseId: $e, year: 2026, amount: 1000) { errors { code } } }",
        {"e": enterprise["id"]},
    )
    assert allowance["setInitialAllowance"]["errors"] == []
    issue = """
    mutation($input: IssueNoticeInput!) { issueNotice(input: $input) { notice { id deadline } errors { code field } } }
    """
    notice = {
        "enterpriseId": enterprise["id"],
        "year": 2026,
        "ackWindowHours": 72,
        "title": "履约通知",
        "document": None,
    }
    refused = await regulator.upload(issue, {"input": notice | {"deadline": OVERFLOWING}}, "input.document")
    assert refused["data"]["issueNotice"]["errors"] == [{"code": "INVALID_DATETIME", "field": "deadline"}]
    notices = "query($e: ID!) { notices(filter: {enterpriseId: $e}) { totalCount } }"
    assert (await regulator.data(notices, {"e": enterprise["id"]}))["notices"]["totalCount"] == 0

    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    issued = await regulator.upload(issue, {"input": notice | {"deadline": deadline}}, "input.document")
    assert issued["data"]["issueNotice"]["errors"] == [], issued
    notice_id = issued["data"]["issueNotice"]["notice"]["id"]
    extend = await regulator.data(
        'mutation($n: ID!, $d: DateTime!) { extendDeadline(noticeId: $n, deadline: $d, reason: "x") { errors { code field } } }',
        {"n": notice_id, "d": OVERFLOWING},
    )
    assert extend["extendDeadline"]["errors"] == [{"code": "INVALID_DATETIME", "field": "deadline"}]
    after = await regulator.data("query($n: ID!) { notice(id: $n) { deadline } }", {"n": notice_id})
    assert after["notice"]["deadline"] == issued["data"]["issueNotice"]["notice"]["deadline"]


async def test_a_region_prefix_of_seven_digits_is_coded(regulator: Client) -> None:
    body = await regulator('{ emissionFactors(filter: {regionPrefix: "1234567"}) { value } }')
    assert code_of(body) == "INVALID_REGION_CODE"


async def test_a_nul_character_is_coded_on_graphql_and_in_imported_rows(
    admin: Client, regulator: Client
) -> None:
    login = await Client(admin.server)(
        'mutation($u: String!) { login(username: $u, password: "whatever-it-is") { token } }',
        {"u": "chi\x00ef"},
    )
    assert code_of(login) == "INVALID_CHARACTER" and login["errors"][0]["extensions"]["field"] == "username"
    count = "{ enterprises(first: 0) { totalCount } }"
    before = (await admin.data(count))["enterprises"]["totalCount"]
    literal = await admin(
        'mutation { createEnterprise(input: {name: "a\\u0000b", creditCode: "x", regionCode: "440113", '
        'industryCode: "4411", sector: POWER}) { errors { code } } }'
    )
    assert code_of(literal) == "INVALID_CHARACTER"
    assert (await admin.data(count))["enterprises"]["totalCount"] == before

    code = (await new_enterprise(admin))["creditCode"]
    before = await records(regulator)
    response = await regulator.post(
        "/import/energy.csv", content=f"{ENERGY_HEADER}{code},2024-03,ELECTRICITY,10,MW\x00h\n"
    )
    assert response.status_code == 422, response.text
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("INVALID_CHARACTER", "unit")]
    response = await regulator.post("/ingest/energy", json={"records": [record(code) | {"unit": "MW\x00h"}]})
    assert response.status_code == 422, response.text
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("INVALID_CHARACTER", "unit")]
    assert await records(regulator) == before


async def test_json_nested_100000_deep_is_an_invalid_body(regulator: Client) -> None:
    response = await regulator.post(
        "/ingest/energy",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_BODY"


async def test_a_signed_token_naming_user_two_to_the_63_is_refused_like_any_bad_token(api: Api) -> None:  # noqa: F811
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": str(2**63), "sv": 0, "iat": now, "exp": now + timedelta(hours=1)}, SECRET, "HS256"
    )
    client = Client(api.server, forged)
    try:
        body = await client("{ notices(first: 1) { totalCount } }")
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        response = await client.http.get("/export/statistics.csv?groupBy=YEAR", headers=client.headers())
        assert response.status_code == 401, response.text
    finally:
        await client.aclose()


# -- idempotent replays ---------------------------------------------------------------------------

SUBMIT = """
mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) { application { id } errors { code field } }
}
"""


async def test_twenty_parallel_submissions_with_one_key_all_return_the_one_application(
    admin: Client, regulator: Client
) -> None:
    enterprise = await new_enterprise(admin)
    notice_id = await issue_notice(regulator, enterprise["id"])
    member = await new_member(admin, enterprise["id"])
    try:
        acknowledged = await member.data(
            "mutation($n: ID!) { acknowledgeNotice(noticeId: $n) { errors { code } } }", {"n": notice_id}
        )
        assert acknowledged["acknowledgeNotice"]["errors"] == []
        application = {
            "noticeId": notice_id,
            "verifiedEmissions": 900,
            "report": None,
            "idempotencyKey": f"retry-{notice_id}",
        }
        answers = await asyncio.gather(
            *(member.upload(SUBMIT, {"input": application}, "input.report") for _ in range(20))
        )
        payloads = [answer["data"]["submitApplication"] for answer in answers]
        assert [p["errors"] for p in payloads] == [[]] * 20, payloads
        assert len({p["application"]["id"] for p in payloads}) == 1, payloads
        listed = await member.data(
            "query($n: ID!) { notice(id: $n) { status applications { id } } }", {"n": notice_id}
        )
        assert listed["notice"]["status"] == "UNDER_REVIEW"
        assert [a["id"] for a in listed["notice"]["applications"]] == [payloads[0]["application"]["id"]]
    finally:
        await member.aclose()


async def test_the_schema_requires_the_uploads_the_server_requires(admin: Client, regulator: Client) -> None:
    schema = await regulator.data(
        '{ issue: __type(name: "IssueNoticeInput") { inputFields { name type { kind ofType { name } } } } '
        'submit: __type(name: "SubmitApplicationInput") { inputFields { name type { kind ofType { name } } } } }'
    )
    [document] = [f for f in schema["issue"]["inputFields"] if f["name"] == "document"]
    assert document["type"] == {"kind": "NON_NULL", "ofType": {"name": "Upload"}}, document
    # The report is optional in the schema because a verifier's conclusion supplies it when one
    # stands; without one the server refuses the submission with a code naming the report.
    [report] = [f for f in schema["submit"]["inputFields"] if f["name"] == "report"]
    assert report["type"] == {"kind": "SCALAR", "ofType": None}, report
    enterprise = await new_enterprise(admin)
    notice_id = await issue_notice(regulator, enterprise["id"])
    member = await new_member(admin, enterprise["id"])
    try:
        await member.data(
            "mutation($n: ID!) { acknowledgeNotice(noticeId: $n) { errors { code } } }", {"n": notice_id}
        )
        body = await member(SUBMIT, {"input": {"noticeId": notice_id, "verifiedEmissions": 900}})
        assert body["data"]["submitApplication"] == {
            "application": None,
            "errors": [{"code": "DOCUMENT_REQUIRED", "field": "report"}],
        }, body
        listed = await member.data(
            "query($n: ID!) { notice(id: $n) { status applications { id } } }", {"n": notice_id}
        )
        assert listed["notice"] == {"status": "ACKNOWLEDGED", "applications": []}
    finally:
        await member.aclose()
