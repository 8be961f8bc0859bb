"""Uploaded documents: the official notice document and the verifier's report.

Files are judged by their first bytes, never by name or declared type, and
stored under their SHA-256 so a retried upload costs no space and a file left
behind by a rolled-back transaction is harmless.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tortoise.expressions import Q, Subquery

from models import Document, Role, Verification, VerificationConclusion
from services.access import Actor, enterprise_scope
from services.errors import ErrorCode, ServiceError, not_found
from services.values import MAX_ID

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


class Upload(Protocol):
    """What a multipart upload gives us (starlette's UploadFile fits)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class FileStore:
    root: Path
    max_bytes: int

    async def accept(self, upload: Upload | None, field: str) -> IncomingFile:
        """Read and check an upload; nothing is written yet."""
        if upload is None:
            raise ServiceError(
                ErrorCode.DOCUMENT_REQUIRED, "{field} is required", field, params={"field": field}
            )
        data = await upload.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ServiceError(
                ErrorCode.DOCUMENT_TOO_LARGE,
                "{field} is larger than {value:g} MB",
                field,
                params={"field": field, "value": self.max_bytes / (1024 * 1024)},
            )
        content_type = sniff(data)
        if content_type is None:
            raise ServiceError(
                ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED,
                "{field} must be a PDF, PNG or JPEG file (judged by content)",
                field,
                params={"field": field},
            )
        name = Path(upload.filename or "document").name[:200] or "document"
        return IncomingFile(name, content_type, data, hashlib.sha256(data).hexdigest())

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def write(self, incoming: IncomingFile) -> None:
        path = self.path_of(incoming.sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(incoming.data)
        os.replace(tmp, path)


def sniff(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


async def save(store: FileStore, incoming: IncomingFile, *, enterprise_id: int, actor: Actor) -> Document:
    """Store the bytes and create the row; call inside the caller's transaction."""
    store.write(incoming)
    return await Document.create(
        enterprise_id=enterprise_id,
        filename=incoming.filename,
        content_type=incoming.content_type,
        size=len(incoming.data),
        sha256=incoming.sha256,
        uploaded_by_id=actor.user_id,
    )


async def get_document(actor: Actor, document_id: int) -> Document:
    if not 0 < document_id <= MAX_ID:  # never a row, and the database would refuse the query
        raise not_found("Document")
    document = await Document.filter(document_scope(actor), id=document_id).first()
    if document is None:
        raise not_found("Document")
    return document


def document_scope(actor: Actor) -> Q:
    """The documents the actor may read: those of the enterprises it sees, and for a verifier
    the reports and conclusions of the verifications assigned to its body (and nothing else)."""
    if actor.role != Role.VERIFIER:
        return enterprise_scope(actor, "enterprise")
    body = actor.verification_body_id or -1
    reports = Verification.filter(body_id=body, report_id__isnull=False).values("report_id")
    concluded = VerificationConclusion.filter(verification__body_id=body).values("report_id")
    return Q(id__in=Subquery(reports)) | Q(id__in=Subquery(concluded))


def download_name(document: Document) -> str:
    stem = Path(document.filename).stem or "document"
    return stem + EXTENSIONS.get(document.content_type, "")
