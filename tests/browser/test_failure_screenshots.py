"""A failed browser test leaves a screenshot of each page it had open."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.browser.support import save_screenshots

PNG = b"\x89PNG\r\n\x1a\n"


def test_every_open_page_of_every_context_is_saved_as_a_png(browser: Browser, tmp_path: Path) -> None:
    regulator, enterprise = browser.new_context(), browser.new_context()
    try:
        regulator.new_page().set_content("<h1>审核队列</h1>")
        enterprise.new_page().set_content("<h1>通告消息</h1>")
        enterprise.new_page()

        saved = save_screenshots(
            [regulator, enterprise], tmp_path / "failures", "tests/browser/x.py::test[sqlite]"
        )
    finally:
        regulator.close()
        enterprise.close()

    assert [path.name for path in saved] == [
        "tests_browser_x.py_test_sqlite_-0-0.png",
        "tests_browser_x.py_test_sqlite_-1-0.png",
        "tests_browser_x.py_test_sqlite_-1-1.png",
    ]
    assert all(path.read_bytes().startswith(PNG) and path.stat().st_size > 100 for path in saved)
