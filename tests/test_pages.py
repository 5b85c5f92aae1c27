"""The built book as its readers open it: light, whole on a phone, accessible.

Every page of the table of contents is served as a static host serves it (text
gzip-compressed, ``static_host``), opened offline in headless Chromium, scrolled to
its end (so lazily loaded figures and live figures load too), and checked:

- weight: what crosses the network for the page and everything it loads is at most
  :data:`PAGE_BUDGET_MB`; the page's own HTML at most :data:`HTML_BUDGET_KB`;
- a phone (360 px wide): nothing makes the page scroll sideways; every figure, display
  equation and live figure fits its column; a figure's PNG is at most ``plots.WIDTH``
  inches wide, so its text (at least ``plots.MIN_FONT_PT``) stays readable there;
  screenshots of each page at phone width go to ``_build/screenshots/phone-*.png``;
- axe-core (the JavaScript that ``axe-playwright-python`` ships, injected into the
  page): no critical and no serious violation;
- no animation is a strip of raster frames;
- nothing jumps as the page loads: the layout shifts of the first screen on a phone
  (as the formulas in view are typeset, the figures arrive) add up to less than
  :data:`SHIFT_BUDGET`, the "good" limit of Chrome's cumulative layout shift (which
  counts the worst burst of shifts; this sum is stricter).

Needs Debian's `chromium` (`.ci/run` installs it); without it these tests skip.
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import pytest

from book_paths import BOOK, CHAPTERS, HTML, ROOT, TOC, toc_files
from chromium import CHROMIUM, NO_CHROMIUM, chromium
from evalib.book import plots
from static_host import serve

SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = toc_files(TOC)
PAGE_BUDGET_MB = 2.0
HTML_BUDGET_KB = 500
PHONE = {"width": 360, "height": 780}
SHIFT_BUDGET = 0.1

pytestmark = [pytest.mark.book]
browser_tests = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)


@pytest.fixture(scope="module")
def server(build):
    with serve(HTML) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def offline(page, server: str) -> None:
    """Let ``page`` reach the local host only, as a reader without internet would."""
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(server)
            else route.abort("internetdisconnected")
        ),
    )


def open_page(browser, server, entry: str, viewport: dict[str, int]):
    """Open ``entry`` offline, wait for MathJax, scroll to the end and back so that
    everything loaded lazily has loaded; return (page, console errors)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    offline(page, server)
    page.goto(f"{server}/{entry}.html", wait_until="load")
    page.evaluate("() => window.MathJax?.startup?.promise")
    page.evaluate("() => window.MathJax?.startup?.document?.lazyTypesetAll?.()")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    for y in range(0, height + viewport["height"], viewport["height"] // 2):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(40)
    page.wait_for_load_state("networkidle")
    # Live figures render once BokehJS has loaded: wait until each has drawn a canvas.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.evalib-live')].every(
             (f) => f.querySelector('.bk-Column, .bk-Row, .bk-Figure, .bk-root, [class^=bk]')
                    || f.textContent.length > 0)""",
        timeout=30000,
    )
    page.evaluate("window.scrollTo(0, 0)")
    return page, errors


TYPESET_IN_VIEW = """() => [...document.querySelectorAll('mjx-lazy')].every(
  (m) => m.getBoundingClientRect().top > window.innerHeight)"""
RECORD_SHIFTS = """window.__shifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shifts.push(e.value);
}).observe({ type: "layout-shift", buffered: true });"""


@browser_tests
@pytest.mark.parametrize("entry", PAGES)
def test_page_does_not_jump_as_it_loads(browser, server, entry):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    offline(page, server)
    page.add_init_script(RECORD_SHIFTS)
    page.goto(f"{server}/{entry}.html", wait_until="load")
    page.evaluate("() => window.MathJax?.startup?.promise")
    page.wait_for_load_state("networkidle")
    # MathJax typesets the formulas in view as it sees them: wait until none is left.
    page.wait_for_function(TYPESET_IN_VIEW, timeout=30000)
    page.wait_for_timeout(300)  # and the layout after the last one
    shifts = page.evaluate("window.__shifts")
    context.close()
    assert sum(shifts) < SHIFT_BUDGET, (
        f"{entry}: the first screen shifts by {sum(shifts):.3f} as it loads "
        f"(budget {SHIFT_BUDGET}; largest single shifts {sorted(shifts)[-3:]})"
    )


WEIGH = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  let total = nav.encodedBodySize;
  for (const r of performance.getEntriesByType("resource")) total += r.encodedBodySize;
  return { html: nav.encodedBodySize, total: total };
}"""


