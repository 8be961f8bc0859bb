"""Raw SQL for the few statements the ORM cannot express well (statistics, allocation sums)."""

from __future__ import annotations

from decimal import Decimal

SqlValue = int | str | float | Decimal | None


class Binder:
    """Numbered placeholders in the driver's style ($1 on asyncpg, ?1 on SQLite), collecting
    the values to bind. Numbered, so a mark may stand in several places with its value bound once
    and the order of marks in the text does not matter."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.params: list[SqlValue] = []

    def __call__(self, value: SqlValue) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"


def starts_with(column: str, prefix: str, bind: Binder) -> str:
    """`column` begins with `prefix`. substr, not LIKE: a prefix needs no escaping and reads the
    same on both databases."""
    return f"substr({column}, 1, {len(prefix)}) = {bind(prefix)}"
