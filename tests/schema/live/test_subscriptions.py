"""Subscriptions over graphql-transport-ws, through the real app and its lifespan (the embedded
in-memory hub): who may connect, and which events reach which subscriber.

The socket is driven over ASGI on the test's loop (see tests/schema/live.py for why not
TestClient). "Receives nothing" is shown with a barrier, not a sleep: a RESYNC published after
the events must be the next thing the subscriber gets (`drain`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from api.app import create_app
from core.hub import MemoryHub
from core.settings import Settings
from models import Enterprise, Notice, User
from services import enterprises
from services.access import Actor
from services.compliance import alarms, notices
from services.compliance.documents import FileStore
from services.compliance.workflow import Action
from services.identity import tokens
from services.live.events import Event, EventType
from tests.conftest import SECRET, World, in_days
from tests.schema.live.websocket import Closed, bearer, connected, drain, opened, running
from tests.schema.support import overdue_acknowledgement
from tests.services.cycle import Cycle, issue

CHANGES = """
subscription($id: ID) {
  noticeStatusChanged(noticeId: $id) {
    __typename
    ... on NoticeStatusChange {
      noticeId enterpriseId event oldStatus newStatus applicationId applicationStatus rejectionReason
      deadline at
    }
    ... on Resync { at reason }
  }
}
"""
ALARMS = """
subscription {
  alarmRaised {
    __typename
    ... on Alarm { id kind status dueAt acknowledgedLateAt notice { id } enterprise { id name } }
    ... on Resync { at reason }
  }
}
"""
MESSAGES = """
subscription {
  messageReceived {
    __typename
    ... on Message { id kind title readAt notice { id } }
    ... on Resync { at reason }
  }
}
"""


@pytest.fixture
async def hub(app: Starlette) -> AsyncIterator[MemoryHub]:
    """The app's lifespan is running: hub, event publisher and in-process jobs."""
    async with running(app) as hub:
        yield hub


@dataclass
class Region:
    """Two Guangzhou enterprises with members and the Guangdong regulator; allowances for 2025."""

    world: World
    files: FileStore
    mine: Enterprise
    member: Actor
    neighbour: Enterprise
    neighbour_member: Actor
    regulator: Actor

    async def issue(self, year: int = 2025) -> Cycle:
        notice = await issue(self.regulator, self.files, self.mine, year=year)
        return Cycle(self.world, self.files, self.mine, self.regulator, self.member, notice)


@pytest.fixture
async def region(world: World, files: FileStore) -> Region:
    mine, neighbour = await world.enterprise("440113"), await world.enterprise("440113")
    regulator = await world.regulator("44")
    for enterprise in (mine, neighbour):
        await world.allowance(regulator, enterprise)
    return Region(
        world, files, mine, await world.member(mine), neighbour, await world.member(neighbour), regulator
    )


def change(
    event: str, old: str | None, new: str, application: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """What a NoticeStatusChange says about the workflow."""
    return {
        "event": event,
        "oldStatus": old,
        "newStatus": new,
        "applicationStatus": application,
        "rejectionReason": reason,
    }


def summary(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: c[key] for key in change("", None, "")} for c in changes]


# -- connecting ---------------------------------------------------------------------------------


async def expired_token(actor: Actor) -> str:
    return tokens.issue(actor.user_id, SECRET, -60)[0]


async def deactivated_users_token(actor: Actor) -> str:
    await User.filter(id=actor.user_id).update(is_active=False)
    return bearer(actor)["authorization"].removeprefix("Bearer ")


async def other_keys_token(actor: Actor) -> str:
    return tokens.issue(actor.user_id, "another-secret-key-with-enough-entropy-0123456789", 3600)[0]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="no payload"),
        pytest.param({}, id="no token"),
        pytest.param({"authorization": "Bearer not-a-token"}, id="garbage token"),
        pytest.param({"authorization": "Basic dXNlcjpwYXNz"}, id="not bearer"),
        pytest.param(expired_token, id="expired token"),
        pytest.param(other_keys_token, id="signed with another key"),
        pytest.param(deactivated_users_token, id="deactivated user"),
    ],
)
async def test_a_connection_without_a_valid_token_is_closed_with_4403(
    app: Starlette, hub: MemoryHub, region: Region, payload: Any
) -> None:
    if callable(payload):
        payload = {"authorization": f"Bearer {await payload(region.member)}"}
    async with opened(app) as socket:
        init: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            init["payload"] = payload
        await socket.send(init)
        assert await socket.close_code() == 4403
        assert socket.closed is not None and socket.closed.reason == "Forbidden"


