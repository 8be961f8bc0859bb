"""Applications take the verified emissions and the report from the verifier's conclusion."""

from __future__ import annotations

import math
from decimal import Decimal

from models import Application, AuditEvent, Notice, NoticeStatus
from services.compliance import applications, notices
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from services.errors import ErrorCode
from tests.conftest import World, pdf
from tests.services.cycle import fails_with, unchanged
from tests.services.verification.support import Three


async def apply(three: Three, **overrides: object) -> Application:
    values: dict[str, object] = {
        "notice_id": three.notice.id,
        "verified_emissions": None,
        "offsets": 60,
        "purchased_allowances": 20,
        "report": None,
    }
    values.update(overrides)
    return await applications.submit_application(three.member, three.files, **values)  # type: ignore[arg-type]


async def test_a_notice_requiring_verification_refuses_an_application_without_a_conclusion(
    three: Three,
) -> None:
    await notices.acknowledge_notice(three.member, three.notice.id)
    await three.assign()
    await three.report()
    async with unchanged():
        with fails_with(ErrorCode.VERIFICATION_REQUIRED, "verifiedEmissions"):
            await apply(three, verified_emissions=1100, report=pdf("report.pdf"))
    assert (await Notice.get(id=three.notice.id)).status == NoticeStatus.ACKNOWLEDGED


async def test_the_application_takes_the_figure_and_report_from_the_conclusion(three: Three) -> None:
    await notices.acknowledge_notice(three.member, three.notice.id)
    conclusion = await three.concluded(1080)
    application = await apply(three)
    assert application.conclusion_id == conclusion.id
    assert (application.verified_emissions, application.report_id) == (1080, conclusion.report_id)
    # The balance on the verified figure: 1000 allowance + 20 bought + min(60, 5 % of 1080) - 1080.
    cap = math.floor(Decimal(1080) * Decimal("0.05"))
    assert application.balance == 1000 + 20 + min(60, cap) - 1080
    event = await AuditEvent.get(entity_type="Application", entity_id=application.id)
    assert event.data["conclusionId"] == conclusion.id
    assert event.data["reportSha256"] == conclusion.report_sha256


async def test_the_same_figure_is_accepted_and_another_is_refused(three: Three) -> None:
    await notices.acknowledge_notice(three.member, three.notice.id)
    await three.concluded(1080)
    async with unchanged():
        with fails_with(ErrorCode.VERIFIED_EMISSIONS_MISMATCH, "verifiedEmissions"):
            await apply(three, verified_emissions=1000)
    application = await apply(three, verified_emissions=1080)
    assert application.verified_emissions == 1080


async def test_a_correction_is_what_the_next_application_takes(three: Three) -> None:
    await notices.acknowledge_notice(three.member, three.notice.id)
    await three.concluded(1080)
    first = await apply(three)
    await applications.review_application(
        three.regulator, application_id=first.id, decision=Action.REJECT, reason="Wait for the correction"
    )
    corrected = await three.conclude(1200, reason="Boiler 2 was left out")
    second = await apply(three)
    assert (second.conclusion_id, second.verified_emissions) == (corrected.id, 1200)


async def test_without_verification_the_enterprise_states_the_figure_as_before(
    world: World, files: FileStore
) -> None:
    three = await Three.start(world, files, require_verification=False)
    await notices.acknowledge_notice(three.member, three.notice.id)
    with fails_with(ErrorCode.REQUIRED, "verifiedEmissions"):
        await apply(three, report=pdf("report.pdf"))
    with fails_with(ErrorCode.DOCUMENT_REQUIRED, "report"):
        await apply(three, verified_emissions=1100)
    application = await apply(three, verified_emissions=1100, report=pdf("report.pdf"))
    assert (application.conclusion_id, application.verified_emissions) == (None, 1100)
