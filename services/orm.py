"""Typed reads where tortoise's own annotations fall short."""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet


async def column(query: QuerySet[Any], field: str) -> list[Any]:
    """The values of one field, as `query.values_list(field, flat=True)` returns them.

    Tortoise annotates that result as a list of tuples whatever `flat` says; this returns
    the values untyped, so the caller states their type (`ids: list[int] = await column(...)`).
    """
    values: list[Any] = await query.values_list(field, flat=True)
    return values
