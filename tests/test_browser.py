"""Open every built page in headless Chromium with the network cut off, as a reader
in a classroom without internet would, and check what they see.

Needs Debian's `chromium` (no browser is downloaded): `apt-get install chromium`.
Without it these tests skip and say so; `.ci/run` installs it, so CI always runs them.
"""

from __future__ import annotations

import functools
import http.server
import threading

import numpy as np
import pytest

from book_paths import CHAPTERS, CONFIG, HTML, ROOT, TOC, toc_files
from chromium import CHROMIUM, NO_CHROMIUM, chromium
from evalib import averages, theory
from evalib.book import live
from evalib.book.live.base import BOKEH_META
from evalib.landscapes import ravine, rosenbrock

SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = toc_files(TOC)
BUILT_CHAPTERS = [md for md in CHAPTERS if f"book/{md.stem}" in PAGES]

# A check of the book, not of evalib: `pytest -m "not book"` leaves it out.
pytestmark = [
    pytest.mark.book,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason=NO_CHROMIUM,
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
    with chromium() as launched:
        yield launched


# MathJax typesets a formula when it scrolls into view (ui/lazy); this typesets them all.
TYPESET_ALL = "() => window.MathJax?.startup?.document?.lazyTypesetAll?.()"


def visit(browser, server, entry: str, dark: bool = False, width: int = 1280):
    """Open one page offline; return (page, console errors, blocked outside requests)."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
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

    # Figures below the first load lazily: ask for them all, then look.
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_function("() => [...document.images].every((i) => i.complete)", polling=100)
    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"{entry} has images that did not load: {broken}"

    uncaptioned = page.evaluate(
        """() => [...document.querySelectorAll('article img')]
                 .filter(i => !i.closest('.admonition'))
                 .filter(i => !i.closest('figure') || !i.alt || /[.](png|jpe?g|svg)$/.test(i.alt))
                 .map(i => i.src)"""
    )
    assert not uncaptioned, f"{entry}: figures without a caption (alt text): {uncaptioned}"

    # Motion is drawn by the browser: no strip of raster frames, no image inlined as data.
    strips = page.evaluate(
        """() => [...document.querySelectorAll('div.animation, article [src^="data:image"]')]
                 .map(e => e.tagName + '.' + e.className)"""
    )
    assert not strips, f"{entry} holds raster frame strips or inlined images: {strips}"
    # BokehJS never blocks the first paint: no page loads it from <head>.
    head = page.evaluate("() => [...document.head.querySelectorAll('script[src*=bokeh]')].length")
    assert head == 0, f"{entry} loads BokehJS in <head>"

    # MathJax typesets each formula as it scrolls into view (ui/lazy); typeset the rest.
    page.evaluate(TYPESET_ALL)
    maths = page.evaluate("() => document.querySelectorAll('.math').length")
    rendered = page.evaluate("() => document.querySelectorAll('mjx-container mjx-math').length")
    assert rendered >= maths, f"{entry}: {maths} formulas, only {rendered} rendered by MathJax"
    page.evaluate("window.scrollTo(0, 0)")
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
        # The notebook written for Colab (book/_ext/colab.py), not the jupytext pair.
        link.endswith(f"{repo}/blob/{CONFIG['repository']['branch']}/book/colab/{md.stem}.ipynb")
        for link in links
    ), links
    page.context.close()


@pytest.mark.parametrize("md", BUILT_CHAPTERS, ids=lambda p: p.stem)
def test_dark_mode_keeps_figures_on_white(browser, server, md):
    """In dark mode the page turns dark while figures keep their white background
    (set by evalib.book.plots.use_style), so their black labels stay readable."""
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


# -- the live figures (evalib.book.live) -------------------------------------------------------
# Each test opens a chapter offline, moves a slider (or clicks the plane) as a reader
# would, waits for the page to recompute, and checks that the plotted numbers equal
# evalib's for the setting read back from the page. The figure as built holds evalib's
# own numbers; after a move they come from the JavaScript transcriptions in
# evalib/book/live/transcriptions.js, so a transcription that drifts from evalib fails
# here. Screenshots of each figure before and after go to _build/screenshots/.
FIND = """const find = (name) => { for (const doc of Bokeh.documents) {
            const model = doc.get_model_by_name(name); if (model) return model; } return null; };"""
CLOSE = dict(rtol=1e-9, atol=1e-9)


def live_page(
    browser, server, chapter: str, names: list[str], dark: bool = False, width: int = 1280
):
    """Open a chapter and bring each live figure into view, so that the page loads
    BokehJS (lazily, as a reader scrolls) and draws them all; wait for ``names``."""
    page, errors, outside = visit(browser, server, f"book/{chapter}", dark=dark, width=width)
    figures = page.locator(f".{live.CSS_CLASS}")
    for i in range(figures.count()):
        figures.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "(el) => el.querySelector('[id] > *') !== null", arg=figures.nth(i).element_handle()
        )
    page.wait_for_function(
        f"(names) => {{ if (!window.Bokeh) return false; {FIND} return names.every(find); }}",
        arg=names,
    )
    return page, errors, outside


def read(page, name: str) -> dict[str, np.ndarray]:
    """A data source's columns as float arrays (NaN where the page has NaN)."""
    columns = page.evaluate(
        f"(name) => {{ {FIND} const data = find(name).data; return Object.fromEntries("
        "Object.entries(data).map(([k, v]) => [k, Array.from(v, Number)])); }",
        name,
    )
    return {key: np.array(values, dtype=float) for key, values in columns.items()}


def value(page, name: str, attribute: str = "value"):
    return page.evaluate(f"([n, a]) => {{ {FIND} return find(n)[a]; }}", [name, attribute])


def recomputed(page, watched: str, action) -> None:
    """Run `action` (a slider move, a key press, a click); wait until `watched` is new."""
    page.evaluate(f"(w) => {{ {FIND} window.stale = find(w).data; }}", watched)
    action()
    # Polled on a timer: a headless page does not always run animation frames.
    page.wait_for_function(
        f"(w) => {{ {FIND} return find(w).data !== window.stale; }}", arg=watched, polling=100
    )


def set_slider(page, name: str, to: float, watched: str) -> float:
    """Set a slider's value, as a drag does; return the value the page holds."""
    if value(page, name) == to:  # no change, nothing to recompute
        return to
    recomputed(
        page,
        watched,
        lambda: page.evaluate(f"([n, v]) => {{ {FIND} find(n).value = v; }}", [name, to]),
    )
    return value(page, name)


def shoot(page, chapter: str, index: int, when: str) -> None:
    figure = page.locator(f".{live.CSS_CLASS}").nth(index)
    figure.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figure.screenshot(path=str(SCREENSHOTS / f"{chapter}-live{index}-{when}.png"))


def finish(page, chapter: str, index: int, errors: list[str], outside: list[str]) -> None:
    """The screenshot after; nothing asked the internet, nothing logged an error."""
    shoot(page, chapter, index, "after")
    assert not outside and not errors, (outside, errors)
    page.context.close()


def assert_ravine(page, lr: float, beta: float) -> None:
    expected = live.ravine_state(ravine, lr, beta, 100)
    path, errors = read(page, "ravine-path"), read(page, "ravine-errors")
    for key in ("x", "y"):
        np.testing.assert_allclose(path[key], expected[key], **CLOSE)
    for key in ("err1", "err2", "theory1", "theory2"):
        np.testing.assert_allclose(errors[key], expected[key], **CLOSE)
    text = value(page, "ravine-readout", "text")
    assert f"<b>{expected['rate']:.4f}</b>" in text, (text, expected["rate"])


def test_live_heavy_ball_sliders(browser, server):
    page, errors, outside = live_page(
        browser, server, "heavy_ball", ["ravine-alpha", "ravine-path"]
    )
    shoot(page, "heavy_ball", 2, "before")
    assert_ravine(page, value(page, "ravine-alpha"), value(page, "ravine-beta"))  # as built
    # A reader's key press on the α slider's handle moves it one step.
    alpha = value(page, "ravine-alpha")
    handle = page.locator(f".{live.CSS_CLASS}").nth(2).locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    recomputed(page, "ravine-path", lambda: (handle.focus(), page.keyboard.press("ArrowRight")))
    assert value(page, "ravine-alpha") == pytest.approx(alpha + 0.001)
    assert_ravine(page, value(page, "ravine-alpha"), value(page, "ravine-beta"))
    # A grid of settings: converging fast, under-damped, past the edge of stability.
    lr_opt, beta_opt, _ = theory.optimal_momentum(ravine.eigvals)
    for lr, beta in ((round(lr_opt, 3), round(beta_opt, 2)), (0.03, 0.9), (0.19, 0.2)):
        lr = set_slider(page, "ravine-alpha", lr, "ravine-path")
        beta = set_slider(page, "ravine-beta", beta, "ravine-path")
        assert_ravine(page, lr, beta)
        assert value(page, "ravine-point", "data")  # the chosen point moved with them
    assert "diverges" in value(page, "ravine-readout", "text")  # the last one does
    finish(page, "heavy_ball", 2, errors, outside)


def test_live_stability_region_click(browser, server):
    page, errors, outside = live_page(browser, server, "heavy_ball", ["stability-plane"])
    shoot(page, "heavy_ball", 0, "before")
    page.locator(f".{live.CSS_CLASS}").nth(0).scroll_into_view_if_needed()
    seen = set()
    # One point in each region: real roots, complex roots, divergent.
    for h, beta in ((0.5, 0.05), (0.5, 0.6), (3.8, 0.3)):
        x, y = page.evaluate(
            f"([h, b]) => {{ {FIND} const view = Bokeh.index.find_one(find('stability-plane'));"
            " const box = view.canvas_view.el.getBoundingClientRect();"
            " return [box.left + view.frame.x_scale.compute(h),"
            " box.top + view.frame.y_scale.compute(b)]; }",
            [h, beta],
        )
        recomputed(page, "stability-iterates", lambda x=x, y=y: page.mouse.click(x, y))
        picked = read(page, "stability-pick")
        h_at, beta_at = float(picked["h"][0]), float(picked["beta"][0])
        assert h_at == pytest.approx(h, abs=0.05) and beta_at == pytest.approx(beta, abs=0.05)
        expected = live.stability_state(h_at, beta_at, 40)
        np.testing.assert_allclose(read(page, "stability-iterates")["x"], expected["x"], **CLOSE)
        roots = read(page, "stability-roots")
        np.testing.assert_allclose(roots["re"], expected["re"], **CLOSE)
        np.testing.assert_allclose(roots["im"], expected["im"], **CLOSE)
        assert expected["kind"] in value(page, "stability-readout", "text")
        seen.add(expected["kind"])
    assert len(seen) == 3, seen
    finish(page, "heavy_ball", 0, errors, outside)


def test_live_ewma_slider(browser, server):
    page, errors, outside = live_page(browser, server, "moving_averages", ["ewma-beta"])
    shoot(page, "moving_averages", 0, "before")
    close = read(page, "ewma-lines")["x"]
    for beta in (0.5, 0.98, 0.0, 0.995):
        beta = set_slider(page, "ewma-beta", beta, "ewma-lines")
        lines = read(page, "ewma-lines")
        np.testing.assert_allclose(lines["raw"], averages.ewma(close, beta), **CLOSE)
        np.testing.assert_allclose(
            lines["corrected"], averages.ewma(close, beta, bias_correction=True), **CLOSE
        )
        text = value(page, "ewma-readout", "text")
        assert f"<b>{averages.effective_window(beta):.1f}</b>" in text, text
        assert f"<b>{averages.ewma_lag(beta):.1f}</b>" in text, text
    finish(page, "moving_averages", 0, errors, outside)


def test_live_race_sliders(browser, server):
    page, errors, outside = live_page(browser, server, "why_momentum_works", ["race-lr"])
    shoot(page, "why_momentum_works", 0, "before")
    # Settings whose runs do not amplify rounding: torch fuses some multiply-adds (an
    # FMA), so evalib's own path moves by an ulp between CPUs, and a run that amplifies
    # such differences (Nesterov at α = 0.001, β = 0.95 here, to about 1e-7) cannot be
    # compared to 1e-9 with any other code. These three: settling, mixed, diverging.
    for lr, beta in ((0.0008, 0.95), (0.0015, 0.9), (0.0025, 0.5)):
        lr = set_slider(page, "race-lr", lr, "race-GD")
        beta = set_slider(page, "race-beta", beta, "race-heavy-ball")
        expected = live.race_state(rosenbrock, lr, beta, len(read(page, "race-GD")["x"]) - 1, 1e-3)
        text = value(page, "race-readout", "text")
        for racer in live.RACERS:
            drawn = read(page, f"race-{racer.replace(' ', '-')}")
            np.testing.assert_allclose(drawn["x"], expected[racer]["x"], **CLOSE)
            np.testing.assert_allclose(drawn["y"], expected[racer]["y"], **CLOSE)
            run = expected[racer]
            shown = "diverges" if run["diverged"] else "not reached"
            assert f"{racer} <b>{run['settle'] if run['settle'] is not None else shown}</b>" in text
    finish(page, "why_momentum_works", 0, errors, outside)


@pytest.mark.parametrize("chapter", ["heavy_ball", "moving_averages", "why_momentum_works"])
def test_live_figures_stay_readable_in_dark_mode(browser, server, chapter):
    page, errors, _ = live_page(browser, server, chapter, [], dark=True)
    figures = page.locator(f".{live.CSS_CLASS}")
    assert figures.count() >= 1
    for i in range(figures.count()):
        card = figures.nth(i).locator(".bk-Column").first
        background = page.evaluate(
            "(el) => getComputedStyle(el).backgroundColor", card.element_handle()
        )
        assert luminance(background) > 0.9, f"{chapter}: live figure {i} is on {background}"
    page.screenshot(path=str(SCREENSHOTS / f"{chapter}-live-dark.png"))
    assert not errors, errors
    page.context.close()


def heavy_ball_paths(steps: int = 60) -> list[np.ndarray]:
    """What heavy_ball's animation replays: GD and the heavy ball at their optima."""
    lr_gd, _ = theory.optimal_gd(ravine.eigvals)
    lr_hb, beta_hb, _ = theory.optimal_momentum(ravine.eigvals)
    return [
        theory.run_gd(ravine.grad, ravine.start, lr_gd, steps),
        theory.run_momentum(ravine.grad, ravine.start, lr_hb, beta_hb, steps),
    ]


def assert_drawn_up_to(page, paths: list[np.ndarray], step: int) -> None:
    """Each drawn path is evalib's up to ``step``: its rows are evalib's iterates at the
    step numbers they carry (all of them but those that move the line by less than a
    pixel), from the start on; its head is within that of evalib's iterate at ``step``."""
    tol = 9.0 / 750  # the ravine's width over 750: what path_animation may leave out
    for i, path in enumerate(paths):
        drawn = read(page, f"path-{i}")
        k = drawn["k"].astype(int)
        assert k[0] == 0 and k[-1] <= step and np.all(np.diff(k) > 0), k
        np.testing.assert_allclose(drawn["x"], path[k, 0], **CLOSE)
        np.testing.assert_allclose(drawn["y"], path[k, 1], **CLOSE)
        head = read(page, f"path-head-{i}")
        np.testing.assert_allclose([head["x"][0], head["y"][0]], path[k[-1]], **CLOSE)
        assert np.hypot(*(path[step] - path[k[-1]])) < tol


def test_live_path_animation_plays_and_steps(browser, server):
    page, errors, outside = live_page(browser, server, "heavy_ball", ["path-step"])
    figure = page.locator(f".{live.CSS_CLASS}").nth(1)
    figure.scroll_into_view_if_needed()
    paths = heavy_ball_paths()
    assert value(page, "path-step") == 0
    assert_drawn_up_to(page, paths, 0)
    # The step buttons move the slider by one, and the paths with it.
    recomputed(page, "path-0", lambda: figure.get_by_role("button", name="Step forward").click())
    assert value(page, "path-step") == 1
    assert_drawn_up_to(page, paths, 1)
    recomputed(page, "path-0", lambda: figure.get_by_role("button", name="Step back").click())
    assert value(page, "path-step") == 0
    # Play advances the step until Pause; what is drawn is evalib's paths up to it.
    figure.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => {{ {FIND} return find('path-step').value >= 5; }}", polling=50)
    figure.get_by_role("button", name="Pause").click()
    paused = value(page, "path-step")
    page.wait_for_timeout(300)
    assert value(page, "path-step") == paused > 0
    assert_drawn_up_to(page, paths, paused)
    # Play runs on to the last step by itself and stops there.
    figure.get_by_role("button", name="Play").click()
    page.wait_for_function(
        f"() => {{ {FIND} return find('path-step').value === 60; }}", polling=100, timeout=15000
    )
    figure.get_by_role("button", name="Play").wait_for()
    assert_drawn_up_to(page, paths, 60)
    finish(page, "heavy_ball", 1, errors, outside)


LIVE_CHAPTERS = ["heavy_ball", "moving_averages", "why_momentum_works"]

# Whether any part of a figure is wider than the figure: the figure element itself and
# each element of its shadow roots that holds a canvas (the plots).
OVERFLOW = """(figure) => {
  const box = figure.getBoundingClientRect(), wide = [];
  if (figure.scrollWidth > figure.clientWidth) wide.push(["figure", figure.scrollWidth]);
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.tagName !== "CANVAS") continue;
      const r = el.getBoundingClientRect(), host = root.host;
      if (host.scrollWidth > host.clientWidth || r.right > box.right + 0.5 || r.left < box.left - 0.5)
        wide.push([host.className, Math.round(r.left), Math.round(r.right)]);
    }
  };
  walk(figure);
  return { wide, width: Math.round(box.width) };
}"""


@pytest.mark.parametrize("chapter", LIVE_CHAPTERS)
def test_live_figures_are_whole_on_a_phone(browser, server, chapter):
    """At 360 px every live figure fits its column: nothing wider, nothing cut off."""
    page, errors, outside = live_page(browser, server, chapter, [], width=360)
    page.wait_for_timeout(300)  # the last layout pass of the figures drawn last
    figures = page.locator(f".{live.CSS_CLASS}")
    assert figures.count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        fit = page.evaluate(OVERFLOW, figure.element_handle())
        assert not fit["wide"] and fit["width"] <= 360, (chapter, i, fit)
        figure.screenshot(path=str(SCREENSHOTS / f"{chapter}-live{i}-360.png"))
    meta = page.evaluate(f"() => document.querySelector('meta[name={BOKEH_META}]').content")
    assert meta == "../_static/bokeh/"
    assert not outside and not errors, (outside, errors)
    page.context.close()
