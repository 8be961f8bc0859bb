"""Historical data (历史数据集): energy use, verified emissions and production output per year.

One importer serves the GraphQL mutation (at most 1,000 rows) and the streamed CSV
upload (any size). Rows are validated with their line numbers, checked against
the caller's scope, and upserted in batches on the natural key, so re-importing a
row updates it. By default a file with any bad row writes nothing.

CSV columns: credit_code,year,kind,item,quantity,unit
  kind ENERGY: item is an energy type (ELECTRICITY, DIESEL...), unit any unit of its dimension
  kind EMISSIONS: item empty, quantity whole tonnes of CO2, unit t
  kind OUTPUT: item is a product (POWER_COAL_GT300, CLINKER...), unit the product's unit
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from models import (
    EnergyType,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    Product,
    Role,
)
from services import rows as row_import
from services.access import Actor, require_role
from services.energy.units import same_unit, to_canonical
from services.errors import ErrorCode, ServiceError
from services.rows import (
    BATCH,
    MAX_REPORTED_ERRORS,
    ImportResult,
    RowError,
    RowImporter,
    numbered,
    parse_quantity,
)

__all__ = [
    "BATCH",
    "MAX_REPORTED_ERRORS",
    "HistoryImporter",
    "ImportResult",
    "RowError",
    "csv_rows",
    "import_rows",
]

MAX_ROWS_PER_CALL = 1000
MAX_QUANTITY = Decimal(10**12)  # in the canonical unit; the columns hold less than 10^14
COLUMNS = ("credit_code", "year", "kind", "item", "quantity", "unit")


class RowKind(StrEnum):
    ENERGY = "ENERGY"
    EMISSIONS = "EMISSIONS"
    OUTPUT = "OUTPUT"


@dataclass(frozen=True)
class _Row:
    line: int
    credit_code: str
    year: int
    kind: RowKind
    item: str
    quantity: Decimal


class HistoryImporter(RowImporter[_Row]):
    audit_action = "history.imported"

    def __init__(self, actor: Actor, *, partial: bool = False) -> None:
        require_role(actor, Role.REGULATOR, Role.ENTERPRISE)
        super().__init__(actor, partial=partial)
        self.numbers: dict[object, int] = {}  # credit code or (kind, item) -> a small int
        self.energy_units: dict[str, str] = {}
        self.product_units: dict[str, str] = {}

    async def prepare(self) -> None:
        self.energy_units = dict(await EnergyType.all().values_list("code", "canonical_unit"))
        self.product_units = dict(await Product.all().values_list("code", "unit"))

    def key(self, row: _Row) -> int:
        """(credit code, year, kind, item) as one exact int: codes and items are numbered as first
        seen, and years (1990 to 2100) fit in 8 bits. The index then costs about 100 bytes a row
        instead of 300, whatever size the file is."""
        code = self.numbers.setdefault(row.credit_code, len(self.numbers))
        item = self.numbers.setdefault((row.kind, row.item), len(self.numbers))
        return ((code << 32) | item) << 8 | (row.year - 1990)

    def parse(self, line: int, raw: dict[str, str]) -> _Row:
        def value(name: str) -> str:
            return (raw.get(name) or "").strip()

        credit_code = value("credit_code").upper()
        if not credit_code:
            raise ServiceError(ErrorCode.REQUIRED, "credit_code is required", "credit_code")
        try:
            year = int(value("year"))
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_YEAR,
                "year {value!r} is not a year",
                "year",
                params={"value": value("year")},
            ) from None
        if not 1990 <= year <= 2100:
            raise ServiceError(
                ErrorCode.INVALID_YEAR, "year {year} is out of range", "year", params={"year": year}
            )
        try:
            kind = RowKind(value("kind").upper())
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_ROW,
                "kind {value!r} must be ENERGY, EMISSIONS or OUTPUT",
                "kind",
                params={"value": value("kind")},
            ) from None
        quantity = parse_quantity(value("quantity"))
        item, unit = value("item").upper(), value("unit")
        if kind == RowKind.ENERGY:
            if item not in self.energy_units:
                raise ServiceError(
                    ErrorCode.UNKNOWN_ENERGY_TYPE,
                    "unknown energy type {item!r}",
                    "item",
                    params={"item": item},
                )
            quantity = to_canonical(item, self.energy_units[item], quantity, unit)
        elif kind == RowKind.OUTPUT:
            if item not in self.product_units:
                raise ServiceError(
                    ErrorCode.UNKNOWN_PRODUCT, "unknown product {item!r}", "item", params={"item": item}
                )
            if not same_unit(unit, self.product_units[item]):
                raise ServiceError(
                    ErrorCode.INCOMPATIBLE_UNIT,
                    "{item} is counted in {product_unit}, not {unit!r}",
                    "unit",
                    params={"item": item, "product_unit": self.product_units[item], "unit": unit},
                )
        else:
            item = ""
            if unit and not same_unit(unit, "t"):
                raise ServiceError(
                    ErrorCode.INCOMPATIBLE_UNIT,
                    "emissions are tonnes of CO2, not {unit!r}",
                    "unit",
                    params={"unit": unit},
                )
            if quantity != quantity.to_integral_value():
                raise ServiceError(
                    ErrorCode.INVALID_QUANTITY, "verified emissions are whole tonnes", "quantity"
                )
        if quantity > MAX_QUANTITY:  # beyond the columns' range: a coded row error, not a database one
            raise ServiceError(ErrorCode.INVALID_QUANTITY, "quantity is implausibly large", "quantity")
        return _Row(line, credit_code, year, kind, item, quantity)

    async def write(self, rows: list[_Row]) -> None:
        good = await self.in_scope(rows)
        if self.doomed:
            return
        await _upsert(good, {code: self.enterprises[code][0] for code in {r.credit_code for r in good}})
        self.result.written += len(good)


async def _upsert(rows: list[_Row], ids: dict[str, int]) -> None:
    energy = [
        HistoricalEnergy(
            enterprise_id=ids[r.credit_code], year=r.year, energy_type_id=r.item, quantity=r.quantity
        )
        for r in rows
        if r.kind == RowKind.ENERGY
    ]
    emissions = [
        HistoricalEmission(enterprise_id=ids[r.credit_code], year=r.year, verified_emissions=int(r.quantity))
        for r in rows
        if r.kind == RowKind.EMISSIONS
    ]
    outputs = [
        HistoricalOutput(
            enterprise_id=ids[r.credit_code], year=r.year, product_id=r.item, quantity=r.quantity
        )
        for r in rows
        if r.kind == RowKind.OUTPUT
    ]
    if energy:
        await HistoricalEnergy.bulk_create(
            energy,
            on_conflict=["enterprise_id", "year", "energy_type_id"],
            update_fields=["quantity", "updated_at"],
        )
    if emissions:
        await HistoricalEmission.bulk_create(
            emissions,
            on_conflict=["enterprise_id", "year"],
            update_fields=["verified_emissions", "updated_at"],
        )
    if outputs:
        await HistoricalOutput.bulk_create(
            outputs,
            on_conflict=["enterprise_id", "year", "product_id"],
            update_fields=["quantity", "updated_at"],
        )


async def import_rows(actor: Actor, rows: list[dict[str, str]], *, partial: bool = False) -> ImportResult:
    """The GraphQL path: rows numbered from 1 in the order given."""
    return await HistoryImporter(actor, partial=partial).run(numbered(rows, MAX_ROWS_PER_CALL))


def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """The history CSV's rows, numbered as a spreadsheet shows them."""
    return row_import.csv_rows(chunks, COLUMNS)
