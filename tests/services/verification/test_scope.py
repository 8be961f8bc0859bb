"""The verifier as a third tenant kind: its body's assignments and nothing else."""

from __future__ import annotations

from models import Notice, Role
from services.access import Actor, enterprise_scope, sees, sees_verification
from services.compliance import documents, inbox
from services.compliance.alarms import alarms_for
from services.compliance.notices import notices_for
from services.energy.records import records
from services.enterprises import enterprises_for
from services.errors import ErrorCode
from services.live.events import Event, EventType, visible_to
from services.verification.bodies import bodies_for
from services.verification.verifications import get_verification, records_of, verifications_for
from tests.services.cycle import fails_with
from tests.services.verification.support import Three, energy


async def test_a_verifier_sees_its_bodys_verifications_only(three: Three) -> None:
    mine = await three.assign()
    other_body = await three.world.body()
    rival = await three.world.verifier(other_body)
    assert [v.id for v in await verifications_for(three.verifier)] == [mine.id]
    assert await verifications_for(rival).count() == 0
    with fails_with(ErrorCode.NOT_FOUND, "verificationId"):
        await get_verification(rival, mine.id)
    # Reassigned: the first body loses it, the second gains it.
    await three.assign(other_body)
    assert await verifications_for(three.verifier).count() == 0
    assert [v.id for v in await verifications_for(rival)] == [mine.id]


async def test_a_verifier_sees_no_enterprise_notice_record_alarm_or_other_body(three: Three) -> None:
    await three.assign()
    await energy(three.enterprise, 2025, [1_000_000])
    await three.world.body()
    verifier = three.verifier
    assert await enterprises_for(verifier).count() == 0
    assert await notices_for(verifier).count() == 0
    assert await records(verifier).count() == 0
    assert await alarms_for(verifier).count() == 0
    assert await Notice.filter(enterprise_scope(verifier, "enterprise")).count() == 0
    assert not sees(verifier, three.enterprise.id, three.enterprise.region_code)
    assert [b.id for b in await bodies_for(verifier)] == [three.body.id]
    # Through its verification: the enterprise-year's records.
    verification = await get_verification(verifier, three.vid)
    assert await records_of(verification).count() == 1


async def test_a_verifier_reads_its_verifications_documents_and_not_the_notices(three: Three) -> None:
    await three.assign()
    verification = await three.report()
    assert verification.report_id is not None
    assert (await documents.get_document(three.verifier, verification.report_id)).id == verification.report_id
    assert three.notice.document_id is not None
    with fails_with(ErrorCode.NOT_FOUND):
        await documents.get_document(three.verifier, three.notice.document_id)
    rival = await three.world.verifier(await three.world.body())
    with fails_with(ErrorCode.NOT_FOUND):
        await documents.get_document(rival, verification.report_id)


async def test_a_verifiers_inbox_is_its_bodys(three: Three) -> None:
    await three.assign()
    rival = await three.world.verifier(await three.world.body())
    assert await inbox.messages_for(three.verifier).count() == 1
    assert await inbox.messages_for(rival).count() == 0
    assert await inbox.messages_for(three.member).count() == 3  # allowance, notice, assignment


def test_verification_events_reach_the_bodies_concerned_and_the_enterprises_side() -> None:
    event = Event(
        EventType.VERIFICATION_CHANGED,
        enterprise_id=1,
        region_code="440113",
        data={"verificationId": 9, "bodyId": 5, "previousBodyId": 4},
    )
    assert visible_to(event, Actor(1, "v5", Role.VERIFIER, verification_body_id=5))
    assert visible_to(event, Actor(2, "v4", Role.VERIFIER, verification_body_id=4))
    assert not visible_to(event, Actor(3, "v6", Role.VERIFIER, verification_body_id=6))
    assert visible_to(event, Actor(4, "member", Role.ENTERPRISE, enterprise_id=1))
    assert not visible_to(event, Actor(5, "other", Role.ENTERPRISE, enterprise_id=2))
    assert visible_to(event, Actor(6, "gd", Role.REGULATOR, region_prefix="44"))
    assert not visible_to(event, Actor(7, "bj", Role.REGULATOR, region_prefix="11"))
    message = Event(
        EventType.MESSAGE_CREATED, None, "440113", None, {"messageId": 1, "toRegulators": False, "toBody": 5}
    )
    assert visible_to(message, Actor(1, "v5", Role.VERIFIER, verification_body_id=5))
    assert not visible_to(message, Actor(3, "v6", Role.VERIFIER, verification_body_id=6))
    assert not visible_to(message, Actor(6, "gd", Role.REGULATOR, region_prefix="44"))
    # An ordinary notice event never reaches a verifier, whatever its region prefix.
    notice = Event(EventType.NOTICE_ISSUED, 1, "440113", 3, {})
    assert not visible_to(notice, Actor(1, "v5", Role.VERIFIER, verification_body_id=5))
    assert not sees_verification(Actor(1, "v", Role.VERIFIER), 1, "440113", 5)  # bound to no body
