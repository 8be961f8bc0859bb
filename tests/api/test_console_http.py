"""The console's pages: index.html at / and at every client route, GraphiQL at GET /graphql, all
from the local build, and an honest page when the build is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from api import console
from api.app import create_app
from core.settings import Settings

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A small build output in place of api/static."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="app"></div><script src="/assets/app-1a2b.js">'
    )
    (tmp_path / "graphiql.html").write_text('<!doctype html><div id="graphiql"></div>')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('ccms')")
    monkeypatch.setattr(console, "STATIC", tmp_path)
    yield tmp_path


@pytest.fixture
async def browser(built: Path, settings: Settings, db: str) -> AsyncIterator[httpx.AsyncClient]:
    # The asset mount reads STATIC when the app is built, so build it after `built`.
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccms.test"
    ) as client:
        yield client


async def test_the_console_is_served_at_the_root_and_at_its_own_routes(browser: httpx.AsyncClient) -> None:
    for path in ("/", "/notices/7", "/statistics"):
        response = await browser.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert '<div id="app">' in response.text
        assert response.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_cached_for_good(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/assets/app-1a2b.js")

    assert response.status_code == 200
    assert response.text == "console.log('ccms')"
    assert "immutable" in response.headers["cache-control"]
    assert (await browser.get("/assets/missing.js")).status_code == 404


async def test_graphiql_is_the_local_build_not_a_cdn_page(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/graphql", headers=HTML)

    assert response.status_code == 200
    assert '<div id="graphiql">' in response.text
    assert "unpkg" not in response.text and "cdn" not in response.text.lower()


async def test_a_client_that_does_not_ask_for_html_gets_a_plain_404(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/no/such/route", headers={"accept": "application/json"})

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


async def test_the_api_routes_still_win_over_the_console(browser: httpx.AsyncClient) -> None:
    assert (await browser.get("/health")).json()["status"] == "ok"
    assert (await browser.get("/documents/1", headers=HTML)).status_code == 401


async def test_without_a_build_the_pages_say_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient
) -> None:
    monkeypatch.setattr(console, "STATIC", tmp_path / "nothing")

    for path in ("/", "/graphql"):
        response = await http.get(path, headers=HTML)
        assert response.status_code == 503
        assert "make web" in response.text


async def test_a_post_to_a_path_that_does_not_exist_is_404_and_to_a_get_route_405(
    browser: httpx.AsyncClient,
) -> None:
    unknown = await browser.post("/no/such/route", json={})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "NOT_FOUND"

    wrong_method = await browser.post("/health")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD"}

    # The API's own routes are untouched by the catch-all.
    assert (await browser.delete("/graphql")).status_code == 405
