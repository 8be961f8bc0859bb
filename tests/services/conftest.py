"""Service-layer fixtures: a cheap password hasher, a ready-made compliance cycle, and the
events and jobs the services hand to the process (recorded instead of delivered)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connections

from services.compliance.documents import FileStore
from services.identity import passwords
from services.live import events, jobs
from services.live.events import Event
from tests.conftest import World
from tests.services.cycle import Cycle


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 with the smallest parameters: the default costs ~0.1 s a hash and every
    test creates several users. Verification reads the parameters from the hash, so the
    production hashes (e.g. the dummy one) still verify as before."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest_asyncio.fixture
async def cycle(world: World, files: FileStore) -> Cycle:
    """A Guangdong enterprise with a member, a provincial regulator, a 1000 t allowance for
    2025 and an issued (not yet acknowledged) notice due in 30 days."""
    return await Cycle.start(world, files)


def in_transaction() -> bool:
    return isinstance(get_connections().get("default"), TransactionalDBClient)


@pytest.fixture
def published() -> Iterator[list[Event]]:
    """Every event the services publish, in order. Publishing inside a transaction fails the
    test: a subscriber must never hear of a change that may still roll back."""
    captured: list[Event] = []

    async def capture(event: Event) -> None:
        assert not in_transaction(), f"{event.type} published before its transaction committed"
        captured.append(event)

    events.set_publisher(capture)
    yield captured
    events.set_publisher(None)


@dataclass(frozen=True)
class Job:
    name: str
    args: tuple[int, ...]
    delay_seconds: float


@pytest.fixture
def dispatched() -> Iterator[list[Job]]:
    """Every job the services enqueue, in order (none is run)."""
    captured: list[Job] = []

    async def record(name: str, args: tuple[int, ...], delay_seconds: float) -> None:
        captured.append(Job(name, args, delay_seconds))

    jobs.set_dispatcher(record)
    yield captured
    jobs.set_dispatcher(None)
