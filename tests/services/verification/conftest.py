from __future__ import annotations

import pytest_asyncio

from services.compliance.documents import FileStore
from tests.conftest import World
from tests.services.verification.support import Three


@pytest_asyncio.fixture
async def three(world: World, files: FileStore) -> Three:
    """An enterprise, its regulator, a body accredited for power with one verifier, and a
    2025 notice that requires verification (the default)."""
    return await Three.start(world, files)
