"""GET /export/statistics.csv and /export/statistics.json: the statistics query for BI tools.

Query parameters mirror the GraphQL `statistics` query:

    groupBy        required, comma-separated dimensions: YEAR,QUARTER,MONTH,PROVINCE,CITY,REGION,
                   INDUSTRY,SECTOR,ENTERPRISE,ENERGY_TYPE (any case)
    from, to       inclusive, as a date (2024-01-31) or a month (2024-01); the figures are
                   monthly, so a date stands for its whole month
    regionPrefix, industryCode, sector
    enterpriseIds  comma-separated ids (at most 100)
    energyTypes    comma-separated energy type codes
    bom            CSV only: bom=true starts the file with a UTF-8 byte order mark, which Excel
                   needs to read Chinese names; other tools want none, the default

Send `Authorization: Bearer <token>`: an EXPORT API token, or a session token; or follow a
signed link from createStatisticsExportLink (a browser download by click). The rows are the caller's scope, exactly as in GraphQL. A missing or refused token
is 401; a bad parameter is 400 {"code", "field", "message"}, decided before the first byte of
the body, which is then streamed page by page from services.statistics.page.stream.

CSV (text/csv; charset=utf-8), one header row, snake_case:
    the key columns of the grouping, in groupBy order (YEAR: year; QUARTER: year, quarter;
    MONTH: year, month; PROVINCE: province; CITY: city; REGION: region_code; INDUSTRY:
    industry_code; SECTOR: sector; ENTERPRISE: enterprise_id, enterprise_name; ENERGY_TYPE:
    energy_type), each once;
    energy_tce, emissions, records_missing_factor, completeness (the share of the counted
    records with emissions, a fraction rounded down: 1 only when none is missing), allowances,
    verified_emissions, surplus (the applications' balance: allowance + purchased + usable
    offsets - verified), shortfalls (approved applications with a negative balance),
    notices_due, notices_fulfilled, notices_overdue, compliance_rate (a fraction: 0.3 is 30 %);
    then one quantity column per energy type, headed with its canonical unit
    ("ELECTRICITY (MWh)"): the types of `energyTypes`, or else every known type, by code. The
    columns are therefore the same every day whatever the data, so a BI model does not break
    when a type first appears. An empty cell is "nothing": no record of that type in the group,
    or a compliance figure that does not apply (null in GraphQL); 0 is a real zero. Decimals
    are plain (no exponent, no trailing zeros). A text cell that starts like a formula
    (= + - @) gets a leading ' so a spreadsheet shows it rather than runs it.

JSON (application/json, UTF-8, Chinese as is): {"groupBy": [...], "rows": [{...}, ...]}, each
row with the grouped keys and the figures under the GraphQL field names (camelCase) and
`energy`: [{"energyType", "unit", "quantity", "tce", "emissions"}] for the types present.
Decimals are strings ("570.3"), as GraphQL's Quantity, so no digit is lost to a float; counts
and whole tonnes are numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.downloads import authenticate_download, without_link
from api.language import language_of, unauthenticated
from models import EnergyType, Sector, TokenScope
from services.errors import ErrorCode, ServiceError, not_found
from services.statistics.dimensions import Dimension, StatisticsFilter
from services.statistics.page import Row, stream
from services.values import MAX_ID

STATISTICS_CSV = "/export/statistics.csv"
STATISTICS_JSON = "/export/statistics.json"
TRUE = {"1", "true", "yes"}
BOM = "\ufeff"
CHUNK = 64 * 1024  # characters gathered before a write: few sends, flat memory
PAGE = 1000  # groups read a query

KEY_COLUMNS: dict[Dimension, tuple[str, ...]] = {
    Dimension.YEAR: ("year",),
    Dimension.QUARTER: ("year", "quarter"),
    Dimension.MONTH: ("year", "month"),
    Dimension.PROVINCE: ("province",),
    Dimension.CITY: ("city",),
    Dimension.REGION: ("region_code",),
    Dimension.INDUSTRY: ("industry_code",),
    Dimension.SECTOR: ("sector",),
    Dimension.ENTERPRISE: ("enterprise_id", "enterprise_name"),
    Dimension.ENERGY_TYPE: ("energy_type",),
}
FIGURES = (
    "energy_tce",
    "emissions",
    "records_missing_factor",
    "completeness",
    "allowances",
    "verified_emissions",
    "surplus",
    "shortfalls",
    "notices_due",
    "notices_fulfilled",
    "notices_overdue",
    "compliance_rate",
)
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


async def statistics_csv(request: Request) -> Response:
    return await _export(request, _csv)


async def statistics_json(request: Request) -> Response:
    return await _export(request, _json)


Render = Callable[[Request, tuple[Dimension, ...], list[tuple[str, str]], AsyncIterator[Row]], Response]


async def _export(request: Request, render: Render) -> Response:
    actor = await authenticate_download(request, TokenScope.EXPORT)
    if actor is None:
        return unauthenticated(
            request, "Send 'Authorization: Bearer <token>': an EXPORT API token or a sign-in token"
        )
    try:
        group_by, where = _parameters(without_link(request.query_params))
        rows = stream(actor, group_by, where, PAGE)
        # The service checks its input when the first row is asked for: ask now, so whatever it
        # refuses is a 400 rather than a broken download.
        first = await anext(rows, None)
        types = await _energy_columns(where.energy_types)
    except ServiceError as error:
        return JSONResponse(
            {
                "code": error.code.value,
                "field": error.field,
                "message": error.in_language(language_of(request)),
            },
            status_code=400,
        )
    return render(request, group_by, types, _chained(first, rows))


async def _chained(first: Row | None, rest: AsyncGenerator[Row, None]) -> AsyncIterator[Row]:
    # A failure after the first page propagates: the server then breaks the connection, so a
    # client sees a failed transfer rather than a file that looks complete.
    try:
        if first is not None:
            yield first
            async for row in rest:
                yield row
    finally:
        await rest.aclose()


# -- parameters ------------------------------------------------------------------------------


PARAMETERS = frozenset(
    {"groupBy", "from", "to", "regionPrefix", "industryCode", "sector", "enterpriseIds", "energyTypes", "bom"}
)


def _parameters(query: Any) -> tuple[tuple[Dimension, ...], StatisticsFilter]:
    def get(name: str) -> str | None:
        return query.get(name, "").strip() or None

    # A misspelt filter (regionprefix=44) would otherwise export the whole scope unfiltered.
    if unknown := sorted(set(query.keys()) - PARAMETERS):
        raise ServiceError(
            ErrorCode.UNKNOWN_PARAMETER,
            "unknown parameter {value!r}; known: {items}",
            unknown[0],
            params={"value": unknown[0], "items": ", ".join(sorted(PARAMETERS))},
        )

    names = _list(get("groupBy"))
    if not names:
        raise ServiceError(
            ErrorCode.INVALID_GROUP_BY, "groupBy is required, e.g. groupBy=YEAR,PROVINCE", "groupBy"
        )
    try:
        group_by = tuple(Dimension(name.upper()) for name in names)
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_GROUP_BY,
            "groupBy takes {Dimension}",
            "groupBy",
            params={"Dimension": ", ".join(Dimension)},
        ) from None
    sector = get("sector")
    if sector is not None and sector.upper() not in Sector.__members__:
        raise ServiceError(
            ErrorCode.INVALID_SECTOR, "sector takes {Sector}", "sector", params={"Sector": ", ".join(Sector)}
        )
    ids = _list(get("enterpriseIds"))
    types = _list(get("energyTypes"))
    return group_by, StatisticsFilter(
        from_=_date(get("from"), "from", last=False),
        to=_date(get("to"), "to", last=True),
        region_prefix=get("regionPrefix"),
        industry_code=get("industryCode"),
        sector=Sector(sector.upper()) if sector else None,
        enterprise_ids=[_id(value) for value in ids] if ids else None,
        energy_types=types or None,
    )


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(value: str | None, field: str, *, last: bool) -> date | None:
    """2024-03-15, or a month: 2024-03 is its first day as `from`, its last as `to` (the same
    months to the statistics, which ignore the day, but the plain reading of the parameter)."""
    if value is None:
        return None
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day = int(match[1]), int(match[2]), match[3]
        if day is not None:
            return date(year, month, int(day))
        if not last:
            return date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    except ValueError:
        raise ServiceError(
            ErrorCode.INVALID_DATETIME,
            "{field} must be a date (2024-01-31) or a month (2024-01)",
            field,
            params={"field": field},
        ) from None


def _id(value: str) -> int:
    # As GraphQL's ids: a malformed one is simply not found.
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise not_found("Enterprise", "enterpriseIds")
    return int(value)


async def _energy_columns(codes: list[str] | None) -> list[tuple[str, str]]:
    """(code, canonical unit) of the quantity columns: the filter's types in its order, or every
    type by code. The service has already refused unknown codes."""
    units = dict(await EnergyType.all().order_by("code").values_list("code", "canonical_unit"))
    order = list(dict.fromkeys(codes)) if codes is not None else list(units)
    return [(code, units[code]) for code in order if code in units]


# -- rendering -------------------------------------------------------------------------------


def _key_columns(group_by: tuple[Dimension, ...]) -> list[str]:
    return list(dict.fromkeys(column for d in group_by for column in KEY_COLUMNS[d]))


def _plain(value: object) -> object:
    """Decimals without exponent or trailing zeros (1E+3 -> "1000"); the rest as it is."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value  # text only (names): a spreadsheet shows it instead of evaluating it
    return _plain(value)


