"""evalib.book.live: its JavaScript agrees with evalib, and its figures as built.

A live figure is drawn first with evalib's numbers; when a reader moves a slider, the
functions of ``evalib.book.live.JS_FUNCTIONS`` (evalib/book/live/transcriptions.js)
recompute them in the browser, each a transcription of one evalib function; the path
animation draws what ``live.path_frame`` gives (``pathPrefix`` in animation.js). Four
kinds of tests:

- agreement: each JavaScript function, run in headless Chromium on a blank page (no
  server, no network), against the evalib function it transcribes, over grids of
  settings;
- callbacks: each figure's own slider (or click) code, run against stand-ins for its
  sliders, data sources and readout, must give what the figure built at the new
  setting shows;
- the loader: a figure's HTML alone on a page, as Jupyter and Colab show it, fetches
  BokehJS from Bokeh's CDN (answered here with the installed package's files) or says
  that it could not; a page that names its own copy in ``<meta name="evalib-bokeh">``
  (the built book) takes it from there, and only once a figure comes near the
  viewport; the drawn sliders carry their names and exact values, and axe-core finds no
  serious or critical violation in any figure;
- Python: the figures as built (HTML, initial data, argument checks) and
  ``averages.ewma_lag``.

The browser tests need Debian's `chromium` (no browser is downloaded): `apt-get
install chromium`; without it they skip and say so, and the Python tests still run.
These are unit tests of evalib, not checks of the book, so `pytest -m "not book"` runs
them.
"""

from __future__ import annotations

import decimal
import functools
import json
import math
import re
from importlib import resources
from typing import Any

import bokeh
import numpy as np
import pytest
from bokeh.models import ColumnDataSource, CustomJS, Div, Slider
from bokeh.models.widgets.buttons import Button, Toggle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib import cbook

from chromium import chromium
from evalib import averages, landscapes, optim, theory
from evalib.book import live
from evalib.book.live.base import BOKEH_META, js_source
from evalib.landscapes import beale, ravine, rosenbrock, saddle

# Agreement to rtol = atol = 1e-9 (the bound evalib/book/live.py promises). The
# transcriptions keep evalib's operations and their order, but not every rounding:
# V8's Math.log, exp, expm1, pow and hypot may differ from glibc's and NumPy's in the
# last bit; NumPy divides complex numbers by Smith's method where momentumRoots
# divides by |μ|²; torch's CPU kernels may fuse `w + alpha * z` into one FMA, and
# autograd differentiates the landscape in another order than the closed-form gradient
# the JavaScript uses. Those are differences of a few ulps per operation (over hundreds
# of optimiser steps on these grids, at most a few 1e-12 relative), far below 1e-9,
# while a transcription error (a sign, an index, an order of updates, a default) is far
# above it. Where the same IEEE operations run in the same order (momentumRoots' larger
# root, quadraticGrad, eigenCoords, runMomentum, ewma without bias correction) the tests
# ask for bit-identity (assert_array_equal) instead.
TOL = dict(rtol=1e-9, atol=1e-9)

# -- settings ------------------------------------------------------------------------
# (h = αλ, β) for momentumRoots: a grid over the stability plane (real, complex and
# divergent roots, β = 1 and beyond), critical damping β = (1 ∓ √h)² where the roots
# meet, a zero trace (h = 1 + β), and |h| > 2, where evalib scales by a power of two.
H_BETA = [(h, b) for h in (0.0, 0.01, 0.3, 1.0, 2.0, 3.0, 4.5) for b in (0, 0.05, 0.5, 0.9, 1, 1.2)]
H_BETA += [(h, (1 - math.sqrt(h)) ** 2) for h in (0.04, 0.25, 0.5, 1.7, 3.2)]
H_BETA += [(h, (1 + math.sqrt(h)) ** 2) for h in (0.01, 0.04)]
H_BETA += [(1.5, 0.5), (10.0, 3.0), (40.0, 0.5)]

# (lr, β) on the ravine (λ = 0.5 and 20): converging, slow, and diverging (αλ > 2 + 2β),
# and Polyak's optimum.
LR_BETA = [(lr, b) for lr in (0.01, 0.05, 0.1, 0.15, 0.2) for b in (0.0, 0.5, 0.9, 0.99)]
LR_BETA += [theory.optimal_momentum(ravine.eigvals)[:2]]
RUN_STEPS = 150
OVERFLOW = (0.2, 0.0, 800)  # |1 − 4| = 3 per step: inf after ~650 steps, then NaN

EWMA_BETAS = (0.0, 0.5, 0.9, 0.98, 0.995)

# The optimiser race: (landscape, steps, (lr, β) settings). The last setting of each
# diverges for every racer (Nesterov already at the second on the ravine), so the runs
# end in NaN rows.
RACES = {
    "ravine": (ravine, 300, [(0.05, 0.5), (0.09, 0.9), (0.3, 0.9)]),
    "rosenbrock": (rosenbrock, 300, [(0.001, 0.9), (0.0005, 0.5), (0.0025, 0.9)]),
}
RACERS = {  # name: (momentum used, Nesterov?, optimiser class)
    "GD": (False, False, optim.HeavyBall),
    "heavy ball": (True, False, optim.HeavyBall),
    "Nesterov": (True, True, optim.Nesterov),
}
RACE_LR_RANGES = {"ravine": (0.01, 0.3), "rosenbrock": (0.0002, 0.0025)}
SETTLE_TOLS = (1.0, 1e-1, 1e-3, 1e-9)


def goog_close() -> np.ndarray:
    return np.asarray(cbook.get_sample_data("goog.npz")["price_data"]["close"], dtype=float)


def noisy_series() -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.sin(np.arange(40) / 4.0) + 0.3 * rng.normal(size=40)


# -- the browser ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def page(browser):
    """A blank page (about:blank) in headless Chromium with JS_FUNCTIONS and the path
    animation's pathPrefix loaded."""
    blank = browser.new_page()
    blank.add_script_tag(content=live.JS_FUNCTIONS + js_source("animation.js"))
    return blank


def as_array(values: Any) -> np.ndarray:
    """JavaScript numbers (NaN and ±Infinity included) as a float array."""
    return np.array(values, dtype=float)


# -- agreement: the JavaScript functions against evalib -------------------------------
@functools.cache
def ravine_figure(steps: int = 100) -> live.LiveFigure:
    return live.ravine_explorer(steps=steps)


@functools.cache
def race_figure(name: str) -> live.LiveFigure:
    land, steps, _ = RACES[name]
    low = RACE_LR_RANGES[name][0]
    return live.optimiser_race(land, low, 0.5, steps, lr_range=RACE_LR_RANGES[name])


@functools.cache
def stability_figure() -> live.LiveFigure:
    return live.stability_explorer(steps=40)


