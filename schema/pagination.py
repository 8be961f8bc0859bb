"""Relay-style connections with keyset pagination on the primary key, capped at 100 a page."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated, Generic, TypeVar

import strawberry
from tortoise.models import Model
from tortoise.queryset import QuerySet

from schema.errors import coded
from services.errors import ErrorCode, ServiceError

MAX_PAGE = 100
DEFAULT_PAGE = 20
NodeT = TypeVar("NodeT")
M = TypeVar("M", bound=Model)

First = Annotated[
    int | None, strawberry.argument(description=f"Page size, 0 to {MAX_PAGE} (default {DEFAULT_PAGE}).")
]
After = Annotated[str | None, strawberry.argument(description="The `endCursor` of the previous page.")]


@strawberry.type(description="Where a page stands in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether another page follows.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of items.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items the whole list holds (one extra query; ask only if needed)."
    )
    async def total_count(self) -> int:
        return await self.count()


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"pk:{pk}".encode()).decode()


def _decode(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "pk":
            raise ValueError(kind)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise coded(ServiceError(ErrorCode.INVALID_CURSOR, "Invalid cursor")) from None


async def paginate(
    query: QuerySet[M], first: int | None, after: str | None, *, newest_first: bool = False
) -> Connection[M]:
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise coded(
            ServiceError(
                ErrorCode.INVALID_PAGINATION,
                "first must be between 0 and {limit}",
                "first",
                params={"limit": MAX_PAGE},
            )
        )
    page = query
    if after is not None:
        pk = _decode(after)
        page = page.filter(id__lt=pk) if newest_first else page.filter(id__gt=pk)
    rows = await page.order_by("-id" if newest_first else "id").limit(size + 1)
    edges = [Edge(cursor=_cursor(row.pk), node=row) for row in rows[:size]]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None),
        count=query.count,
    )
