"""Tenant isolation, operation by operation.

Two enterprises: A in Guangzhou (440113) and B in Beijing (110105), each with a member and a
notice acknowledged too late (so an ACK_OVERDUE alarm, and an alarm message in the regulators'
inbox) whose application is under review, and a 2025 verification by a body of its own with
the enterprise's report submitted. Seven viewers: A's member, B's member, the Guangdong
regulator (44), the Beijing regulator (11), a national regulator (""), and a verifier of each
tenant's verification body (the third tenant kind). Each row of a table
is one operation aimed at A's data (or listing everything); each column says what a viewer
gets back: whose rows ("A", "B", "AB") or nothing ("-"), and for mutations the outcome code.
Subscriptions are opened over the app's WebSocket by all seven viewers at once, while something
happens to both tenants.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from models import (
    Alarm,
    Application,
    AuditEvent,
    Document,
    FindingSeverity,
    Message,
    Notice,
    User,
    Verification,
    VerificationBody,
    VerificationConclusion,
    VerificationFinding,
)
from services.access import Actor
from services.compliance import notices
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from services.identity import accounts
from services.verification import assignments, reports
from tests.conftest import PDF, GraphQLClient, Upload, World, in_days
from tests.schema.live.websocket import connected, drain, running
from tests.schema.support import auth, code_of, overdue_acknowledgement, tenant_data
from tests.services.cycle import Cycle, issue

VIEWERS = ("A member", "B member", "Guangdong", "Beijing", "national", "A verifier", "B verifier")


@dataclass
class Tenants:
    a: Cycle
    b: Cycle
    national: Actor
    verifiers: dict[str, Actor] = field(default_factory=dict)  # "A" or "B" -> the verifier
    verifications: dict[str, Verification] = field(default_factory=dict)
    owner: dict[tuple[str, str], str] = field(default_factory=dict)  # (typename, id) -> "A" or "B"

    @classmethod
    async def build(cls, world: World, files: FileStore) -> Tenants:
        a = await Cycle.start(world, files, region="440113")
        b = await Cycle.start(world, files, region="110105")
        for cycle in (a, b):
            await overdue_acknowledgement(cycle.notice)
            await cycle.under_review()
        tenants = cls(a, b, await world.regulator(""))
        for letter, cycle in (("A", a), ("B", b)):
            body = await world.body(name=f"Body of {letter}")
            tenants.verifiers[letter] = await world.verifier(body)
            tenants.verifications[letter] = await assignments.assign_verification(
                cycle.regulator,
                enterprise_id=cycle.enterprise.id,
                year=2025,
                body_id=body.id,
                due_at=in_days(60),
            )
            await reports.submit_emission_report(
                cycle.member,
                files,
                verification_id=tenants.verifications[letter].id,
                reported_emissions=1100,
                document=Upload(PDF, "emissions.pdf"),
            )
        await tenants.scan()
        return tenants

    async def finding(self, letter: str = "A") -> VerificationFinding:
        return await reports.add_finding(
            self.verifiers[letter],
            verification_id=self.verifications[letter].id,
            severity=FindingSeverity.MINOR,
            finding="Meter 3",
            suggestion=None,
        )

    async def scan(self) -> None:
        """Note whose every row is (again, after more were written)."""
        for letter, cycle in (("A", self.a), ("B", self.b)):
            self.owner[("Enterprise", str(cycle.enterprise.id))] = letter
            for model, typename, key in (
                (Notice, "Notice", "enterprise_id"),
                (Notice, "NoticeStatusChange", "enterprise_id"),  # `id: noticeId` in subscriptions
                (Application, "Application", "enterprise_id"),
                (Document, "Document", "enterprise_id"),
                (Message, "Message", "enterprise_id"),
                (Message, "Message", "notice__enterprise_id"),  # the regulators' alarm messages
                (Alarm, "Alarm", "enterprise_id"),
                (AuditEvent, "TimelineEntry", "notice__enterprise_id"),
                (Message, "Message", "verification__enterprise_id"),  # the bodies' messages
                (Verification, "Verification", "enterprise_id"),
                (VerificationFinding, "VerificationFinding", "verification__enterprise_id"),
                (VerificationConclusion, "VerificationConclusion", "enterprise_id"),
                (AuditEvent, "VerificationEvent", "verification__enterprise_id"),
                (VerificationBody, "VerificationBody", "verifications__enterprise_id"),
            ):
                for pk in await model.filter(**{key: cycle.enterprise.id}).values_list("id", flat=True):
                    self.owner[(typename, str(pk))] = letter

    def viewer(self, name: str) -> Actor:
        return {
            "A member": self.a.member,
            "B member": self.b.member,
            "Guangdong": self.a.regulator,
            "Beijing": self.b.regulator,
            "national": self.national,
            "A verifier": self.verifiers["A"],
            "B verifier": self.verifiers["B"],
        }[name]

    async def variables(self) -> dict[str, str]:
        application = await Application.get(notice_id=self.a.notice.id)
        return {
            "e": str(self.a.enterprise.id),
            "n": str(self.a.notice.id),
            "a": str(application.id),
            "document": str(self.a.notice.document_id),
            "report": str(application.report_id),
            "alarm": str((await Alarm.get(notice_id=self.a.notice.id)).id),
            "v": str(self.verifications["A"].id),
            "emissions": str((await Verification.get(id=self.verifications["A"].id)).report_id),
        }

    def whose(self, data: Any) -> str:
        """Which tenants' rows a response holds: "A", "B", "AB" or "-"."""
        found: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if "__typename" in value and "id" in value:
                    found.add(self.owner.get((value["__typename"], value["id"]), "?"))
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(data)
        return "".join(sorted(found)) or "-"


