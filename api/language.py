"""The language of an HTTP route's texts: the request's Accept-Language, else CCMS_LANGUAGE."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from services.i18n import render
from services.i18n.languages import EN, Language, negotiate


def language_of(request: HTTPConnection) -> Language:
    return negotiate(request.headers.get("accept-language"), render.default_language())


def unauthenticated(request: HTTPConnection, english: str = "Authentication required") -> JSONResponse:
    """401 with the code's message in the request's language (`english` for English readers)."""
    language = language_of(request)
    message = english if language == EN else render.code_text("UNAUTHENTICATED", language) or english
    return JSONResponse(
        {"code": "UNAUTHENTICATED", "message": message},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )
