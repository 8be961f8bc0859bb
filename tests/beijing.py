"""Beijing time as the tests expect to read it, computed independently of services/i18n:
a fixed +08:00 offset (China has had no daylight saving time since 1991)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def beijing(moment: datetime) -> str:
    """`2026年12月7日 11:01（北京时间）` for 2026-12-07T03:01:45Z."""
    local = moment.astimezone(UTC) + timedelta(hours=8)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}（北京时间）"
