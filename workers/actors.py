"""Actor definitions. The compliance workflow of this release runs synchronously in the API;
alarms, deadlines and aggregates (separate issues) add their actors here."""

import os

from workers.broker import setup_broker

broker = setup_broker(os.environ.get("REDIS_URL") or None)