@functools.cache
def ewma_figure() -> live.LiveFigure:
    return live.ewma_explorer(goog_close(), beta=0.9)


def quadratic_js() -> dict[str, Any]:
    """What ravine_explorer passes its JavaScript for the ravine (its CustomJS ``q``)."""
    return slider_callback(ravine_figure(), "ravine-alpha").args["q"]


def race_land_js(name: str) -> dict[str, Any]:
    """What optimiser_race passes its JavaScript for a landscape (its CustomJS ``land``)."""
    return slider_callback(race_figure(name), "race-lr").args["land"]


def test_momentum_roots_agree_over_the_stability_plane(page):
    hs, bs = (list(v) for v in zip(*H_BETA))
    js = as_array(
        page.evaluate("([hs, bs]) => hs.map((h, i) => momentumRoots(h, bs[i]))", [hs, bs])
    )
    roots = theory.momentum_roots(hs, bs)
    py = np.stack((roots.real, roots.imag), axis=-1)  # (point, root, [re, im])
    np.testing.assert_allclose(js, py, **TOL)
    # The larger root is the same arithmetic in the same order: bit for bit.
    np.testing.assert_array_equal(js[:, 0], py[:, 0])
    assert {live.root_type(h, b) for h, b in H_BETA} == {
        "real roots (over-damped)",
        "complex roots (under-damped)",
        "divergent",
    }


def test_momentum_rate_agrees_on_the_ravine(page):
    js = page.evaluate(
        "([grid, lams]) => grid.map(([lr, b]) => momentumRate(lr, b, lams))",
        [LR_BETA, ravine.eigvals.tolist()],
    )
    py = [theory.momentum_rate(lr, b, ravine.eigvals) for lr, b in LR_BETA]
    np.testing.assert_allclose(js, py, **TOL)
    assert min(py) < 1 < max(py)  # converging and diverging settings


def test_quadratic_grad_and_eigen_coords_agree(page):
    q = quadratic_js()
    points = np.random.default_rng(0).uniform(-5, 5, size=(20, 2))
    grads, coords = page.evaluate(
        "([q, ws]) => [ws.map(quadraticGrad(q)), ws.map((w) => eigenCoords(q, w))]",
        [q, points.tolist()],
    )
    np.testing.assert_array_equal(as_array(grads), ravine.grad(points))
    np.testing.assert_array_equal(as_array(coords), ravine.eigen_coords(points))


def test_run_momentum_agrees_on_the_ravine(page):
    q = quadratic_js()
    runs = [(lr, b, RUN_STEPS) for lr, b in LR_BETA] + [OVERFLOW]
    js = page.evaluate(
        "([q, start, runs]) => runs.map(([lr, b, n]) => runMomentum(quadraticGrad(q), start, lr, b, n))",
        [q, list(ravine.start), runs],
    )
    for (lr, b, steps), path in zip(runs, js):
        py = theory.run_momentum(ravine.grad, ravine.start, lr, b, steps)
        # The same multiplications and additions in the same order: bit for bit.
        np.testing.assert_array_equal(as_array(path), py, err_msg=f"lr={lr}, beta={b}")
    assert np.isnan(py[-1]).all()  # the last run overflows in both


def empirical_rate_or_nan(errors: np.ndarray) -> float:
    """theory.empirical_rate, or NaN where it refuses a diverged run (as empiricalRate)."""
    if not np.all(np.isfinite(errors)):
        with pytest.raises(ValueError, match="diverged"):
            theory.empirical_rate(errors)
        return math.nan
    return theory.empirical_rate(errors)


def test_empirical_rate_agrees_on_runs_and_edge_cases(page):
    series = []
    for lr, b, steps in [(lr, b, RUN_STEPS) for lr, b in LR_BETA] + [OVERFLOW]:
        with np.errstate(invalid="ignore", over="ignore"):
            path = theory.run_momentum(ravine.grad, ravine.start, lr, b, steps)
            coords = np.abs(ravine.eigen_coords(path))
            series.append(np.hypot(coords[:, 0], coords[:, 1]))
    series += [
        np.array([1.0, 0.5, 0.8, 0.2, 0.3, 0.05]),  # decaying with oscillation
        np.array([1.0, 2.0, 1.5, 4.0, 3.0, 8.0, 7.0]),  # growing: the earlier-max branch
        np.array([3.0, 2.0, 1.0, 0.0, 0.0]),  # reaches 0: rate 0
        np.array([2.0, 2.0]),  # flat, the shortest run
    ]
    js = page.evaluate("(runs) => runs.map(empiricalRate)", [s.tolist() for s in series])
    py = [empirical_rate_or_nan(s) for s in series]
    np.testing.assert_allclose(as_array(js), py, **TOL)
    assert any(r < 1 for r in py) and any(r > 1 for r in py) and 0.0 in py and np.isnan(py).any()


@pytest.mark.parametrize("bias_correction", [False, True])
@pytest.mark.parametrize("name", ["goog", "noisy"])
def test_ewma_agrees(page, name, bias_correction):
    x = goog_close() if name == "goog" else noisy_series()
    js = page.evaluate(
        "([x, betas, bc]) => betas.map((b) => ewma(x, b, bc))",
        [x.tolist(), list(EWMA_BETAS), bias_correction],
    )
    for beta, out in zip(EWMA_BETAS, js):
        py = averages.ewma(x, beta, bias_correction=bias_correction)
        np.testing.assert_allclose(out, py, **TOL, err_msg=f"beta={beta}")
        if not bias_correction:  # the recursion alone: bit for bit (lfilter's order)
            np.testing.assert_array_equal(out, py, err_msg=f"beta={beta}")


def test_landscape_values_and_gradients_agree(page):
    """landscapeFns against the landscapes' own value and gradient (NumPy, not autograd)."""
    lands = {"ravine": quadratic_js(), "rosenbrock": race_land_js("rosenbrock")}
    points = np.random.default_rng(1).uniform(-3, 3, size=(20, 2))
    js = page.evaluate(
        """([lands, ws]) => Object.fromEntries(Object.entries(lands).map(([name, land]) => {
             const f = landscapeFns(land);
             return [name, [ws.map(f.value), ws.map(f.grad)]]; }))""",
        [lands, points.tolist()],
    )
    for name, land in (("ravine", ravine), ("rosenbrock", rosenbrock)):
        values, grads = js[name]
        np.testing.assert_allclose(values, land(points), **TOL, err_msg=name)
        np.testing.assert_allclose(grads, land.grad(points), **TOL, err_msg=name)


def evalib_path(land, lr: float, beta: float, racer: str, steps: int) -> np.ndarray:
    uses_beta, _, cls = RACERS[racer]
    return optim.trajectory(
        lambda w: land(w),
        land.start,
        lambda p: cls(p, lr=lr, momentum=beta if uses_beta else 0.0),
        steps,
        warn=False,
    )