@pytest.fixture
async def tenants(world: World, files: FileStore) -> Tenants:
    return await Tenants.build(world, files)


ID = "__typename id"
NOTICE_TREE = """
  ROW
  enterprise { ROW }
  document { ROW }
  applications { ROW report { ROW } notice { ROW } }
  latestApplication { ROW }
  timeline { ROW actorName }
"""
# ROW stands for the fields that identify a row: its type and id.
QUERY_DOCUMENTS = {
    "enterprise(id: A)": "query($e: ID!) { enterprise(id: $e) { ROW } }",
    "enterprises": "{ enterprises { edges { node { ROW } } } }",
    "enterprises(filter: 44)": '{ enterprises(filter: {regionPrefix: "44"}) { edges { node { ROW } } } }',
    "allowance(A).enterprise": "query($e: ID!) { allowance(enterpriseId: $e, year: 2025) {enterprise{ROW}} }",
    "notice(A's) and nested": "query($n: ID!) { notice(id: $n) { TREE } }",
    "notices and nested": "{ notices { edges { node { TREE } } } }",
    "notices(filter: A)": "query($e: ID!) { notices(filter: {enterpriseId: $e}) { edges { node { ROW } } } }",
    "applications(A's notice)": "query($n: ID!) { applications(noticeId: $n) { ROW report { ROW } } }",
    "application(A's) and nested": "query($a: ID!) { application(id: $a) { ROW notice {ROW} report {ROW} } }",
    "messages { notice }": "{ messages { edges { node { ROW notice { ROW } } } } }",
    "me { enterprise }": "{ me { enterprise { ROW } } }",
    "alarms and nested": "{ alarms { edges { node { ROW notice { ROW } enterprise { ROW } } } } }",
    "alarms(status: OPEN, kind: ACK_OVERDUE)": "{ alarms(status: OPEN, kind: ACK_OVERDUE) { edges { node { ROW } } } }",
    "statistics(ENTERPRISE)": "{ statistics(groupBy: [ENTERPRISE, YEAR]) { edges { node { enterprise { ROW } } } } }",
    "statistics(ENTERPRISE, filter: 44)": '{ statistics(groupBy: [ENTERPRISE], filter: {regionPrefix: "44"}) '
    "{ edges { node { enterprise { ROW } } } } }",
    "statistics(ENTERPRISE, filter: A)": "query($e: ID!) { statistics(groupBy: [ENTERPRISE], "
    "filter: {enterpriseIds: [$e]}) { edges { node { enterprise { ROW } } } } }",
    "verification(A's) and nested": "query($v: ID!) { verification(id: $v) { ROW enterprise { ROW } "
    "body { ROW } report { ROW } findings { ROW } conclusions { ROW report { ROW } } timeline { ROW } } }",
    "verifications and nested": "{ verifications { edges { node { ROW enterprise { ROW } report { ROW } } } } }",
    "verifications(filter: A)": "query($e: ID!) { verifications(filter: {enterpriseId: $e}) "
    "{ edges { node { ROW } } } }",
    "verificationBodies": "{ verificationBodies { ROW } }",
}
DOCUMENTS = {
    name: document.replace("TREE", NOTICE_TREE).replace("ROW", ID)
    for name, document in QUERY_DOCUMENTS.items()
}

