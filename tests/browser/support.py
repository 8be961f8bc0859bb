"""Driving the console: Debian's Chromium through Playwright, sign-in, Element Plus controls,
and screenshots of every open page when a test fails."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (the tests run as root), and nothing Chromium would fetch on its own account.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PDF = b"%PDF-1.7\n% compliance document\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LOOPBACK = re.compile(r"^(https?|wss?)://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)")
# The console opens on last year's compliance cycle (web/src/composables/years.ts).
YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year - 1


def is_local(url: str) -> bool:
    return bool(LOOPBACK.match(url)) or url.startswith(("data:", "blob:", "about:"))


def sign_in(page: Page, base: str, username: str, password: str, *, chinese: bool = True) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名" if chinese else "Username").fill(username)
    page.get_by_label("密码" if chinese else "Password").fill(password)
    page.get_by_role("button", name="登录" if chinese else "Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def choose(page: Page, select_id: str, option: str) -> None:
    """Pick an option of an Element Plus select by its visible text."""
    # The select's wrapper, not its input: the text of the chosen value lies over the input.
    page.locator(f".el-select__wrapper:has(#{select_id})").click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def fill_number(page: Page, input_id: str, value: int) -> None:
    """An Element Plus number input takes its value when it loses focus."""
    field = page.locator(f"#{input_id}")
    field.fill(str(value))
    field.press("Tab")


def settled(page: Page) -> Page:
    """The page once its transitions (a dialog fading in, a tag appearing) have run: for pictures."""
    page.wait_for_function("document.getAnimations().every((a) => a.playState !== 'running')")
    return page


def mark_page(page: Page) -> None:
    """A value that only survives as long as the page is not reloaded."""
    page.evaluate("window.__sameDocument = true")


def still_same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def save_screenshots(contexts: Iterable[BrowserContext], directory: Path, name: str) -> list[Path]:
    """A full-page screenshot of every open page, named after the test."""
    directory.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    saved = []
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            path = directory / f"{safe}-{c}-{p}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception:  # a crashed page cannot be photographed; the others still are
                continue
            saved.append(path)
    return saved
