"""Racing writers on a verification: exactly one conclusion wins, and an application racing a
conclusion either takes it or is refused, never carrying a figure no conclusion gave."""

from __future__ import annotations

from models import Application, VerificationConclusion
from services.compliance import notices
from services.compliance.documents import FileStore
from services.errors import ErrorCode
from tests.conftest import World
from tests.services.compliance.test_concurrency import losers, race, winners
from tests.services.verification.support import Three
from tests.services.verification.test_applications import apply

ROUNDS = 4


async def test_two_conclusions_at_once_store_exactly_one(world: World, files: FileStore) -> None:
    for _ in range(ROUNDS):
        three = await Three.start(world, files)
        await three.assign()
        await three.report()
        colleague = await world.verifier(three.body)
        results = await race(three.conclude(1080), three.conclude(1090, actor=colleague))
        assert len(winners(results)) == 1
        assert {e.code for e in losers(results)} <= {
            ErrorCode.VERIFICATION_ALREADY_CONCLUDED,
            ErrorCode.CONCURRENT_MODIFICATION,
        }
        stored = await VerificationConclusion.filter(verification_id=three.vid)
        assert [c.id for c in stored] == [winners(results)[0].id]


async def test_an_application_racing_the_conclusion_takes_it_or_is_refused(
    world: World, files: FileStore
) -> None:
    for _ in range(ROUNDS):
        three = await Three.start(world, files)
        await notices.acknowledge_notice(three.member, three.notice.id)
        await three.assign()
        await three.report()
        results = await race(three.conclude(1080), apply(three, verified_emissions=1080))
        conclusion = results[0]
        assert isinstance(conclusion, VerificationConclusion)
        stored = await Application.filter(notice_id=three.notice.id)
        if isinstance(results[1], Application):
            [application] = stored
            assert (application.conclusion_id, application.verified_emissions) == (conclusion.id, 1080)
            assert application.report_id == conclusion.report_id
        else:
            assert results[1].code == ErrorCode.VERIFICATION_REQUIRED
            assert stored == []
