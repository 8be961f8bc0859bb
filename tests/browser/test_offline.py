"""Offline: with every request to an address other than this machine blocked, the console and
GraphiQL both work, and no request leaves the machine (no CDN, no web font, no telemetry)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Route, expect

from tests.browser.conftest import REGULATOR, Cast
from tests.browser.support import is_local, sign_in


def offline_context(
    new_context: Callable[..., BrowserContext],
) -> tuple[BrowserContext, list[str], list[str]]:
    """A context whose requests are all recorded, and refused unless they go to loopback."""
    context = new_context()
    seen: list[str] = []
    refused: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        seen.append(url)
        if is_local(url):
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", guard)
    return context, seen, refused


def test_the_console_and_graphiql_work_with_nothing_but_this_machine(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    context, seen, refused = offline_context(new_context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, cast.url, *REGULATOR)
    expect(page.get_by_test_id("status-cards")).to_be_visible()
    expect(page.locator(".chart canvas").first).to_be_visible()
    page.goto(f"{cast.url}/statistics")
    expect(page.get_by_test_id("statistics-table").locator("tbody tr").first).to_be_visible()

    # GraphiQL, signed in as the console's user: run a query and read the answer.
    page.goto(f"{cast.url}/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    editor = page.locator(".graphiql-query-editor .CodeMirror").first
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("{ me { username role")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".graphiql-response")).to_contain_text('"username": "b_regulator"')

    assert errors == []
    assert refused == [], f"requests tried to leave the machine: {refused}"
    assert seen and all(is_local(url) for url in seen)
    assert any("/assets/graphiql" in url for url in seen), "GraphiQL came from somewhere else"
