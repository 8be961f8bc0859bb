"""Signed download links: a browser opens a document or an export by click, without a header,
for the user who asked, for that resource only, until the link expires."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from models import Role, User
from services.access import Actor
from services.compliance.documents import FileStore
from services.identity import downloads
from services.statistics.dimensions import StatisticsFilter
from tests.conftest import PDF, PNG, SECRET, GraphQLClient, Upload, World, token_for
from tests.services.conftest import fast_password_hashing  # noqa: F401
from tests.services.cycle import Cycle, issue

DOCUMENT_LINK = """
mutation($id: ID!) { createDocumentLink(documentId: $id) { url expiresAt errors { code field } } }
"""
EXPORT_LINK = """
mutation($format: ExportFormat!, $groupBy: [StatisticsDimension!]!, $filter: StatisticsFilterInput) {
  createStatisticsExportLink(format: $format, groupBy: $groupBy, filter: $filter) {
    url expiresAt errors { code }
  }
}
"""


@pytest.fixture
async def cycle(world: World, files: FileStore) -> Cycle:
    return await Cycle.start(world, files)


async def link_for(gql: GraphQLClient, actor: Actor, document_id: int | None) -> str:
    payload = (await gql(DOCUMENT_LINK, {"id": str(document_id)}, actor=actor))["data"]["createDocumentLink"]
    assert payload["errors"] == [], payload
    return payload["url"]


def with_param(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query)) | changes
    return f"{parts.path}?{urlencode(params)}"


async def test_a_document_link_opens_the_pdf_inline_without_a_header(
    gql: GraphQLClient, http: httpx.AsyncClient, cycle: Cycle
) -> None:
    url = await link_for(gql, cycle.member, cycle.notice.document_id)

    response = await http.get(url)

    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["cache-control"] == "private, no-store"


async def test_an_image_is_still_downloaded_as_an_attachment(
    http: httpx.AsyncClient, cycle: Cycle, world: World, files: FileStore
) -> None:
    other = await world.enterprise("440106")
    await world.allowance(cycle.regulator, other)
    notice = await issue(cycle.regulator, files, other, document=Upload(PNG, "scan.png"))

    response = await http.get(
        f"/documents/{notice.document_id}", headers={"authorization": f"Bearer {token_for(cycle.regulator)}"}
    )

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_an_expired_link_is_refused(http: httpx.AsyncClient, cycle: Cycle) -> None:
    path = f"/documents/{cycle.notice.document_id}"
    past = datetime.now(UTC) - timedelta(seconds=61)
    link = downloads.sign(cycle.member, path, [], secret=SECRET, ttl_seconds=60, now=past)

    response = await http.get(link.url)

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_a_link_whose_resource_user_or_signature_was_changed_is_refused(
    gql: GraphQLClient, http: httpx.AsyncClient, cycle: Cycle, world: World, files: FileStore
) -> None:
    other = await world.enterprise("440106")
    await world.allowance(cycle.regulator, other)
    foreign = await issue(cycle.regulator, files, other)
    url = await link_for(gql, cycle.regulator, cycle.notice.document_id)
    user, expires, mac = dict(parse_qsl(urlsplit(url).query))["link"].split(".")
    another_user = (await world.regulator("44")).user_id

    other_document = url.replace(
        f"/documents/{cycle.notice.document_id}?", f"/documents/{foreign.document_id}?"
    )
    assert other_document != url
    tampered = [
        other_document,
        with_param(url, link=f"{another_user}.{expires}.{mac}"),
        with_param(url, link=f"{user}.{int(expires) + 3600}.{mac}"),
        with_param(url, link=f"{user}.{expires}.{mac[:-2]}AA"),
        with_param(url, link="garbage"),
    ]
    for changed in tampered:
        assert (await http.get(changed)).status_code == 401, changed
    assert (await http.get(url)).status_code == 200


async def test_a_link_is_not_a_session_token_and_a_session_token_is_not_a_link(
    gql: GraphQLClient, http: httpx.AsyncClient, cycle: Cycle
) -> None:
    url = await link_for(gql, cycle.member, cycle.notice.document_id)
    signature = dict(parse_qsl(urlsplit(url).query))["link"]

    as_bearer = await http.post(
        "/graphql", json={"query": "{ me { username } }"}, headers={"authorization": f"Bearer {signature}"}
    )
    as_link = await http.get(with_param(url, link=token_for(cycle.member)))

    assert as_bearer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert as_link.status_code == 401


async def test_no_link_is_issued_for_a_document_outside_the_callers_scope(
    gql: GraphQLClient, cycle: Cycle, world: World
) -> None:
    outsider = await world.member(await world.enterprise("440307"))
    beijing = await world.regulator("11")

    for actor in (outsider, beijing):
        result = await gql(DOCUMENT_LINK, {"id": str(cycle.notice.document_id)}, actor=actor)
        payload = result["data"]["createDocumentLink"]
        assert payload["url"] is None
        assert payload["errors"] == [{"code": "NOT_FOUND", "field": None}]


async def test_a_link_is_judged_in_the_users_scope_at_use(
    http: httpx.AsyncClient, cycle: Cycle, world: World
) -> None:
    # Signed by hand for a document the user cannot see: the signature is valid, the scope is not.
    outsider = await world.member(await world.enterprise("440307"))
    link = downloads.sign(
        outsider, f"/documents/{cycle.notice.document_id}", [], secret=SECRET, ttl_seconds=60
    )

    assert (await http.get(link.url)).status_code == 404


async def test_a_deactivated_users_links_stop_working(
    gql: GraphQLClient, http: httpx.AsyncClient, cycle: Cycle
) -> None:
    url = await link_for(gql, cycle.member, cycle.notice.document_id)
    await User.filter(id=cycle.member.user_id).update(is_active=False)

    assert (await http.get(url)).status_code == 401


async def test_an_export_link_gives_the_rows_a_header_gives(
    gql: GraphQLClient, http: httpx.AsyncClient, cycle: Cycle
) -> None:
    await cycle.under_review()
    variables = {"format": "CSV", "groupBy": ["YEAR", "ENTERPRISE"], "filter": {"regionPrefix": "44"}}
    payload = (await gql(EXPORT_LINK, variables, actor=cycle.regulator))["data"]["createStatisticsExportLink"]
    assert payload["errors"] == []
    url = payload["url"]
    assert url.startswith("/export/statistics.csv?")

    by_link = await http.get(url)
    by_header = await http.get(
        "/export/statistics.csv",
        params={"groupBy": "YEAR,ENTERPRISE", "regionPrefix": "44"},
        headers={"authorization": f"Bearer {token_for(cycle.regulator)}"},
    )

    assert by_link.status_code == 200, by_link.text
    assert by_link.text == by_header.text
    assert "notices_due" in by_link.text.splitlines()[0]
    assert (await http.get(with_param(url, regionPrefix="11"))).status_code == 401
    assert (await http.get(url.replace(".csv?", ".json?"))).status_code == 401


def test_an_export_link_carries_every_filter_and_only_those() -> None:
    actor = Actor(7, "someone", Role.REGULATOR)
    where = StatisticsFilter(
        from_=date(2024, 1, 1), to=date(2025, 12, 31), sector=None, energy_types=["DIESEL"]
    )
    link = downloads.statistics_export_link(
        actor, "JSON", ["YEAR"], where, bom=True, secret=SECRET, ttl_seconds=60
    )
    params = dict(parse_qsl(urlsplit(link.url).query))

    assert urlsplit(link.url).path == "/export/statistics.json"
    assert set(params) == {"groupBy", "from", "to", "energyTypes", "link"}  # bom is CSV only
    assert downloads.verify(params.pop("link"), "/export/statistics.json", params.items(), secret=SECRET) == 7
