"""The verifier's conclusion (核查结论): immutable once issued; a correction is a new
conclusion that supersedes the standing one, with a reason.

The report's SHA-256, the verifier and the time are kept on the conclusion and in the audit
trail, so the verified emissions an application carries trace back to a named verifier's
document. Of two conclusions issued at once exactly one is stored: the verification's
version (compare-and-set) and the unique (verification, sequence) key both refuse the other.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Enterprise, MessageKind, Role, VerificationConclusion, VerificationOpinion
from services import audit
from services.access import Actor, require_role
from services.compliance import documents, inbox
from services.compliance.documents import FileStore, Upload
from services.errors import ErrorCode, ServiceError
from services.i18n.render import Term
from services.values import Raw, text, whole_tonnes
from services.verification.verifications import (
    advance,
    current_conclusion,
    get_verification,
    publish_change,
)
from services.verification.workflow import Action, transition


async def issue_conclusion(
    actor: Actor,
    files: FileStore,
    *,
    verification_id: int,
    verified_emissions: Raw,
    opinion: VerificationOpinion,
    report: Upload | None,
    correction_reason: str | None = None,
) -> VerificationConclusion:
    """Issue the conclusion, or with `correction_reason` a correction superseding it."""
    require_role(actor, Role.VERIFIER)
    verified = whole_tonnes(verified_emissions, "verifiedEmissions")
    action = Action.ISSUE_CONCLUSION
    if correction_reason is not None:
        correction_reason = text(correction_reason, "correctionReason", max_length=5000)
        action = Action.CORRECT_CONCLUSION
    verification = await get_verification(actor, verification_id)
    transition(verification, action)  # fail fast, before reading the upload
    incoming = await files.accept(report, "report")
    now = datetime.now(UTC)
    try:
        async with in_transaction():
            verification = await get_verification(actor, verification_id, for_update=True)
            before = await advance(verification, action)
            previous = await current_conclusion(verification.enterprise_id, verification.year)
            stored = await documents.save(
                files, incoming, enterprise_id=verification.enterprise_id, actor=actor
            )
            conclusion = await VerificationConclusion.create(
                verification_id=verification.id,
                enterprise_id=verification.enterprise_id,
                year=verification.year,
                body_id=verification.body_id,
                verified_emissions=verified,
                opinion=opinion,
                report_id=stored.id,
                report_sha256=incoming.sha256,
                issued_by_id=actor.user_id,
                issued_at=now,
                supersedes_id=previous.id if previous else None,
                correction_reason=correction_reason,
                sequence=previous.sequence + 1 if previous else 1,
            )
            await audit.record(
                actor,
                "verification.conclusion_corrected" if previous else "verification.concluded",
                conclusion,
                verification_id=verification.id,
                from_status=before,
                to_status=verification.status,
                reason=correction_reason,
                data={
                    "verifiedEmissions": verified,
                    "opinion": opinion.value,
                    "reportSha256": incoming.sha256,
                    "verifier": actor.username,
                    "bodyId": verification.body_id,
                    "supersedes": previous.id if previous else None,
                },
            )
            enterprise = await Enterprise.get(id=verification.enterprise_id)
            params = {
                "enterprise": enterprise.name,
                "year": verification.year,
                "verified": verified,
                "opinion": Term(opinion.value),
                "reason": correction_reason or "",
            }
            words = inbox.Text("verification.corrected" if previous else "verification.concluded", params)
            messages = [
                await inbox.post(
                    verification.enterprise_id,
                    MessageKind.VERIFICATION,
                    words,
                    verification_id=verification.id,
                ),
                await inbox.post_to_regulators(
                    enterprise.region_code, MessageKind.VERIFICATION, words, verification_id=verification.id
                ),
            ]
    except IntegrityError:  # a racing conclusion took this sequence number
        raise ServiceError(
            ErrorCode.CONCURRENT_MODIFICATION, "the verification changed meanwhile; reload and try again"
        ) from None
    await publish_change(verification, before, action.value, messages)
    return conclusion