@pytest.mark.parametrize("name", RACES)
def test_optimiser_path_and_steps_to_stay_within_agree(page, name):
    land, steps, grid = RACES[name]
    cases = [(lr, b, racer) for lr, b in grid for racer in RACERS]
    js = page.evaluate(
        """([land, start, steps, cases, minimum, tols]) => cases.map(([lr, b, nesterov]) => {
             const [xs, ys] = optimiserPath(land, start, lr, b, nesterov, steps);
             return [xs, ys, tols.map((tol) => stepsToStayWithin(xs, ys, minimum, tol))]; })""",
        [
            race_land_js(name),
            list(land.start),
            steps,
            [(lr, b if RACERS[r][0] else 0.0, RACERS[r][1]) for lr, b, r in cases],
            list(land.minimum),
            list(SETTLE_TOLS),
        ],
    )
    paths, settled, diverged = [], [], 0
    for (lr, b, racer), (xs, ys, settle) in zip(cases, js):
        where = f"{racer}, lr={lr}, beta={b}"
        py = evalib_path(land, lr, b, racer, steps)
        got = np.stack((as_array(xs), as_array(ys)), axis=1)
        # A run that diverges stops at the same step: NaN from the same row on.
        np.testing.assert_array_equal(np.isnan(got), np.isnan(py), err_msg=where)
        np.testing.assert_allclose(got, py, **TOL, err_msg=where)
        expected = [optim.steps_to_stay_within(py, land.minimum, tol) for tol in SETTLE_TOLS]
        assert settle == expected, where
        diverged += bool(np.isnan(py[-1]).any())
        paths.append(py)
        settled += expected
    assert diverged >= len(RACERS)  # the last setting diverges for every racer
    assert None in settled and any(s is not None and s > 0 for s in settled)
    # stepsToStayWithin alone, on evalib's own paths (no path difference can enter).
    js_settle = page.evaluate(
        """([paths, minimum, tols]) => paths.map((p) => tols.map((tol) =>
             stepsToStayWithin(p.map((w) => w[0]), p.map((w) => w[1]), minimum, tol)))""",
        [[p.tolist() for p in paths], list(land.minimum), [1e-2]],
    )
    py_settle = [[optim.steps_to_stay_within(p, land.minimum, 1e-2)] for p in paths]
    assert js_settle == py_settle


# -- callbacks: each figure's own JavaScript against the figure built at that setting --
# BokehJS runs a CustomJS's code as the body of a function of its args, cb_obj, cb_data
# and cb_context, in strict mode (CustomJS._compile_function); so does this.
RUN_CALLBACK = """([code, args, cbObj]) => {
  const names = Object.keys(args);
  const body = "'use strict';\\n" + code;
  new Function(...names, "cb_obj", "cb_data", "cb_context", body)(
    ...names.map((n) => args[n]), cbObj, {}, {});
  return args;
}"""


@functools.cache
def named(fig: live.LiveFigure) -> dict[str, Any]:
    """The figure's named models (sliders, data sources, readouts), by name."""
    return {m.name: m for m in fig.layout.references() if getattr(m, "name", None)}


def slider_callback(fig: live.LiveFigure, slider: str) -> CustomJS:
    """The CustomJS that runs when the slider named ``slider`` moves."""
    (callback,) = named(fig)[slider].js_property_callbacks["change:value"]
    return callback


def tap_callback(fig: live.LiveFigure) -> CustomJS:
    """The CustomJS that runs on a click in the figure's plane."""
    (callback,) = [
        cb for model in fig.layout.references() for cb in model.js_event_callbacks.get("tap", [])
    ]
    return callback


def stand_in(value: Any, sliders: dict[str, float]) -> Any:
    """A plain object with what the callback reads and writes of a Bokeh model."""
    if isinstance(value, list):
        return [stand_in(v, sliders) for v in value]
    if isinstance(value, Slider):
        return {
            "value": sliders.get(value.name, value.value),
            "start": value.start,
            "end": value.end,
            "step": value.step,
        }
    if isinstance(value, ColumnDataSource):
        return {"data": {k: np.asarray(v).tolist() for k, v in value.data.items()}}
    if isinstance(value, Div):
        return {"text": value.text}
    if isinstance(value, (Button, Toggle)):
        return {"label": value.label, "active": getattr(value, "active", None)}
    return value


def run_callback(page, callback: CustomJS, sliders=None, cb_obj=None) -> dict[str, Any]:
    """Run ``callback`` with its sliders at ``sliders`` (by name); return its args after."""
    args = {k: stand_in(v, sliders or {}) for k, v in callback.args.items()}
    return page.evaluate(RUN_CALLBACK, [callback.code, args, cb_obj])


def assert_shows(out: dict[str, Any], callback: CustomJS, built: live.LiveFigure) -> None:
    """What the callback left in its sources and readout is what ``built`` shows."""
    pairs = []
    for name, model in callback.args.items():
        pairs += zip(model, out[name]) if isinstance(model, list) else [(model, out[name])]
    checked = 0
    for model, got in pairs:
        if isinstance(model, ColumnDataSource):
            want = named(built)[model.name].data
            assert set(got["data"]) == set(want), model.name
            for col, values in want.items():
                got_col, want_col = as_array(got["data"][col]), np.asarray(values, dtype=float)
                np.testing.assert_allclose(got_col, want_col, **TOL, err_msg=f"{model.name}.{col}")
            checked += 1
        elif isinstance(model, Div):
            assert got["text"] == named(built)[model.name].text
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize(
    "lr, beta, steps",
    [(0.05, 0.5, 100), (0.02, 0.0, 100), (0.064, 0.6, 100), (0.15, 0.9, 100), (0.2, 0.3, 100)]
    + [OVERFLOW],
)
def test_ravine_sliders_redraw_what_ravine_explorer_draws(page, lr, beta, steps):
    callback = slider_callback(ravine_figure(steps), "ravine-alpha")
    out = run_callback(page, callback, {"ravine-alpha": lr, "ravine-beta": beta})
    assert_shows(out, callback, live.ravine_explorer(lr=lr, beta=beta, steps=steps))


@pytest.mark.parametrize("h, beta", [(0.5, 0.6), (0.25, 0.25), (2.0, 0.8), (4.0, 0.5)])
def test_stability_click_redraws_what_stability_explorer_draws(page, h, beta):
    callback = tap_callback(stability_figure())
    out = run_callback(page, callback, cb_obj={"x": h, "y": beta})
    assert_shows(out, callback, live.stability_explorer(h, beta, steps=40))


