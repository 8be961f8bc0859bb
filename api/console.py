"""The browser console at / and the local GraphiQL page at GET /graphql.

Both are built by Vite from web/ into api/static (see the Makefile's `web` target) and shipped
as package data, so nothing is loaded from outside the server: an intranet or offline machine
gets the same pages. Asset names carry a content hash, so they are cached for good; the HTML
pages are revalidated so a new build is picked up at once.

The console uses the browser's history, so a reload of /notices/7 must return the console's
page too: any GET that asks for HTML and matches no other route gets index.html. Anything
else (a script, a JSON client, a POST to a path that does not exist) gets a JSON 404; a path
that exists but not for that method gets 405 with its Allow header.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
INDEX = "index.html"
GRAPHIQL = "graphiql.html"
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>CCMS</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>The console is not built</h1>
<p>Run <code>make web</code> (or <code>make run</code>, which builds it when missing) and reload.
The GraphQL API itself works: POST to <code>/graphql</code>.</p></body></html>"""
PAGE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


class Assets(StaticFiles):
    """Hashed build output: immutable, so browsers never ask twice."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def page(name: str) -> Response:
    """A built HTML page, or a page saying how to build it (503: the server works, the UI is missing)."""
    path = STATIC / name
    if not path.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=PAGE_HEADERS)
    return FileResponse(path, media_type="text/html", headers=PAGE_HEADERS)


ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _allowed(request: Request) -> set[str]:
    """The methods of the API routes whose path is the request's (the catch-all aside)."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.endpoint is not console:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match is not Match.NONE and route.methods:
                allowed |= route.methods
    return allowed


async def console(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        # The catch-all takes every method so that an unknown path is 404, not 405; a known
        # path with the wrong method still gets 405.
        if allowed := _allowed(request):
            headers = {"Allow": ", ".join(sorted(allowed))}
            return JSONResponse({"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed"}, 405, headers)
        return JSONResponse({"code": "NOT_FOUND", "message": "Not found"}, status_code=404)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"code": "NOT_FOUND", "message": "Not found"}, status_code=404)
    return page(INDEX)


def routes() -> list[BaseRoute]:
    """The console's routes; they go last, after every API route, since the last one catches all."""
    return [
        Mount("/assets", Assets(directory=STATIC / "assets", check_dir=False), name="assets"),
        Route("/", console),
        Route("/{path:path}", console, methods=ANY_METHOD),
    ]
