"""Who is downloading: a signed link (a click in a browser) or a bearer token (a program).

The links are issued by the createDocumentLink and createStatisticsExportLink mutations
(services/identity/downloads.py). A request that carries `?link=` is judged by the link alone: an
expired, altered or foreign link is refused even when a header would have been accepted,
so a client sees the link's fault rather than a fallback that hides it.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request

from api.auth import authenticate, authenticate_api
from models import TokenScope, User
from services.access import Actor
from services.identity import downloads


async def authenticate_download(request: Request, scope: TokenScope | None = None) -> Actor | None:
    """The actor behind the request's signed link or, without one, its bearer token (for
    `scope`, an API token of that scope is accepted too)."""
    secret = request.app.state.settings.secret_key
    link = request.query_params.get(downloads.LINK)
    if link is None:
        if scope is None:
            return await authenticate(request, secret)
        return await authenticate_api(request, secret, scope)
    # The link names its user; their session_version is part of what it signs.
    user_id = downloads.claimed_user(link)
    user = await User.get_or_none(id=user_id, is_active=True) if user_id is not None else None
    if user is None or user.must_change_password:
        return None
    params = request.query_params.multi_items()
    verified = downloads.verify(
        link, request.url.path, params, secret=secret, session_version=user.session_version
    )
    return Actor.of(user) if verified == user.id else None


def without_link(params: QueryParams) -> QueryParams:
    """The query parameters a route reads: the link's own is not one of them."""
    return QueryParams([(k, v) for k, v in params.multi_items() if k != downloads.LINK])
