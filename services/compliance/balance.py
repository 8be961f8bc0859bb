"""The balance an application would have, before it is submitted.

The application form shows it as the enterprise types, so the figure it shows is the one the
server will store: the same `compute_balance`, the notice's own allowance and offset cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.access import Actor
from services.compliance.applications import Balance, compute_balance
from services.compliance.notices import get_notice
from services.values import Raw, whole_tonnes


@dataclass(frozen=True)
class BalancePreview:
    allowance: int
    balance: Balance


async def preview_balance(
    actor: Actor, notice_id: int, *, verified_emissions: Raw, offsets: Raw, purchased_allowances: Raw
) -> BalancePreview:
    """The balance of an application to `notice_id` with these figures; nothing is written.
    NOT_FOUND outside the actor's scope; a bad figure is the coded error submitting would give."""
    verified = whole_tonnes(verified_emissions, "verifiedEmissions")
    offset_t = whole_tonnes(offsets, "offsets")
    purchased = whole_tonnes(purchased_allowances, "purchasedAllowances")
    notice = await get_notice(actor, notice_id)
    return BalancePreview(
        notice.allowance,
        compute_balance(
            allowance=notice.allowance,
            verified_emissions=verified,
            offsets=offset_t,
            purchased=purchased,
            offset_cap_ratio=notice.offset_cap_ratio,
        ),
    )
