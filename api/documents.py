"""GET /documents/{id}: download an uploaded document, within the caller's scope.

A PDF is served inline, so a browser opens it in its viewer (the verifier's report beside the
review); images and anything else as an attachment.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from api.downloads import authenticate_download
from services.compliance.documents import FileStore, download_name, get_document
from services.errors import ServiceError


async def download(request: Request) -> Response:
    settings = request.app.state.settings
    actor = await authenticate_download(request)
    if actor is None:
        return JSONResponse(
            {"code": "UNAUTHENTICATED", "message": "Authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        document = await get_document(actor, int(request.path_params["document_id"]))
    except (ServiceError, ValueError):
        # Out of scope and missing look the same, so a probe learns nothing.
        return JSONResponse({"code": "NOT_FOUND", "message": "Document not found"}, status_code=404)
    store = FileStore(settings.upload_dir, settings.upload_max_bytes)
    return FileResponse(
        store.path_of(document.sha256),
        media_type=document.content_type,
        filename=download_name(document),
        content_disposition_type="inline" if document.content_type == "application/pdf" else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )
