"""Racing requests through the real app: exactly one wins, the other gets a coded error.

Each request runs in its own task with its own database connection (a transaction from the
pool on PostgreSQL, where the row locks do the work; on SQLite the version check does).
"""

from __future__ import annotations

import asyncio

from models import Application, ApplicationStatus, AuditEvent, Message, MessageKind, Notice
from tests.conftest import GraphQLClient, World
from tests.schema.compliance.test_review_application import review
from tests.services.cycle import Cycle

LOSING_CODES = {"APPLICATION_ALREADY_DECIDED", "CONCURRENT_MODIFICATION"}


async def test_two_regulators_deciding_at_once_one_wins(
    gql: GraphQLClient, world: World, cycle: Cycle
) -> None:
    for _ in range(3):  # a few rounds: the interleaving differs from run to run
        application = await cycle.under_review()
        colleague = await world.regulator("44")
        results_before = await Message.filter(
            notice_id=cycle.notice.id, kind=MessageKind.REVIEW_RESULT
        ).count()
        approve, reject = await asyncio.gather(
            review(gql, cycle.regulator, application.id, "APPROVE"),
            review(gql, colleague, application.id, "REJECT", "seal missing"),
        )
        outcomes = [approve["data"]["reviewApplication"], reject["data"]["reviewApplication"]]
        winners = [o for o in outcomes if not o["errors"]]
        losers = [o["errors"][0]["code"] for o in outcomes if o["errors"]]
        assert len(winners) == 1 and len(losers) == 1 and losers[0] in LOSING_CODES

        await application.refresh_from_db()
        notice = await Notice.get(id=cycle.notice.id)
        decided = winners[0]["application"]["status"]
        assert application.status == decided
        assert notice.status == ("FULFILLED" if decided == ApplicationStatus.APPROVED else "REJECTED")
        assert await AuditEvent.filter(entity_type="Application", entity_id=application.id).count() == 2
        results = await Message.filter(notice_id=notice.id, kind=MessageKind.REVIEW_RESULT).count()
        assert results == results_before + 1  # the loser told the enterprise nothing
        if notice.status == "FULFILLED":
            return
    # Every round ended in a rejection: the enterprise resubmitted each time, one application per round.
    assert await Application.filter(notice_id=cycle.notice.id).count() == 3
