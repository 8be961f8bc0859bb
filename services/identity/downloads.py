"""Short-lived signed download links, so a browser can open a document or an export by click.

A browser following a link cannot send an `Authorization` header, and a long-lived secret in a
URL would end up in history, logs and Referer headers. A link instead carries a signature over
who asked (the user), what (the path and every other query parameter, sorted) and until when:

    /documents/7?link=<user id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>

Anyone holding the link can use it until it expires (a PDF viewer may fetch it several times),
but only for that resource, and the server loads the user again and applies their scope at use.
The signature also covers the user's `session_version` (not shown in the link), so like a
session token a link stops working at once when the user is deactivated, changes or is given
a new password, or gets another role, region or enterprise. The key is derived from the secret that
signs session tokens, under its own label, so a link is never a session token and a session
token never a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from services.access import Actor
from services.compliance.documents import get_document
from services.statistics.dimensions import StatisticsFilter
from services.values import MAX_ID

LINK = "link"  # the query parameter that carries the signature
_LABEL = b"ccms download link v1"


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()


def _canonical(
    user_id: int, session_version: int, expires: int, path: str, params: Iterable[tuple[str, str]]
) -> bytes:
    query = urlencode(sorted((k, v) for k, v in params if k != LINK))
    return f"{user_id}\n{session_version}\n{expires}\n{path}\n{query}".encode()


def _mac(secret: str, message: bytes) -> str:
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(
    actor: Actor,
    path: str,
    params: list[tuple[str, str]],
    *,
    secret: str,
    ttl_seconds: int,
    now: datetime | None = None,
) -> Link:
    """A link to `path?params` for `actor`, valid for `ttl_seconds`."""
    expires_at = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(seconds=ttl_seconds)
    expires = int(expires_at.timestamp())
    message = _canonical(actor.user_id, actor.session_version, expires, path, params)
    signature = f"{actor.user_id}.{expires}.{_mac(secret, message)}"
    return Link(f"{path}?{urlencode([*params, (LINK, signature)])}", expires_at)


def claimed_user(link: str) -> int | None:
    """The user id a link names, before anything is verified (to load their session_version)."""
    user, _, _ = link.partition(".")
    return int(user) if _digits(user, 10) and 0 < int(user) <= MAX_ID else None


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most


def verify(
    link: str,
    path: str,
    params: Iterable[tuple[str, str]],
    *,
    secret: str,
    session_version: int = 0,
    now: datetime | None = None,
) -> int | None:
    """The user id a valid, unexpired link for exactly this path and parameters was issued to,
    while that user's session_version was `session_version`."""
    user, _, rest = link.partition(".")
    expires, _, mac = rest.partition(".")
    if not (_digits(user, 10) and _digits(expires, 12) and mac.isascii()):
        return None
    expected = _mac(secret, _canonical(int(user), session_version, int(expires), path, params))
    if not hmac.compare_digest(mac, expected):
        return None
    if int(expires) <= (now or datetime.now(UTC)).timestamp():
        return None
    return int(user)


async def document_link(actor: Actor, document_id: int, *, secret: str, ttl_seconds: int) -> Link:
    """A link to GET /documents/{id}; NOT_FOUND when the document is outside the actor's scope."""
    document = await get_document(actor, document_id)
    return sign(actor, f"/documents/{document.id}", [], secret=secret, ttl_seconds=ttl_seconds)


# The routes of api/export.py; a link to any other path would not verify there.
EXPORT_PATHS = {"CSV": "/export/statistics.csv", "JSON": "/export/statistics.json"}


def statistics_export_link(
    actor: Actor,
    file_format: str,
    group_by: Iterable[str],
    where: StatisticsFilter,
    *,
    bom: bool = False,
    secret: str,
    ttl_seconds: int,
) -> Link:
    """A link to the statistics export with the query parameters of `where`, as GraphQL's
    `statistics` takes them. The export checks them when the link is followed."""
    params = [("groupBy", ",".join(group_by))]
    for name, value in (
        ("from", where.from_ and where.from_.isoformat()),
        ("to", where.to and where.to.isoformat()),
        ("regionPrefix", where.region_prefix),
        ("industryCode", where.industry_code),
        ("sector", where.sector and where.sector.value),
        ("enterpriseIds", where.enterprise_ids and ",".join(map(str, where.enterprise_ids))),
        ("energyTypes", where.energy_types and ",".join(where.energy_types)),
        ("bom", "true" if bom and file_format == "CSV" else None),
    ):
        if value:
            params.append((name, value))
    return sign(actor, EXPORT_PATHS[file_format], params, secret=secret, ttl_seconds=ttl_seconds)
