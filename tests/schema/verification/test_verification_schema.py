"""The verification mutations and queries through the ASGI app: success, each error code, and
the caller without a token or without the role."""

from __future__ import annotations

import hashlib

import pytest

from models import Verification, VerificationBody, VerificationConclusion, VerificationFinding
from services.codes import make_credit_code
from tests.conftest import PDF, GraphQLClient, World, in_days
from tests.schema.support import refused, succeeded, tenant_data, unauthenticated
from tests.services.verification.support import Three

CREATE_BODY = """
mutation($input: CreateVerificationBodyInput!) {
  createVerificationBody(input: $input) {
    errors { code field message } body { id name creditCode accreditationNumber sectors isActive }
  }
}
"""
SET_ACTIVE = """
mutation($id: ID!, $active: Boolean!) {
  setVerificationBodyActive(id: $id, active: $active, reason: "accreditation suspended") {
    errors { code field message } body { isActive }
  }
}
"""
ASSIGN = """
mutation($input: AssignVerificationInput!) {
  assignVerification(input: $input) {
    errors { code field message } verification { id status year allowedActions body { id } enterpriseName }
  }
}
"""
DECLARE = """
mutation($code: String!) {
  declareConflict(creditCode: $code, reason: "shared ownership") { errors { code field message } declared }
}
"""
REPORT = """
mutation($input: SubmitEmissionReportInput!) {
  submitEmissionReport(input: $input) {
    errors { code field message }
    verification { status reportedEmissions computedEmissions emissionsDifference report { sha256 } }
  }
}
"""
FINDING = """
mutation($input: AddVerificationFindingInput!) {
  addVerificationFinding(input: $input) { errors { code field message } finding { id severity text suggestion raisedBy } }
}
"""
CONCLUDE = """
mutation($input: IssueVerificationConclusionInput!) {
  issueVerificationConclusion(input: $input) {
    errors { code field message }
    conclusion { verifiedEmissions opinion reportSha256 issuedBy sequence supersedesId superseded }
  }
}
"""
VERIFICATION = """
query($id: ID!) {
  verification(id: $id) {
    status allowedActions enterprise { id } enterpriseName
    energyRecords { edges { node { id } } }
    conclusion { verifiedEmissions } timeline { action actorName }
  }
}
"""
CONCLUSION_PDF = ("结论.pdf", PDF, "application/pdf")


def body_input(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "中环核查",
        "creditCode": make_credit_code("110105", "MB000321"),
        "accreditationNumber": "CNAS-V-7",
        "sectors": ["POWER", "CEMENT"],
    }
    values.update(overrides)
    return values


async def test_an_admin_creates_a_body_and_suspends_it(gql: GraphQLClient, world: World) -> None:
    admin = await world.admin()
    body = succeeded(await gql(CREATE_BODY, {"input": body_input()}, actor=admin), "createVerificationBody")[
        "body"
    ]
    assert (body["name"], body["sectors"], body["isActive"]) == ("中环核查", ["POWER", "CEMENT"], True)
    suspended = await gql(SET_ACTIVE, {"id": body["id"], "active": False}, actor=admin)
    assert succeeded(suspended, "setVerificationBodyActive")["body"] == {"isActive": False}


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"creditCode": "91110105MB0003210"}, "INVALID_CREDIT_CODE", "creditCode"),
        ({"sectors": []}, "REQUIRED", "sectors"),
        ({"accreditationNumber": ""}, "REQUIRED", "accreditationNumber"),
    ],
)
async def test_a_bad_body_is_refused_with_its_code(
    gql: GraphQLClient, world: World, overrides: dict[str, object], code: str, field: str
) -> None:
    admin = await world.admin()
    refused(
        await gql(CREATE_BODY, {"input": body_input(**overrides)}, actor=admin),
        "createVerificationBody",
        code,
        field,
    )
    assert await VerificationBody.all().count() == 0


async def test_only_admins_create_bodies(gql: GraphQLClient, world: World) -> None:
    regulator = await world.regulator()
    refused(
        await gql(CREATE_BODY, {"input": body_input()}, actor=regulator),
        "createVerificationBody",
        "PERMISSION_DENIED",
    )
    unauthenticated(await gql(CREATE_BODY, {"input": body_input()}), "createVerificationBody")


def assignment(three: Three, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "enterpriseId": str(three.enterprise.id),
        "year": 2025,
        "verificationBodyId": str(three.body.id),
        "dueDate": in_days(60).isoformat(),
    }
    values.update(overrides)
    return {"input": values}