def test_stability_click_names_the_region_as_root_type(page):
    """The region a click reports, over the (h, β) grid of the roots test; a click
    outside the plane evalib draws, (0, 4.5] × [0, 1), changes nothing."""
    callback = tap_callback(stability_figure())
    args = {k: stand_in(v, {}) for k, v in callback.args.items()}
    texts = page.evaluate(
        f"""([code, args, points]) => points.map(([h, b]) =>
              ({RUN_CALLBACK})([code, structuredClone(args), {{ x: h, y: b }}]).readout.text)""",
        [callback.code, args, H_BETA],
    )
    inside = [0 < h <= 4.5 and 0 <= b < 1 for h, b in H_BETA]
    for (h, b), text, shown in zip(H_BETA, texts, inside):
        if shown:
            assert re.search(r"<b>(.*)</b>", text).group(1) == live.root_type(h, b), (h, b)
        else:
            assert text == args["readout"]["text"], (h, b)
    assert 0 < sum(inside) < len(inside)


def test_ravine_click_moves_both_sliders_to_the_rounded_point(page):
    callback = tap_callback(ravine_figure())
    alpha, beta = callback.args["alpha"], callback.args["beta"]
    for (x, y), want in [
        ((0.04567, 0.5234), (0.046, 0.52)),
        ((-1.0, 2.0), (alpha.start, beta.end)),  # outside the plane: clamped to the sliders
        ((9.0, -1.0), (alpha.end, beta.start)),
    ]:
        out = run_callback(page, callback, cb_obj={"x": x, "y": y})
        assert (out["alpha"]["value"], out["beta"]["value"]) == want


@pytest.mark.parametrize("beta", EWMA_BETAS)
def test_ewma_slider_redraws_what_ewma_explorer_draws(page, beta):
    callback = slider_callback(ewma_figure(), "ewma-beta")
    out = run_callback(page, callback, {"ewma-beta": beta})
    assert_shows(out, callback, live.ewma_explorer(goog_close(), beta=beta))


SLIDER_BETAS = [round(0.005 * n, 3) for n in range(200)]  # the ewma slider's stops


def is_tie(value: float) -> bool:
    """Whether ``value`` lies exactly halfway between two numbers of one decimal."""
    return decimal.Decimal(value).scaleb(1) % 1 == decimal.Decimal("0.5")


TIES = [
    b for b in SLIDER_BETAS if is_tie(averages.effective_window(b)) or is_tie(averages.ewma_lag(b))
]


def ewma_readouts(page, betas: list[float]) -> list[str]:
    callback = slider_callback(live.ewma_explorer([1.0, 2.0], zoom=2), "ewma-beta")
    args = {k: stand_in(v, {}) for k, v in callback.args.items()}
    return page.evaluate(
        f"""([code, args, betas]) => betas.map((b) => {{
              args.slider.value = b;
              return ({RUN_CALLBACK})([code, args, null]).readout.text; }})""",
        [callback.code, args, betas],
    )


def test_ewma_readout_matches_python_at_every_slider_stop(page):
    betas = [b for b in SLIDER_BETAS if b not in TIES]
    assert ewma_readouts(page, betas) == [live.ewma_lag_text(b) for b in betas]


def test_ewma_readout_matches_python_at_exact_ties(page):
    assert TIES
    assert ewma_readouts(page, TIES) == [live.ewma_lag_text(b) for b in TIES]


@pytest.mark.parametrize(
    "name, lr, beta",
    [
        ("rosenbrock", 0.001, 0.9),
        ("rosenbrock", 0.0025, 0.9),
        ("ravine", 0.05, 0.5),
        ("ravine", 0.09, 0.9),
    ],
)
def test_race_sliders_redraw_what_optimiser_race_draws(page, name, lr, beta):
    land, steps, _ = RACES[name]
    callback = slider_callback(race_figure(name), "race-lr")
    out = run_callback(page, callback, {"race-lr": lr, "race-beta": beta})
    built = live.optimiser_race(land, lr, beta, steps, lr_range=RACE_LR_RANGES[name])
    assert_shows(out, callback, built)


@pytest.mark.parametrize("tol", [1e-3, 1e-4, 0.25, 1e-5, 2.0])
def test_race_readout_names_tol_as_python_does(page, tol):
    fig = live.optimiser_race(ravine, 0.05, 0.5, 20, lr_range=RACE_LR_RANGES["ravine"], tol=tol)
    out = run_callback(page, slider_callback(fig, "race-lr"))
    assert out["readout"]["text"] == named(fig)["race-readout"].text


# -- the path animation: pathPrefix against path_frame, and its buttons ------------------
def prefix_paths() -> list[np.ndarray]:
    """Paths of every kind the animation meets: converging, diverging to inf and then NaN
    (as theory.run_momentum's), with a NaN row in the middle, of one row, settling."""
    with np.errstate(over="ignore", invalid="ignore"):
        overflow = theory.run_momentum(ravine.grad, ravine.start, 0.2, 0.0, 700)
    holed = ravine_paths()["GD"].copy()
    holed[5] = np.nan
    lr, beta, _ = theory.optimal_momentum(ravine.eigvals)
    settles = theory.run_momentum(ravine.grad, ravine.start, lr, beta, 200)  # then crawls
    return [*ravine_paths().values(), overflow, holed, np.array([[0.5, -1.0]]), settles]


def test_path_prefix_agrees_with_path_frame(page):
    """On every row (the default step numbers) and on the rows path_rows keeps."""
    paths = [live.base._finite_or_nan(p) for p in prefix_paths()]  # what the page holds
    kept = [np.arange(len(p)) for p in paths] + [live.path_rows(p, 0.05) for p in paths]
    rows = [(p[k], k) for p, k in zip(paths + paths, kept)]
    steps = [0, 1, 4, 5, 6, 30, 31, 650, 699, 700, 10_000]
    cases = [(i, s) for i in range(len(rows)) for s in steps]
    js = page.evaluate(
        """([rows, cases]) => cases.map(([i, s]) => pathPrefix(rows[i][1],
             rows[i][0].map((w) => w[0]), rows[i][0].map((w) => w[1]), s))""",
        [[(r.tolist(), k.tolist()) for r, k in rows], cases],
    )
    for (i, s), got in zip(cases, js):
        want = live.path_frame(rows[i][0], s, rows[i][1])
        for key in ("k", "x", "y", "hx", "hy"):
            # The rows themselves: bit for bit, NaN where Python has NaN.
            np.testing.assert_array_equal(as_array(got[key]), want[key], err_msg=f"{i}, {s}, {key}")
    overflow = paths[2]
    assert np.isnan(overflow[-1]).all() and len(live.path_frame(overflow, 699)["hx"]) == 1
    assert any(len(k) < len(p) for k, p in zip(kept[len(paths) :], paths))  # some thinned


