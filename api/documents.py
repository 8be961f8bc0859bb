"""GET /documents/{id}: download an uploaded document, within the caller's scope.

A PDF is served inline, so a browser opens it in its viewer (the verifier's report beside the
review); images and anything else as an attachment.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from api.downloads import authenticate_download
from api.language import language_of, unauthenticated
from services.compliance.documents import FileStore, download_name, get_document
from services.errors import ServiceError, not_found


async def download(request: Request) -> Response:
    settings = request.app.state.settings
    actor = await authenticate_download(request)
    if actor is None:
        return unauthenticated(request)
    try:
        document = await get_document(actor, int(request.path_params["document_id"]))
    except (ServiceError, ValueError):
        # Out of scope and missing look the same, so a probe learns nothing.
        message = not_found("Document").in_language(language_of(request))
        return JSONResponse({"code": "NOT_FOUND", "message": message}, status_code=404)
    store = FileStore(settings.upload_dir, settings.upload_max_bytes)
    return FileResponse(
        store.path_of(document.sha256),
        media_type=document.content_type,
        filename=download_name(document),
        content_disposition_type="inline" if document.content_type == "application/pdf" else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )
