"""Bulk data over plain HTTP: CSV or .xlsx files of any size, streamed, and JSON batches from meters.

POST /import/history.csv      historical data (services/allocation/history.py)
POST /import/energy.csv       energy records (services/energy/ingest.py), source IMPORT by default
POST /import/enterprises.csv  the enterprise register and first accounts (services/register.py):
                              adds "created", "updated" and "accounts": [{"line", "creditCode",
                              "username", "oneTimePassword"}] to the answer
POST /ingest/energy        energy records as JSON for meter and IoT gateways, source IOT by
                           default: {"records": [{"creditCode", "period", "energyType",
                           "quantity", "unit", "source"?}, ...], "partial": false}, at most
                           10,000 records a request; an INGEST API token or a session token

File bodies are decoded and validated as they arrive and written in batches, so memory
stays flat whatever the file's size; those routes are exempt from the body-size limit.
A file is CSV in UTF-8 (with or without a BOM) or GB18030/GBK, detected or as the
Content-Type's `charset` declares, quoted line breaks included; or an .xlsx workbook
(recognised by its bytes), whose first sheet is read unless `?sheet=` names another, and
whose row errors carry "sheet" (services/tables). An undecodable file is refused whole
(400, UNDECODABLE_FILE naming the encoding and line).
By default a body with any bad row writes nothing (422); `partial` writes the good
rows. Every route answers JSON: {"written", "errorCount", "errors": [{"line", "code",
"field", "message"}]} (energy adds "missingFactors" and "warnings"); for JSON batches
"line" is the record's position in the array, from 1, and "field" the record's key
(creditCode where a CSV error says credit_code).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth import authenticate, authenticate_api
from api.language import language_of, unauthenticated
from core import metrics
from core.logs import note_error
from models import EnergySource, TokenScope
from services import register, tables
from services.access import Actor
from services.allocation import history
from services.energy import ingest
from services.errors import ErrorCode, ServiceError
from services.i18n.languages import Language
from services.rows import ImportResult, RowError, RowImporter, Rows

HISTORY_CSV = "/import/history.csv"
ENERGY_CSV = "/import/energy.csv"
ENTERPRISES_CSV = "/import/enterprises.csv"
ENERGY_BATCH = "/ingest/energy"
STREAMED = frozenset({HISTORY_CSV, ENERGY_CSV, ENTERPRISES_CSV})
TRUE = {"1", "true", "yes"}
# A JSON batch's errors name the keys its records have (creditCode), not the CSV columns.
JSON_KEYS = {column: key for key, column in ingest.JSON_FIELDS.items()}


async def import_history(request: Request) -> JSONResponse:
    return await _file(
        request,
        history.COLUMNS,
        lambda actor, partial: history.HistoryImporter(actor, partial=partial),
        source="history_csv",
    )


async def import_energy(request: Request) -> JSONResponse:
    return await _file(
        request,
        ingest.COLUMNS,
        lambda actor, partial: ingest.EnergyImporter(actor, partial=partial, source=EnergySource.IMPORT),
        source="energy_csv",
    )


async def import_enterprises(request: Request) -> JSONResponse:
    return await _file(
        request,
        register.COLUMNS,
        lambda actor, partial: register.EnterpriseImporter(actor, partial=partial),
        source="enterprises_csv",
    )


async def _file(
    request: Request,
    columns: tuple[str, ...],
    importer: Callable[[Actor, bool], RowImporter],
    *,
    source: str,
) -> JSONResponse:
    """An uploaded file (CSV or .xlsx) through one importer."""
    actor = await authenticate(request, request.app.state.settings.secret_key)
    if actor is None:
        return unauthenticated(request)
    partial = _partial(request)
    settings = request.app.state.settings
    try:
        chosen = importer(actor, partial)  # refuses a role that may not import before the body is read
        table = await tables.open_table(
            request.stream(),
            columns,
            content_type=request.headers.get("content-type"),
            sheet=request.query_params.get("sheet") or None,
            limits=tables.Limits(settings.xlsx_max_bytes, settings.xlsx_max_unpacked_bytes),
        )
    except ServiceError as error:
        return _refused(error, language_of(request))
    return await _run(request, lambda: (chosen, table.rows), partial, source=source, sheet=table.sheet)


async def ingest_energy(request: Request) -> JSONResponse:
    actor = await authenticate_api(request, request.app.state.settings.secret_key, TokenScope.INGEST)
    if actor is None:
        return unauthenticated(request)
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _refused(
            ServiceError(ErrorCode.INVALID_BODY, "the body is not JSON", "body"), language_of(request)
        )
    except RecursionError:  # arrays nested 100,000 deep: no batch of records looks like that
        return _refused(
            ServiceError(ErrorCode.INVALID_BODY, "the body is nested too deeply", "body"),
            language_of(request),
        )
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        return _refused(
            ServiceError(ErrorCode.INVALID_BODY, 'expected {"records": [...]}', "records"),
            language_of(request),
        )
    if len(records) > ingest.MAX_BATCH_ITEMS:
        return _refused(
            ServiceError(
                ErrorCode.TOO_MANY_ITEMS,
                "at most {limit} records a request; send several, or a CSV file",
                "records",
                params={"limit": ingest.MAX_BATCH_ITEMS},
            ),
            language_of(request),
        )
    partial = body.get("partial") is True
    return await _run(
        request,
        lambda: (
            ingest.EnergyImporter(actor, partial=partial, source=EnergySource.IOT),
            ingest.json_rows(records),
        ),
        partial,
        JSON_KEYS,
        source="energy_batch",
    )


def _partial(request: Request) -> bool:
    return request.query_params.get("partial", "").lower() in TRUE


async def _run(
    request: Request,
    start: Callable[[], tuple[RowImporter, Rows]],
    partial: bool,
    names: Mapping[str, str] | None = None,
    *,
    source: str,
    sheet: str | None = None,
) -> JSONResponse:
    try:
        importer, rows = start()
        result = await importer.run(rows)
    except ServiceError as error:  # refused as a whole: a bad header line, or not allowed to import
        return _refused(error, language_of(request))
    metrics.ROWS_INGESTED.labels(source).inc(result.written)
    if result.errors:  # the log line names the first row's code; the body has them all
        note_error(result.errors[0].code.value)
    report = _report(
        result,
        energy=isinstance(importer, ingest.EnergyImporter),
        names=names,
        language=language_of(request),
        sheet=sheet,
    )
    if isinstance(importer, register.EnterpriseImporter):
        report |= _registered(importer.register)
    return JSONResponse(report, status_code=422 if result.error_count and not partial else 200)


def _registered(result: register.RegisterResult) -> dict:
    return {
        "created": result.created,
        "updated": result.updated,
        "accounts": [
            {
                "line": a.line,
                "creditCode": a.credit_code,
                "username": a.username,
                "oneTimePassword": a.password,
            }
            for a in result.accounts
        ],
    }


def _refused(error: ServiceError, language: Language) -> JSONResponse:
    status = 403 if error.code == ErrorCode.PERMISSION_DENIED else 400
    return JSONResponse(
        {"code": error.code.value, "field": error.field, "message": error.in_language(language)},
        status_code=status,
    )


def _rows(
    errors: list[RowError], names: Mapping[str, str], language: Language, sheet: str | None
) -> list[dict]:
    where = {"sheet": sheet} if sheet is not None else {}  # a workbook's rows are "Sheet1" row 12
    return [
        {
            **where,
            "line": e.line,
            "code": e.code.value,
            "field": names.get(e.field or "", e.field),
            "message": e.in_language(language),
        }
        for e in errors
    ]


def _report(
    result: ImportResult,
    *,
    energy: bool,
    names: Mapping[str, str] | None,
    language: Language,
    sheet: str | None = None,
) -> dict:
    """`names` renames the importer's fields (CSV columns) to the keys the client sent."""
    names = names or {}
    report: dict = {"sheet": sheet} if sheet is not None else {}
    report |= {
        "written": result.written,
        "errorCount": result.error_count,
        "errors": _rows(result.errors, names, language, sheet),
    }
    if energy:
        report |= {
            "missingFactors": result.missing_factors,
            "warnings": _rows(result.warnings, names, language, sheet),
        }
    return report