# fmt: off
QUERIES = [
    # query                          A member  B member  Guangdong  Beijing  national  A verifier  B verifier
    ("enterprise(id: A)",            "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("enterprises",                  "A",      "B",      "A",       "B",     "AB", "-", "-"),
    ("enterprises(filter: 44)",      "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("allowance(A).enterprise",      "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("notice(A's) and nested",       "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("notices and nested",           "A",      "B",      "A",       "B",     "AB", "-", "-"),
    ("notices(filter: A)",           "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("applications(A's notice)",     "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("application(A's) and nested",  "A",      "-",      "A",       "-",     "A", "-", "-"),
    ("messages { notice }",          "A",      "B",      "A",       "B",     "AB", "A", "B"),  # alarm, body messages
    ("me { enterprise }",            "A",      "B",      "-",       "-",     "-", "-", "-"),
    ("alarms and nested",            "-",      "-",      "A",       "B",     "AB", "-", "-"),
    ("alarms(status: OPEN, kind: ACK_OVERDUE)", "-", "-", "A",     "B",     "AB", "-", "-"),
    ("statistics(ENTERPRISE)",       "A",      "B",      "A",       "B",     "AB", "-", "-"),  # their notices
    ("statistics(ENTERPRISE, filter: 44)", "A", "-",     "A",       "-",     "A", "-", "-"),
    ("statistics(ENTERPRISE, filter: A)",  "A", "-",     "A",       "-",     "A", "-", "-"),
    ("verification(A's) and nested", "A", "-",     "A",       "-",     "A",      "A",     "-"),
    ("verifications and nested",     "A",      "B",      "A",       "B",     "AB",     "A",     "B"),
    ("verifications(filter: A)",     "A",      "-",      "A",       "-",     "A",      "A",     "-"),
    ("verificationBodies",           "A",      "B",      "AB",      "AB",    "AB",     "A",     "B"),  # bodies assigned to them
]
# fmt: on


@pytest.mark.parametrize(
    ("query", "expected"), [(q, row) for q, *row in QUERIES], ids=[q for q, *_ in QUERIES]
)
async def test_a_query_returns_only_the_rows_in_the_viewers_scope(
    gql: GraphQLClient, tenants: Tenants, query: str, expected: list[str]
) -> None:
    variables = await tenants.variables()
    seen = {}
    for name in VIEWERS:
        result = await gql(DOCUMENTS[query], variables, actor=tenants.viewer(name))
        assert "errors" not in result, result
        seen[name] = tenants.whose(result["data"])
    assert seen == dict(zip(VIEWERS, expected, strict=True))


# fmt: off
DOWNLOADS = [
    # GET /documents/{id} of         A member  B member  Guangdong  Beijing  national
    ("document",                     "A",      "-",      "A",       "-",     "A",   "-",   "-"),  # A's notice document
    ("report",                       "A",      "-",      "A",       "-",     "A",   "-",   "-"),  # A's application report
    ("emissions",                    "A",      "-",      "A",       "-",     "A",   "A",   "-"),  # A's emissions report
]
# fmt: on


@pytest.mark.parametrize(
    ("document", "expected"), [(d, row) for d, *row in DOWNLOADS], ids=[d for d, *_ in DOWNLOADS]
)
async def test_a_document_downloads_only_within_the_viewers_scope(
    http: httpx.AsyncClient, tenants: Tenants, document: str, expected: list[str]
) -> None:
    url = f"/documents/{(await tenants.variables())[document]}"
    seen = {}
    for name in VIEWERS:
        response = await http.get(url, headers=auth(tenants.viewer(name)))
        if response.status_code == 200:
            assert response.content == PDF
            seen[name] = "A"
        else:
            assert (response.status_code, response.json()) == (
                404,
                {"code": "NOT_FOUND", "message": "未找到文件"},
            )
            seen[name] = "-"
    assert seen == dict(zip(VIEWERS, expected, strict=True))


async def test_a_document_probe_cannot_tell_out_of_scope_from_missing(
    http: httpx.AsyncClient, tenants: Tenants
) -> None:
    url = f"/documents/{(await tenants.variables())['document']}"
    outside = await http.get(url, headers=auth(tenants.b.member))
    for missing in ("/documents/999999", "/documents/abc", "/documents/99999999999"):
        response = await http.get(missing, headers=auth(tenants.b.member))
        assert (response.status_code, response.json()) == (outside.status_code, outside.json())


async def test_a_download_needs_a_token(http: httpx.AsyncClient, tenants: Tenants) -> None:
    response = await http.get(f"/documents/{(await tenants.variables())['document']}")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


# -- mutations ---------------------------------------------------------------------------------

DENIED, MISSING = "PERMISSION_DENIED", "NOT_FOUND"


async def _allowance_2026(t: Tenants) -> dict[str, Any]:
    return {"enterpriseId": str(t.a.enterprise.id), "year": 2026, "amount": 500}


async def _notice_2026(t: Tenants) -> dict[str, Any]:
    await t.a.world.allowance(t.a.regulator, t.a.enterprise, 500, year=2026)
    return {
        "input": {
            "enterpriseId": str(t.a.enterprise.id),
            "year": 2026,
            "deadline": in_days(30).isoformat(),
            "ackWindowHours": 72,
            "title": "2026",
            "document": None,
        }
    }


async def _unacknowledged_notice(t: Tenants) -> dict[str, Any]:
    await t.a.world.allowance(t.a.regulator, t.a.enterprise, 500, year=2026)
    return {"id": str((await issue(t.a.regulator, t.a.files, t.a.enterprise, year=2026)).id)}


async def _rejected_notice(t: Tenants) -> dict[str, Any]:
    await t.a.review(await Application.get(notice_id=t.a.notice.id), Action.REJECT, "seal missing")
    return {"input": {"noticeId": str(t.a.notice.id), "verifiedEmissions": 900, "report": None}}


async def _application(t: Tenants) -> dict[str, Any]:
    return {"input": {"applicationId": (await t.variables())["a"], "decision": "APPROVE"}}


async def _deadline(t: Tenants) -> dict[str, Any]:
    return {"id": str(t.a.notice.id), "deadline": in_days(60).isoformat()}


async def _messages(t: Tenants) -> dict[str, Any]:
    """A's inbox and the alarm message about A in the regulators' inbox."""
    mine = await Message.filter(enterprise_id=t.a.enterprise.id).values_list("id", flat=True)
    regulators = await Message.filter(
        notice__enterprise_id=t.a.enterprise.id, regulator_region__isnull=False
    ).values_list("id", flat=True)
    assert mine and regulators
    return {"ids": [str(i) for i in [*mine, *regulators]]}


async def _alarm(t: Tenants) -> dict[str, Any]:
    return {"id": (await t.variables())["alarm"]}


async def _enterprise(t: Tenants) -> dict[str, Any]:
    return {"id": str(t.a.enterprise.id)}


async def _member(t: Tenants) -> dict[str, Any]:
    """A's enterprise user."""
    return {"id": str(t.a.member.user_id)}


async def _deactivated_colleague(t: Tenants) -> dict[str, Any]:
    """Another user of A's, deactivated (A's member itself stays signed in to try)."""
    colleague = await t.a.world.member(t.a.enterprise)
    await accounts.deactivate_user(None, colleague.user_id)
    return {"id": str(colleague.user_id)}


async def _reassignment(t: Tenants) -> dict[str, Any]:
    return {
        "input": {
            "enterpriseId": str(t.a.enterprise.id),
            "year": 2025,
            "verificationBodyId": str(t.verifications["A"].body_id),
            "dueDate": in_days(90).isoformat(),
            "reason": "more time",
        }
    }


async def _resubmission(t: Tenants) -> dict[str, Any]:
    await t.finding("A")
    return {
        "input": {"verificationId": str(t.verifications["A"].id), "reportedEmissions": 1090, "document": None}
    }


async def _finding(t: Tenants) -> dict[str, Any]:
    return {"input": {"verificationId": str(t.verifications["A"].id), "severity": "MAJOR", "text": "Gap"}}


async def _answer(t: Tenants) -> dict[str, Any]:
    return {"input": {"findingId": str((await t.finding("A")).id), "answer": "Fixed"}}


async def _conclusion(t: Tenants) -> dict[str, Any]:
    return {
        "input": {
            "verificationId": str(t.verifications["A"].id),
            "verifiedEmissions": 1080,
            "opinion": "UNQUALIFIED",
            "report": None,
        }
    }


ATTEMPTS = {  # mutation: (document, arrange: the variables aimed at A's data)
    "setInitialAllowance": (
        "mutation($enterpriseId: ID!, $year: Int!, $amount: Tonnes!) { setInitialAllowance("
        "enterpriseId: $enterpriseId, year: $year, amount: $amount) { errors { code } allowance { year } } }",
        _allowance_2026,
    ),
    "issueNotice": (
        "mutation($input: IssueNoticeInput!) { issueNotice(input: $input) { errors { code } notice {id} } }",
        _notice_2026,
    ),
    "acknowledgeNotice": (
        "mutation($id: ID!) { acknowledgeNotice(noticeId: $id) { errors { code } notice { id } } }",
        _unacknowledged_notice,
    ),
    "submitApplication": (
        "mutation($input: SubmitApplicationInput!) { submitApplication(input: $input) { errors { code } "
        "application { id } } }",
        _rejected_notice,
    ),
    "reviewApplication": (
        "mutation($input: ReviewApplicationInput!) { reviewApplication(input: $input) { errors { code } "
        "application { id } } }",
        _application,
    ),
    "extendDeadline": (
        "mutation($id: ID!, $deadline: DateTime!) { extendDeadline(noticeId: $id, deadline: $deadline, "
        'reason: "flood") { errors { code } notice { id } } }',
        _deadline,
    ),
    "markMessagesRead": (
        "mutation($ids: [ID!]!) { markMessagesRead(ids: $ids) { errors { code } messages { id } } }",
        _messages,
    ),
    "resolveAlarm": (
        'mutation($id: ID!) { resolveAlarm(id: $id, note: "called them") { errors { code } alarm { id } } }',
        _alarm,
    ),
    "updateEnterprise": (
        'mutation($id: ID!) { updateEnterprise(input: {id: $id, name: "Renamed"}) { errors { code } '
        "enterprise { id } } }",
        _enterprise,
    ),
    "createUser": (
        'mutation($id: ID!) { createUser(input: {username: "a_second", password: "password-123", '
        "role: ENTERPRISE, enterpriseId: $id}) { errors { code } user { id } } }",
        _enterprise,
    ),
    "deactivateUser": (
        "mutation($id: ID!) { deactivateUser(id: $id) { errors { code } user { id } } }",
        _member,
    ),
    "reactivateUser": (
        "mutation($id: ID!) { reactivateUser(id: $id) { errors { code } user { id } } }",
        _deactivated_colleague,
    ),
    "resetPassword": (
        "mutation($id: ID!) { resetPassword(id: $id) { errors { code } user { id } oneTimePassword } }",
        _member,
    ),
    "updateUser": (
        'mutation($id: ID!) { updateUser(input: {id: $id, role: REGULATOR, regionPrefix: "44"}) '
        "{ errors { code } user { id } } }",
        _member,
    ),
    "assignVerification": (
        "mutation($input: AssignVerificationInput!) { assignVerification(input: $input) { errors { code } "
        "verification { id } } }",
        _reassignment,
    ),
    "submitEmissionReport": (
        "mutation($input: SubmitEmissionReportInput!) { submitEmissionReport(input: $input) { errors { code } "
        "verification { id } } }",
        _resubmission,
    ),
    "addVerificationFinding": (
        "mutation($input: AddVerificationFindingInput!) { addVerificationFinding(input: $input) "
        "{ errors { code } finding { id } } }",
        _finding,
    ),
    "answerVerificationFinding": (
        "mutation($input: AnswerVerificationFindingInput!) { answerVerificationFinding(input: $input) "
        "{ errors { code } finding { id } } }",
        _answer,
    ),
    "issueVerificationConclusion": (
        "mutation($input: IssueVerificationConclusionInput!) { issueVerificationConclusion(input: $input) "
        "{ errors { code } conclusion { id } } }",
        _conclusion,
    ),
}

# fmt: off
MUTATIONS = [
    # mutation aimed at A      A member  B member   Guangdong  Beijing  national  A verifier  B verifier
    ("setInitialAllowance",    DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("issueNotice",            DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("acknowledgeNotice",      "ok",     MISSING,   DENIED,    DENIED,  DENIED, DENIED, DENIED),
    ("submitApplication",      "ok",     MISSING,   DENIED,    DENIED,  DENIED, DENIED, DENIED),
    ("reviewApplication",      DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("extendDeadline",         DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("markMessagesRead",       "ok",     "ignored", "ok",      "ignored", "ok", "ignored", "ignored"),  # regulators: alarms
    ("resolveAlarm",           DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("updateEnterprise",       DENIED,   DENIED,    DENIED,    DENIED,  DENIED, DENIED, DENIED),  # admin only
    ("createUser",             DENIED,   DENIED,    DENIED,    DENIED,  DENIED, DENIED, DENIED),  # admin only
    # A's enterprise user: its region's regulators manage it; nobody else may, even see it
    ("deactivateUser",         DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("reactivateUser",         DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("resetPassword",          DENIED,   DENIED,    "ok",      MISSING, "ok", DENIED, DENIED),
    ("updateUser",             DENIED,   DENIED,    DENIED,    DENIED,  DENIED, DENIED, DENIED),  # admin only
    # A's 2025 verification: reassigned by its regulators, reported by its enterprise, examined
    # and concluded by its body's verifier only
    ("assignVerification",     DENIED,   DENIED,    "ok",      MISSING, "ok",    DENIED,  DENIED),
    ("submitEmissionReport",   "ok",     MISSING,   DENIED,    DENIED,  DENIED,  DENIED,  DENIED),
    ("addVerificationFinding", DENIED,   DENIED,    DENIED,    DENIED,  DENIED,  "ok",    MISSING),
    ("answerVerificationFinding", "ok",  MISSING,   DENIED,    DENIED,  DENIED,  DENIED,  DENIED),
    ("issueVerificationConclusion", DENIED, DENIED, DENIED,    DENIED,  DENIED,  "ok",    MISSING),
]
# fmt: on
UPLOADS = {
    "issueNotice": "input.document",
    "submitApplication": "input.report",
    "submitEmissionReport": "input.document",
    "issueVerificationConclusion": "input.report",
}


@pytest.mark.parametrize(
    ("mutation", "expected"), [(m, row) for m, *row in MUTATIONS], ids=[m for m, *_ in MUTATIONS]
)
async def test_a_mutation_reaches_only_the_data_in_the_viewers_scope(
    gql: GraphQLClient,
    world: World,
    files: FileStore,
    mutation: str,
    expected: list[str],
) -> None:
    document, arrange = ATTEMPTS[mutation]
    outcomes = {}
    for name in VIEWERS:
        # A fresh pair of tenants for every viewer, so one viewer's success is not the next
        # one's "already done"; the earlier pairs stay, and stay untouched.
        tenants = await Tenants.build(world, files)
        variables = await arrange(tenants)
        before = {
            "A": await tenant_data(tenants.a.enterprise.id),
            "B": await tenant_data(tenants.b.enterprise.id),
        }
        if mutation in UPLOADS:
            upload = {UPLOADS[mutation]: ("document.pdf", PDF, "application/pdf")}
            result = await gql.upload(document, variables, files=upload, actor=tenants.viewer(name))
        else:
            result = await gql(document, variables, actor=tenants.viewer(name))
        outcome = code_of(result, mutation)
        returned = [v for k, v in result["data"][mutation].items() if k != "errors"]
        outcomes[name] = "ignored" if outcome == "ok" and returned == [[]] else outcome
        after = {
            "A": await tenant_data(tenants.a.enterprise.id),
            "B": await tenant_data(tenants.b.enterprise.id),
        }
        assert after["B"] == before["B"], f"{name}: B's data changed"
        if outcomes[name] == "ok" and mutation not in ("updateEnterprise", "createUser"):
            assert after["A"] != before["A"], f"{name}: the mutation reported success but changed nothing"
        else:
            assert after["A"] == before["A"], f"{name}: a refused mutation changed A's data"
    assert outcomes == dict(zip(VIEWERS, expected, strict=True))


USERS = "{ users(first: 100) { edges { node { __typename id } } } }"
# fmt: off
USER_LISTS = {
    "A verifier":      "denied",
    "B verifier":      "denied",
    # users, seen by   the accounts of
    "A member":        "denied",
    "B member":        "denied",
    "Guangdong":       "A",     # its own account and A's member
    "Beijing":         "B",
    "national":        "ABN",   # every regulator and enterprise user (N: its own account)
}
# fmt: on


async def test_the_users_list_shows_only_the_accounts_in_the_viewers_scope(
    gql: GraphQLClient, tenants: Tenants
) -> None:
    for letter, cycle in (("A", tenants.a), ("B", tenants.b)):
        for actor in (cycle.member, cycle.regulator):
            tenants.owner[("User", str(actor.user_id))] = letter
    tenants.owner[("User", str(tenants.national.user_id))] = "N"
    seen = {}
    for name in VIEWERS:
        result = await gql(USERS, actor=tenants.viewer(name))
        if result.get("errors"):
            assert result["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
            seen[name] = "denied"
        else:
            seen[name] = tenants.whose(result["data"])
    assert seen == USER_LISTS


async def test_a_password_change_touches_only_the_callers_account(
    gql: GraphQLClient, tenants: Tenants
) -> None:
    everyone = [tenants.viewer(name) for name in VIEWERS]
    for actor in everyone:
        before = (
            await User.exclude(id=actor.user_id)
            .order_by("id")
            .values_list("id", "password_hash", "session_version")
        )
        result = await gql(
            'mutation { changePassword(currentPassword: "password-123", newPassword: "a new passphrase") '
            "{ errors { code } token } }",
            actor=actor,
        )
        assert code_of(result, "changePassword") == "ok"
        after = (
            await User.exclude(id=actor.user_id)
            .order_by("id")
            .values_list("id", "password_hash", "session_version")
        )
        assert after == before


# -- subscriptions -------------------------------------------------------------------------------

RESYNC = "... on Resync { __typename }"
SUBSCRIPTION_DOCUMENTS = {
    "noticeStatusChanged": "subscription { noticeStatusChanged { CHANGE RESYNC } }",
    "noticeStatusChanged(A's notice)": "subscription($n: ID) { noticeStatusChanged(noticeId: $n) { CHANGE RESYNC } }",
    "alarmRaised": "subscription { alarmRaised { ... on Alarm { ROW notice { ROW } enterprise { ROW } } RESYNC } }",
    "messageReceived": "subscription { messageReceived { ... on Message { ROW notice { ROW } } RESYNC } }",
    "verificationStatusChanged": "subscription { verificationStatusChanged { VERIFICATION RESYNC } }",
    "verificationStatusChanged(A's)": "subscription($v: ID) { verificationStatusChanged(verificationId: $v) "
    "{ VERIFICATION RESYNC } }",
}
SUBSCRIPTION_DOCUMENTS = {
    name: document.replace("CHANGE", "... on NoticeStatusChange { __typename id: noticeId }")
    .replace("VERIFICATION", "... on Verification { ROW report { ROW } findings { ROW } }")
    .replace("RESYNC", RESYNC)
    .replace("ROW", ID)
    for name, document in SUBSCRIPTION_DOCUMENTS.items()
}

# fmt: off
SUBSCRIPTIONS = [
    # subscription                       A member  B member  Guangdong  Beijing  national  A verifier  B verifier
    ("noticeStatusChanged",              "A",      "B",      "A",       "B",     "AB",     "-",     "-"),
    ("noticeStatusChanged(A's notice)",  "A",      "-",      "A",       "-",     "A",      "-",     "-"),
    ("alarmRaised",                      "-",      "-",      "A",       "B",     "AB",     "-",     "-"),
    ("messageReceived",                  "A",      "B",      "A",       "B",     "AB",     "A",     "B"),
    ("verificationStatusChanged",        "A",      "B",      "A",       "B",     "AB",     "A",     "B"),
    ("verificationStatusChanged(A's)",   "A",      "-",      "A",       "-",     "A",      "A",     "-"),
]
# fmt: on


async def something_happens_to_both(t: Tenants) -> None:
    """Each tenant's deadline moves; its 2026 notice is issued and not acknowledged in time; its
    verifier raises a finding and the enterprise answers it."""
    for letter in ("A", "B"):
        finding = await t.finding(letter)
        member = t.a.member if letter == "A" else t.b.member
        await reports.answer_finding(member, finding_id=finding.id, answer="Done")
    for cycle in (t.a, t.b):
        await notices.extend_deadline(cycle.regulator, cycle.notice.id, in_days(60), "flood")
        await cycle.world.allowance(cycle.regulator, cycle.enterprise, 500, year=2026)
        await overdue_acknowledgement(await issue(cycle.regulator, cycle.files, cycle.enterprise, year=2026))


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [(s, row) for s, *row in SUBSCRIPTIONS],
    ids=[s for s, *_ in SUBSCRIPTIONS],
)
async def test_a_subscription_delivers_only_the_events_in_the_viewers_scope(
    app: Any, tenants: Tenants, subscription: str, expected: list[str]
) -> None:
    variables = {"n": str(tenants.a.notice.id), "v": str(tenants.verifications["A"].id)}
    async with running(app) as hub, contextlib.AsyncExitStack() as stack:
        lives = [await stack.enter_async_context(connected(app, tenants.viewer(n))) for n in VIEWERS]
        for live in lives:
            await live.subscribe(SUBSCRIPTION_DOCUMENTS[subscription], variables)
        await something_happens_to_both(tenants)
        delivered = await drain(hub, *lives)
    await tenants.scan()
    seen = {name: tenants.whose(events) for name, events in zip(VIEWERS, delivered, strict=True)}
    assert seen == dict(zip(VIEWERS, expected, strict=True))


# -- nested fields apply scope themselves -------------------------------------------------------


async def test_a_nested_field_never_follows_a_reference_into_another_tenant(
    gql: GraphQLClient, tenants: Tenants
) -> None:
    # Rows the services would never write: B's inbox message and B's notice pointing at A's
    # notice and A's document. The loaders behind Message.notice and Notice.document filter by
    # the viewer's scope themselves, so the reference leads nowhere rather than into A.
    await Message.create(
        enterprise_id=tenants.b.enterprise.id,
        kind="NOTICE",
        title="stray",
        body="",
        notice_id=tenants.a.notice.id,
    )
    await Notice.filter(id=tenants.b.notice.id).update(document_id=tenants.a.notice.document_id)
    result = await gql(
        f"{{ messages {{ edges {{ node {{ title notice {{ {ID} }} }} }} }}"
        f" notices {{ edges {{ node {{ {ID} document {{ {ID} }} }} }} }} }}",
        actor=tenants.b.member,
    )
    stray = [e["node"] for e in result["data"]["messages"]["edges"] if e["node"]["title"] == "stray"]
    assert stray == [{"title": "stray", "notice": None}]
    assert result["data"]["notices"]["edges"][0]["node"]["document"] is None
    assert tenants.whose(result["data"]) == "B"


async def test_an_enterprise_moved_to_another_region_moves_out_of_the_old_regulators_sight(
    gql: GraphQLClient, tenants: Tenants, world: World
) -> None:
    admin = await world.admin()
    moved = await gql(
        'mutation($id: ID!) { updateEnterprise(input: {id: $id, regionCode: "110108"}) { errors { code } } }',
        {"id": str(tenants.a.enterprise.id)},
        actor=admin,
    )
    assert moved["data"]["updateEnterprise"]["errors"] == []
    guangdong = await gql(DOCUMENTS["notices and nested"], actor=tenants.a.regulator)
    beijing = await gql(DOCUMENTS["notices and nested"], actor=tenants.b.regulator)
    assert "errors" not in guangdong and "errors" not in beijing
    assert (tenants.whose(guangdong["data"]), tenants.whose(beijing["data"])) == ("-", "AB")