async def test_the_regulator_assigns_and_each_refusal_has_its_code(gql: GraphQLClient, three: Three) -> None:
    before = await tenant_data(three.enterprise.id)
    await VerificationBody.filter(id=three.body.id).update(is_active=False)
    result = await gql(ASSIGN, assignment(three), actor=three.regulator)
    refused(result, "assignVerification", "VERIFICATION_BODY_INACTIVE", "verificationBodyId")
    await VerificationBody.filter(id=three.body.id).update(is_active=True, sectors=["CEMENT"])
    result = await gql(ASSIGN, assignment(three), actor=three.regulator)
    refused(result, "assignVerification", "SECTOR_NOT_ACCREDITED", "verificationBodyId")
    await VerificationBody.filter(id=three.body.id).update(sectors=["POWER"])
    declared = await gql(DECLARE, {"code": three.enterprise.credit_code}, actor=three.verifier)
    assert succeeded(declared, "declareConflict")["declared"] is True
    result = await gql(ASSIGN, assignment(three), actor=three.regulator)
    refused(result, "assignVerification", "CONFLICT_OF_INTEREST", "verificationBodyId")
    result = await gql(ASSIGN, assignment(three, dueDate=in_days(-1).isoformat()), actor=three.regulator)
    refused(result, "assignVerification", "DEADLINE_IN_PAST", "dueDate")
    result = await gql(ASSIGN, assignment(three), actor=three.member)
    refused(result, "assignVerification", "PERMISSION_DENIED")
    assert await tenant_data(three.enterprise.id) == before
    other = await three.world.body()
    done = succeeded(
        await gql(ASSIGN, assignment(three, verificationBodyId=str(other.id)), actor=three.regulator),
        "assignVerification",
    )["verification"]
    assert (done["status"], done["allowedActions"], done["body"]) == (
        "ASSIGNED",
        ["REASSIGN"],
        {"id": str(other.id)},
    )


async def test_the_consecutive_years_rule_follows_the_setting(
    gql: GraphQLClient, three: Three, settings: object
) -> None:
    # The test settings leave the rule off: four years in a row are accepted.
    for year in (2022, 2023, 2024, 2025):
        succeeded(
            await gql(ASSIGN, assignment(three, year=year), actor=three.regulator), "assignVerification"
        )
    assert await Verification.filter(body_id=three.body.id).count() == 4


async def test_report_finding_and_conclusion_over_graphql(gql: GraphQLClient, three: Three) -> None:
    await three.assign()
    report = await gql.upload(
        REPORT,
        {"input": {"verificationId": str(three.vid), "reportedEmissions": 1100, "document": None}},
        files={"input.document": ("排放报告.pdf", PDF, "application/pdf")},
        actor=three.member,
    )
    verification = succeeded(report, "submitEmissionReport")["verification"]
    assert verification["report"] == {"sha256": hashlib.sha256(PDF).hexdigest()}
    assert (verification["computedEmissions"], verification["emissionsDifference"]) == ("0", "1100")
    finding = succeeded(
        await gql(
            FINDING,
            {
                "input": {
                    "verificationId": str(three.vid),
                    "severity": "MINOR",
                    "text": "t",
                    "suggestion": "s",
                }
            },
            actor=three.verifier,
        ),
        "addVerificationFinding",
    )["finding"]
    assert (finding["severity"], finding["raisedBy"]) == ("MINOR", three.verifier.username)
    conclude = {
        "verificationId": str(three.vid),
        "verifiedEmissions": 1080,
        "opinion": "QUALIFIED",
        "report": None,
    }
    result = await gql.upload(
        CONCLUDE, {"input": conclude}, files={"input.report": CONCLUSION_PDF}, actor=three.verifier
    )
    refused(result, "issueVerificationConclusion", "INVALID_TRANSITION")
    await three.report(1080)
    result = await gql.upload(
        CONCLUDE, {"input": conclude}, files={"input.report": CONCLUSION_PDF}, actor=three.verifier
    )
    conclusion = succeeded(result, "issueVerificationConclusion")["conclusion"]
    assert conclusion == {
        "verifiedEmissions": 1080,
        "opinion": "QUALIFIED",
        "reportSha256": hashlib.sha256(PDF).hexdigest(),
        "issuedBy": three.verifier.username,
        "sequence": 1,
        "supersedesId": None,
        "superseded": False,
    }
    result = await gql.upload(
        CONCLUDE, {"input": conclude}, files={"input.report": CONCLUSION_PDF}, actor=three.verifier
    )
    refused(result, "issueVerificationConclusion", "VERIFICATION_ALREADY_CONCLUDED")
    corrected = await gql.upload(
        CONCLUDE,
        {"input": {**conclude, "verifiedEmissions": 1085, "correctionReason": "typo"}},
        files={"input.report": CONCLUSION_PDF},
        actor=three.verifier,
    )
    assert succeeded(corrected, "issueVerificationConclusion")["conclusion"]["supersedesId"] is not None
    assert await VerificationConclusion.all().count() == 2
    assert await VerificationFinding.all().count() == 1


async def test_the_verification_query_shows_the_verifier_no_enterprise_but_its_records(
    gql: GraphQLClient, three: Three
) -> None:
    from tests.services.verification.support import energy

    await energy(three.enterprise, 2025, [1_000_000, None])
    await three.assign()
    seen = (await gql(VERIFICATION, {"id": str(three.vid)}, actor=three.verifier))["data"]["verification"]
    assert seen["enterprise"] is None and seen["enterpriseName"] == three.enterprise.name
    assert len(seen["energyRecords"]["edges"]) == 2
    assert seen["timeline"] == [{"action": "verification.assigned", "actorName": three.regulator.username}]
    regulator_view = (await gql(VERIFICATION, {"id": str(three.vid)}, actor=three.regulator))["data"]
    assert regulator_view["verification"]["enterprise"] == {"id": str(three.enterprise.id)}
    rival = await three.world.verifier(await three.world.body())
    assert (await gql(VERIFICATION, {"id": str(three.vid)}, actor=rival))["data"] == {"verification": None}
    assert (await gql(VERIFICATION, {"id": "abc"}, actor=rival))["data"] == {"verification": None}
