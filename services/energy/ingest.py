"""Energy records (生产管理数据): ingest, conversion to emissions, and reading them back.

One importer serves the three ways in: `importEnergyRecords` (at most 1,000 rows),
the streamed CSV upload, and the JSON batch endpoint for meter gateways. Each row
is validated with its line (or item) number, converted to the type's canonical
unit, given its tce and its emissions with the factor version the server picks
(services/factors.py), and upserted on (enterprise, period, type, source): sending
a record again updates it. The enterprise-months written are marked stale in the
same transaction, and a job rebuilds their aggregates after the commit.

CSV columns: credit_code,period,energy_type,quantity,unit[,source]
  period: 2024-03 (a month) or 2024-03-15 (a day); source: MANUAL, IMPORT, IOT or PLATFORM
  (default: the channel's, IMPORT for files, IOT for the batch endpoint, MANUAL for GraphQL)
"""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tortoise import Tortoise

from models import EnergyRecord, EnergySource, EnergyType, Role
from services import rows as row_import
from services.access import Actor, require_role
from services.energy import aggregates
from services.energy.factors import MICRO, SCALE, FactorTable, apply, load_table, period_start, scaled
from services.energy.tce import coefficient_for, coefficient_table
from services.energy.units import to_canonical
from services.errors import ErrorCode, ServiceError
from services.live import jobs
from services.rows import ImportResult, RowError, RowImporter, numbered, parse_quantity

MAX_ROWS_PER_CALL = 1000
MAX_BATCH_ITEMS = 10_000  # per JSON request; files have no limit
# A billion canonical units (or tonnes of tce or CO2) in one record: far beyond any enterprise, and
# small enough that sums of a year of day records from every source still fit the BIGINT aggregates.
MAX_QUANTITY = Decimal(10**9)
MAX_MILLIONTHS = 10**15
COLUMNS = ("credit_code", "period", "energy_type", "quantity", "unit")
UPSERT_KEY = ["enterprise_id", "year", "month", "day", "energy_type_id", "source"]
WRITTEN = ["quantity", "unit", "amount", "tce", "emissions", "factor_id", "updated_at"]


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    credit_code: str
    year: int
    month: int
    day: int
    energy_type: str
    source: EnergySource
    quantity: Decimal
    unit: str
    amount: int  # millionths of the canonical unit


# A record as written, in INGEST_COLUMNS order: the COPY path sends these tuples as they are.
_Record = tuple[int, int, int, int, str, str, Decimal, str, int, int | None, int | None, int | None]


def parse_period(text: str) -> tuple[int, int, int]:
    """ "2024-03" -> (2024, 3, 0); "2024-03-15" -> (2024, 3, 15)."""
    parts = text.split("-")
    try:
        if (
            len(parts) not in (2, 3)
            or len(parts[0]) != 4
            or any(len(p) != 2 for p in parts[1:])
            or not all(p.isascii() and p.isdigit() for p in parts)  # int() takes "+1", " 1", "２０２４"
        ):
            raise ValueError(text)
        year, month = int(parts[0]), int(parts[1])
        day = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_PERIOD,
            "period {text!r} is not YYYY-MM or YYYY-MM-DD",
            "period",
            params={"text": text},
        ) from None
    if not 1990 <= year <= 2100 or not 1 <= month <= 12:
        raise ServiceError(
            ErrorCode.INVALID_PERIOD, "period {text!r} is out of range", "period", params={"text": text}
        )
    if len(parts) == 3 and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ServiceError(
            ErrorCode.INVALID_PERIOD, "{text} is not a day of the calendar", "period", params={"text": text}
        )
    return year, month, day


