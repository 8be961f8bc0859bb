from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

import models
from schema.context import actor_of
from schema.enums import FindingSeverity, Sector, VerificationOpinion
from schema.errors import Payload, mutation, parse_id
from schema.limits import max_items
from schema.permissions import AUTHENTICATED
from schema.scalars import Tonnes
from schema.verification.types import (
    Verification,
    VerificationBody,
    VerificationConclusion,
    VerificationFinding,
)
from services.compliance import documents
from services.values import Raw
from services.verification import assignments, bodies, conclusions, reports


@strawberry.input(description="A new verification body (administrators).")
class CreateVerificationBodyInput:
    name: str = strawberry.field(description="Name.")
    credit_code: str = strawberry.field(
        description="Unified social credit code, checked like an enterprise's."
    )
    accreditation_number: str = strawberry.field(description="Its accreditation number.")
    sectors: list[Sector] = strawberry.field(
        description="The ETS sectors it is accredited for.", directives=max_items(len(Sector))
    )


@strawberry.input(
    description="Assign (or, before a conclusion, reassign) the body verifying an enterprise-year."
)
class AssignVerificationInput:
    enterprise_id: strawberry.ID = strawberry.field(description="The enterprise (in your region).")
    year: int = strawberry.field(description="The year whose emissions are verified.")
    verification_body_id: strawberry.ID = strawberry.field(description="The body.")
    due_date: datetime = strawberry.field(
        description="The conclusion is due by this instant, with a UTC offset."
    )
    reason: str | None = strawberry.field(default=None, description="Why, for a reassignment (audited).")


@strawberry.input(description="The enterprise's annual emissions report, or a resubmission after findings.")
class SubmitEmissionReportInput:
    verification_id: strawberry.ID = strawberry.field(description="The verification.")
    reported_emissions: Raw = strawberry.field(
        graphql_type=Tonnes, description="Reported emissions, whole tonnes."
    )
    document: documents.Upload = strawberry.field(
        graphql_type=Upload, description="The emissions report: PDF, PNG or JPEG (multipart upload)."
    )


@strawberry.input(description="A verifier's finding.")
class AddVerificationFindingInput:
    verification_id: strawberry.ID = strawberry.field(description="The verification.")
    severity: FindingSeverity = strawberry.field(description="OBSERVATION, MINOR or MAJOR.")
    text: str = strawberry.field(description="What was found.")
    suggestion: str | None = strawberry.field(default=None, description="A reduction suggestion (减排建议).")


@strawberry.input(description="The enterprise's answer to a finding.")
class AnswerVerificationFindingInput:
    finding_id: strawberry.ID = strawberry.field(description="The finding.")
    answer: str = strawberry.field(description="The answer.")


@strawberry.input(description="The verifier's conclusion, or with correctionReason a correction of it.")
class IssueVerificationConclusionInput:
    verification_id: strawberry.ID = strawberry.field(description="The verification.")
    verified_emissions: Raw = strawberry.field(
        graphql_type=Tonnes, description="Verified emissions, whole tonnes."
    )
    opinion: VerificationOpinion = strawberry.field(description="UNQUALIFIED, QUALIFIED or ADVERSE.")
    report: documents.Upload = strawberry.field(
        graphql_type=Upload, description="The conclusion report: PDF, PNG or JPEG (multipart upload)."
    )
    correction_reason: str | None = strawberry.field(
        default=None, description="Given for a correction: the new conclusion supersedes the standing one."
    )


@strawberry.type(description="Result of a verification body mutation.")
class VerificationBodyPayload(Payload):
    body: models.VerificationBody | None = strawberry.field(
        default=None, graphql_type=VerificationBody | None, description="The body, on success."
    )


@strawberry.type(description="Result of declareConflict.")
class DeclareConflictPayload(Payload):
    declared: bool = strawberry.field(default=False, description="True once the conflict is on record.")


@strawberry.type(description="Result of a verification mutation.")
class VerificationPayload(Payload):
    verification: models.Verification | None = strawberry.field(
        default=None, graphql_type=Verification | None, description="The verification, on success."
    )


@strawberry.type(description="Result of a finding mutation.")
class VerificationFindingPayload(Payload):
    finding: models.VerificationFinding | None = strawberry.field(
        default=None, graphql_type=VerificationFinding | None, description="The finding, on success."
    )


@strawberry.type(description="Result of issueVerificationConclusion.")
class VerificationConclusionPayload(Payload):
    conclusion: models.VerificationConclusion | None = strawberry.field(
        default=None, graphql_type=VerificationConclusion | None, description="The conclusion, on success."
    )


