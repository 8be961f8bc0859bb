"""Worker tests reuse the service fixtures: the cheap password hasher, the compliance cycle and
the recorders of published events and enqueued jobs."""

from tests.services.conftest import cycle, dispatched, fast_password_hashing, published

__all__ = ["cycle", "dispatched", "fast_password_hashing", "published"]
