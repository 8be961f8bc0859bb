"""The verification workflow: report with computed emissions, findings, resubmission, the
immutable conclusion and its correction, and what each party may do next."""

from __future__ import annotations

import hashlib

from models import (
    AuditEvent,
    Document,
    Message,
    VerificationConclusion,
    VerificationFinding,
    VerificationOpinion,
    VerificationStatus,
)
from services.errors import ErrorCode
from services.live.events import Event
from services.verification import reports
from services.verification.workflow import Action, allowed_actions
from tests.services.cycle import fails_with
from tests.services.verification.support import CONCLUSION, REPORT, Three, energy


async def test_a_report_records_the_computed_emissions_and_how_many_records_lack_a_factor(
    three: Three,
) -> None:
    values = [570_300_000, 1_140_600_000, None, 2_000_000_001]
    await energy(three.enterprise, 2025, values)
    await energy(three.enterprise, 2024, [999_000_000])  # another year: not counted
    await three.assign()
    verification = await three.report(reported=3700)
    expected = sum(v for v in values if v is not None)
    assert verification.status == VerificationStatus.REPORT_SUBMITTED
    assert (verification.reported_emissions, verification.computed_emissions) == (3700, expected)
    assert verification.records_without_factor == 1
    document = await Document.get(id=verification.report_id)
    assert document.sha256 == hashlib.sha256(REPORT).hexdigest()
    # The body hears of it.
    assert await Message.filter(verification_body_id=three.body.id).count() == 2


async def test_findings_then_answers_then_a_resubmission_lead_to_the_conclusion(three: Three) -> None:
    await three.assign()
    await three.report(1100)
    finding = await three.finding()
    assert (await three.reload()).status == VerificationStatus.FINDINGS_RAISED
    # No conclusion while findings are outstanding.
    with fails_with(ErrorCode.INVALID_TRANSITION):
        await three.conclude()
    answered = await reports.answer_finding(three.member, finding_id=finding.id, answer="Meter 3 re-read")
    assert answered.answer == "Meter 3 re-read" and answered.answered_by_id == three.member.user_id
    with fails_with(ErrorCode.FINDING_ALREADY_ANSWERED, "findingId"):
        await reports.answer_finding(three.member, finding_id=finding.id, answer="again")
    resubmitted = await three.report(1080)
    assert (resubmitted.status, resubmitted.submissions, resubmitted.reported_emissions) == (
        VerificationStatus.REPORT_SUBMITTED,
        2,
        1080,
    )
    conclusion = await three.conclude(1080)
    assert (await three.reload()).status == VerificationStatus.CONCLUDED
    actions = (
        await AuditEvent.filter(verification_id=three.vid).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "verification.assigned",
        "verification.report_submitted",
        "verification.finding_added",
        "verification.finding_answered",
        "verification.report_resubmitted",
        "verification.concluded",
    ]
    assert conclusion.sequence == 1


async def test_the_conclusion_keeps_the_reports_hash_the_verifier_and_the_time(three: Three) -> None:
    conclusion = await three.concluded(1080)
    assert conclusion.report_sha256 == hashlib.sha256(CONCLUSION).hexdigest()
    assert conclusion.issued_by_id == three.verifier.user_id and conclusion.body_id == three.body.id
    event = await AuditEvent.get(verification_id=three.vid, action="verification.concluded")
    assert event.data["reportSha256"] == conclusion.report_sha256
    assert event.data["verifier"] == three.verifier.username
    assert event.data["verifiedEmissions"] == 1080


async def test_a_conclusion_is_immutable_and_a_correction_supersedes_it_with_a_reason(three: Three) -> None:
    first = await three.concluded(1080)
    with fails_with(ErrorCode.VERIFICATION_ALREADY_CONCLUDED):
        await three.conclude(1090)
    with fails_with(ErrorCode.REQUIRED, "correctionReason"):
        await three.conclude(1090, reason="  ")
    second = await three.conclude(1090, reason="Transcription error in table 2", data=b"%PDF-1.7\nv2\n")
    assert (second.supersedes_id, second.sequence, second.verified_emissions) == (first.id, 2, 1090)
    await first.refresh_from_db()
    assert (first.verified_emissions, first.report_sha256) == (1080, hashlib.sha256(CONCLUSION).hexdigest())
    assert await VerificationConclusion.all().count() == 2
    event = await AuditEvent.get(verification_id=three.vid, action="verification.conclusion_corrected")
    assert event.reason == "Transcription error in table 2" and event.data["supersedes"] == first.id


async def test_each_party_is_offered_only_its_own_next_actions(three: Three) -> None:
    verification = await three.assign()
    assert allowed_actions(verification, three.member) == [Action.SUBMIT_REPORT]
    assert allowed_actions(verification, three.verifier) == []
    assert allowed_actions(verification, three.regulator) == [Action.REASSIGN]
    verification = await three.report()
    assert allowed_actions(verification, three.verifier) == [Action.ADD_FINDING, Action.ISSUE_CONCLUSION]
    assert allowed_actions(verification, three.member) == []
    await three.conclude()
    verification = await three.reload()
    assert allowed_actions(verification, three.verifier) == [Action.CORRECT_CONCLUSION]
    assert allowed_actions(verification, three.regulator) == []


async def test_the_wrong_party_is_refused_and_nothing_is_written(three: Three) -> None:
    await three.assign()
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await reports.submit_emission_report(
            three.verifier, three.files, verification_id=three.vid, reported_emissions=1, document=None
        )
    with fails_with(ErrorCode.INVALID_TRANSITION):
        await three.finding()  # no report yet
    with fails_with(ErrorCode.PERMISSION_DENIED):
        await three.conclude(actor=three.member)
    with fails_with(ErrorCode.NEGATIVE_QUANTITY, "reportedEmissions"):
        await three.report(-5)
    assert (await three.reload()).status == VerificationStatus.ASSIGNED
    assert await VerificationFinding.all().count() == 0
    assert await Document.filter(enterprise_id=three.enterprise.id).count() == 1  # the notice's


async def test_every_step_publishes_an_event_after_its_commit(three: Three, published: list[Event]) -> None:
    await three.assign()
    await three.report()
    await three.finding()
    await three.report()
    await three.conclude(opinion=VerificationOpinion.QUALIFIED)
    changes = [e.data["action"] for e in published if e.type.value == "VERIFICATION_CHANGED"]
    assert changes == ["assigned", "SUBMIT_REPORT", "ADD_FINDING", "SUBMIT_REPORT", "ISSUE_CONCLUSION"]
    assert all(e.data["bodyId"] == three.body.id for e in published if e.type.value == "VERIFICATION_CHANGED")