class EnergyImporter(RowImporter[_Row]):
    audit_action = "energy.imported"
    batch = 10_000

    def __init__(
        self, actor: Actor, *, partial: bool = False, source: EnergySource = EnergySource.IMPORT
    ) -> None:
        require_role(actor, Role.REGULATOR, Role.ENTERPRISE)
        super().__init__(actor, partial=partial)
        self.source = source
        self.types: dict[str, tuple[str, bool]] = {}  # code -> (canonical unit, emits)
        self.factors = FactorTable([])
        self.tce: dict[tuple[str, int], int | None] = {}
        self.tce_table: dict[str, list[tuple[int, Decimal]]] = {}
        self.touched = False
        # Parsed once per distinct value: a file repeats a handful of periods and units.
        self.periods: dict[str, tuple[int, int, int]] = {}
        self.multipliers: dict[tuple[str, str], Decimal] = {}
        self.largest: dict[tuple[str, int], int] = {}

    async def prepare(self) -> None:
        self.types = {
            code: (unit, emits)
            for code, unit, emits in await EnergyType.all().values_list("code", "canonical_unit", "emits")
        }
        self.factors = await load_table()
        self.tce_table = await coefficient_table()

    def key(self, row: _Row) -> tuple[str, int, int, int, str, EnergySource]:
        return (row.credit_code, row.year, row.month, row.day, row.energy_type, row.source)

    def parse(self, line: int, raw: dict[str, str]) -> _Row:
        credit_code = (raw.get("credit_code") or "").strip().upper()
        if not credit_code:
            raise ServiceError(ErrorCode.REQUIRED, "credit_code is required", "credit_code")
        period = (raw.get("period") or "").strip()
        if (known := self.periods.get(period)) is None:
            known = self.periods[period] = parse_period(period)
        year, month, day = known
        energy_type = (raw.get("energy_type") or "").strip().upper()
        if energy_type not in self.types:
            raise ServiceError(
                ErrorCode.UNKNOWN_ENERGY_TYPE,
                "unknown energy type {energy_type!r}",
                "energy_type",
                params={"energy_type": energy_type},
            )
        quantity = parse_quantity((raw.get("quantity") or "").strip())
        unit = (raw.get("unit") or "").strip()
        if not unit:
            raise ServiceError(ErrorCode.REQUIRED, "unit is required", "unit")
        if (multiplier := self.multipliers.get((energy_type, unit))) is None:
            multiplier = to_canonical(energy_type, self.types[energy_type][0], Decimal(1), unit)
            self.multipliers[(energy_type, unit)] = multiplier
        canonical = quantity * multiplier  # unit factors are powers of ten: exact
        if canonical > MAX_QUANTITY:
            raise ServiceError(ErrorCode.INVALID_QUANTITY, "quantity is implausibly large", "quantity")
        source = self.source
        if text := (raw.get("source") or "").strip():
            try:
                source = EnergySource(text.upper())
            except ValueError:
                raise ServiceError(
                    ErrorCode.INVALID_SOURCE,
                    "source {text!r} is not MANUAL, IMPORT, IOT or PLATFORM",
                    "source",
                    params={"text": text},
                ) from None
        amount = int((canonical * MICRO).to_integral_value())
        if amount * self._largest(energy_type, year) > MAX_MILLIONTHS * SCALE:  # a row error, not an overflow
            raise ServiceError(
                ErrorCode.INVALID_QUANTITY,
                "quantity is implausibly large: its tce or emissions would exceed a billion tonnes",
                "quantity",
            )
        return _Row(line, credit_code, year, month, day, energy_type, source, quantity, unit[:16], amount)

    async def write(self, rows: list[_Row]) -> None:
        good = await self.in_scope(rows)
        if self.doomed or not good:
            return
        records = self._convert(good)
        await _upsert(records)
        self.result.written += len(records)
        self.touched = True

    def _convert(self, rows: list[_Row]) -> list[_Record]:
        records: list[_Record] = []
        for row in rows:
            enterprise_id, region_code = self.enterprises[row.credit_code]
            factor = self.factors.pick(
                row.energy_type, region_code, period_start(row.year, row.month, row.day)
            )
            if factor is not None and factor.scaled is not None:
                emissions: int | None = apply(row.amount, factor.scaled)
            elif self.types[row.energy_type][1]:
                emissions = None
                self.result.missing_factors += 1
                self.warn(row)
            else:
                emissions = 0  # water: no emissions unless a regulator sets a factor for it
            coefficient = self._tce(row.energy_type, row.year)
            records.append(
                (
                    enterprise_id,
                    row.year,
                    row.month,
                    row.day,
                    row.energy_type,
                    row.source.value,
                    row.quantity,
                    row.unit,
                    row.amount,
                    None if coefficient is None else apply(row.amount, coefficient),
                    emissions,
                    factor.id if factor else None,
                )
            )
        return records

    def _largest(self, energy_type: str, year: int) -> int:
        """The largest scaled tce coefficient or factor, of any region, a record of that year may get."""
        key = (energy_type, year)
        if (largest := self.largest.get(key)) is None:
            factors = [
                f.scaled
                for f in self.factors.by_type.get(energy_type, ())
                if f.effective_from.year <= year and f.scaled is not None
            ]
            largest = self.largest[key] = max([self._tce(energy_type, year) or 0, *factors])
        return largest

    def _tce(self, energy_type: str, year: int) -> int | None:
        key = (energy_type, year)
        if key not in self.tce:
            coefficient = coefficient_for(self.tce_table, energy_type, year)
            self.tce[key] = None if coefficient is None else scaled(coefficient)
        return self.tce[key]

    def warn(self, row: _Row) -> None:
        if len(self.result.warnings) < row_import.MAX_REPORTED_ERRORS:
            self.result.warnings.append(
                RowError.filled(
                    row.line,
                    ErrorCode.FACTOR_MISSING,
                    "energy_type",
                    "no emission factor for {energy_type} in {period} for this region "
                    "(none in force, or none published for that period): written without emissions until "
                    "a regulator sets one",
                    {"energy_type": row.energy_type, "period": f"{row.year}-{row.month:02d}"},
                )
            )

    async def after_commit(self) -> None:
        if self.touched:
            await jobs.enqueue("refresh_aggregates")


