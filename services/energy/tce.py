"""Standard coal equivalent (折标准煤系数): the versioned coefficients that put different
energies on one scale, for totals and for energy-proportional allocation."""

from __future__ import annotations

from decimal import Decimal

from models import TceCoefficient


async def coefficient_table() -> dict[str, list[tuple[int, Decimal]]]:
    """Every tce coefficient version, per energy type, oldest first."""
    table: dict[str, list[tuple[int, Decimal]]] = {}
    for code, year, value in (
        await TceCoefficient.all()
        .order_by("effective_year")
        .values_list("energy_type_id", "effective_year", "value")
    ):
        table.setdefault(code, []).append((year, Decimal(str(value))))
    return table


def coefficient_for(table: dict[str, list[tuple[int, Decimal]]], code: str, year: int) -> Decimal | None:
    """The latest version effective in or before `year`; the earliest if all are later
    (a historical year before the standard still needs a conversion), None if there is none."""
    versions = table.get(code)
    if not versions:
        return None
    effective = [value for since, value in versions if since <= year]
    return effective[-1] if effective else versions[0][1]
