"""Typed reads where tortoise's own annotations fall short."""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet


async def column(query: QuerySet[Any], field: str) -> list[Any]:
    """The values of one field, as `query.values_list(field, flat=True)` returns them.

    Tortoise annotates that result as a list of tuples whatever `flat` says; this returns
    the values untyped, so the caller states their type (`ids: list[int] = await column(...)`).
    """
    values: list[Any] = await query.values_list(field, flat=True)
    return values


M = TypeVar("M", bound=Model)


async def row_by_id(model: type[M], pk: int) -> M | None:
    """`model.get_or_none(id=pk)` without the query builder, for the lookup every signed-in
    request makes (the token's user): building that query cost more CPU than running it.
    The statement is fixed text, so the driver's statement cache serves it."""
    db = model._meta.db
    mark = "$1" if db.capabilities.dialect == "postgres" else "?"
    _, rows = await db.execute_query(f'SELECT * FROM "{model._meta.db_table}" WHERE "id" = {mark}', [pk])
    return model._init_from_db(**dict(rows[0])) if rows else None
