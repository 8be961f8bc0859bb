"""Sessions end cleanly: an expired session, or a token the server no longer accepts, returns
to the sign-in page with a word about why, and signing in again comes back to the screen."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import REGULATOR, Cast
from tests.browser.support import sign_in


def test_a_session_past_its_expiry_returns_to_sign_in(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    stored = json.loads(page.evaluate("localStorage.getItem('ccms.session')"))
    stored["expiresAt"] = "2000-01-01T00:00:00Z"
    page.evaluate(f"localStorage.setItem('ccms.session', {json.dumps(json.dumps(stored))})")

    page.goto(f"{cast.url}/statistics")

    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)statistics$"))
    assert page.evaluate("localStorage.getItem('ccms.token')") is None


def test_a_refused_token_signs_out_and_signing_in_returns_to_the_screen(
    cast: Cast, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    sign_in(page, cast.url, *REGULATOR)
    stored = json.loads(page.evaluate("localStorage.getItem('ccms.session')"))
    stored["token"] = "not-a-token-the-server-signed"
    page.evaluate(f"localStorage.setItem('ccms.session', {json.dumps(json.dumps(stored))})")

    page.goto(f"{cast.url}/enterprises")

    expect(page).to_have_url(re.compile(r"/login\?reason=expired&next=%2Fenterprises$"))
    expect(page.get_by_role("alert").first).to_contain_text("登录已过期")
    page.get_by_label("用户名").fill(REGULATOR[0])
    page.get_by_label("密码").fill(REGULATOR[1])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{cast.url}/enterprises")
    expect(page.locator("a[href^='/enterprises/']").first).to_be_visible()