def test_path_rows_keep_the_ends_the_breaks_and_every_visible_move():
    tol = 0.05
    for path in prefix_paths():
        p = live.base._finite_or_nan(path)
        k = live.path_rows(p, tol)
        assert k[0] == 0 and k[-1] == len(p) - 1 and np.all(np.diff(k) > 0)
        finite = np.isfinite(p).all(axis=1)
        assert set(np.flatnonzero(~finite)) <= set(k)  # every break of the line is kept
        # A dropped row lies within tol of the last row kept before it.
        last = np.searchsorted(k, np.arange(len(p)), side="right") - 1
        dropped = np.setdiff1d(np.arange(len(p)), k)
        gaps = np.hypot(*(p[dropped] - p[k[last[dropped]]]).T)
        assert np.all(gaps[np.isfinite(gaps)] < tol)
    assert live.path_rows(np.zeros((5, 2)), 0.1).tolist() == [0, 4]
    assert live.path_rows(ravine_paths()["GD"], 0.0).tolist() == list(range(31))


@functools.cache
def animation_figure() -> live.LiveFigure:
    return live.path_animation(ravine, ravine_paths(), title="Ravine")


def animation_callback() -> CustomJS:
    return slider_callback(animation_figure(), "path-step")


@pytest.mark.parametrize("step", [0, 1, 17, 30])
def test_animation_slider_draws_what_path_animation_draws_at_that_step(page, step):
    out = run_callback(page, animation_callback(), {"path-step": step})
    built = named(live.path_animation(ravine, ravine_paths(), title="Ravine", step=step))
    for i, path in enumerate(ravine_paths().values()):
        k = named(animation_figure())[f"path-full-{i}"].data["k"]
        frame = live.path_frame(live.base._finite_or_nan(path)[k], step, k)
        for key in ("k", "x", "y"):
            np.testing.assert_array_equal(as_array(out["shown"][i]["data"][key]), frame[key])
            np.testing.assert_array_equal(built[f"path-{i}"].data[key], frame[key])
        np.testing.assert_array_equal(as_array(out["heads"][i]["data"]["y"]), frame["hy"])
        np.testing.assert_array_equal(built[f"path-head-{i}"].data["x"], frame["hx"])


def test_animation_step_buttons_move_one_step_within_the_range(page):
    callback = animation_callback()
    fired = [
        ("path-back", 5, 4),
        ("path-forward", 5, 6),
        ("path-back", 0, 0),
        ("path-forward", 30, 30),
    ]
    for button, start, want in fired:
        args = {k: stand_in(v, {"path-step": start}) for k, v in callback.args.items()}
        out = page.evaluate(
            f"""([code, args, which]) => {{ const event = {{ origin: null }};
                  args.step.value = args.step.value;  // plain objects: no callbacks fire
                  event.origin = args[which];
                  return ({RUN_CALLBACK})([code, args, event]).step.value; }}""",
            [callback.code, args, button.removeprefix("path-")],
        )
        assert out == want, (button, start)


def test_animation_play_runs_to_the_last_step_and_stops(page):
    callback = animation_callback()
    args = {k: stand_in(v, {"path-step": 30}) for k, v in callback.args.items()}
    args["play"]["active"] = True
    out = page.evaluate(
        f"""async ([code, args]) => {{
              const run = (event) => ({RUN_CALLBACK})([code, args, event]);
              run(args.play);  // pressed at the last step: starts again from 0
              const first = [args.step.value, args.play.label];
              await new Promise((r) => setTimeout(r, 40 * args.interval));
              args.play.active = false;  // what the page does at the last step
              run(args.play);
              return [first, args.step.value, args.play.label]; }}""",
        [callback.code, args],
    )
    first, moved, label = out
    assert first == [0, "Pause"] and moved > 0 and label == "Play"
    assert callback.args["stride"] == 1 and callback.args["interval"] == 60


def test_path_animation_holds_the_paths_once_and_marks_the_landscape():
    paths = ravine_paths()
    fig = live.path_animation(saddle, {"a": paths["GD"]}, styles={"a": {"linestyle": "--"}})
    data = named(fig)
    full = data["path-full-0"].data
    assert full["k"].tolist() == live.path_rows(paths["GD"], 4.0 / 750).tolist()
    np.testing.assert_array_equal(full["x"], paths["GD"][full["k"], 0])  # evalib's own rows
    assert len(data["path-0"].data["x"]) == 1  # step 0: the start
    labels = [
        item.label.value for m in fig.layout.references() if hasattr(m, "items") for item in m.items
    ]
    assert labels == ["saddle point", "start", "a"]
    long = live.path_animation(beale, {"a": np.zeros((1801, 2))}, frames=150)
    assert slider_callback(long, "path-step").args["stride"] == 12  # 1800 steps / 150


# -- Python: the figures as built ------------------------------------------------------
def ravine_paths(steps: int = 30) -> dict[str, np.ndarray]:
    """Gradient descent and the heavy ball on the ravine, the second one diverging."""
    return {
        "GD": theory.run_gd(ravine.grad, ravine.start, 0.09, steps),
        "heavy ball": theory.run_momentum(ravine.grad, ravine.start, 0.19, 0.1, steps),
    }


def builders() -> dict[str, Any]:
    return {
        "ravine": lambda: live.ravine_explorer(steps=20),
        "stability": lambda: live.stability_explorer(steps=10),
        "ewma": lambda: live.ewma_explorer(noisy_series(), zoom=10),
        "ewma-dates": lambda: live.ewma_explorer(
            goog_close(),
            cbook.get_sample_data("goog.npz")["price_data"]["date"].astype("datetime64[D]"),
        ),
        "race": lambda: live.optimiser_race(rosenbrock, 0.001, steps=20, lr_range=(0.0002, 0.0025)),
        "animation": lambda: live.path_animation(ravine, ravine_paths(), title="Ravine"),
    }


CDN = "https://cdn.bokeh.org/bokeh/release/${name}-${version}.min.js"


@pytest.mark.parametrize("name", builders())
def test_html_holds_one_json_item_the_loader_and_only_the_cdn_fallback(name):
    fig = builders()[name]()
    assert isinstance(fig, live.LiveFigure)
    html = fig.html()
    assert html == html.strip() and fig._repr_html_().startswith(f'<div class="{live.CSS_CLASS}"')
    (target,) = re.findall(r'<div id="([\w-]+)"></div>', html)
    items = re.findall(
        rf'<script type="application/json" id="{target}-item">(.*?)</script>', html, re.S
    )
    assert len(items) == 1 and html.count("application/json") == 1
    item = json.loads(items[0])
    assert {"doc", "root_id"} <= item.keys()
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", html) == ["https://cdn.bokeh.org"]
    assert html.count(CDN) == 1
    # The loader, once, and one call that names this figure and this BokehJS.
    assert html.count("function evalibLive(") == 1
    assert f'evalibLive("{target}", "{bokeh.__version__}", ["bokeh", "bokeh-widgets"]);' in html
    # The container keeps the figure's height, stacked and side by side, until it is drawn.
    heights = re.findall(rf"#{target} {{ min-height: (\d+)px }}", html)
    assert len(heights) == 2 and int(heights[1]) >= int(heights[0]) > 100, heights
    assert fig.html() != html  # each display gets its own target id


def test_each_figure_is_a_few_tens_of_kb():
    """Contours as float32 lines, data as binary arrays: a figure is light."""
    sizes = {name: len(make().html()) for name, make in builders().items()}
    assert max(sizes.values()) < 85_000, sizes


# -- the loader, as Jupyter and Colab run it (no BokehJS on the page) --------------------
BOKEH_FILES = {path.name: path for path in live.bokeh_js_files()}
BOOK = "http://book.test"


def show(browser, body: str, cdn: str = "served", meta: str | None = None, height: int = 900):
    """``body`` on a page at BOOK/book/page.html, with ``<meta name="evalib-bokeh">`` when
    ``meta`` is given. The book's ``_static/bokeh/`` answers with the installed files;
    Bokeh's CDN does too when ``cdn`` is "served" (what Colab downloads) and refuses when
    it is "cut" (a notebook with no internet). Returns the tab, its errors and the URLs
    of the BokehJS files asked for."""
    head = f'<meta name="{BOKEH_META}" content="{meta}">' if meta is not None else ""
    page = f"<!doctype html><html lang='en'><head><title>t</title>{head}</head><body>{body}</body></html>"
    asked: list[str] = []

    def answer(route):
        url = route.request.url
        name = url.rsplit("/", 1)[-1].replace(f"-{bokeh.__version__}.min.js", ".min.js")
        if url == f"{BOOK}/book/page.html":
            return route.fulfill(body=page, content_type="text/html")
        asked.append(url)
        from_book = url.startswith(f"{BOOK}/_static/bokeh/")
        if name in BOKEH_FILES and (from_book or cdn == "served"):
            return route.fulfill(path=BOKEH_FILES[name], content_type="text/javascript")
        return route.abort("internetdisconnected")

    tab = browser.new_page(viewport={"width": 390, "height": height})
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.route("**/*", answer)
    tab.goto(f"{BOOK}/book/page.html")
    return tab, errors, asked


def ewma_html() -> str:
    return live.ewma_explorer(noisy_series(), zoom=10).html()


def drawn(tab, name: str) -> None:
    tab.wait_for_function(
        "(name) => window.Bokeh && Bokeh.documents.some((d) => d.get_model_by_name(name))",
        arg=name,
    )


def test_loader_fetches_bokehjs_from_the_cdn_where_the_page_has_none(browser):
    tab, errors, asked = show(browser, ewma_html())
    drawn(tab, "ewma-beta")
    assert tab.evaluate("() => Bokeh.version") == bokeh.__version__
    assert all(url.startswith("https://cdn.bokeh.org/") for url in asked) and len(asked) == 2
    assert not errors, errors
    tab.close()


def test_loader_says_so_when_bokehjs_cannot_be_fetched(browser):
    tab, errors, _ = show(browser, ewma_html(), cdn="cut")
    figure = tab.locator(f".{live.CSS_CLASS}")
    figure.filter(has_text="could not be loaded").wait_for()
    assert bokeh.__version__ in figure.inner_text()
    assert not errors, errors
    tab.close()


def test_loader_takes_the_pages_own_bokehjs_named_by_the_meta_tag(browser):
    """The built book: ``content`` is relative to the page, and nothing goes to the CDN."""
    tab, errors, asked = show(browser, ewma_html(), cdn="cut", meta="../_static/bokeh/")
    drawn(tab, "ewma-beta")
    assert asked == [f"{BOOK}/_static/bokeh/{name}.min.js" for name in live.BOKEH_JS]
    assert not errors, errors
    tab.close()


def test_loader_waits_until_a_figure_comes_near_and_loads_bokehjs_once(browser):
    spacer = '<div style="height: 6000px">text</div>'
    body = spacer + ewma_html() + live.stability_explorer(steps=10).html()
    tab, errors, asked = show(browser, body, meta="../_static/bokeh/")
    tab.wait_for_timeout(500)
    assert not asked and tab.evaluate("() => window.Bokeh === undefined")
    figures = tab.locator(f".{live.CSS_CLASS}")
    before = figures.nth(0).bounding_box()["height"]
    figures.nth(0).scroll_into_view_if_needed()
    drawn(tab, "ewma-beta")
    drawn(tab, "stability-plane")  # the second, near enough, drawn with the same BokehJS
    assert len(asked) == len(live.BOKEH_JS), asked
    tab.wait_for_timeout(300)
    after = figures.nth(0).bounding_box()["height"]
    assert abs(after - before) < 0.1 * before, (before, after)  # the height was reserved
    assert not errors, errors
    tab.close()


SLIDER_ARIA = """() => [...Bokeh.index.query((v) => v._noUiSlider != null)].map((v) => {
  const handle = v.slider_el.querySelector(".noUi-handle");
  const attrs = ["aria-label", "aria-valuenow", "aria-valuemin", "aria-valuemax", "aria-valuetext"];
  return [v.model.name, ...attrs.map((a) => handle.getAttribute(a)),
          handle.querySelectorAll("[aria-valuenow]").length];
})"""


def test_sliders_have_their_title_as_name_and_announce_the_exact_value(browser):
    body = live.optimiser_race(rosenbrock, 0.001, steps=20, lr_range=(0.0002, 0.0025)).html()
    tab, errors, _ = show(browser, body)
    drawn(tab, "race-lr")
    tab.wait_for_timeout(100)
    shown = {row[0]: row[1:] for row in tab.evaluate(SLIDER_ARIA)}
    assert shown["race-lr"] == ["α (learning rate)", "0.001", "0.0002", "0.0025", "0.00100", 0]
    assert shown["race-beta"] == ["β (momentum)", "0.9", "0", "0.99", "0.90", 0]
    # A key press moves the handle; noUiSlider rewrites the attributes, rounded, and the
    # loader's observer puts them right again.
    handle = tab.locator(".noUi-handle").nth(1)
    handle.focus()
    tab.keyboard.press("ArrowLeft")
    tab.wait_for_function(
        "() => Bokeh.documents[0].get_model_by_name('race-beta').value < 0.9", polling=50
    )
    tab.wait_for_timeout(100)
    shown = {row[0]: row[1:] for row in tab.evaluate(SLIDER_ARIA)}
    assert shown["race-beta"] == ["β (momentum)", "0.89", "0", "0.99", "0.89", 0]
    assert not errors, errors
    tab.close()


