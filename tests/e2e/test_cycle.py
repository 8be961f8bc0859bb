"""The whole compliance cycle over real HTTP, against `ccms serve` on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from services.codes import make_credit_code
from tests.backends import create_pg_database, drop_pg_database
from tests.e2e.server import GraphQLHTTP, Server, serve

ADMIN = {"CCMS_ADMIN_USERNAME": "chief", "CCMS_ADMIN_PASSWORD": "chief-password"}
NOTICE_PDF = b"%PDF-1.7\n% compliance notice 2025\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REPORT_PDF = b"%PDF-1.7\n% verification report\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
RESUBMITTED_PDF = b"%PDF-1.7\n% corrected verification report\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REASON = "The verification report is not signed by the verifier."

CREATE_ENTERPRISE = """
mutation($input: CreateEnterpriseInput!) {
  createEnterprise(input: $input) { enterprise { id } errors { code message } }
}
"""
CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code message } } }
"""
SET_ALLOWANCE = """
mutation($id: ID!) {
  setInitialAllowance(enterpriseId: $id, year: 2025, amount: 1000) { errors { code message } }
}
"""
ISSUE_NOTICE = """
mutation($input: IssueNoticeInput!) {
  issueNotice(input: $input) { notice { id status } errors { code message } }
}
"""
ACKNOWLEDGE = """
mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { notice { status } errors { code message } } }
"""
SUBMIT = """
mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) { application { id status } errors { code message } }
}
"""
REVIEW = """
mutation($input: ReviewApplicationInput!) {
  reviewApplication(input: $input) { application { status } errors { code message } }
}
"""
NOTICE = """
query($id: ID!) {
  notice(id: $id) {
    status applicationStatus rejectionReason
    document { id url contentType }
    timeline { action actorName reason }
  }
}
"""
NOTICES = "{ notices { edges { node { id status } } } }"
INBOX = "{ messages { edges { node { kind title body notice { id } } } } }"


