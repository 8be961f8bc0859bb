"""POST /import/history.csv: historical data as a CSV body of any size, streamed.

The body is decoded and validated as it arrives (services.history.csv_rows) and
written in batches, so memory stays flat whatever the file's size; the route is
exempt from the body-size limit for that reason. By default a file with any bad
row writes nothing (422); `?partial=true` writes the good rows. Answers JSON:
{"written", "errorCount", "errors": [{"line", "code", "field", "message"}]}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth import authenticate
from services.errors import ErrorCode, ServiceError
from services.history import HistoryImporter, csv_rows
from services.rows import ImportResult

HISTORY_CSV = "/import/history.csv"
TRUE = {"1", "true", "yes"}


async def import_history(request: Request) -> JSONResponse:
    actor = await authenticate(request, request.app.state.settings.secret_key)
    if actor is None:
        return JSONResponse(
            {"code": "UNAUTHENTICATED", "message": "Authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    partial = request.query_params.get("partial", "").lower() in TRUE
    try:
        importer = HistoryImporter(actor, partial=partial)
        result = await importer.run(csv_rows(request.stream()))
    except ServiceError as error:  # refused as a whole: a bad header line, or not allowed to import
        status = 403 if error.code == ErrorCode.PERMISSION_DENIED else 400
        return JSONResponse(
            {"code": error.code.value, "field": error.field, "message": error.message}, status_code=status
        )
    return JSONResponse(_report(result), status_code=422 if result.error_count and not partial else 200)


def _report(result: ImportResult) -> dict:
    return {
        "written": result.written,
        "errorCount": result.error_count,
        "errors": [
            {"line": e.line, "code": e.code.value, "field": e.field, "message": e.message}
            for e in result.errors
        ],
    }