def axe_source() -> str:
    axe = pytest.importorskip(
        "axe_playwright_python",
        reason="axe-core not installed: `pip install axe-playwright-python`",
    )
    return (resources.files(axe) / "axe.min.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["ravine", "stability", "ewma-dates", "race", "animation"])
def test_axe_finds_nothing_serious_in_a_live_figure(browser, name):
    source = axe_source()
    tab, errors, _ = show(browser, builders()[name]().html())
    tab.wait_for_function("() => window.Bokeh && [...Bokeh.index].length > 0")
    tab.wait_for_timeout(200)
    tab.add_script_tag(content=source)
    found = tab.evaluate(
        f"""async () => (await axe.run(".{live.CSS_CLASS}", {{ resultTypes: ["violations"] }}))
              .violations.filter((v) => ["serious", "critical"].includes(v.impact))
              .map((v) => [v.id, v.nodes.map((n) => n.target)])"""
    )
    assert not found, found
    assert not errors, errors
    tab.close()


def named_data(fig: live.LiveFigure, name: str) -> dict[str, Any]:
    return named(fig)[name].data


def test_ravine_data_are_evalib_numbers():
    lr, beta, steps = 0.064, 0.6, 80
    fig = live.ravine_explorer(ravine, lr=lr, beta=beta, steps=steps)
    state = live.ravine_state(ravine, lr, beta, steps)
    path = theory.run_momentum(ravine.grad, ravine.start, lr, beta, steps)
    np.testing.assert_array_equal(named_data(fig, "ravine-path")["x"], path[:, 0])
    np.testing.assert_array_equal(state["y"], path[:, 1])
    coords = np.abs(ravine.eigen_coords(path))
    flat = int(np.argmin(ravine.eigvals))
    np.testing.assert_array_equal(named_data(fig, "ravine-errors")["err1"], coords[:, flat])
    np.testing.assert_array_equal(state["err2"], coords[:, 1 - flat])
    rate_flat = theory.momentum_rate(lr, beta, [ravine.eigvals[flat]])
    np.testing.assert_allclose(
        state["theory1"], coords[0, flat] * rate_flat ** np.arange(steps + 1), rtol=1e-12
    )
    assert state["rate"] == theory.momentum_rate(lr, beta, ravine.eigvals)
    assert state["measured"] == theory.empirical_rate(np.hypot(coords[:, 0], coords[:, 1]))
    assert named_data(fig, "ravine-point") == {"lr": [lr], "beta": [beta]}


def test_ravine_state_of_a_diverging_run_is_nan_not_inf():
    state = live.ravine_state(ravine, 0.2, 0.0, 800)
    assert math.isnan(state["measured"]) and state["rate"] > 1
    x = np.array(state["x"])
    assert np.isnan(x[-1]) and not np.isinf(x).any()


def test_stability_data_are_evalib_numbers():
    h, beta, steps = 0.5, 0.6, 30
    fig = live.stability_explorer(h, beta, steps)
    xs = theory.run_momentum(lambda w: w, [1.0], h, beta, steps)[:, 0]
    np.testing.assert_array_equal(named_data(fig, "stability-iterates")["x"], xs)
    roots = theory.momentum_roots(h, beta)
    np.testing.assert_array_equal(named_data(fig, "stability-roots")["re"], roots.real)
    np.testing.assert_array_equal(named_data(fig, "stability-roots")["im"], roots.imag)
    assert live.stability_state(h, beta, steps)["kind"] == live.root_type(h, beta)


def test_ewma_data_are_evalib_numbers():
    x = goog_close()
    data = named_data(live.ewma_explorer(x, beta=0.98), "ewma-lines")
    np.testing.assert_array_equal(data["raw"], averages.ewma(x, 0.98))
    np.testing.assert_array_equal(data["corrected"], averages.ewma(x, 0.98, bias_correction=True))
    np.testing.assert_array_equal(data["x"], x)


def test_race_data_are_evalib_trajectories():
    lr, beta, steps, tol = 0.001, 0.9, 200, 1e-1
    fig = live.optimiser_race(rosenbrock, lr, beta, steps, lr_range=(0.0002, 0.0025), tol=tol)
    state = live.race_state(rosenbrock, lr, beta, steps, tol)
    for racer in live.RACERS:
        path = evalib_path(rosenbrock, lr, beta, racer, steps)
        data = named_data(fig, f"race-{racer.replace(' ', '-')}")
        np.testing.assert_array_equal(np.stack((data["x"], data["y"]), axis=1), path)
        np.testing.assert_array_equal(state[racer]["x"], path[:, 0])
        assert state[racer]["settle"] == optim.steps_to_stay_within(path, rosenbrock.minimum, tol)


@pytest.mark.parametrize(
    "h, beta, kind",
    [
        (0.5, 0.0, "real roots (over-damped)"),
        (0.25, 0.25, "real roots (over-damped)"),  # critical damping: a double root
        (1.5, 0.05, "real roots (over-damped)"),  # αλ > 1, β < (1 − √αλ)²: negative roots
        (0.5, 0.5, "complex roots (under-damped)"),
        (2.0, 0.9, "complex roots (under-damped)"),
        (0.01, 1.0, "divergent"),  # |μ| = √β = 1: on the edge, not inside
        (4.0, 0.5, "divergent"),  # αλ > 2 + 2β
        (0.5, 1.2, "divergent"),
    ],
)
def test_root_type_names_the_region(h, beta, kind):
    assert live.root_type(h, beta) == kind


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: live.ravine_explorer("ravine"), TypeError, "land"),
        (lambda: live.ravine_explorer(rosenbrock), TypeError, "land"),
        (lambda: live.ravine_explorer(lr="0.05"), TypeError, "lr"),
        (lambda: live.ravine_explorer(lr=0.0), ValueError, "lr"),
        (lambda: live.ravine_explorer(lr=5.0), ValueError, "slider"),
        (lambda: live.ravine_explorer(beta=1.0), ValueError, "beta"),
        (lambda: live.ravine_explorer(steps=2.5), TypeError, "steps"),
        (lambda: live.ravine_explorer(steps=1), ValueError, "steps"),
        (lambda: live.stability_explorer(h=None), TypeError, r"\bh\b"),
        (lambda: live.stability_explorer(h=5.0), ValueError, r"\(h, beta\)"),
        (lambda: live.stability_explorer(beta=-0.1), ValueError, r"\(h, beta\)"),
        (lambda: live.stability_explorer(beta=1.0), ValueError, r"\(h, beta\)"),
        (lambda: live.stability_explorer(h=0.0), ValueError, r"\(h, beta\)"),
        (lambda: live.stability_explorer(steps=1), ValueError, "steps"),
        (lambda: live.ewma_explorer("abc"), TypeError, "series"),
        (lambda: live.ewma_explorer(np.ones((3, 3))), ValueError, "series"),
        (lambda: live.ewma_explorer([1.0]), ValueError, "series"),
        (lambda: ewma(beta=0.999), ValueError, "0.995"),
        (lambda: ewma(beta="0.9"), TypeError, "beta"),
        (lambda: ewma(dates=[1, 2]), ValueError, "dates"),
        (lambda: ewma(zoom=4), ValueError, "zoom"),
        (lambda: ewma(label=5), TypeError, "label"),
        (lambda: race(land=ravine.eigvals), TypeError, "land"),
        (lambda: race(land=landscapes.beale), TypeError, "land"),
        (lambda: race(lr=0.01), ValueError, "lr_range"),
        (lambda: race(lr=None), TypeError, "lr"),
        (lambda: race(lr_range=(0.002, 0.001)), ValueError, "lr_range"),
        (lambda: race(lr_range=("a", 0.1)), TypeError, "lr_range"),
        (lambda: race(beta=1.0), ValueError, "beta"),
        (lambda: race(steps=0), ValueError, "steps"),
        (lambda: race(tol=0.0), ValueError, "tol"),
        (lambda: live.root_type(0.5, "0.5"), TypeError, "beta"),
        (lambda: live.root_type(math.nan, 0.5), ValueError, r"\bh\b"),
        (lambda: live.LiveFigure("layout"), TypeError, "layout"),
        (lambda: live.path_animation("ravine", {"a": np.zeros((2, 2))}), TypeError, "landscape"),
        (lambda: live.path_animation(ravine, [np.zeros((2, 2))]), TypeError, "paths"),
        (lambda: live.path_animation(ravine, {}), ValueError, "paths"),
        (lambda: live.path_animation(ravine, {"a": np.zeros((2, 3))}), ValueError, "paths"),
        (lambda: live.path_animation(ravine, {"a": np.zeros((1, 2))}), ValueError, "paths"),
        (lambda: live.path_animation(ravine, {"a": "ab"}), TypeError, "paths"),
        (lambda: anim(styles={"b": {}}), ValueError, "styles"),
        (lambda: anim(styles={"a": {"lw": 2}}), ValueError, "styles"),
        (lambda: anim(styles={"a": {"linestyle": "~"}}), ValueError, "linestyle"),
        (lambda: anim(styles={"a": "red"}), TypeError, "styles"),
        (lambda: anim(title=5), TypeError, "title"),
        (lambda: anim(step=5), ValueError, "step"),
        (lambda: anim(step=1.0), TypeError, "step"),
        (lambda: anim(frames=0), ValueError, "frames"),
        (lambda: anim(interval=5), ValueError, "interval"),
        (lambda: live.path_frame(np.zeros(4), 1), ValueError, "path"),
        (lambda: live.path_frame(np.zeros((3, 2)), -1), ValueError, "step"),
        (lambda: live.path_frame(np.zeros((3, 2)), 1, [0, 2, 1]), ValueError, "steps"),
        (lambda: live.path_frame(np.zeros((3, 2)), 1, [0, 1]), ValueError, "steps"),
        (lambda: live.path_rows(np.zeros((3, 2)), -1.0), ValueError, "tol"),
        (lambda: live.path_rows(np.zeros(3), 1.0), ValueError, "path"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def anim(**changes: Any) -> live.LiveFigure:
    return live.path_animation(ravine, {"a": np.zeros((4, 2))}, **changes)


def ewma(**changes: Any) -> live.LiveFigure:
    kwargs: dict[str, Any] = dict(series=[1.0, 2.0, 3.0], zoom=2)
    kwargs.update(changes)
    return live.ewma_explorer(kwargs.pop("series"), **kwargs)


def race(**changes: Any) -> live.LiveFigure:
    kwargs = dict(land=rosenbrock, lr=0.001, beta=0.9, steps=5, lr_range=(0.0005, 0.002))
    kwargs.update(changes)
    land, lr = kwargs.pop("land"), kwargs.pop("lr")
    return live.optimiser_race(land, lr, **kwargs)


# -- averages.ewma_lag ---------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.0, 0.2, 0.5, 0.9, 0.98, 0.995])
def test_ewma_lag_is_beta_over_one_minus_beta_and_the_mean_age_of_the_weights(beta):
    assert averages.ewma_lag(beta) == beta / (1.0 - beta)
    k = np.arange(20_000)
    mean_age = np.sum(k * (1 - beta) * beta**k)
    assert averages.ewma_lag(beta) == pytest.approx(mean_age, rel=1e-9, abs=1e-12)


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    beta=st.floats(min_value=0.0, max_value=0.95),
    slope=st.floats(min_value=0.1, max_value=10.0) | st.floats(min_value=-10.0, max_value=-0.1),
    offset=st.floats(min_value=-100.0, max_value=100.0),
)
def test_bias_corrected_ewma_trails_a_straight_line_by_the_lag(beta, slope, offset):
    t = np.arange(2_000.0)  # β**2000 ≤ 0.95**2000 ≈ 1e-45: the start-up is forgotten
    line = offset + slope * t
    average = averages.ewma(line, beta, bias_correction=True)
    assert (line[-1] - average[-1]) / slope == pytest.approx(averages.ewma_lag(beta), abs=1e-8)


