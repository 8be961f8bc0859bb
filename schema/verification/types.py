from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

import models
from schema.compliance.types import Document
from schema.context import actor_of
from schema.energy.types import EnergyRecord
from schema.enterprises.types import Enterprise
from schema.enums import FindingSeverity, Sector, VerificationAction, VerificationOpinion, VerificationStatus
from schema.pagination import After, Connection, First, paginate
from schema.scalars import Quantity, Tonnes
from services.energy.factors import millionths
from services.verification import verifications, workflow


@strawberry.type(description="A third-party verification body (第三方核查机构).")
class VerificationBody:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    name: str = strawberry.field(description="Name.")
    credit_code: str = strawberry.field(description="Unified social credit code (统一社会信用代码).")
    accreditation_number: str = strawberry.field(description="Its accreditation number.")
    is_active: bool = strawberry.field(description="Inactive bodies get no new assignment.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @strawberry.field(description="The ETS sectors it is accredited for.")
    def sectors(self, root: strawberry.Parent[models.VerificationBody]) -> list[Sector]:
        return [Sector(s) for s in root.sectors]


@strawberry.type(description="A verifier's finding with its reduction suggestion (减排建议), and the answer.")
class VerificationFinding:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    severity: FindingSeverity = strawberry.field(description="OBSERVATION, MINOR or MAJOR.")
    text: str = strawberry.field(description="What the verifier found.")
    suggestion: str = strawberry.field(description="The reduction suggestion (减排建议), if any.")
    raised_at: datetime = strawberry.field(description="When it was raised.")
    answer: str | None = strawberry.field(description="The enterprise's answer, once given.")
    answered_at: datetime | None = strawberry.field(description="When it was answered.")

    @strawberry.field(description="Username of the verifier who raised it.")
    async def raised_by(self, root: strawberry.Parent[models.VerificationFinding], info: Info) -> str | None:
        return await info.context.loaders.username_by_id.load(root.raised_by_id)


@strawberry.type(
    description="A verifier's conclusion (核查结论): immutable; a correction is a new conclusion "
    "that supersedes it."
)
class VerificationConclusion:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    year: int = strawberry.field(description="The verified year.")
    verified_emissions: Tonnes = strawberry.field(description="Verified emissions (经核准的碳排放量).")
    opinion: VerificationOpinion = strawberry.field(description="UNQUALIFIED, QUALIFIED or ADVERSE.")
    report_sha256: str = strawberry.field(description="SHA-256 of the conclusion report, hex.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    sequence: int = strawberry.field(description="1 for the first conclusion, 2 for its first correction...")
    correction_reason: str | None = strawberry.field(description="Why it corrects the one it supersedes.")

    @strawberry.field(description="Username of the verifier who issued it.")
    async def issued_by(
        self, root: strawberry.Parent[models.VerificationConclusion], info: Info
    ) -> str | None:
        return await info.context.loaders.username_by_id.load(root.issued_by_id)

    @strawberry.field(description="The body that issued it.", graphql_type=VerificationBody)
    async def body(
        self, root: strawberry.Parent[models.VerificationConclusion], info: Info
    ) -> models.VerificationBody | None:
        return await info.context.loaders.body_by_id.load(root.body_id)

    @strawberry.field(description="The conclusion report (核查结论报告).", graphql_type=Document | None)
    async def report(
        self, root: strawberry.Parent[models.VerificationConclusion], info: Info
    ) -> models.Document | None:
        return await info.context.loaders.document_by_id.load(root.report_id)

    @strawberry.field(description="The id of the conclusion this one supersedes, if a correction.")
    def supersedes_id(self, root: strawberry.Parent[models.VerificationConclusion]) -> strawberry.ID | None:
        return strawberry.ID(str(root.supersedes_id)) if root.supersedes_id else None

    @strawberry.field(description="Whether a later conclusion supersedes this one.")
    async def superseded(self, root: strawberry.Parent[models.VerificationConclusion], info: Info) -> bool:
        rows = await info.context.loaders.conclusions_by_verification_id.load(root.verification_id)
        return any(row.sequence > root.sequence for row in rows)

    @strawberry.field(description="The verification it concludes.", graphql_type="Verification | None")
    async def verification(
        self, root: strawberry.Parent[models.VerificationConclusion], info: Info
    ) -> models.Verification | None:
        return await info.context.loaders.verification_by_id.load(root.verification_id)


@strawberry.type(description="One step in a verification's history (audit trail), oldest first.")
class VerificationEvent:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    at: datetime = strawberry.field(description="When it happened.")
    action: str = strawberry.field(
        description="What happened, e.g. verification.assigned, verification.concluded."
    )
    from_status: str | None = strawberry.field(description="Status before.")
    to_status: str | None = strawberry.field(description="Status after.")
    reason: str | None = strawberry.field(description="Reason given (reassignment, correction).")

    @strawberry.field(description="Username of who did it; null for the system.")
    async def actor_name(self, root: strawberry.Parent[models.AuditEvent], info: Info) -> str | None:
        if root.actor_id is None:
            return None
        return await info.context.loaders.username_by_id.load(root.actor_id)


@strawberry.type(description="An enterprise-year's third-party verification (核查).")
class Verification:
    id: strawberry.ID = strawberry.field(description="Opaque identifier.")
    year: int = strawberry.field(description="The year whose emissions are verified.")
    status: VerificationStatus = strawberry.field(description="Where it stands.")
    due_at: datetime = strawberry.field(description="The conclusion is due by this instant.")
    assigned_at: datetime = strawberry.field(description="When the current body was assigned.")
    reported_emissions: Tonnes | None = strawberry.field(
        description="The enterprise's reported emissions (latest report)."
    )
    records_without_factor: int = strawberry.field(
        description="Energy records left out of computedEmissions for want of an emission factor."
    )
    report_submitted_at: datetime | None = strawberry.field(description="When the latest report came.")
    submissions: int = strawberry.field(description="How many times a report was submitted.")
    version: int = strawberry.field(description="Increases with every change.")

    @classmethod
    def is_type_of(cls, obj: object, info: Info) -> bool:
        # Resolvers return Tortoise rows; unions need to know which GraphQL type a row is.
        return isinstance(obj, models.Verification | cls)

    @strawberry.field(
        description="tCO2 computed from the enterprise's energy records when the report came.",
        graphql_type=Quantity | None,
    )
    def computed_emissions(self, root: strawberry.Parent[models.Verification]) -> Decimal | None:
        return None if root.computed_emissions is None else millionths(root.computed_emissions)

    @strawberry.field(
        description="reportedEmissions - computedEmissions, tCO2 (null before a report).",
        graphql_type=Quantity | None,
    )
    def emissions_difference(self, root: strawberry.Parent[models.Verification]) -> Decimal | None:
        if root.reported_emissions is None or root.computed_emissions is None:
            return None
        return millionths(root.reported_emissions * 1_000_000 - root.computed_emissions)

    @strawberry.field(description="The verified enterprise's name.")
    async def enterprise_name(self, root: strawberry.Parent[models.Verification], info: Info) -> str:
        enterprise = await info.context.loaders.verified_enterprise_by_id.load(root.enterprise_id)
        return enterprise.name if enterprise else ""

    @strawberry.field(description="The verified enterprise's credit code.")
    async def enterprise_credit_code(self, root: strawberry.Parent[models.Verification], info: Info) -> str:
        enterprise = await info.context.loaders.verified_enterprise_by_id.load(root.enterprise_id)
        return enterprise.credit_code if enterprise else ""

    @strawberry.field(
        description="The enterprise, for those who see it (regulators, its users); null for verifiers.",
        graphql_type=Enterprise | None,
    )
    async def enterprise(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> models.Enterprise | None:
        return await info.context.loaders.enterprise_by_id.load(root.enterprise_id)

    @strawberry.field(description="The body assigned.", graphql_type=VerificationBody)
    async def body(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> models.VerificationBody | None:
        return await info.context.loaders.body_by_id.load(root.body_id)

    @strawberry.field(description="The enterprise's latest emissions report.", graphql_type=Document | None)
    async def report(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> models.Document | None:
        if root.report_id is None:
            return None
        return await info.context.loaders.document_by_id.load(root.report_id)

    @strawberry.field(
        description="The verifier's findings, oldest first.", graphql_type=list[VerificationFinding]
    )
    async def findings(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> list[models.VerificationFinding]:
        return await info.context.loaders.findings_by_verification_id.load(root.id)

    @strawberry.field(
        description="Every conclusion, oldest first (the last one stands).",
        graphql_type=list[VerificationConclusion],
    )
    async def conclusions(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> list[models.VerificationConclusion]:
        return await info.context.loaders.conclusions_by_verification_id.load(root.id)

    @strawberry.field(
        description="The standing conclusion, if any.", graphql_type=VerificationConclusion | None
    )
    async def conclusion(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> models.VerificationConclusion | None:
        rows = await info.context.loaders.conclusions_by_verification_id.load(root.id)
        return rows[-1] if rows else None

    @strawberry.field(
        description="The enterprise-year's energy records, with their emissions and factors.",
        graphql_type=Connection[EnergyRecord],
    )
    async def energy_records(
        self, root: strawberry.Parent[models.Verification], first: First = None, after: After = None
    ) -> Connection[models.EnergyRecord]:
        return await paginate(verifications.records_of(root), first, after)

    @strawberry.field(description="What you may do next with this verification.")
    def allowed_actions(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> list[VerificationAction]:
        return workflow.allowed_actions(root, actor_of(info))

    @strawberry.field(
        description="The audit trail of the verification, oldest first.", graphql_type=list[VerificationEvent]
    )
    async def timeline(
        self, root: strawberry.Parent[models.Verification], info: Info
    ) -> list[models.AuditEvent]:
        return await info.context.loaders.events_by_verification_id.load(root.id)
