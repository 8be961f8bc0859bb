from dataclasses import replace

import pytest

from core import runtime
from core.settings import Settings


async def test_a_webhook_without_its_own_secret_is_refused_at_start(settings: Settings) -> None:
    """The token-signing key must never double as the webhook secret: receivers would hold it."""
    unsigned = replace(settings, alarm_webhook_url="http://127.0.0.1:9/hook", alarm_webhook_secret="")
    with pytest.raises(RuntimeError, match="CCMS_ALARM_WEBHOOK_SECRET"):
        await runtime.start(unsigned, manage_db=False)
    await runtime.stop(manage_db=False)