@pytest_asyncio.fixture
async def database_env(backend: str) -> AsyncIterator[dict[str, str]]:
    """SQLite under the server's var dir, or a fresh PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield {}
        return
    url = await create_pg_database("e2e")
    try:
        # With PostgreSQL the server refuses to start without a signing key of the deployment's.
        yield {"DATABASE_URL": url, "CCMS_SECRET_KEY": "e2e-cycle-secret-key-0123456789-abcdefghijklmnop"}
    finally:
        await drop_pg_database(url)


@pytest.fixture
def server(tmp_path: Path, database_env: dict[str, str]) -> Iterator[Server]:
    with serve(tmp_path / "var", {**ADMIN, **database_env}) as running:
        yield running


@pytest.fixture
def api(server: Server) -> Iterator[GraphQLHTTP]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield GraphQLHTTP(http)


def mutate(api: GraphQLHTTP, document: str, variables: dict, *, token: str) -> dict:
    (payload,) = api.query(document, variables, token=token).values()
    assert payload["errors"] == [], payload["errors"]
    return payload


def upload(api: GraphQLHTTP, document: str, variables: dict, files: dict, *, token: str) -> dict:
    (payload,) = api.upload(document, variables, files, token=token).values()
    assert payload["errors"] == [], payload["errors"]
    return payload


def test_a_notice_is_issued_rejected_resubmitted_and_fulfilled(api: GraphQLHTTP) -> None:
    admin = api.login("chief", "chief-password")
    enterprise_id = _enterprise(api, admin, "华南示范电厂", "440113", "MA7E2E01")
    other_id = _enterprise(api, admin, "深圳另一家水泥厂", "440307", "MA7E2E02")
    _user(api, admin, "e2e_regulator", "REGULATOR", region_prefix="44")
    _user(api, admin, "e2e_member", "ENTERPRISE", enterprise_id=enterprise_id)
    _user(api, admin, "e2e_outsider", "ENTERPRISE", enterprise_id=other_id)
    regulator = api.login("e2e_regulator", "password-123")
    member = api.login("e2e_member", "password-123")
    outsider = api.login("e2e_outsider", "password-123")

    # The regulator sets the allowance and issues the notice with its PDF.
    mutate(api, SET_ALLOWANCE, {"id": enterprise_id}, token=regulator)
    notice_input = {
        "enterpriseId": enterprise_id,
        "year": 2025,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "ackWindowHours": 72,
        "title": "2025 年度履约通知书",
        "body": "Surrender allowances covering your verified 2025 emissions.",
        "document": None,
        "requireVerification": False,  # the two-party cycle: test_verification_cycle has the three
    }
    issued = upload(
        api, ISSUE_NOTICE, {"input": notice_input},
        {"input.document": ("notice.pdf", NOTICE_PDF, "application/pdf")}, token=regulator,
    )  # fmt: skip
    notice_id = issued["notice"]["id"]
    assert issued["notice"]["status"] == "ISSUED"

    # The enterprise finds it in its inbox and its notices, and downloads the document.
    inbox = _inbox(api, member)
    assert ("NOTICE", "2025 年度履约通知书", notice_id) in [
        (m["kind"], m["title"], m["notice"]["id"]) for m in inbox
    ]
    assert [(n["id"], n["status"]) for n in _notices(api, member)] == [(notice_id, "ISSUED")]
    document = _notice(api, member, notice_id)["document"]
    assert document["contentType"] == "application/pdf"
    download = api.http.get(document["url"], headers={"authorization": f"Bearer {member}"})
    assert download.status_code == 200 and download.content == NOTICE_PDF
    assert download.headers["content-type"].startswith("application/pdf")
    foreign = api.http.get(document["url"], headers={"authorization": f"Bearer {outsider}"})
    assert foreign.status_code == 404
    assert _notices(api, outsider) == []

    # It acknowledges and applies; the regulator rejects with a reason.
    assert mutate(api, ACKNOWLEDGE, {"id": notice_id}, token=member)["notice"]["status"] == "ACKNOWLEDGED"
    application_id = _submit(api, member, notice_id, REPORT_PDF)
    review = {"applicationId": application_id, "decision": "REJECT", "reason": REASON}
    assert mutate(api, REVIEW, {"input": review}, token=regulator)["application"]["status"] == "REJECTED"

    # The enterprise sees the rejection and why, in the notice and in its inbox.
    seen = _notice(api, member, notice_id)
    assert (seen["status"], seen["applicationStatus"], seen["rejectionReason"]) == (
        "REJECTED",
        "REJECTED",
        REASON,
    )
    assert any(m["kind"] == "REVIEW_RESULT" and m["body"] == REASON for m in _inbox(api, member))

    # It resubmits; the regulator approves and the notice is fulfilled.
    application_id = _submit(api, member, notice_id, RESUBMITTED_PDF)
    review = {"applicationId": application_id, "decision": "APPROVE"}
    assert mutate(api, REVIEW, {"input": review}, token=regulator)["application"]["status"] == "APPROVED"
    seen = _notice(api, member, notice_id)
    assert (seen["status"], seen["applicationStatus"]) == ("FULFILLED", "APPROVED")
    assert [(step["action"], step["actorName"]) for step in seen["timeline"]] == [
        ("notice.issued", "e2e_regulator"),
        ("notice.acknowledged", "e2e_member"),
        ("application.submitted", "e2e_member"),
        ("application.rejected", "e2e_regulator"),
        ("application.submitted", "e2e_member"),
        ("application.approved", "e2e_regulator"),
    ]
    assert seen["timeline"][3]["reason"] == REASON


def test_the_first_start_prints_a_generated_admin_password_once(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with serve(var_dir) as first, httpx.Client(base_url=first.url, timeout=10) as http:
        output = first.output()
        match = re.search(r"Generated admin password \(shown once\): (\S+)", output)
        assert match, output
        assert "gd_regulator" in output and "gz_power" in output
        api = GraphQLHTTP(http)
        api.login("admin", match.group(1))
        api.login("gd_regulator", "regulator-demo")
        api.login("gz_power", "enterprise-demo")
    with serve(var_dir) as again, httpx.Client(base_url=again.url, timeout=10) as http:
        assert "Generated admin password" not in again.output(), again.output()
        assert "Created admin" not in again.output() and "Demo data" not in again.output()
        GraphQLHTTP(http).login("admin", match.group(1))


def test_demo_off_seeds_only_the_admin_on_the_port_asked_for(tmp_path: Path) -> None:
    with (
        serve(tmp_path / "var", {**ADMIN, "CCMS_DEMO": "0"}) as server,
        httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as http,
    ):
        output = server.output()
        assert f"CCMS on http://127.0.0.1:{server.port}/graphql" in output
        assert "Demo data" not in output and "Generated admin password" not in output
        api = GraphQLHTTP(http)
        api.login("chief", "chief-password")
        refused = api.query(
            'mutation { login(username: "gd_regulator", password: "regulator-demo") { errors { code } } }'
        )
        assert refused["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]


def _enterprise(api: GraphQLHTTP, admin: str, name: str, region: str, organisation: str) -> str:
    enterprise = {
        "name": name,
        "creditCode": make_credit_code(region, organisation),
        "regionCode": region,
        "industryCode": "4411",
        "sector": "POWER",
    }
    return mutate(api, CREATE_ENTERPRISE, {"input": enterprise}, token=admin)["enterprise"]["id"]


def _user(
    api: GraphQLHTTP,
    admin: str,
    username: str,
    role: str,
    *,
    region_prefix: str = "",
    enterprise_id: str | None = None,
) -> None:
    user = {
        "username": username,
        "password": "password-123",
        "role": role,
        "regionPrefix": region_prefix,
        "enterpriseId": enterprise_id,
    }
    mutate(api, CREATE_USER, {"input": user}, token=admin)


def _submit(api: GraphQLHTTP, member: str, notice_id: str, report: bytes) -> str:
    application = {"noticeId": notice_id, "verifiedEmissions": 900, "offsets": 0, "report": None}
    payload = upload(
        api,
        SUBMIT,
        {"input": application},
        {"input.report": ("report.pdf", report, "application/pdf")},
        token=member,
    )
    assert payload["application"]["status"] == "UNDER_REVIEW"
    return payload["application"]["id"]


def _notice(api: GraphQLHTTP, token: str, notice_id: str) -> dict:
    return api.query(NOTICE, {"id": notice_id}, token=token)["notice"]


def _notices(api: GraphQLHTTP, token: str) -> list[dict]:
    return [edge["node"] for edge in api.query(NOTICES, token=token)["notices"]["edges"]]


def _inbox(api: GraphQLHTTP, token: str) -> list[dict]:
    return [edge["node"] for edge in api.query(INBOX, token=token)["messages"]["edges"]]