async def test_the_token_may_also_come_as_authorization_with_a_capital_a(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with opened(app) as socket:
        await socket.send(
            {"type": "connection_init", "payload": {"Authorization": bearer(region.member)["authorization"]}}
        )
        assert await socket.receive() == {
            "type": "connection_ack",
            "payload": {"user": region.member.username},
        }


async def test_a_client_that_can_set_headers_may_authenticate_the_handshake_instead(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with opened(app, bearer(region.member)) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        assert await socket.receive() == {
            "type": "connection_ack",
            "payload": {"user": region.member.username},
        }


async def test_a_bad_token_in_connection_init_is_refused_even_after_a_good_header(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with opened(app, bearer(region.member)) as socket:
        await socket.send({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
        assert await socket.close_code() == 4403


async def test_a_subscribe_before_connection_ack_is_refused_and_never_listens(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with opened(app) as socket:
        await socket.send({"type": "subscribe", "id": "1", "payload": {"query": CHANGES}})
        assert await socket.close_code() == 4401
    assert hub.subscriptions == set()


async def test_a_subscribe_after_a_refused_init_gets_nothing(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with opened(app) as socket:
        await socket.send({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
        await socket.send({"type": "subscribe", "id": "1", "payload": {"query": CHANGES}})
        assert await socket.close_code() == 4403
    await region.issue()
    assert hub.subscriptions == set()


async def test_a_client_that_goes_away_leaves_the_hub(app: Starlette, hub: MemoryHub, region: Region) -> None:
    async with connected(app, region.member) as live:
        await live.subscribe(CHANGES)
        await live.subscribe(MESSAGES)
        assert len(hub.subscriptions) == 2
    assert hub.subscriptions == set()


async def test_completing_a_subscription_leaves_the_hub(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with connected(app, region.member) as live:
        operation = await live.subscribe(CHANGES)
        await live.socket.send({"type": "complete", "id": operation})
        for _ in range(100):
            if not hub.subscriptions:
                break
            await live.socket.send({"type": "ping"})
            assert await live.receive() == {"type": "pong"}
        assert hub.subscriptions == set()


def open_subscriptions() -> float:
    """The gauge as a scrape reads it (prometheus_client's own exposition and parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    from core.metrics import exposition

    families = text_string_to_metric_families(exposition().decode())
    return next(s.value for f in families for s in f.samples if s.name == "ccms_subscriptions_open")


async def test_open_subscriptions_are_counted_until_they_end(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    before = open_subscriptions()
    async with connected(app, region.member) as live:
        operation = await live.subscribe(CHANGES)
        await live.subscribe(MESSAGES)
        assert open_subscriptions() == before + 2
        await live.socket.send({"type": "complete", "id": operation})
        for _ in range(100):
            if open_subscriptions() == before + 1:
                break
            await live.socket.send({"type": "ping"})
            assert await live.receive() == {"type": "pong"}
        assert open_subscriptions() == before + 1
    assert open_subscriptions() == before


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [("https://app.example.cn", True), ("https://evil.example", False)],
    ids=["a CORS origin", "another origin"],
)
async def test_a_browser_page_on_a_cors_origin_may_open_the_socket(
    settings: Settings, db: str, region: Region, origin: str, accepted: bool
) -> None:
    app = create_app(dataclasses.replace(settings, cors_origins=("https://app.example.cn",)), manage_db=False)
    async with running(app):
        if accepted:
            async with opened(app, {"origin": origin}) as socket:
                await socket.send({"type": "connection_init", "payload": bearer(region.member)})
                assert (await socket.receive())["type"] == "connection_ack"
        else:
            with pytest.raises(Closed) as refused:
                async with opened(app, {"origin": origin}):
                    pass
            assert refused.value.code == 1008  # closed before accept: the handshake gets a 403


# -- noticeStatusChanged --------------------------------------------------------------------------


async def test_an_enterprise_follows_its_notice_through_the_workflow_and_its_neighbour_sees_none(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with connected(app, region.member) as mine, connected(app, region.neighbour_member) as theirs:
        await mine.subscribe(CHANGES)
        await theirs.subscribe(CHANGES)
        cycle = await region.issue()
        await cycle.acknowledge()
        rejected = await cycle.review(await cycle.submit(), Action.REJECT, "seal missing")
        approved = await cycle.review(await cycle.submit(), Action.APPROVE)
        changes = [(await mine.receive())["payload"]["data"]["noticeStatusChanged"] for _ in range(6)]
        assert summary(changes) == [
            change("NOTICE_ISSUED", None, "ISSUED"),
            change("NOTICE_ACKNOWLEDGED", "ISSUED", "ACKNOWLEDGED"),
            change("APPLICATION_SUBMITTED", "ACKNOWLEDGED", "UNDER_REVIEW", "UNDER_REVIEW"),
            change("APPLICATION_REVIEWED", "UNDER_REVIEW", "REJECTED", "REJECTED", reason="seal missing"),
            change("APPLICATION_SUBMITTED", "REJECTED", "UNDER_REVIEW", "UNDER_REVIEW"),
            change("APPLICATION_REVIEWED", "UNDER_REVIEW", "FULFILLED", "APPROVED"),
        ]
        assert {(c["noticeId"], c["enterpriseId"]) for c in changes} == {
            (str(cycle.notice.id), str(region.mine.id))
        }
        assert [c["applicationId"] for c in changes] == [
            None,
            None,
            str(rejected.id),
            str(rejected.id),
            str(approved.id),
            str(approved.id),
        ]
        assert all(c["__typename"] == "NoticeStatusChange" for c in changes)
        assert datetime.fromisoformat(changes[0]["deadline"]) == cycle.notice.deadline
        assert all(
            abs(datetime.fromisoformat(c["at"]) - datetime.now(UTC)) < timedelta(minutes=1) for c in changes
        )
        # The first subscriber has had everything; a RESYNC published now is all the second gets.
        assert await drain(hub, mine, theirs) == [[], []]


async def test_a_deadline_extension_carries_the_new_deadline(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    cycle = await region.issue()
    async with connected(app, region.member) as mine:
        await mine.subscribe(CHANGES)
        later = in_days(60)
        await notices.extend_deadline(region.regulator, cycle.notice.id, later, "flood")
        [[extended]] = await drain(hub, mine)
    assert summary([extended]) == [change("DEADLINE_EXTENDED", "ISSUED", "ISSUED")]
    assert datetime.fromisoformat(extended["deadline"]) == later


async def test_a_subscription_to_one_notice_gets_only_that_notices_changes(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    this_year = await region.issue()
    await region.world.allowance(region.regulator, region.mine, year=2026)
    async with connected(app, region.member) as live:
        await live.subscribe(CHANGES, {"id": str(this_year.notice.id)})
        next_year = await region.issue(2026)
        await next_year.acknowledge()
        await this_year.acknowledge()
        [delivered] = await drain(hub, live)
        assert [(c["noticeId"], c["event"]) for c in delivered] == [
            (str(this_year.notice.id), "NOTICE_ACKNOWLEDGED")
        ]


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999"])
async def test_a_malformed_notice_id_ends_the_subscription_at_once(
    app: Starlette, hub: MemoryHub, region: Region, bad: str
) -> None:
    async with connected(app, region.member) as live:
        operation = await live.start(CHANGES, {"id": bad})
        assert await live.receive() == {"type": "complete", "id": operation}
    assert hub.subscriptions == set()


async def test_another_enterprises_notice_id_yields_nothing(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    cycle = await region.issue()
    async with connected(app, region.neighbour_member) as live:
        await live.subscribe(CHANGES, {"id": str(cycle.notice.id)})
        await cycle.acknowledge()
        assert await drain(hub, live) == [[]]


async def test_regulators_see_the_changes_of_their_region_only(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    beijing, national = await region.world.regulator("11"), await region.world.regulator("")
    async with (
        connected(app, region.regulator) as guangdong,
        connected(app, beijing) as elsewhere,
        connected(app, national) as everywhere,
        connected(app, await region.world.admin()) as admin,
    ):
        for live in (guangdong, elsewhere, everywhere, admin):
            await live.subscribe(CHANGES)
        cycle = await region.issue()
        await cycle.acknowledge()
        seen = await drain(hub, guangdong, elsewhere, everywhere, admin)
    events = [[c["event"] for c in delivered] for delivered in seen]
    assert events == [
        ["NOTICE_ISSUED", "NOTICE_ACKNOWLEDGED"],
        [],
        *[["NOTICE_ISSUED", "NOTICE_ACKNOWLEDGED"]] * 2,
    ]


async def test_an_enterprise_moved_away_leaves_the_old_regions_stream_for_the_new_one(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    # Scope is checked per event against the event's region, read when the change commits, so
    # a move takes effect at once. The subscriber's own actor, though, is the one captured at
    # connect time: a regulator given another region, or a deactivated user, keeps the stream
    # it opened until it reconnects (tokens are not re-checked on an open socket either).
    cycle = await region.issue()
    beijing = await region.world.regulator("11")
    async with connected(app, region.regulator) as guangdong, connected(app, beijing) as elsewhere:
        await guangdong.subscribe(CHANGES)
        await elsewhere.subscribe(CHANGES)
        await enterprises.update_enterprise(await region.world.admin(), region.mine.id, region_code="110108")
        await cycle.acknowledge()
        seen = await drain(hub, guangdong, elsewhere)
    assert [[c["event"] for c in delivered] for delivered in seen] == [[], ["NOTICE_ACKNOWLEDGED"]]


# -- messageReceived and alarmRaised -------------------------------------------------------------


async def test_an_enterprise_receives_its_new_inbox_messages_and_no_one_elses(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with (
        connected(app, region.member) as mine,
        connected(app, region.neighbour_member) as theirs,
        connected(app, region.regulator) as regulator,
    ):
        for live in (mine, theirs, regulator):
            await live.subscribe(MESSAGES)
        cycle = await region.issue()
        await cycle.acknowledge()
        await cycle.review(await cycle.submit(), Action.REJECT, "seal missing")
        seen = await drain(hub, mine, theirs, regulator)
    assert [(m["kind"], m["notice"], m["readAt"]) for m in seen[0]] == [
        ("ALLOWANCE", {"id": str(cycle.notice.id)}, None),
        ("NOTICE", {"id": str(cycle.notice.id)}, None),
        ("REVIEW_RESULT", {"id": str(cycle.notice.id)}, None),
    ]
    assert all(m["__typename"] == "Message" for m in seen[0])
    assert seen[1:] == [[], []]


async def test_each_connection_receives_the_messages_in_its_own_language(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    async with (
        connected(app, region.member) as chinese,
        connected(app, region.member, language="en-US") as english,
    ):
        for live in (chinese, english):
            await live.subscribe(MESSAGES)
        cycle = await region.issue()
        await cycle.acknowledge()
        await cycle.review(await cycle.submit(), Action.REJECT, "seal missing")
        seen = await drain(hub, chinese, english)
    year = cycle.notice.year
    assert [(m["kind"], m["title"]) for m in seen[0] if m["kind"] != "NOTICE"] == [
        ("ALLOWANCE", f"{year} 年度配额通告"),
        ("REVIEW_RESULT", f"{year} 年度履约申请未通过"),
    ]
    assert [(m["kind"], m["title"]) for m in seen[1] if m["kind"] != "NOTICE"] == [
        ("ALLOWANCE", f"{year} allowance"),
        ("REVIEW_RESULT", f"{year}: application rejected"),
    ]


async def test_regulators_of_the_region_receive_the_alarm_message_and_the_enterprise_does_not(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    cycle = await region.issue()
    async with (
        connected(app, region.member) as member,
        connected(app, region.regulator) as guangdong,
        connected(app, await region.world.regulator("11")) as beijing,
        connected(app, await region.world.admin()) as admin,
    ):
        for live in (member, guangdong, beijing, admin):
            await live.subscribe(MESSAGES)
        await overdue_acknowledgement(cycle.notice)
        seen = await drain(hub, member, guangdong, beijing, admin)
    assert [(m["kind"], m["notice"]) for m in seen[1]] == [("ALARM", {"id": str(cycle.notice.id)})]
    assert (seen[0], seen[2], seen[3]) == ([], [], [])


async def test_an_ack_overdue_alarm_reaches_the_regulators_in_scope_only(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    cycle = await region.issue()
    async with (
        connected(app, region.member) as member,
        connected(app, region.regulator) as guangdong,
        connected(app, await region.world.regulator("11")) as beijing,
        connected(app, await region.world.regulator("")) as national,
        connected(app, await region.world.admin()) as admin,
    ):
        for live in (member, guangdong, beijing, national, admin):
            await live.subscribe(ALARMS)
        await overdue_acknowledgement(cycle.notice)
        first = (await guangdong.receive())["payload"]["data"]["alarmRaised"]
        seen = await drain(hub, member, guangdong, beijing, national, admin)
    due = (await Notice.get(id=cycle.notice.id)).ack_due_at
    assert first == {
        "__typename": "Alarm",
        "id": first["id"],
        "kind": "ACK_OVERDUE",
        "status": "OPEN",
        "dueAt": first["dueAt"],
        "acknowledgedLateAt": None,
        "notice": {"id": str(cycle.notice.id)},
        "enterprise": {"id": str(region.mine.id), "name": region.mine.name},
    }
    assert datetime.fromisoformat(first["dueAt"]) == due
    assert seen == [[], [], [], [first], [first]]


async def test_the_same_alarm_checked_twice_is_announced_once(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    cycle = await region.issue()
    async with connected(app, region.regulator) as guangdong:
        await guangdong.subscribe(ALARMS)
        await overdue_acknowledgement(cycle.notice)
        await alarms.check_acknowledgement(cycle.notice.id)
        [delivered] = await drain(hub, guangdong)
    assert [a["kind"] for a in delivered] == ["ACK_OVERDUE"]


# -- resync and slow subscribers ----------------------------------------------------------------


async def test_a_resync_reaches_every_subscriber_of_every_subscription(
    app: Starlette, hub: MemoryHub, region: Region
) -> None:
    viewers = [region.member, region.neighbour_member, region.regulator, await region.world.admin()]
    async with contextlib.AsyncExitStack() as stack:
        lives = [await stack.enter_async_context(connected(app, viewer)) for viewer in viewers]
        for live in lives:
            for query in (CHANGES, ALARMS, MESSAGES):
                await live.subscribe(query)
        before = datetime.now(UTC)
        hub.deliver(Event(EventType.RESYNC))
        for live in lives:
            messages = [await live.receive() for _ in range(3)]
            assert sorted(m["id"] for m in messages) == ["1", "2", "3"]
            for message in messages:
                [resync] = message["payload"]["data"].values()
                assert resync == {
                    "__typename": "Resync",
                    "at": resync["at"],
                    "reason": "event stream interrupted; refetch",
                }
                assert before <= datetime.fromisoformat(resync["at"]) <= datetime.now(UTC)


async def test_a_subscriber_that_falls_behind_is_dropped_with_subscriber_too_slow(
    settings: Settings, db: str, region: Region
) -> None:
    app = create_app(dataclasses.replace(settings, subscriber_queue_size=2), manage_db=False)
    cycle = await region.issue()
    async with running(app) as hub, connected(app, region.member) as slow:
        await slow.subscribe(CHANGES)
        for _ in range(5):  # published faster than anyone reads: the queue of 2 overflows
            hub.deliver(Event(EventType.RESYNC))
        queued = await slow.receive()
        dropped = await slow.receive()
        assert queued["payload"]["data"]["noticeStatusChanged"]["__typename"] == "Resync"
        assert dropped == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [
                    {
                        "message": "订阅跟不上事件，已被终止：请重新订阅并刷新数据",
                        "extensions": {"code": "SUBSCRIBER_TOO_SLOW"},
                    }
                ],
            },
        }
        assert await slow.receive() == {"id": "1", "type": "complete"}
        assert hub.subscriptions == set()
        # The connection stays up: the client resubscribes on it (and refetches) and hears again.
        await slow.subscribe(CHANGES)
        await cycle.acknowledge()
        [delivered] = await drain(hub, slow)
        assert [c["event"] for c in delivered] == ["NOTICE_ACKNOWLEDGED"]