def test_stability_state_refuses_more_steps_than_the_explorer_draws():
    assert len(live.stability_state(0.5, 0.6, 1000)["x"]) == 1001
    with pytest.raises(ValueError, match=r"steps must be between 2 and 1000, got 100000000"):
        live.stability_state(0.5, 0.6, 10**8)  # a loop of 10**8 steps in Python: minutes


def test_ravine_explorer_on_a_steep_quadratic_gets_a_slider_fine_enough_for_its_steps():
    steep = landscapes.Quadratic((1.0, 1e4))
    lr_max = 1.25 * theory.optimal_momentum(steep.eigvals)[0]  # 4/λmax is smaller here
    fig = live.ravine_explorer(steep, lr=2e-4, beta=0.5, steps=50)
    (alpha,) = [s for s in fig.layout.select({"type": Slider}) if s.name == "ravine-alpha"]
    assert alpha.end == float(f"{lr_max:.3g}") and alpha.start == alpha.step == 1e-6
    assert alpha.format == "0.000000" and alpha.value == 2e-4
    with pytest.raises(ValueError, match=r"lr must be in \(0, 0\.00049\]"):
        live.ravine_explorer(steep)  # the default lr, 0.05, is beyond this slider
    default = live.ravine_explorer(ravine)  # the chapter's: as it was
    (alpha,) = [s for s in default.layout.select({"type": Slider}) if s.name == "ravine-alpha"]
    assert (alpha.start, alpha.end, alpha.step, alpha.format) == (0.001, 0.2, 0.001, "0.000")


def test_ravine_click_on_a_steep_quadratic_rounds_to_the_sliders_finer_step(page):
    steep = landscapes.Quadratic((1.0, 1e4))
    callback = tap_callback(live.ravine_explorer(steep, lr=2e-4, beta=0.5, steps=20))
    out = run_callback(page, callback, cb_obj={"x": 0.000123456, "y": 0.5})
    assert out["alpha"]["value"] == 0.000123 and out["beta"]["value"] == 0.5
