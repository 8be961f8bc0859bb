"""What the schema tests share: reading payloads, coded errors and top-level errors, raw
multipart requests, and snapshots of tenant data for "nothing changed" checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import (
    Alarm,
    AlarmKind,
    Allowance,
    Application,
    Message,
    Notice,
    User,
    Verification,
    VerificationConclusion,
    VerificationFinding,
)
from services.access import Actor
from services.compliance import alarms
from tests.conftest import PDF, token_for

UPLOAD_LIMIT = 64 * 1024  # the test settings' upload_max_bytes
TOO_LARGE_FILE = b"%PDF-1.7\n" + b"0" * (100 * 1024)  # over the upload limit, under the body limit
TOO_LARGE_BODY = b"%PDF-1.7\n" + b"0" * (1200 * 1024)  # over upload_max_bytes + 1 MiB
TEXT = b"Just some plain text, whatever the name says.\n"
PDF_FILE = ("notice.pdf", PDF, "application/pdf")


async def overdue_acknowledgement(notice: Notice) -> Alarm:
    """The notice's acknowledgement window closed an hour ago and the delayed check ran: an
    ACK_OVERDUE alarm, and an ALARM message for the regulators of the enterprise's region."""
    await Notice.filter(id=notice.id).update(ack_due_at=datetime.now(UTC) - timedelta(hours=1))
    await alarms.check_acknowledgement(notice.id)
    # Read back rather than taken from the check: a sweep running meanwhile may have raised it.
    return await Alarm.get(notice_id=notice.id, kind=AlarmKind.ACK_OVERDUE)


def payload(result: dict[str, Any], mutation: str) -> dict[str, Any]:
    """The mutation's payload; the response must carry no top-level error."""
    assert "errors" not in result, result
    return result["data"][mutation]


def succeeded(result: dict[str, Any], mutation: str) -> dict[str, Any]:
    body = payload(result, mutation)
    assert body["errors"] == [], body["errors"]
    return body


def refused(result: dict[str, Any], mutation: str, code: str, field: str | None = None) -> dict[str, Any]:
    """The mutation answered exactly one coded error (naming `field`) and no result."""
    body = payload(result, mutation)
    assert [(e["code"], e["field"]) for e in body["errors"]] == [(code, field)], body["errors"]
    assert body["errors"][0]["message"].strip()
    for key, value in body.items():
        if key != "errors":
            assert value in (None, []), f"{key} returned despite the error: {value}"
    return body["errors"][0]


def code_of(result: dict[str, Any], mutation: str) -> str:
    """ "ok", or the single error code of the payload."""
    errors = payload(result, mutation)["errors"]
    return errors[0]["code"] if errors else "ok"


def top_level_error(result: dict[str, Any]) -> dict[str, Any]:
    assert result.get("data") is None, result
    [error] = result["errors"]
    return error


def refused_unread(result: dict[str, Any], code: str, field: str) -> None:
    """Refused as the request was parsed: a coded top-level error naming the input, no data."""
    error = top_level_error(result)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field), error


def unauthenticated(result: dict[str, Any], field: str) -> None:
    """Refused before any resolver ran: one top-level UNAUTHENTICATED error, no data."""
    error = top_level_error(result)
    assert error["extensions"] == {"code": "UNAUTHENTICATED"} and error["path"] == [field], error


def auth(actor: Actor) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(actor)}"}


async def post_multipart(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]],
    actor: Actor | None = None,
) -> httpx.Response:
    """What GraphQLClient.upload sends, returning the response itself (for its status)."""
    keys = list(files)
    return await http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({str(i): [f"variables.{key}"] for i, key in enumerate(keys)}),
        },
        files={str(i): files[key] for i, key in enumerate(keys)},
        headers=auth(actor) if actor else {},
    )


async def tenant_data(enterprise_id: int) -> list[tuple[Any, ...]]:
    """Everything a mutation could change for one enterprise, as comparable tuples."""
    rows: list[tuple[Any, ...]] = []
    rows += await Allowance.filter(enterprise_id=enterprise_id).order_by("id").values_list("year", "amount")
    rows += (
        await Notice.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "status", "version", "deadline", "acknowledged_at")
    )
    rows += (
        await Application.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "status", "decision_reason")
    )
    rows += await Message.filter(enterprise_id=enterprise_id).order_by("id").values_list("id", "read_at")
    # The regulators' messages about it (alarms), and its alarms.
    rows += (
        await Message.filter(notice__enterprise_id=enterprise_id, regulator_region__isnull=False)
        .order_by("id")
        .values_list("id", "read_at")
    )
    rows += (
        await Alarm.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "status", "resolved_by_id", "resolution_note", "acknowledged_late_at")
    )
    # Its verifications, their findings and conclusions, and the messages about them.
    rows += (
        await Verification.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "status", "version", "body_id", "due_at", "submissions")
    )
    rows += (
        await VerificationFinding.filter(verification__enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "answer")
    )
    rows += (
        await VerificationConclusion.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "verified_emissions")
    )
    rows += (
        await Message.filter(verification__enterprise_id=enterprise_id, enterprise_id__isnull=True)
        .order_by("id")
        .values_list("id", "read_at")
    )
    # Its user accounts: the lifecycle mutations change these.
    rows += (
        await User.filter(enterprise_id=enterprise_id)
        .order_by("id")
        .values_list("id", "role", "is_active", "session_version", "must_change_password", "password_hash")
    )
    return rows
