"""Row imports: the machinery shared by every importer (history, energy records, enterprises).

An importer is fed (line, row dict) pairs from a GraphQL call, an uploaded CSV or .xlsx
file (services/tables) or a JSON batch. It validates each row with its line number, drops repeats, writes
in batches inside one transaction, and by default writes nothing if any row is
bad (`partial` keeps the good ones). Subclasses say how to parse, key and write.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Generic, Protocol, TypeVar

from tortoise.transactions import in_transaction

from models import Enterprise
from services import audit
from services.access import Actor, enterprise_scope
from services.errors import ErrorCode, ServiceError
from services.i18n.languages import EN, supported
from services.i18n.render import error_text, fill
from services.tables import UNREADABLE as UNREADABLE  # the importers' CSV path lives in services/tables
from services.tables import csv_rows as csv_rows

BATCH = 1000
YIELD_EVERY = 250
MAX_REPORTED_ERRORS = 1000
NUL_STAND_IN = "\ue000"  # a private-use character, for NUL while the csv module reads a line
MAX_DIGITS = 18  # integer digits of a quantity before it is refused unconverted


class _Row(Protocol):
    # Read-only, so that frozen dataclasses are rows too.
    @property
    def line(self) -> int: ...

    @property
    def credit_code(self) -> str: ...


RowT = TypeVar("RowT", bound=_Row)
Rows = AsyncIterator[tuple[int, dict[str, str]]] | Iterable[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class RowError:
    """A refused row. `message` is English; `source` and `params`, when given, are what it was
    filled from, so `in_language` can render it for a reader."""

    line: int
    code: ErrorCode
    field: str | None
    message: str
    source: str = dataclasses.field(default="", compare=False)
    params: Mapping[str, object] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def filled(
        cls, line: int, code: ErrorCode, field: str | None, source: str, params: Mapping[str, object]
    ) -> RowError:
        return cls(line, code, field, fill(source, params, EN), source, params)

    @classmethod
    def of(cls, line: int, error: ServiceError, field: str | None) -> RowError:
        return cls(line, error.code, field, error.message, error.source, error.params)

    def in_language(self, language: str) -> str:
        return error_text(self.code, self.source or self.message, self.params, supported(language) or EN)


@dataclass
class ImportResult:
    written: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Rows written without an emission factor: kept, counted, and visible to the regulator.
    missing_factors: int = 0
    warnings: list[RowError] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


class _Abort(Exception):
    """Rolls back an all-or-nothing import that found bad rows."""


class RowImporter(Generic[RowT]):
    """Feed it (line, row dict) pairs; it validates, batches and writes."""

    audit_action = "rows.imported"
    batch = BATCH

    def __init__(self, actor: Actor, *, partial: bool = False) -> None:
        self.actor = actor
        self.partial = partial
        self.result = ImportResult()
        self.seen: dict[Hashable, int] = {}  # natural key -> first line
        self.pending: list[RowT] = []
        self.writing: asyncio.Future[None] | None = None
        self.enterprises: dict[str, tuple[int, str]] = {}  # credit code -> (id, region code), in scope
        self.outside: set[str] = set()  # credit codes not found in scope
        self.taken = 0  # rows seen, good or bad

    async def prepare(self) -> None:
        """Load what parsing needs (reference tables) before the first row."""

    def parse(self, line: int, raw: dict[str, str]) -> RowT:
        raise NotImplementedError

    def key(self, row: RowT) -> Hashable:
        """The row's natural key: a second row with the same key is a DUPLICATE_ROW."""
        raise NotImplementedError

    async def write(self, rows: list[RowT]) -> None:
        """Check the batch against the caller's scope (self.reject for rows out of it), then upsert."""
        raise NotImplementedError

    async def after_commit(self) -> None:
        """Runs once the import has committed (enqueue follow-up jobs)."""

    async def run(self, rows: Rows) -> ImportResult:
        await self.prepare()
        try:
            async with in_transaction():
                try:
                    if isinstance(rows, AsyncIterator):
                        async for line, raw in rows:
                            await self._take(line, raw)
                    else:
                        for line, raw in rows:
                            await self._take(line, raw)
                    await self._flush()
                    await self._settle()
                finally:
                    await self._settle(cancel=True)  # never leave a write running on a closed transaction
                if self.result.error_count and not self.partial:
                    raise _Abort
                await audit.record(
                    self.actor,
                    self.audit_action,
                    audit.Ref("User", self.actor.user_id),
                    data={
                        "written": self.result.written,
                        "errors": self.result.error_count,
                        "partial": self.partial,
                    },
                )
        except _Abort:
            self.result.written = 0
            self.result.missing_factors = 0
            self.result.warnings.clear()
        else:
            await self.after_commit()
        # Scope errors are found a batch later than parse errors: report in file order.
        self.result.errors.sort(key=lambda error: error.line)
        return self.result

    async def in_scope(self, rows: list[RowT]) -> list[RowT]:
        """The rows of enterprises (by credit code) the actor may write for; the others are
        NOT_FOUND, as missing and out of scope look the same. Each code is looked up once."""
        wanted = {r.credit_code for r in rows} - self.enterprises.keys() - self.outside
        if wanted:
            found = await Enterprise.filter(
                enterprise_scope(self.actor), credit_code__in=list(wanted)
            ).values_list("credit_code", "id", "region_code")
            self.enterprises.update({code: (i, region) for code, i, region in found})
            self.outside |= wanted - self.enterprises.keys()
        for row in rows:
            if row.credit_code not in self.enterprises:
                self.result.add(
                    RowError.filled(
                        row.line,
                        ErrorCode.NOT_FOUND,
                        "credit_code",
                        "no enterprise {code} in your scope",
                        {"code": row.credit_code},
                    )
                )
        return [row for row in rows if row.credit_code in self.enterprises]

    def reject(self, line: int, code: ErrorCode, field: str | None, message: str) -> None:
        self.result.add(RowError(line, code, field, message))

    async def _take(self, line: int, raw: dict[str, str]) -> None:
        self.taken += 1
        if self.taken % YIELD_EVERY == 0:
            # Every row, not only every good one: a file of a million duplicate or bad rows
            # is parsed without a write to wait for, and held the event loop (and /health) for
            # over 25 s. This also lets the batch being written take its next round trip.
            await asyncio.sleep(0)
        if UNREADABLE in raw:
            self.reject(line, ErrorCode.INVALID_ROW, None, raw[UNREADABLE])
            return
        if nul := next((name for name, value in raw.items() if "\x00" in value), None):
            self.reject(line, ErrorCode.INVALID_CHARACTER, nul, f"{nul} contains a NUL character")
            return
        try:
            row = self.parse(line, raw)
        except ServiceError as error:
            self.result.add(RowError.of(line, error, error.field))
            return
        key = self.key(row)
        if (first := self.seen.get(key)) is not None:
            self.result.add(
                RowError.filled(line, ErrorCode.DUPLICATE_ROW, None, "repeats line {first}", {"first": first})
            )
            return
        self.seen[key] = line
        self.pending.append(row)
        if len(self.pending) >= self.batch:
            await self._flush()

    async def _flush(self) -> None:
        """Start writing the pending batch while the next one is parsed: the database works on
        one batch as Python parses the next (one write at a time: they share the transaction)."""
        rows, self.pending = self.pending, []
        await self._settle()
        if rows:  # write() still checks scope, so every bad row is reported
            self.writing = asyncio.ensure_future(self.write(rows))

    async def _settle(self, *, cancel: bool = False) -> None:
        writing, self.writing = self.writing, None
        if writing is None:
            return
        if cancel:  # another error is on its way out: stop the write, keep that error
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writing
            return
        await writing

    @property
    def doomed(self) -> bool:
        """An all-or-nothing import that has seen a bad row: writing would be wasted work."""
        return bool(self.result.error_count) and not self.partial


def numbered(rows: list[dict[str, str]], limit: int) -> Iterable[tuple[int, dict[str, str]]]:
    """Rows given in one call (GraphQL), numbered from 1; more than `limit` is refused unread."""
    if len(rows) > limit:
        raise ServiceError(
            ErrorCode.TOO_MANY_ITEMS,
            "at most {limit} rows a call; upload a CSV file for more",
            "rows",
            params={"limit": limit},
        )
    return enumerate(rows, start=1)


def parse_quantity(text: str, field: str = "quantity") -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY,
            "{field} {text!r} is not a number",
            field,
            params={"field": field, "text": text},
        ) from None
    if not number.is_finite():
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} must be a finite number", field, params={"field": field}
        )
    # 1E+999999999 is a finite Decimal whose first unit conversion overflows the context:
    # anything of 10^18 or more is far beyond every cap the importers apply afterwards.
    if number.adjusted() >= MAX_DIGITS:
        raise ServiceError(
            ErrorCode.INVALID_QUANTITY, "{field} is implausibly large", field, params={"field": field}
        )
    if number < 0:
        raise ServiceError(
            ErrorCode.NEGATIVE_QUANTITY, "{field} must not be negative", field, params={"field": field}
        )
    return number
