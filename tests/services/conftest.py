"""Service-layer fixtures: a cheap password hasher and a ready-made compliance cycle."""

from __future__ import annotations

import pytest
import pytest_asyncio
from argon2 import PasswordHasher

from services import identity
from services.documents import FileStore
from tests.conftest import World
from tests.services.cycle import Cycle


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 with the smallest parameters: the default costs ~0.1 s a hash and every
    test creates several users. Verification reads the parameters from the hash, so the
    production hashes (e.g. the dummy one) still verify as before."""
    monkeypatch.setattr(identity, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest_asyncio.fixture
async def cycle(world: World, files: FileStore) -> Cycle:
    """A Guangdong enterprise with a member, a provincial regulator, a 1000 t allowance for
    2025 and an issued (not yet acknowledged) notice due in 30 days."""
    return await Cycle.start(world, files)
