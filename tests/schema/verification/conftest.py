from tests.services.verification.conftest import three  # noqa: F401
