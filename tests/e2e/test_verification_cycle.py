"""The three-party cycle over real HTTP, against `ccms serve` on SQLite and on PostgreSQL:
assignment, the enterprise's report, a finding, an answer and a resubmission, the verifier's
conclusion, then the application taking the verified figure, and approval. The approved figure
traces, in the API and the audit trail, to the named verifier's immutable conclusion."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from services.codes import make_credit_code
from tests.e2e.server import GraphQLHTTP
from tests.e2e.test_cycle import (  # noqa: F401  (fixtures)
    ACKNOWLEDGE,
    ISSUE_NOTICE,
    NOTICE_PDF,
    REVIEW,
    SET_ALLOWANCE,
    _enterprise,
    _user,
    api,
    database_env,
    mutate,
    server,
    upload,
)

EMISSIONS_PDF = b"%PDF-1.7\n% annual emissions report 2025\n%%EOF\n"
CORRECTED_PDF = b"%PDF-1.7\n% annual emissions report 2025, corrected\n%%EOF\n"
CONCLUSION_PDF = b"%PDF-1.7\n% verification conclusion report\n%%EOF\n"

CREATE_BODY = """
mutation($input: CreateVerificationBodyInput!) {
  createVerificationBody(input: $input) { body { id name sectors } errors { code message } }
}
"""
CREATE_VERIFIER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id role verificationBody { id } } errors { code message } }
}
"""
ASSIGN = """
mutation($input: AssignVerificationInput!) {
  assignVerification(input: $input) { verification { id status allowedActions } errors { code message } }
}
"""
REPORT = """
mutation($input: SubmitEmissionReportInput!) {
  submitEmissionReport(input: $input) {
    verification { status reportedEmissions computedEmissions emissionsDifference submissions }
    errors { code message }
  }
}
"""
FINDING = """
mutation($input: AddVerificationFindingInput!) {
  addVerificationFinding(input: $input) { finding { id severity } errors { code message } }
}
"""
ANSWER = """
mutation($input: AnswerVerificationFindingInput!) {
  answerVerificationFinding(input: $input) { finding { answer } errors { code message } }
}
"""
CONCLUDE = """
mutation($input: IssueVerificationConclusionInput!) {
  issueVerificationConclusion(input: $input) {
    conclusion { id verifiedEmissions opinion reportSha256 issuedBy issuedAt } errors { code message }
  }
}
"""
SUBMIT = """
mutation($input: SubmitApplicationInput!) {
  submitApplication(input: $input) {
    application { id status verifiedEmissions } errors { code message }
  }
}
"""
VERIFICATION = """
query($id: ID!) {
  verification(id: $id) {
    status allowedActions enterpriseName
    findings { text answer }
    conclusion { verifiedEmissions issuedBy reportSha256 report { url } }
    timeline { action actorName }
  }
}
"""
VERIFICATIONS = "{ verifications { edges { node { id year status } } } }"
APPLICATION = """
query($id: ID!) {
  application(id: $id) {
    status verifiedEmissions report { sha256 }
    conclusion { verifiedEmissions opinion issuedBy reportSha256 body { name } }
  }
}
"""
NOTICES = "{ notices { edges { node { id } } } }"


