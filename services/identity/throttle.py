"""Sign-in throttling per username and per client address, shared by every API process.

The counters live in the database (`sign_in_throttles`), so they hold across API processes
and restarts on the embedded SQLite default and on PostgreSQL alike, with no Redis needed.

An attempt is counted *before* the password is checked: `admit` increments the counters
with a compare-and-set, so of forty concurrent attempts only the first few get as far as the
(expensive) hash, and the rest are refused at once. A correct password then takes its count
back (`Attempt.succeeded`). After `backoff_after` failures each further attempt must wait
1 s, 2 s, 4 s... after the previous one; after `lockout_after` failures the key is locked for
`lockout_seconds`. A quiet period as long as a lockout forgets the failures.

A client address gets `address_factor` times the allowance of a username: offices and
mobile networks put many people behind one address. Throttling by username also locks the
real user out while someone guesses at their account; that lockout is temporary, is
recorded in the audit trail, and an administrator's password reset lifts it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from models import SignInThrottle
from services.errors import ErrorCode, ServiceError

CAS_ATTEMPTS = 20  # compare-and-set retries under contention before giving up on a key


@dataclass(frozen=True)
class ThrottlePolicy:
    backoff_after: int = 3
    lockout_after: int = 10
    lockout_seconds: int = 900
    address_factor: int = 10

    def for_address(self) -> ThrottlePolicy:
        return replace(
            self,
            backoff_after=self.backoff_after * self.address_factor,
            lockout_after=self.lockout_after * self.address_factor,
            address_factor=1,
        )

    def delay(self, failures: int) -> timedelta:
        """How long after the latest of `failures` failures the next attempt must wait."""
        if failures >= self.lockout_after:
            return timedelta(seconds=self.lockout_seconds)
        if failures < self.backoff_after:
            return timedelta(0)
        return timedelta(seconds=min(2 ** min(failures - self.backoff_after, 30), self.lockout_seconds))

    @property
    def forget_after(self) -> timedelta:
        return timedelta(seconds=self.lockout_seconds)


@dataclass(frozen=True)
class Key:
    """What is counted: a username ("username") or a client address ("address")."""

    kind: str
    value: str
    policy: ThrottlePolicy

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.kind}\n{self.value}".encode("utf-8", "surrogatepass")).hexdigest()


def keys_for(username: str, address: str | None, policy: ThrottlePolicy) -> list[Key]:
    keys = [Key("username", username, policy)]
    if address:
        keys.append(Key("address", address, policy.for_address()))
    return keys


class TooManyAttempts(ServiceError):
    def __init__(self, retry_after: timedelta) -> None:
        seconds = max(1, math.ceil(retry_after.total_seconds()))
        super().__init__(
            ErrorCode.TOO_MANY_ATTEMPTS,
            "Too many failed sign-ins: try again in {seconds} s",
            retry_after_seconds=seconds,
            params={"seconds": seconds},
        )


@dataclass
class Attempt:
    """An admitted attempt: the counts it added, to take back if the password was right."""

    counted: list[tuple[Key, int]] = field(default_factory=list)  # (key, failures including this one)

    def locked_out(self) -> list[Key]:
        """The keys this attempt, as a failure, has just locked."""
        return [key for key, failures in self.counted if failures == key.policy.lockout_after]

    async def succeeded(self) -> None:
        """A correct password: the username starts afresh, the address just takes this one back."""
        for key, _ in self.counted:
            if key.kind == "username":
                await SignInThrottle.filter(key=key.digest).delete()
            else:
                await _uncount(key)


async def admit(keys: list[Key], now: datetime | None = None) -> Attempt:
    """Count an attempt against every key, or raise TooManyAttempts (counting nothing)."""
    now = now or datetime.now(UTC)
    attempt = Attempt()
    try:
        for key in keys:
            attempt.counted.append((key, await _count(key, now)))
    except TooManyAttempts:
        for key, _ in attempt.counted:
            await _uncount(key)
        raise
    return attempt


async def _count(key: Key, now: datetime) -> int:
    policy = key.policy
    for _ in range(CAS_ATTEMPTS):
        row = await SignInThrottle.get_or_none(key=key.digest)
        if row is None:
            try:
                await SignInThrottle.create(
                    key=key.digest, failures=1, last_failure_at=now, next_attempt_at=now + policy.delay(1)
                )
                return 1
            except IntegrityError:
                continue  # created meanwhile by a concurrent attempt: read it
        forgotten = now - row.last_failure_at >= policy.forget_after
        if not forgotten and row.next_attempt_at > now:
            raise TooManyAttempts(row.next_attempt_at - now)
        failures = 1 if forgotten else row.failures + 1
        updated = await SignInThrottle.filter(
            key=key.digest, failures=row.failures, last_failure_at=row.last_failure_at
        ).update(failures=failures, last_failure_at=now, next_attempt_at=now + policy.delay(failures))
        if updated:
            return failures
    # So contended that every try lost the race: many attempts at once, so this one waits.
    raise TooManyAttempts(timedelta(seconds=1))


async def _uncount(key: Key) -> None:
    for _ in range(CAS_ATTEMPTS):
        row = await SignInThrottle.get_or_none(key=key.digest)
        if row is None or row.failures <= 0:
            return
        failures = row.failures - 1
        updated = await SignInThrottle.filter(
            key=key.digest, failures=row.failures, last_failure_at=row.last_failure_at
        ).update(failures=failures, next_attempt_at=row.last_failure_at + key.policy.delay(failures))
        if updated:
            return


async def clear(username: str) -> None:
    """Lift a username's back-off or lockout (an administrator reset the password)."""
    await SignInThrottle.filter(key=Key("username", username, ThrottlePolicy()).digest).delete()


async def prune(before: datetime) -> int:
    """Forget counters whose last wait ended before `before`; returns how many."""
    return await SignInThrottle.filter(next_attempt_at__lt=before).delete()
