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

import codecs
import csv
import io
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from tortoise.transactions import in_transaction

from models import (
    EnergyType,
    Enterprise,
    HistoricalEmission,
    HistoricalEnergy,
    HistoricalOutput,
    Product,
    Role,
)
from services import audit
from services.access import Actor, enterprise_scope, require_role
from services.errors import ErrorCode, ServiceError
from services.units import same_unit, to_canonical

MAX_ROWS_PER_CALL = 1000
BATCH = 1000
MAX_REPORTED_ERRORS = 1000
MAX_QUANTITY = Decimal(10**12)  # in the canonical unit; the columns hold less than 10^14
COLUMNS = ("credit_code", "year", "kind", "item", "quantity", "unit")


class RowKind(StrEnum):
    ENERGY = "ENERGY"
    EMISSIONS = "EMISSIONS"
    OUTPUT = "OUTPUT"


@dataclass(frozen=True)
class RowError:
    line: int
    code: ErrorCode
    field: str | None
    message: str


@dataclass
class ImportResult:
    written: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


@dataclass(frozen=True)
class _Row:
    line: int
    credit_code: str
    year: int
    kind: RowKind
    item: str
    quantity: Decimal


class _Abort(Exception):
    """Rolls back an all-or-nothing import that found bad rows."""


class HistoryImporter:
    """Feed it (line, row dict) pairs; it validates, batches and writes."""

    def __init__(self, actor: Actor, *, partial: bool = False) -> None:
        require_role(actor, Role.REGULATOR, Role.ENTERPRISE)
        self.actor = actor
        self.partial = partial
        self.result = ImportResult()
        # Natural key -> first line. Keys are packed into one int (see _key): the index then
        # costs about 100 bytes a row instead of 300, whatever size the file is.
        self.seen: dict[int, int] = {}
        self.numbers: dict[object, int] = {}  # credit code or (kind, item) -> a small int
        self.pending: list[_Row] = []
        self.energy_units: dict[str, str] = {}
        self.product_units: dict[str, str] = {}

    async def run(
        self, rows: AsyncIterator[tuple[int, dict[str, str]]] | Iterable[tuple[int, dict[str, str]]]
    ) -> ImportResult:
        self.energy_units = dict(await EnergyType.all().values_list("code", "canonical_unit"))
        self.product_units = dict(await Product.all().values_list("code", "unit"))
        try:
            async with in_transaction():
                if isinstance(rows, AsyncIterator):
                    async for line, raw in rows:
                        await self._take(line, raw)
                else:
                    for line, raw in rows:
                        await self._take(line, raw)
                await self._flush()
                if self.result.error_count and not self.partial:
                    raise _Abort
                await audit.record(
                    self.actor,
                    "history.imported",
                    audit.Ref("User", self.actor.user_id),
                    data={
                        "written": self.result.written,
                        "errors": self.result.error_count,
                        "partial": self.partial,
                    },
                )
        except _Abort:
            self.result.written = 0
        # Scope errors are found a batch later than parse errors: report in file order.
        self.result.errors.sort(key=lambda error: error.line)
        return self.result

    async def _take(self, line: int, raw: dict[str, str]) -> None:
        try:
            row = self._parse(line, raw)
        except ServiceError as error:
            self.result.add(RowError(line, error.code, error.field, error.message))
            return
        key = self._key(row)
        if (first := self.seen.get(key)) is not None:
            self.result.add(RowError(line, ErrorCode.DUPLICATE_ROW, None, f"repeats line {first}"))
            return
        self.seen[key] = line
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            await self._flush()

    def _key(self, row: _Row) -> int:
        """(credit code, year, kind, item) as one exact int: codes and items are numbered as first
        seen, and years (1990 to 2100) fit in 8 bits."""
        code = self.numbers.setdefault(row.credit_code, len(self.numbers))
        item = self.numbers.setdefault((row.kind, row.item), len(self.numbers))
        return ((code << 32) | item) << 8 | (row.year - 1990)

    def _parse(self, line: int, raw: dict[str, str]) -> _Row:
        def value(name: str) -> str:
            return (raw.get(name) or "").strip()

        credit_code = value("credit_code").upper()
        if not credit_code:
            raise ServiceError(ErrorCode.REQUIRED, "credit_code is required", "credit_code")
        try:
            year = int(value("year"))
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_YEAR, f"year {value('year')!r} is not a year", "year"
            ) from None
        if not 1990 <= year <= 2100:
            raise ServiceError(ErrorCode.INVALID_YEAR, f"year {year} is out of range", "year")
        try:
            kind = RowKind(value("kind").upper())
        except ValueError:
            raise ServiceError(
                ErrorCode.INVALID_ROW, f"kind {value('kind')!r} must be ENERGY, EMISSIONS or OUTPUT", "kind"
            ) from None
        quantity = _quantity(value("quantity"))
        item, unit = value("item").upper(), value("unit")
        if kind == RowKind.ENERGY:
            if item not in self.energy_units:
                raise ServiceError(ErrorCode.UNKNOWN_ENERGY_TYPE, f"unknown energy type {item!r}", "item")
            quantity = to_canonical(item, self.energy_units[item], quantity, unit)
        elif kind == RowKind.OUTPUT:
            if item not in self.product_units:
                raise ServiceError(ErrorCode.UNKNOWN_PRODUCT, f"unknown product {item!r}", "item")
            if not same_unit(unit, self.product_units[item]):
                raise ServiceError(
                    ErrorCode.INCOMPATIBLE_UNIT,
                    f"{item} is counted in {self.product_units[item]}, not {unit!r}",
                    "unit",
                )
        else:
            item = ""
            if unit and not same_unit(unit, "t"):
                raise ServiceError(
                    ErrorCode.INCOMPATIBLE_UNIT, f"emissions are tonnes of CO2, not {unit!r}", "unit"
                )
            if quantity != quantity.to_integral_value():
                raise ServiceError(
                    ErrorCode.INVALID_QUANTITY, "verified emissions are whole tonnes", "quantity"
                )
        if quantity > MAX_QUANTITY:  # beyond the columns' range: a coded row error, not a database one
            raise ServiceError(ErrorCode.INVALID_QUANTITY, "quantity is implausibly large", "quantity")
        return _Row(line, credit_code, year, kind, item, quantity)

    async def _flush(self) -> None:
        rows, self.pending = self.pending, []
        if not rows:
            return
        codes = {r.credit_code for r in rows}
        known = dict(
            await Enterprise.filter(enterprise_scope(self.actor), credit_code__in=list(codes)).values_list(
                "credit_code", "id"
            )
        )
        good = []
        for row in rows:
            if row.credit_code in known:
                good.append(row)
            else:  # missing and out of scope look the same
                self.result.add(
                    RowError(
                        row.line,
                        ErrorCode.NOT_FOUND,
                        "credit_code",
                        f"no enterprise {row.credit_code} in your scope",
                    )
                )
        if self.result.error_count and not self.partial:
            return  # nothing will be written: skip the work
        await _upsert(good, known)
        self.result.written += len(good)


