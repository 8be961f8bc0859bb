from models import NoticeStatus
from services import applications, notices
from services.workflow import Action
from tests.conftest import World, in_days, pdf


async def test_a_notice_goes_from_issue_to_fulfilment(world: World, files) -> None:
    enterprise = await world.enterprise()
    regulator = await world.regulator()
    member = await world.member(enterprise)
    await world.allowance(regulator, enterprise, 1000)
    notice = await notices.issue_notice(
        regulator, files, enterprise_id=enterprise.id, year=2025, deadline=in_days(30),
        ack_window_hours=72, title="2025 notice", body="", document=pdf(),
    )
    await notices.acknowledge_notice(member, notice.id)
    application = await applications.submit_application(
        member, files, notice_id=notice.id, verified_emissions=1100, offsets=100,
        purchased_allowances=50, report=pdf("report.pdf"),
    )
    assert application.usable_offsets == 55 and application.balance == 5
    decided = await applications.review_application(regulator, application_id=application.id, decision=Action.APPROVE)
    await notice.refresh_from_db()
    assert decided.status == "APPROVED" and notice.status == NoticeStatus.FULFILLED
