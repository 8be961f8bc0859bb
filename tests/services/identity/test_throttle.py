"""Sign-in throttling: back-off, lockout, forgetting, and the counters shared in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models import AuditEvent, Role, SignInThrottle
from services.errors import ErrorCode
from services.identity import throttle
from services.identity.throttle import Key, ThrottlePolicy, TooManyAttempts
from services.identity.users import SignIn, create_user, login
from tests.conftest import SECRET, World
from tests.services.cycle import fails_with

POLICY = ThrottlePolicy(backoff_after=3, lockout_after=6, lockout_seconds=600, address_factor=2)
# Locked out at the third failure: a first back-off step is one second, which a slow machine can
# outwait between two attempts of a test that runs in real time.
LOCKING = ThrottlePolicy(backoff_after=3, lockout_after=3, lockout_seconds=600, address_factor=2)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_the_wait_doubles_after_the_free_attempts_then_locks() -> None:
    # Written out rather than computed: 3 free failures, then 1, 2, 4 s, then the lockout.
    assert [POLICY.delay(n).total_seconds() for n in range(0, 9)] == [0, 0, 0, 1, 2, 4, 600, 600, 600]
    address = POLICY.for_address()
    assert (address.backoff_after, address.lockout_after) == (6, 12)


def test_the_wait_never_exceeds_the_lockout() -> None:
    slow = ThrottlePolicy(backoff_after=1, lockout_after=1000, lockout_seconds=60)
    assert [slow.delay(n).total_seconds() for n in (1, 2, 7, 8, 500)] == [1, 2, 60, 60, 60]


async def refused_for(keys: list[Key], now: datetime) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.admit(keys, now)
    assert refused.value.code == ErrorCode.TOO_MANY_ATTEMPTS
    assert refused.value.retry_after_seconds is not None
    assert f"{refused.value.retry_after_seconds} s" in refused.value.message
    return refused.value.retry_after_seconds


async def test_failures_make_the_next_attempt_wait_then_lock_the_key(db: str) -> None:
    keys = [Key("username", "alice", POLICY)]
    now = T0
    for _ in range(3):  # free
        await throttle.admit(keys, now)
    assert await refused_for(keys, now) == 1
    now += seconds(1)
    await throttle.admit(keys, now)  # the 4th failure: 2 s next
    assert await refused_for(keys, now + seconds(1.5)) == 1  # 0.5 s left, rounded up
    now += seconds(2)
    await throttle.admit(keys, now)  # 5th: 4 s
    now += seconds(4)
    attempt = await throttle.admit(keys, now)  # 6th: locked
    assert attempt.locked_out() == keys
    assert await refused_for(keys, now + seconds(1)) == 599
    assert await refused_for(keys, now + seconds(599.5)) == 1


async def test_a_quiet_period_as_long_as_a_lockout_forgets_the_failures(db: str) -> None:
    keys = [Key("username", "alice", POLICY)]
    for n in range(6):
        await throttle.admit(keys, T0 + seconds(10 * n))  # each after the previous wait
    locked_at = T0 + seconds(50)
    assert await refused_for(keys, locked_at + seconds(599)) == 1
    attempt = await throttle.admit(keys, locked_at + seconds(600))
    assert attempt.counted == [(keys[0], 1)]


async def test_a_correct_password_clears_the_username_and_takes_back_its_address_count(db: str) -> None:
    keys = throttle.keys_for("alice", "10.0.0.7", POLICY)
    for _ in range(2):
        await throttle.admit(keys, T0)
    attempt = await throttle.admit(keys, T0)
    await attempt.succeeded()
    assert not await SignInThrottle.filter(key=keys[0].digest).exists()
    assert (await SignInThrottle.get(key=keys[1].digest)).failures == 2


async def test_a_refused_key_counts_nothing_on_the_others(db: str) -> None:
    address = Key("address", "10.0.0.8", POLICY.for_address())
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):  # six free failures for the address
        await throttle.admit([Key("username", name, POLICY), address], T0)
    with pytest.raises(TooManyAttempts):
        await throttle.admit([Key("username", "fresh", POLICY), address], T0)
    assert (
        await SignInThrottle.filter(key=Key("username", "fresh", POLICY).digest, failures__gt=0).count() == 0
    )
    await throttle.admit([Key("username", "fresh", POLICY)], T0)  # and it is not held back


async def test_of_many_concurrent_attempts_only_the_free_ones_are_admitted(db: str) -> None:
    keys = [Key("username", "alice", POLICY)]
    results = await asyncio.gather(*(throttle.admit(keys, T0) for _ in range(40)), return_exceptions=True)
    admitted = [r for r in results if isinstance(r, throttle.Attempt)]
    refused = [r for r in results if isinstance(r, TooManyAttempts)]
    assert (len(admitted), len(refused)) == (3, 37)
    assert (await SignInThrottle.get(key=keys[0].digest)).failures == 3


async def test_stale_counters_are_pruned(db: str) -> None:
    await throttle.admit([Key("username", "old", POLICY)], T0)
    await throttle.admit([Key("username", "new", POLICY)], T0 + timedelta(days=2))
    assert await throttle.prune(T0 + timedelta(days=1)) == 1
    assert await SignInThrottle.all().count() == 1


async def test_a_username_is_stored_only_as_a_hash(db: str) -> None:
    await throttle.admit(throttle.keys_for("alice\x00", "10.0.0.9", POLICY), T0)
    assert all(len(row.key) == 64 and "alice" not in row.key for row in await SignInThrottle.all())


# -- through login -------------------------------------------------------------------------


async def test_login_is_throttled_alike_for_a_real_and_an_unknown_user(world: World) -> None:
    await create_user(None, username="alice", password="correct horse", role=Role.REGULATOR)
    answers: dict[str, list[object]] = {}
    for name in ("alice", "nobody"):
        sign_in = SignIn(SECRET, 60, address=f"10.1.0.{len(answers)}", policy=LOCKING)
        codes = []
        for _ in range(5):
            with pytest.raises(Exception) as error:
                await login(name, "wrong horse!", sign_in)
            codes.append(getattr(error.value, "code", None))
        answers[name] = codes
    assert (
        answers["alice"]
        == answers["nobody"]
        == [ErrorCode.INVALID_CREDENTIALS] * 3 + [ErrorCode.TOO_MANY_ATTEMPTS] * 2
    )


async def test_even_the_right_password_waits_out_the_back_off(world: World) -> None:
    await create_user(None, username="alice", password="correct horse", role=Role.REGULATOR)
    sign_in = SignIn(SECRET, 60, address="10.2.0.1", policy=LOCKING)
    for _ in range(3):
        with fails_with(ErrorCode.INVALID_CREDENTIALS):
            await login("alice", "wrong horse!", sign_in)
    with fails_with(ErrorCode.TOO_MANY_ATTEMPTS):
        await login("alice", "correct horse", sign_in)


async def test_failed_sign_ins_and_lockouts_are_audited_without_the_password(world: World) -> None:
    user = await create_user(None, username="alice", password="correct horse", role=Role.REGULATOR)
    policy = ThrottlePolicy(backoff_after=10, lockout_after=2, lockout_seconds=60, address_factor=50)
    sign_in = SignIn(SECRET, 60, address="10.3.0.1", policy=policy)
    for name in ("alice", "alice"):
        with fails_with(ErrorCode.INVALID_CREDENTIALS):
            await login(name, "wrong horse!", sign_in)
    with fails_with(ErrorCode.INVALID_CREDENTIALS):
        await login("nobody\x00", "wrong horse!", sign_in)
    events = await AuditEvent.filter(action__startswith="user.sign_in").order_by("id")
    assert [(e.action, e.entity_type, e.entity_id, e.actor_id) for e in events] == [
        ("user.sign_in_failed", "User", user.id, None),
        ("user.sign_in_failed", "User", user.id, None),
        ("user.sign_in_locked", "User", user.id, None),
        ("user.sign_in_failed", "User", 0, None),
    ]
    assert events[2].data == {"username": "alice", "address": "10.3.0.1", "by": "username", "seconds": 60}
    assert events[3].data == {"username": "(not a possible username)", "address": "10.3.0.1"}
    assert all("wrong horse" not in str(e.data) for e in events)
