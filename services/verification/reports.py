"""The enterprise's emissions report, the verifier's findings and the enterprise's answers."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import Enterprise, FindingSeverity, MessageKind, Role, Verification, VerificationFinding
from services import audit
from services.access import Actor, require_role, verification_scope
from services.compliance import documents, inbox
from services.compliance.documents import FileStore, Upload
from services.errors import ErrorCode, ServiceError, not_found
from services.i18n.render import Term
from services.values import MAX_ID, Raw, text, whole_tonnes
from services.verification.verifications import (
    advance,
    computed_emissions,
    get_verification,
    publish_change,
)
from services.verification.workflow import Action, transition


async def submit_emission_report(
    actor: Actor, files: FileStore, *, verification_id: int, reported_emissions: Raw, document: Upload | None
) -> Verification:
    """Submit (or, after findings, resubmit) the year's emissions report. The emissions computed
    from the enterprise's energy records are recorded beside the reported figure."""
    require_role(actor, Role.ENTERPRISE)
    reported = whole_tonnes(reported_emissions, "reportedEmissions")
    verification = await get_verification(actor, verification_id)
    transition(verification, Action.SUBMIT_REPORT)  # fail fast, before reading the upload
    incoming = await files.accept(document, "document")
    computed = await computed_emissions(verification.enterprise_id, verification.year)
    now = datetime.now(UTC)
    async with in_transaction():
        verification = await get_verification(actor, verification_id, for_update=True)
        stored = await documents.save(files, incoming, enterprise_id=verification.enterprise_id, actor=actor)
        resubmission = verification.submissions > 0
        before = await advance(
            verification,
            Action.SUBMIT_REPORT,
            reported_emissions=reported,
            computed_emissions=computed.emissions,
            records_without_factor=computed.without_factor,
            report_id=stored.id,
            report_submitted_at=now,
            submissions=verification.submissions + 1,
        )
        await audit.record(
            actor,
            "verification.report_resubmitted" if resubmission else "verification.report_submitted",
            verification,
            verification_id=verification.id,
            from_status=before,
            to_status=verification.status,
            data={
                "reportedEmissions": reported,
                "computedEmissionsMillionths": computed.emissions,
                "recordsWithoutFactor": computed.without_factor,
                "reportSha256": incoming.sha256,
            },
        )
        enterprise = await Enterprise.get(id=verification.enterprise_id)
        message = await inbox.post_to_body(
            verification.body_id,
            inbox.Text(
                "verification.report_resubmitted" if resubmission else "verification.report_submitted",
                {"enterprise": enterprise.name, "year": verification.year, "reported": reported},
            ),
            verification.id,
        )
    await publish_change(verification, before, Action.SUBMIT_REPORT.value, [message])
    return verification


async def add_finding(
    actor: Actor, *, verification_id: int, severity: FindingSeverity, finding: str, suggestion: str | None
) -> VerificationFinding:
    """A verifier's finding, with its reduction suggestion (减排建议): the enterprise answers
    and resubmits before the verifier concludes."""
    require_role(actor, Role.VERIFIER)
    finding = text(finding, "text", max_length=5000)
    suggestion = text(suggestion, "suggestion", max_length=5000, required=False)
    now = datetime.now(UTC)
    async with in_transaction():
        verification = await get_verification(actor, verification_id, for_update=True)
        before = await advance(verification, Action.ADD_FINDING)
        row = await VerificationFinding.create(
            verification_id=verification.id,
            severity=severity,
            text=finding,
            suggestion=suggestion,
            raised_by_id=actor.user_id,
            raised_at=now,
        )
        await audit.record(
            actor,
            "verification.finding_added",
            row,
            verification_id=verification.id,
            from_status=before,
            to_status=verification.status,
            data={"severity": severity.value},
        )
        message = await inbox.post(
            verification.enterprise_id,
            MessageKind.VERIFICATION,
            inbox.Text(
                "verification.finding_suggestion" if suggestion else "verification.finding",
                {
                    "year": verification.year,
                    "severity": Term(severity.value),
                    "finding": finding,
                    "suggestion": suggestion or "",
                },
            ),
            verification_id=verification.id,
        )
    await publish_change(verification, before, Action.ADD_FINDING.value, [message])
    return row


async def answer_finding(actor: Actor, *, finding_id: int, answer: str) -> VerificationFinding:
    """The enterprise's answer to a finding (once); corrections then come as a resubmission."""
    require_role(actor, Role.ENTERPRISE)
    answer = text(answer, "answer", max_length=5000)
    now = datetime.now(UTC)
    async with in_transaction():
        row = (
            await VerificationFinding.filter(
                verification_scope(actor, "verification"), id=finding_id if 0 < finding_id <= MAX_ID else -1
            )
            .select_for_update()
            .first()
        )
        if row is None:
            raise not_found("Finding", "findingId")
        verification = await get_verification(actor, row.verification_id)
        transition(verification, Action.ANSWER_FINDING)
        answered = await VerificationFinding.filter(id=row.id, answered_at__isnull=True).update(
            answer=answer, answered_by_id=actor.user_id, answered_at=now
        )
        if answered != 1:
            raise ServiceError(
                ErrorCode.FINDING_ALREADY_ANSWERED, "this finding has been answered", "findingId"
            )
        await row.refresh_from_db()
        await audit.record(actor, "verification.finding_answered", row, verification_id=verification.id)
        message = await inbox.post_to_body(
            verification.body_id,
            inbox.Text("verification.finding_answered", {"year": verification.year, "answer": answer}),
            verification.id,
        )
    await publish_change(verification, verification.status, Action.ANSWER_FINDING.value, [message])
    return row