@pytest.fixture(scope="module", params=PAGES)
def on_a_phone(request, browser, server):
    """``(entry, page, console errors)``: each page opened once at phone width, read to
    its end, for the checks below (pytest runs every test of one page, then the next)."""
    page, errors = open_page(browser, server, request.param, PHONE)
    yield request.param, page, list(errors)  # what went wrong while the page loaded
    page.context.close()


@browser_tests
def test_page_is_light(on_a_phone):
    entry, page, _ = on_a_phone
    weight = page.evaluate(WEIGH)
    assert weight["html"] <= HTML_BUDGET_KB * 1000, (
        f"{entry}: the page's own HTML transfers {weight['html'] / 1e3:.0f} kB "
        f"(budget {HTML_BUDGET_KB} kB)"
    )
    assert weight["total"] <= PAGE_BUDGET_MB * 1e6, (
        f"{entry}: {weight['total'] / 1e6:.2f} MB transferred (budget {PAGE_BUDGET_MB} MB)"
    )


PHONE_CHECKS = """() => {
  const wider = (el, box) => el.getBoundingClientRect().width > box + 1;
  const out = { page: document.documentElement.scrollWidth - window.innerWidth,
                figures: [], maths: [], live: [], frames: [] };
  const column = document.querySelector('article') || document.body;
  const columnWidth = column.getBoundingClientRect().width;
  for (const img of document.querySelectorAll('article img')) {
    if (wider(img, img.parentElement.getBoundingClientRect().width) || wider(img, columnWidth))
      out.figures.push(img.getAttribute('src'));
  }
  for (const m of document.querySelectorAll('mjx-container[display="true"]')) {
    const inner = m.querySelector('mjx-math');
    if (inner && inner.getBoundingClientRect().width > m.getBoundingClientRect().width + 1)
      out.maths.push((m.querySelector('mjx-assistive-mml') || m).textContent.slice(0, 60));
  }
  for (const f of document.querySelectorAll('.evalib-live')) {
    if (f.scrollWidth > f.clientWidth + 1 || wider(f, columnWidth)) out.live.push(f.id);
  }
  for (const el of document.querySelectorAll('div.animation, article img[src^="data:"]'))
    out.frames.push(el.tagName);
  return out;
}"""


@browser_tests
def test_page_is_whole_on_a_phone(on_a_phone):
    entry, page, errors = on_a_phone
    found = page.evaluate(PHONE_CHECKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone-{entry.replace('/', '_')}.png"), full_page=True)
    assert found["page"] <= 0, f"{entry}: the page scrolls sideways by {found['page']} px"
    assert not found["figures"], f"{entry}: figures wider than the column: {found['figures']}"
    assert not found["maths"], f"{entry}: display equations wider than the column: {found['maths']}"
    assert not found["live"], f"{entry}: live figures wider than the column: {found['live']}"
    assert not found["frames"], f"{entry}: animations made of raster frames: {found['frames']}"
    assert not errors, f"{entry}: console errors: {errors}"


def axe_script() -> str:
    """axe-core's JavaScript, as the axe-playwright-python package ships it."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@browser_tests
def test_page_has_no_serious_accessibility_violation(on_a_phone):
    entry, page, _ = on_a_phone
    page.evaluate(axe_script())
    result = page.evaluate(
        "async () => { const r = await axe.run(document, { resultTypes: ['violations'] });"
        " return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })); }"
    )
    serious = [v for v in result if v["impact"] in ("critical", "serious")]
    assert not serious, f"{entry}: axe-core finds {serious}"


# -- figures: sizes and fonts, from the files -------------------------------------------------
def png_inches(path: Path) -> float:
    """A PNG's width in inches, from its pixel width and its pHYs density."""
    data = path.read_bytes()
    width = struct.unpack(">I", data[16:20])[0]
    at = data.find(b"pHYs")
    per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13]) if at > 0 else (0, 0, 0)
    dpi = per_metre * 0.0254 if unit == 1 and per_metre else 96.0
    return width / dpi


