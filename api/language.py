"""The language of an HTTP route's texts: the request's Accept-Language, else CCMS_LANGUAGE."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from services.i18n import render
from services.i18n.languages import Language, negotiate


def language_of(request: HTTPConnection) -> Language:
    return negotiate(request.headers.get("accept-language"), render.default_language())