def test_the_three_party_cycle_ends_in_an_approved_application_traced_to_the_verifier(
    api: GraphQLHTTP,  # noqa: F811  (the fixture imported above)
) -> None:
    admin = api.login("chief", "chief-password")
    enterprise_id = _enterprise(api, admin, "华南示范电厂", "440113", "MA7E2E11")
    _user(api, admin, "e2e_regulator", "REGULATOR", region_prefix="44")
    _user(api, admin, "e2e_member", "ENTERPRISE", enterprise_id=enterprise_id)
    body = mutate(
        api,
        CREATE_BODY,
        {
            "input": {
                "name": "中环碳核查中心",
                "creditCode": make_credit_code("110105", "MB000001"),
                "accreditationNumber": "CNAS-V-0042",
                "sectors": ["POWER"],
            }
        },
        token=admin,
    )["body"]
    verifier_user = {
        "username": "e2e_verifier",
        "password": "password-123",
        "role": "VERIFIER",
        "verificationBodyId": body["id"],
    }
    created = mutate(api, CREATE_VERIFIER, {"input": verifier_user}, token=admin)["user"]
    assert (created["role"], created["verificationBody"]["id"]) == ("VERIFIER", body["id"])
    regulator = api.login("e2e_regulator", "password-123")
    member = api.login("e2e_member", "password-123")
    verifier = api.login("e2e_verifier", "password-123")

    # The regulator issues the notice (verification required by default) and assigns the body.
    mutate(api, SET_ALLOWANCE, {"id": enterprise_id}, token=regulator)
    notice = {
        "enterpriseId": enterprise_id,
        "year": 2025,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "ackWindowHours": 72,
        "title": "2025 年度履约通知书",
        "document": None,
    }
    notice_id = upload(
        api, ISSUE_NOTICE, {"input": notice},
        {"input.document": ("notice.pdf", NOTICE_PDF, "application/pdf")}, token=regulator,
    )["notice"]["id"]  # fmt: skip
    mutate(api, ACKNOWLEDGE, {"id": notice_id}, token=member)
    assignment = {
        "enterpriseId": enterprise_id,
        "year": 2025,
        "verificationBodyId": body["id"],
        "dueDate": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
    }
    verification = mutate(api, ASSIGN, {"input": assignment}, token=regulator)["verification"]
    vid = verification["id"]
    assert (verification["status"], verification["allowedActions"]) == ("ASSIGNED", ["REASSIGN"])

    # Without a conclusion the application is refused.
    refused = api.query(SUBMIT, {"input": {"noticeId": notice_id, "verifiedEmissions": 1100}}, token=member)
    assert [e["code"] for e in refused["submitApplication"]["errors"]] == ["VERIFICATION_REQUIRED"]

    # The enterprise reports; the verifier raises a finding; the enterprise answers and resubmits.
    reported = _report(api, member, vid, 1100, EMISSIONS_PDF)
    assert (reported["status"], reported["reportedEmissions"], reported["computedEmissions"]) == (
        "REPORT_SUBMITTED",
        1100,
        "0",
    )
    assert reported["emissionsDifference"] == "1100"
    finding = mutate(
        api,
        FINDING,
        {"input": {"verificationId": vid, "severity": "MAJOR", "text": "March meter missing",
                   "suggestion": "Sub-meter the boiler feed"}},
        token=verifier,
    )["finding"]  # fmt: skip
    mutate(api, ANSWER, {"input": {"findingId": finding["id"], "answer": "Re-read, +20 t"}}, token=member)
    assert _report(api, member, vid, 1120, CORRECTED_PDF)["submissions"] == 2

    # The verifier sees only its assignment, and concludes.
    assert [n["id"] for n in _edges(api.query(VERIFICATIONS, token=verifier)["verifications"])] == [vid]
    assert _edges(api.query(NOTICES, token=verifier)["notices"]) == []
    conclusion = upload(
        api,
        CONCLUDE,
        {
            "input": {
                "verificationId": vid,
                "verifiedEmissions": 1120,
                "opinion": "UNQUALIFIED",
                "report": None,
            }
        },
        {"input.report": ("结论报告.pdf", CONCLUSION_PDF, "application/pdf")},
        token=verifier,
    )["conclusion"]
    assert conclusion["reportSha256"] == hashlib.sha256(CONCLUSION_PDF).hexdigest()
    assert (conclusion["verifiedEmissions"], conclusion["issuedBy"]) == (1120, "e2e_verifier")
    seen = api.query(VERIFICATION, {"id": vid}, token=verifier)["verification"]
    assert (seen["status"], seen["allowedActions"], seen["enterpriseName"]) == (
        "CONCLUDED",
        ["CORRECT_CONCLUSION"],
        "华南示范电厂",
    )
    download = api.http.get(
        seen["conclusion"]["report"]["url"], headers={"authorization": f"Bearer {verifier}"}
    )
    assert download.status_code == 200 and download.content == CONCLUSION_PDF

    # The application takes the verified figure; another figure is refused; the regulator approves.
    mismatch = api.query(SUBMIT, {"input": {"noticeId": notice_id, "verifiedEmissions": 1100}}, token=member)
    assert [e["code"] for e in mismatch["submitApplication"]["errors"]] == ["VERIFIED_EMISSIONS_MISMATCH"]
    application = mutate(api, SUBMIT, {"input": {"noticeId": notice_id, "offsets": 0}}, token=member)[
        "application"
    ]
    assert (application["status"], application["verifiedEmissions"]) == ("UNDER_REVIEW", 1120)
    review = {"applicationId": application["id"], "decision": "APPROVE", "reason": "Shortfall bought later"}
    assert mutate(api, REVIEW, {"input": review}, token=regulator)["application"]["status"] == "APPROVED"

    # Traced: the approved application carries the named verifier's conclusion and its report.
    approved = api.query(APPLICATION, {"id": application["id"]}, token=regulator)["application"]
    assert approved["report"]["sha256"] == hashlib.sha256(CONCLUSION_PDF).hexdigest()
    assert approved["conclusion"] == {
        "verifiedEmissions": 1120,
        "opinion": "UNQUALIFIED",
        "issuedBy": "e2e_verifier",
        "reportSha256": hashlib.sha256(CONCLUSION_PDF).hexdigest(),
        "body": {"name": "中环碳核查中心"},
    }
    timeline = api.query(VERIFICATION, {"id": vid}, token=regulator)["verification"]["timeline"]
    assert [(t["action"], t["actorName"]) for t in timeline] == [
        ("verification.assigned", "e2e_regulator"),
        ("verification.report_submitted", "e2e_member"),
        ("verification.finding_added", "e2e_verifier"),
        ("verification.finding_answered", "e2e_member"),
        ("verification.report_resubmitted", "e2e_member"),
        ("verification.concluded", "e2e_verifier"),
    ]


def _report(client: GraphQLHTTP, member: str, vid: str, tonnes: int, pdf: bytes) -> dict:
    return upload(
        client,
        REPORT,
        {"input": {"verificationId": vid, "reportedEmissions": tonnes, "document": None}},
        {"input.document": ("排放报告.pdf", pdf, "application/pdf")},
        token=member,
    )["verification"]


def _edges(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]