INGEST_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS energy_ingest (
    enterprise_id INT, year SMALLINT, month SMALLINT, day SMALLINT, energy_type_id VARCHAR(32),
    source VARCHAR(16), quantity NUMERIC(24, 6), unit VARCHAR(16), amount BIGINT, tce BIGINT,
    emissions BIGINT, factor_id INT
) ON COMMIT DELETE ROWS
"""
INGEST_COLUMNS = [*UPSERT_KEY, "quantity", "unit", "amount", "tce", "emissions", "factor_id"]
# One round trip: upsert, mark the enterprise-months stale, empty the session table.
MERGE = f"""
INSERT INTO energy_records ({", ".join(INGEST_COLUMNS)}, updated_at)
SELECT {", ".join(INGEST_COLUMNS)}, now() FROM energy_ingest
ON CONFLICT ({", ".join(UPSERT_KEY)}) DO UPDATE SET
{", ".join(f"{c} = EXCLUDED.{c}" for c in WRITTEN)};
INSERT INTO stale_months (enterprise_id, year, month) SELECT DISTINCT enterprise_id, year, month FROM energy_ingest;
TRUNCATE energy_ingest
"""


async def _upsert(records: list[_Record]) -> None:
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "postgres":
        # The bulk path: COPY into a session table, then set-based statements.
        async with connection.acquire_connection() as raw:
            await raw.execute(INGEST_TABLE)
            await raw.copy_records_to_table("energy_ingest", records=records, columns=INGEST_COLUMNS)
            await raw.execute(MERGE)
        return
    await aggregates.mark({(r[0], r[1], r[2]) for r in records})  # enterprise, year, month
    now = datetime.now(UTC)
    await EnergyRecord.bulk_create(
        [
            EnergyRecord(
                enterprise_id=r[0],
                year=r[1],
                month=r[2],
                day=r[3],
                energy_type_id=r[4],
                source=EnergySource(r[5]),
                quantity=r[6],
                unit=r[7],
                amount=r[8],
                tce=r[9],
                emissions=r[10],
                factor_id=r[11],
                updated_at=now,
            )
            for r in records
        ],
        on_conflict=UPSERT_KEY,
        update_fields=WRITTEN,
    )


async def import_rows(
    actor: Actor,
    rows: list[dict[str, str]],
    *,
    partial: bool = False,
    source: EnergySource = EnergySource.MANUAL,
) -> ImportResult:
    """The GraphQL path: rows numbered from 1 in the order given."""
    return await EnergyImporter(actor, partial=partial, source=source).run(numbered(rows, MAX_ROWS_PER_CALL))


def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, dict[str, str]]]:
    """The energy CSV's rows, numbered as a spreadsheet shows them."""
    return row_import.csv_rows(chunks, COLUMNS)


JSON_FIELDS = {
    "creditCode": "credit_code",
    "period": "period",
    "energyType": "energy_type",
    "quantity": "quantity",
    "unit": "unit",
    "source": "source",
}


def json_rows(items: list[Any]) -> Iterable[tuple[int, dict[str, str]]]:
    """Items of a JSON batch as rows, numbered from 1. Numbers may come as JSON numbers."""
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield number, {row_import.UNREADABLE: f"each record is a JSON object, not {type(item).__name__}"}
            continue
        yield (
            number,
            {
                name: "" if item.get(key) is None or isinstance(item.get(key), bool) else str(item[key])
                for key, name in JSON_FIELDS.items()
            },
        )
