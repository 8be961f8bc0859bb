"""Uploaded documents: judged by content, stored once per content, readable only in scope."""

from __future__ import annotations

import pytest

from models import Document
from services.compliance.documents import download_name, get_document, sniff
from services.errors import ErrorCode
from tests.conftest import PDF, PNG, Upload, World
from tests.services.cycle import Cycle, fails_with

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"PK\x03\x04", None),
        (b"<html>%PDF-", None),
        (b"", None),
    ],
)
def test_a_file_is_judged_by_its_first_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("report.exe", "application/pdf", "report.pdf"),
        ("scan", "image/png", "scan.png"),
        ("photo.JPG.bat", "image/jpeg", "photo.JPG.jpg"),
        ("", "application/pdf", "document.pdf"),
    ],
)
def test_the_download_name_carries_the_extension_of_the_content(
    filename: str, content_type: str, expected: str
) -> None:
    assert download_name(Document(filename=filename, content_type=content_type)) == expected


async def test_the_same_content_is_stored_once_on_disk(cycle: Cycle) -> None:
    await cycle.acknowledge()
    application = await cycle.submit(report=Upload(PDF, "copy-of-the-notice.pdf"))
    notice_document = await Document.get(id=cycle.notice.document_id)
    report = await Document.get(id=application.report_id)
    assert report.id != notice_document.id and report.sha256 == notice_document.sha256
    assert [p.name for p in cycle.files.root.rglob("*") if p.is_file()] == [report.sha256]


async def test_a_document_is_read_only_within_scope(cycle: Cycle, world: World) -> None:
    document_id = cycle.notice.document_id
    assert document_id is not None
    for actor in (cycle.member, cycle.regulator, await world.regulator(""), await world.admin()):
        assert (await get_document(actor, document_id)).id == document_id
    for outsider in (await world.member(await world.enterprise("440113")), await world.regulator("11")):
        with fails_with(ErrorCode.NOT_FOUND):
            await get_document(outsider, document_id)


@pytest.mark.parametrize("document_id", [0, -1, 2**31, 2**63])
async def test_impossible_document_ids_are_simply_not_found(cycle: Cycle, document_id: int) -> None:
    with fails_with(ErrorCode.NOT_FOUND):
        await get_document(cycle.member, document_id)
