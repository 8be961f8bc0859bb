"""A verification not concluded by its due date: one alarm for the regulators, through the
same alarm machinery as late acknowledgements (the unique (verification, kind) key makes the
delayed check, a duplicate message and the sweep all end in one alarm)."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Alarm, AlarmKind, Verification
from services.compliance import alarms
from services.live import jobs
from services.verification.workflow import NOT_CONCLUDED


async def check_verification_overdue(verification_id: int) -> Alarm | None:
    """The delayed check scheduled at assignment; also what the sweep calls per late verification."""
    verification = await Verification.get_or_none(id=verification_id)
    now = datetime.now(UTC)
    if verification is None or verification.status not in NOT_CONCLUDED:
        return None
    if now < verification.due_at:
        # Woken early, or the due date moved with a reassignment: look again when due.
        await jobs.enqueue(
            "check_verification_overdue",
            verification.id,
            delay_seconds=(verification.due_at - now).total_seconds(),
        )
        return None
    return await alarms.raise_verification_alarm(verification, AlarmKind.VERIFICATION_OVERDUE)
