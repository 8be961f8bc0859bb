"""Compliance applications: submission, the balance, and the regulator's review."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import (
    Application,
    ApplicationStatus,
    MessageKind,
    Notice,
    Role,
    Verification,
    VerificationConclusion,
)
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.compliance import documents, inbox
from services.compliance.documents import FileStore, Upload
from services.compliance.notices import advance, get_notice
from services.compliance.workflow import DECISIONS, Action, transition
from services.errors import ErrorCode, ServiceError, not_found
from services.live import events
from services.live.events import EventType
from services.values import Raw, text, whole_tonnes
from services.verification.verifications import current_conclusion


@dataclass(frozen=True)
class Balance:
    """allowance + purchased + usable offsets - verified emissions (negative: a shortfall)."""

    offset_cap: int
    usable_offsets: int
    balance: int
    offsets_over_cap: bool


def compute_balance(
    *, allowance: int, verified_emissions: int, offsets: int, purchased: int, offset_cap_ratio: Decimal
) -> Balance:
    # Offsets may cover at most the cap ratio of the amount due (the verified emissions),
    # rounded down to whole allowances.
    cap = math.floor(Decimal(verified_emissions) * offset_cap_ratio)
    usable = min(offsets, cap)
    return Balance(cap, usable, allowance + purchased + usable - verified_emissions, offsets > cap)


def applications_for(actor: Actor) -> QuerySet[Application]:
    return Application.filter(enterprise_scope(actor, "enterprise"))


async def submit_application(
    actor: Actor,
    files: FileStore,
    *,
    notice_id: int,
    verified_emissions: Raw | None,
    offsets: Raw,
    purchased_allowances: Raw,
    report: Upload | None,
    note: str | None = None,
    idempotency_key: str | None = None,
) -> Application:
    """Submit (or, after a rejection, resubmit) the year's compliance application.

    Once a verifier's conclusion stands for the enterprise-year, the verified emissions and the
    report are the conclusion's: a different figure is VERIFIED_EMISSIONS_MISMATCH and no
    upload is read. A notice that requires verification refuses an application without one
    (VERIFICATION_REQUIRED); otherwise the enterprise states the figure and attaches the report,
    as before verification existed.

    A retry carrying the same idempotency key returns the application the first
    attempt created instead of creating another.
    """
    require_role(actor, Role.ENTERPRISE)
    now = datetime.now(UTC)
    verified = (
        whole_tonnes(verified_emissions, "verifiedEmissions") if verified_emissions is not None else None
    )
    offset_t = whole_tonnes(offsets, "offsets")
    purchased = whole_tonnes(purchased_allowances, "purchasedAllowances")
    note = text(note, "note", max_length=5000, required=False)
    key = text(idempotency_key, "idempotencyKey", max_length=100, required=False) or None
    if key and (earlier := await _replayed(actor, key, notice_id)):
        return earlier
    notice = await get_notice(actor, notice_id)
    try:
        transition(notice, Action.SUBMIT_APPLICATION, now)  # fail fast, before reading the upload
    except ServiceError:
        # The first attempt may have committed since the check above (the notice is UNDER_REVIEW
        # now): then this is its replay, not an invalid transition.
        if key and (earlier := await _replayed(actor, key, notice_id)):
            return earlier
        raise
    conclusion = await current_conclusion(notice.enterprise_id, notice.year)
    _check_verified(notice, conclusion, verified)
    incoming = await files.accept(report, "report") if conclusion is None else None
    try:
        async with in_transaction():
            notice = await get_notice(actor, notice_id, for_update=True)
            # A retry that waited here for its first attempt (row lock on PostgreSQL, the one
            # transaction at a time on SQLite) now sees the notice moved on: it is a replay.
            if key and (earlier := await _replayed(actor, key, notice_id)):
                return earlier
            # The verification's row serialises this with a conclusion being issued: read again
            # under it, a conclusion is either committed (and taken) or not yet begun.
            await Verification.filter(
                enterprise_id=notice.enterprise_id, year=notice.year
            ).select_for_update()
            standing = await current_conclusion(notice.enterprise_id, notice.year)
            if standing is not None and (conclusion is None or standing.id != conclusion.id):
                _check_verified(notice, standing, verified)
                conclusion = standing
            if conclusion is not None:
                verified, report_id = conclusion.verified_emissions, conclusion.report_id
            else:
                assert verified is not None and incoming is not None  # _check_verified made sure
                stored = await documents.save(
                    files, incoming, enterprise_id=notice.enterprise_id, actor=actor
                )
                report_id = stored.id
            balance = compute_balance(
                allowance=notice.allowance,
                verified_emissions=verified,
                offsets=offset_t,
                purchased=purchased,
                offset_cap_ratio=notice.offset_cap_ratio,
            )
            before = await advance(notice, Action.SUBMIT_APPLICATION, now)
            application = await Application.create(
                notice_id=notice.id,
                enterprise_id=notice.enterprise_id,
                verified_emissions=verified,
                offsets=offset_t,
                purchased_allowances=purchased,
                allowance=notice.allowance,
                usable_offsets=balance.usable_offsets,
                balance=balance.balance,
                offsets_over_cap=balance.offsets_over_cap,
                report_id=report_id,
                conclusion_id=conclusion.id if conclusion else None,
                note=note,
                idempotency_key=key,
                submitted_by_id=actor.user_id,
                submitted_at=now,
            )
            await audit.record(
                actor,
                "application.submitted",
                application,
                notice_id=notice.id,
                from_status=before,
                to_status=notice.status,
                data={
                    "balance": balance.balance,
                    "offsetsOverCap": balance.offsets_over_cap,
                    "conclusionId": conclusion.id if conclusion else None,
                    "reportSha256": conclusion.report_sha256 if conclusion else None,
                },
            )
    except (IntegrityError, ServiceError):
        # Two retries of one submission raced; the other one won and created it (a unique key
        # refused this one's row, or the notice's version had moved under it).
        if key and (earlier := await _replayed(actor, key, notice_id)):
            return earlier
        raise
    region = await events.region_of(notice.enterprise_id)
    await events.publish(
        events.notice_changed(
            EventType.APPLICATION_SUBMITTED, notice, region, before, application=application
        )
    )
    return application


def _check_verified(notice: Notice, conclusion: VerificationConclusion | None, verified: int | None) -> None:
    """The verified figure against the standing conclusion, or its absence against the notice."""
    if conclusion is not None:
        if verified is not None and verified != conclusion.verified_emissions:
            raise ServiceError(
                ErrorCode.VERIFIED_EMISSIONS_MISMATCH,
                "the verifier's conclusion gives {concluded} t, not {verified} t",
                "verifiedEmissions",
                params={"concluded": conclusion.verified_emissions, "verified": verified},
            )
        return
    if notice.require_verification:
        raise ServiceError(
            ErrorCode.VERIFICATION_REQUIRED,
            "the notice requires a verifier's conclusion on the {year} emissions before applying",
            "verifiedEmissions",
            params={"year": notice.year},
        )
    if verified is None:
        raise ServiceError(ErrorCode.REQUIRED, "verifiedEmissions is required", "verifiedEmissions")


async def _replayed(actor: Actor, key: str, notice_id: int) -> Application | None:
    earlier = await Application.filter(enterprise_id=actor.enterprise_id, idempotency_key=key).first()
    if earlier is not None and earlier.notice_id != notice_id:
        raise ServiceError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotency key was used for another notice",
            "idempotencyKey",
        )
    return earlier


async def review_application(
    actor: Actor, *, application_id: int, decision: Action, reason: str | None = None
) -> Application:
    """Approve or reject. A rejection needs a reason; approving a shortfall needs an override reason."""
    require_role(actor, Role.REGULATOR)
    if decision not in DECISIONS:
        raise ServiceError(ErrorCode.INVALID_TRANSITION, "decision must be APPROVE or REJECT", "decision")
    now = datetime.now(UTC)
    reason = text(reason, "reason", max_length=5000, required=False) or None
    async with in_transaction():
        application = await applications_for(actor).filter(id=application_id).select_for_update().first()
        if application is None:
            raise not_found("Application", "applicationId")
        if application.status != ApplicationStatus.UNDER_REVIEW:
            raise _already_decided(application)
        if decision == Action.REJECT and not reason:
            raise ServiceError(ErrorCode.REASON_REQUIRED, "a rejection needs a reason", "reason")
        if decision == Action.APPROVE and application.balance < 0 and not reason:
            raise ServiceError(
                ErrorCode.SHORTFALL_OVERRIDE_REQUIRED,
                "the application is short by {balance} t; approving needs an override reason",
                "reason",
                params={"balance": -application.balance},
            )
        notice = await get_notice(actor, application.notice_id, for_update=True)
        # Compare-and-set: on SQLite, where row locks do not exist, this is what makes a
        # second reviewer lose.
        decided = await Application.filter(id=application.id, status=ApplicationStatus.UNDER_REVIEW).update(
            status=DECISIONS[decision], decided_by_id=actor.user_id, decided_at=now, decision_reason=reason
        )
        if decided != 1:
            raise _already_decided(application)
        before = await advance(notice, decision, now)
        await application.refresh_from_db()
        await audit.record(
            actor,
            f"application.{DECISIONS[decision].value.lower()}",
            application,
            notice_id=notice.id,
            from_status=before,
            to_status=notice.status,
            reason=reason,
            data={"balance": application.balance},
        )
        message = await inbox.post(
            notice.enterprise_id,
            MessageKind.REVIEW_RESULT,
            inbox.Text(
                "approved" if decision == Action.APPROVE else "rejected",
                {"year": notice.year, "reason": reason or ""},
            ),
            notice.id,
        )
    region = await events.region_of(notice.enterprise_id)
    await events.publish(
        events.notice_changed(
            EventType.APPLICATION_REVIEWED, notice, region, before, application=application
        ),
        events.message_created(message, region),
    )
    return application


def _already_decided(application: Application) -> ServiceError:
    return ServiceError(
        ErrorCode.APPLICATION_ALREADY_DECIDED,
        "application {id} has already been decided",
        "applicationId",
        params={"id": application.id},
    )
