"""Schema-test fixtures: those of the service tests (a cheap password hasher, a ready-made
compliance cycle), shared rather than copied."""

from tests.services.conftest import cycle, fast_password_hashing  # noqa: F401
