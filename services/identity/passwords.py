"""Passwords: the policy a new one must meet, and argon2 hashing off the event loop.

An argon2 hash costs about 0.1-0.2 s of CPU and 64 MiB of memory by design. Run on the event
loop, forty concurrent sign-ins froze every other request of the process for seconds; run in
an unbounded pool, they would take gigabytes. So every hash and verification goes through
one small pool of threads (argon2-cffi releases the GIL while it works): the loop stays free
and the memory stays bounded, and sign-ins beyond the pool's size simply wait their turn.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.errors import ErrorCode, ServiceError

MIN_LENGTH = 10
MAX_LENGTH = 256  # far above any passphrase; argon2 would take more, but nobody types more
DEFAULT_THREADS = 2

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both failures take as long.
_DUMMY_HASH = _hasher.hash("not a real password")
_pool: ThreadPoolExecutor | None = None
_threads = DEFAULT_THREADS
T = TypeVar("T")


def set_threads(count: int) -> None:
    """How many hashes may run at once in this process (CCMS_PASSWORD_HASH_THREADS)."""
    global _pool, _threads
    _threads = max(1, count)
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="password-hash")
    return _pool


async def _in_pool(function: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


# For one-time passwords only: 16 random characters of a 56-letter alphabet (about 93 bits) are
# beyond any guessing however fast the hash, so stretching them protects nothing, and a bulk
# register of 1,000 accounts would spend minutes on it. A person's own password always gets
# _hasher's full cost; the first sign-in with a one-time password rehashes it at that cost too.
_one_time_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def hash_one_time(password: str) -> str:
    """Hash a password made by one_time_password() (never one a person chose)."""
    return await _in_pool(_one_time_hasher.hash, password)


async def hash_password(password: str) -> str:
    hasher = _hasher  # read now: tests swap in a cheaper one
    return await _in_pool(hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """(whether the password matches, whether the hash should be redone with today's parameters)."""
    hasher = _hasher
    try:
        ok = hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return ok and password_hash is not None, ok and hasher.check_needs_rehash(password_hash or "")


async def verify(password_hash: str | None, password: str) -> tuple[bool, bool]:
    """Check a password against a stored hash, or against a dummy one when there is none
    (an unknown user), so that the two take the same time. Returns (matches, needs rehash)."""
    return await _in_pool(_verify, password_hash, password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (data/common_passwords.txt), lower-cased."""
    text = files("services.identity").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, username: str, field: str = "password") -> None:
    """At least MIN_LENGTH characters, not the username, not a common password (WEAK_PASSWORD)."""
    if len(password) < MIN_LENGTH:
        raise ServiceError(
            ErrorCode.WEAK_PASSWORD,
            "the password must have at least {MIN_LENGTH} characters",
            field,
            params={"MIN_LENGTH": MIN_LENGTH},
        )
    if len(password) > MAX_LENGTH:
        raise ServiceError(
            ErrorCode.TOO_LONG,
            "the password is longer than {MAX_LENGTH} characters",
            field,
            params={"MAX_LENGTH": MAX_LENGTH},
        )
    if password.strip().lower() == username.strip().lower():
        raise ServiceError(ErrorCode.WEAK_PASSWORD, "the password must not be the username", field)
    if password.lower() in common_passwords():
        raise ServiceError(
            ErrorCode.WEAK_PASSWORD, "the password is one of the most common ones: choose another", field
        )


# No 0/O, 1/l/I: a one-time password is read out over the phone or copied by hand.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password() -> str:
    """A random password for a reset, in groups of four: about 95 bits."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))
