"""One log format for every process: JSON lines for machines, or text for a terminal.

`configure` installs it on the root logger, and `uvicorn_log_config` hands the same formatter
to uvicorn, so the API, `ccms worker` and `ccms scheduler` (and the libraries they use) all
write the same shape. A record made while a request is served carries that request's id, user,
GraphQL operation and error code (`RequestInfo`, filled in as the request goes), so one request
can be followed through every line it caused.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.settings import Settings


@dataclass
class RequestInfo:
    """What the logs and metrics know about the request being served. The middleware creates it;
    authentication, the GraphQL view and error handling fill it in."""

    request_id: str
    user_id: int | None = None
    operation: str | None = None
    error_codes: list[str] = field(default_factory=list)


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)


def note_error(code: str) -> None:
    """Record an error code returned by the request being served (logs and ccms_errors_total)."""
    info = current_request.get()
    if info is not None and code not in info.error_codes:
        info.error_codes.append(code)


def note_user(user_id: int | None) -> None:
    info = current_request.get()
    if info is not None and user_id is not None:
        info.user_id = user_id


def note_operation(name: str | None) -> None:
    info = current_request.get()
    if info is not None:
        info.operation = name or "anonymous"


# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        entry.update(_request_fields())
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the usual line, then the request's fields and extras as k=v."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _request_fields() | {
            k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")
        }
        if fields:
            first, _, rest = line.partition("\n")
            line = (
                first + " " + " ".join(f"{k}={v}" for k, v in fields.items()) + (f"\n{rest}" if rest else "")
            )
        return line


def _request_fields() -> dict[str, Any]:
    info = current_request.get()
    if info is None:
        return {}
    fields: dict[str, Any] = {"request_id": info.request_id}
    if info.user_id is not None:
        fields["user_id"] = info.user_id
    if info.operation:
        fields["operation"] = info.operation
    if info.error_codes:
        fields["error_code"] = ",".join(info.error_codes)
    return fields


def formatter(settings: Settings) -> logging.Formatter:
    return TextFormatter() if settings.log_format == "text" else JSONFormatter()


def configure(settings: Settings, stream: Any = None) -> None:
    """Route every logger of this process through one handler in the configured format.

    `stream` defaults to the current stderr (a dramatiq worker process has replaced it with the
    pipe its parent reads)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's and dramatiq's loggers keep handlers of their own otherwise, in their own format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn configures logging in each of its processes from this dictionary: our formatter
    on the root logger, and uvicorn's loggers passing their records up to it. Its access log is
    off; the request log of api.observe carries the same facts and the request id."""
    name = "text" if settings.log_format == "text" else "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "core.logs.JSONFormatter"},
            "text": {"()": "core.logs.TextFormatter"},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": name, "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["default"], "level": settings.log_level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