def _csv(
    request: Request, group_by: tuple[Dimension, ...], types: list[tuple[str, str]], rows: AsyncIterator[Row]
) -> Response:
    keys = _key_columns(group_by)
    bom = request.query_params.get("bom", "").lower() in TRUE

    async def body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM if bom else "")
        writer.writerow([*keys, *FIGURES, *(f"{code} ({unit})" for code, unit in types)])
        async for row in rows:
            quantities = {use.energy_type: use.quantity for use in row.energy}
            writer.writerow(
                [_cell(getattr(row, name)) for name in (*keys, *FIGURES)]
                + [_cell(quantities.get(code)) for code, _ in types]
            )
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="statistics.csv"',
            "Cache-Control": "private, no-store",
        },
    )


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _json(
    request: Request, group_by: tuple[Dimension, ...], types: list[tuple[str, str]], rows: AsyncIterator[Row]
) -> Response:
    keys = _key_columns(group_by)

    def encode(value: object) -> str:
        # Decimals reach `default`, which writes them as exact strings.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain)

    async def body() -> AsyncIterator[bytes]:
        chunk = [encode({"groupBy": [d.value for d in group_by]})[:-1], ',"rows":[']
        size, separator = 0, ""
        async for row in rows:
            item = {_camel(name): getattr(row, name) for name in (*keys, *FIGURES)}
            item["energy"] = [{_camel(k): v for k, v in asdict(use).items()} for use in row.energy]
            text = separator + encode(item)
            chunk.append(text)
            size, separator = size + len(text), ","
            if size >= CHUNK:
                yield "".join(chunk).encode()
                chunk, size = [], 0
        chunk.append("]}")
        yield "".join(chunk).encode()

    return StreamingResponse(
        body(), media_type="application/json", headers={"Cache-Control": "private, no-store"}
    )