def test_every_figure_is_at_most_the_style_width(build):
    """A figure wider than plots.WIDTH inches would shrink its text below what a phone
    shows legibly (book/_ext shows a PNG at its physical size, capped at the column)."""
    pages = [HTML / f"{entry}.html" for entry in PAGES]
    too_wide = {}
    for page in pages:
        for src in re.findall(r'<img [^>]*src="([^"]*_images/[^"]+\.png)"', page.read_text()):
            inches = png_inches((page.parent / src).resolve())
            if inches > plots.WIDTH * 1.02:
                too_wide[f"{page.stem}: {src.rsplit('/', 1)[-1][:12]}"] = round(inches, 2)
    assert not too_wide, f"figures wider than {plots.WIDTH} in: {too_wide}"


FONT_SIZE = re.compile(
    r"""(?:fontsize|labelsize|titlesize)\s*=\s*(\d+(?:\.\d+)?)|["']size["']\s*:\s*(\d+(?:\.\d+)?)"""
)
FIGSIZE = re.compile(r"figsize\s*=\s*\(\s*(\d+(?:\.\d+)?)")


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_figures_keep_the_phone_sizes(md):
    """No chapter draws text below plots.MIN_FONT_PT or a figure wider than plots.WIDTH."""
    source = md.read_text()
    small = [
        float(a or b) for a, b in FONT_SIZE.findall(source) if float(a or b) < plots.MIN_FONT_PT
    ]
    assert not small, f"{md.name}: font sizes below {plots.MIN_FONT_PT} pt: {small}"
    wide = [float(w) for w in FIGSIZE.findall(source) if float(w) > plots.WIDTH]
    assert not wide, f"{md.name}: figures wider than {plots.WIDTH} in: {wide}"


def test_alt_texts_and_descriptions_are_words(build):
    """Alt text and meta descriptions carry no TeX (a screen reader would read the
    backslashes out), and every page of the book has a description."""
    for entry in PAGES:
        text = (HTML / f"{entry}.html").read_text()
        alts = re.findall(r'<img [^>]*alt="([^"]*)"', text)
        assert not [a for a in alts if "\\" in a or "$" in a], f"{entry}: TeX in alt text"
        description = re.search(r'<meta name="description" content="([^"]+)"', text)
        assert description, f"{entry}: no meta description"
        assert "\\" not in description.group(1), f"{entry}: TeX in the meta description"


def test_spoken_tex_reads_formulas_as_unicode_text():
    sys.path.insert(0, str(BOOK / "_ext"))
    from book_html import spoken_tex

    assert spoken_tex(r"\alpha\lambda < 2 + 2\beta") == "αλ < 2 + 2β"
    assert spoken_tex(r"\beta = (1-\sqrt{\alpha\lambda})^2") == "β = (1-√(αλ))²"
    assert spoken_tex(r"\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}") == "(√κ - 1)/(√κ + 1)"
    assert spoken_tex(r"x_i^{k+1}") == "xᵢᵏ⁺¹"
    assert spoken_tex(r"\operatorname{ReLU}(x)") == "ReLU(x)"


def test_the_icon_font_keeps_every_solid_icon_the_themes_draw(build):
    """The build cuts the theme's solid icon font to the icons its stylesheets name; none
    of those may go missing (it would show as an empty box)."""
    import pydata_sphinx_theme
    from fontTools.ttLib import TTFont

    sys.path.insert(0, str(BOOK / "_ext"))
    from book_html import ICON_FONT, theme_icons

    theme = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
    solid = set(TTFont(theme / "static" / ICON_FONT.relative_to("_static")).getBestCmap())
    kept = set(TTFont(HTML / ICON_FONT).getBestCmap())
    wanted = theme_icons(HTML) & solid
    assert 0xF107 in wanted and len(wanted) >= 10  # the stylesheets were read
    assert wanted <= kept, f"icons cut from the font: {sorted(map(hex, wanted - kept))}"
    assert len(kept) < len(solid) / 10  # and the rest was cut