def _quantity(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, f"quantity {text!r} is not a number", "quantity"
        ) from None
    if not number.is_finite():
        raise ServiceError(ErrorCode.INVALID_QUANTITY, "quantity must be a finite number", "quantity")
    if number < 0:
        raise ServiceError(ErrorCode.NEGATIVE_QUANTITY, "quantity must not be negative", "quantity")
    return number


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
    if len(rows) > MAX_ROWS_PER_CALL:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS,
            f"at most {MAX_ROWS_PER_CALL} rows a call; upload a CSV file for more",
            "rows",
        )
    return await HistoryImporter(actor, partial=partial).run(enumerate(rows, start=1))


async def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """Decode a CSV byte stream incrementally into (line number, row) pairs.

    Line numbers count the header as line 1, as a spreadsheet shows them. Fields
    never contain line breaks in this format, so a line is a row.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")  # a BOM is dropped (Excel)
    buffer = ""
    header: list[str] | None = None
    line = 0
    async for chunk in chunks:
        buffer += decoder.decode(chunk)
        *complete, buffer = buffer.split("\n")
        for raw_line in complete:
            line += 1
            if header is None:
                header = _header(raw_line)
            elif (parsed := _parse_line(raw_line, header, line)) is not None:
                yield line, parsed
    buffer += decoder.decode(b"", final=True)  # a character cut off at the end becomes U+FFFD
    if buffer.strip():
        line += 1
        if header is None:
            _header(buffer)  # a header without a newline (and so without rows) is still checked
        elif (parsed := _parse_line(buffer, header, line)) is not None:
            yield line, parsed


def _header(raw_line: str) -> list[str]:
    header = [c.strip().lower() for c in next(csv.reader([raw_line]))]
    if missing := [c for c in COLUMNS if c not in header]:
        raise ServiceError(ErrorCode.INVALID_ROW, f"line 1: missing columns {', '.join(missing)}", "file")
    return header


def _parse_line(raw_line: str, header: list[str] | None, line: int) -> dict[str, str] | None:
    if header is None or not raw_line.strip():
        return None
    values = next(csv.reader(io.StringIO(raw_line.rstrip("\r"))))
    return dict(zip(header, values, strict=False))
