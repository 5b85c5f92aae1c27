"""Open every built page in headless Chromium with the network cut off, as a reader
in a classroom without internet would, and check what they see.

Needs Debian's `chromium` (no browser is downloaded): `apt-get install chromium`.
Without it these tests skip and say so; `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest

from book_paths import CHAPTERS, CONFIG, HTML, ROOT, TOC, toc_files

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = toc_files(TOC)
BUILT_CHAPTERS = [md for md in CHAPTERS if f"book/{md.stem}" in PAGES]

# A check of the book, not of evalib: `pytest -m "not book"` leaves it out.
pytestmark = [
    pytest.mark.book,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless Chromium not found: install Debian's package (`apt-get install chromium`) "
        "to run the browser tests",
    ),
]


@pytest.fixture(scope="module")
def server(build):
    """Serve _build/html on a free loopback port for the module's tests."""
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def visit(browser, server, entry: str, dark: bool = False):
    """Open one page offline; return (page, console errors, blocked outside requests)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light"
    )
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: errors.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None,
    )

    def offline(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:  # no internet: anything outside the book fails, as it would in a classroom
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", offline)
    page.goto(f"{server}/{entry}.html", wait_until="load")
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? MathJax.startup.promise : null")
    return page, errors, outside


@pytest.mark.parametrize("entry", PAGES)
def test_page_renders_offline(browser, server, entry):
    page, errors, outside = visit(browser, server, entry)
    assert not outside, f"{entry} asks the internet for {outside}"
    assert not errors, f"{entry} logs errors in the browser console: {errors}"

    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"{entry} has images that did not load: {broken}"

    uncaptioned = page.evaluate(
        """() => [...document.querySelectorAll('article img')]
                 .filter(i => !i.closest('.animation, .admonition'))
                 .filter(i => !i.closest('figure') || !i.alt || /[.](png|jpe?g|svg)$/.test(i.alt))
                 .map(i => i.src)"""
    )
    assert not uncaptioned, f"{entry}: figures without a caption (alt text): {uncaptioned}"

    maths = page.evaluate("() => document.querySelectorAll('.math').length")
    rendered = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    assert rendered >= maths, f"{entry}: {maths} formulas, only {rendered} rendered by MathJax"
    text = page.inner_text("main")
    assert "$$" not in text and "\\frac" not in text, f"{entry} shows raw TeX"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = entry.replace("/", "_")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("md", BUILT_CHAPTERS, ids=lambda p: p.stem)
def test_colab_link_opens_the_chapter_notebook(browser, server, md):
    page, _, _ = visit(browser, server, f"book/{md.stem}")
    links = page.evaluate(
        "() => [...document.querySelectorAll('a')].map(a => a.href)"
        ".filter(h => h.includes('colab.research.google.com'))"
    )
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    assert links and all(
        link.endswith(f"{repo}/blob/{CONFIG['repository']['branch']}/book/{md.stem}.ipynb")
        for link in links
    ), links
    page.context.close()


@pytest.mark.parametrize("md", BUILT_CHAPTERS, ids=lambda p: p.stem)
def test_animations_play(browser, server, md):
    page, errors, _ = visit(browser, server, f"book/{md.stem}")
    animations = page.locator("div.animation")
    for i in range(animations.count()):
        animation = animations.nth(i)
        animation.scroll_into_view_if_needed()
        frame = animation.locator("img").first
        before = frame.get_attribute("src")
        animation.locator("button[title='Next frame']").click()
        page.wait_for_timeout(100)
        assert frame.get_attribute("src") != before, f"{md.stem}: animation {i} did not advance"
        animation.locator("button[title='Play']").click()
        page.wait_for_timeout(600)
        animation.locator("button[title='Pause']").click()
        icon = animation.locator("button[title='Play'] svg, button[title='Play'] i")
        assert icon.count() and icon.first.bounding_box()["width"] > 0, (
            f"{md.stem}: play icon not drawn"
        )
    assert not errors, errors
    page.context.close()


@pytest.mark.parametrize("md", BUILT_CHAPTERS, ids=lambda p: p.stem)
def test_dark_mode_keeps_figures_on_white(browser, server, md):
    """In dark mode the page turns dark while figures keep their white background
    (set by evalib.plots.use_style), so their black labels stay readable."""
    page, errors, _ = visit(browser, server, f"book/{md.stem}", dark=True)
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    page_background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert luminance(page_background) < 0.2, (
        f"{md.stem}: dark mode did not darken the page ({page_background})"
    )
    figures = page.locator("figure img")
    if figures.count():
        figure = figures.first
        figure.scroll_into_view_if_needed()
        # The top-left pixel of the figure, as drawn in the page, is the figure's own background.
        corner = page.evaluate(
            """(img) => { const c = document.createElement('canvas');
                          c.width = img.naturalWidth; c.height = img.naturalHeight;
                          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                          const d = g.getImageData(2, 2, 1, 1).data;
                          return `rgb(${d[0]}, ${d[1]}, ${d[2]})`; }""",
            figure.element_handle(),
        )
        assert luminance(corner) > 0.9, (
            f"{md.stem}: first figure is not on a light background ({corner})"
        )
    page.screenshot(path=str(SCREENSHOTS / f"{md.stem}-dark.png"))
    assert not errors, errors
    page.context.close()


def luminance(css_color: str) -> float:
    """Relative brightness in [0, 1] of a CSS `rgb(...)`/`rgba(...)` colour."""
    red, green, blue = (float(v) for v in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
