"""Headless Chromium for the tests that need a browser (shared, not a test module).

Debian's `chromium` is used; no browser is downloaded. `.ci/run` installs it
(`apt-get install chromium`); without it the browser tests skip with NO_CHROMIUM.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = (
    "headless Chromium not found: install Debian's package (`apt-get install chromium`) "
    "to run the browser tests"
)
# No background traffic: the tests cut the network off and count every outside request.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (Playwright's Browser), closed on exit; skips the
    calling test when Chromium or Playwright is missing."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright not installed: `pip install playwright`"
    )
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
