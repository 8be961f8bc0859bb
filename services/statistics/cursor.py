"""The keyset cursor: a row's keys and its grouping, as opaque text a client hands back."""

from __future__ import annotations

import base64
import binascii
import json

from services.errors import ErrorCode, ServiceError
from services.statistics.dimensions import Dimension, GroupKey, Key, Query
from services.values import MAX_ID


def encode(dimensions: tuple[Dimension, ...], key: GroupKey) -> str:
    text = json.dumps([",".join(dimensions), list(key)], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode(cursor: str, query: Query) -> GroupKey:
    """The keys a cursor holds; INVALID_CURSOR unless it came from the same grouping."""
    try:
        signature, values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise _bad_cursor() from None
    if signature != ",".join(query.dimensions) or not isinstance(values, list):
        raise _bad_cursor()
    if len(values) != len(query.keys):
        raise _bad_cursor()
    for key, value in zip(query.keys, values, strict=True):
        if not _fits(key, value):
            raise _bad_cursor()
    return tuple(values)


def _fits(key: Key, value: object) -> bool:
    """Within the bounds of the column compared: asyncpg refuses a value its parameter type cannot hold."""
    if not key.integer:
        return isinstance(value, str) and len(value) <= 64
    if type(value) is not int:
        return False
    return 0 <= value <= MAX_ID if key.name == "enterprise_id" else -(2**15) <= value < 2**15


def _bad_cursor() -> ServiceError:
    return ServiceError(ErrorCode.INVALID_CURSOR, "Invalid cursor: pass a cursor of this grouping", "after")