@strawberry.type
class VerificationMutations:
    @mutation(permission_classes=AUTHENTICATED, description="Create a verification body (admin).")
    async def create_verification_body(
        self,
        info: Info,
        input: Annotated[CreateVerificationBodyInput, strawberry.argument(description="The body.")],
    ) -> VerificationBodyPayload:
        body = await bodies.create_body(
            actor_of(info),
            bodies.BodyRequest(
                name=input.name,
                credit_code=input.credit_code,
                accreditation_number=input.accreditation_number,
                sectors=[s.value for s in input.sectors],
            ),
        )
        return VerificationBodyPayload(body=body)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Suspend or restore a verification body (admin); an inactive body gets no new assignment.",
    )
    async def set_verification_body_active(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The body.")],
        active: Annotated[bool, strawberry.argument(description="Active or not.")],
        reason: Annotated[str, strawberry.argument(description="Why (audited).")],
    ) -> VerificationBodyPayload:
        body = await bodies.set_body_active(
            actor_of(info), parse_id(id, "verificationBodyId", "Verification body"), active, reason
        )
        return VerificationBodyPayload(body=body)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Declare your body's conflict of interest with an enterprise (verifier): it cannot "
        "be assigned to verify it.",
    )
    async def declare_conflict(
        self,
        info: Info,
        credit_code: Annotated[str, strawberry.argument(description="The enterprise's credit code.")],
        reason: Annotated[str, strawberry.argument(description="The conflict.")],
    ) -> DeclareConflictPayload:
        await bodies.declare_conflict(actor_of(info), credit_code, reason)
        return DeclareConflictPayload(declared=True)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Assign a verification body to an enterprise-year, or reassign it before a "
        "conclusion (regulator in scope).",
    )
    async def assign_verification(
        self,
        info: Info,
        input: Annotated[AssignVerificationInput, strawberry.argument(description="The assignment.")],
    ) -> VerificationPayload:
        verification = await assignments.assign_verification(
            actor_of(info),
            enterprise_id=parse_id(input.enterprise_id, "enterpriseId", "Enterprise"),
            year=input.year,
            body_id=parse_id(input.verification_body_id, "verificationBodyId", "Verification body"),
            due_at=input.due_date,
            max_consecutive_years=info.context.settings.verification_max_consecutive_years,
            reason=input.reason,
        )
        return VerificationPayload(verification=verification)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Submit (or after findings resubmit) the annual emissions report (enterprise).",
    )
    async def submit_emission_report(
        self,
        info: Info,
        input: Annotated[SubmitEmissionReportInput, strawberry.argument(description="The report.")],
    ) -> VerificationPayload:
        verification = await reports.submit_emission_report(
            actor_of(info),
            info.context.files,
            verification_id=parse_id(input.verification_id, "verificationId", "Verification"),
            reported_emissions=input.reported_emissions,
            document=input.document,  # type: ignore[arg-type]  # the multipart file
        )
        return VerificationPayload(verification=verification)

    @mutation(permission_classes=AUTHENTICATED, description="Record a finding on the report (verifier).")
    async def add_verification_finding(
        self,
        info: Info,
        input: Annotated[AddVerificationFindingInput, strawberry.argument(description="The finding.")],
    ) -> VerificationFindingPayload:
        finding = await reports.add_finding(
            actor_of(info),
            verification_id=parse_id(input.verification_id, "verificationId", "Verification"),
            severity=input.severity,
            finding=input.text,
            suggestion=input.suggestion,
        )
        return VerificationFindingPayload(finding=finding)

    @mutation(permission_classes=AUTHENTICATED, description="Answer a finding, once (enterprise).")
    async def answer_verification_finding(
        self,
        info: Info,
        input: Annotated[AnswerVerificationFindingInput, strawberry.argument(description="The answer.")],
    ) -> VerificationFindingPayload:
        finding = await reports.answer_finding(
            actor_of(info), finding_id=parse_id(input.finding_id, "findingId", "Finding"), answer=input.answer
        )
        return VerificationFindingPayload(finding=finding)

    @mutation(
        permission_classes=AUTHENTICATED,
        description="Issue the conclusion (verifier): immutable, with the report's SHA-256, the verifier "
        "and the time. With correctionReason, a correction superseding the standing conclusion.",
    )
    async def issue_verification_conclusion(
        self,
        info: Info,
        input: Annotated[
            IssueVerificationConclusionInput, strawberry.argument(description="The conclusion.")
        ],
    ) -> VerificationConclusionPayload:
        conclusion = await conclusions.issue_conclusion(
            actor_of(info),
            info.context.files,
            verification_id=parse_id(input.verification_id, "verificationId", "Verification"),
            verified_emissions=input.verified_emissions,
            opinion=input.opinion,
            report=input.report,  # type: ignore[arg-type]  # the multipart file
            correction_reason=input.correction_reason,
        )
        return VerificationConclusionPayload(conclusion=conclusion)
