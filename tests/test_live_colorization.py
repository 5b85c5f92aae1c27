"""evalib.book.live.colorization: its JavaScript agrees with evalib, and the figure as built.

As tests/test_live.py does for evalib.book.live: each JavaScript function of
``colorization.js``, run in headless Chromium on a blank page (no server, no
network), against the evalib function it transcribes; the figure's callback, run against
stand-ins for its slider, buttons, sources and readout, against the figure built at the
new setting; and the figure's data and argument checks in Python. Agreement to 1e-9
(``TOL``): the page sums each row of the tridiagonal ``A`` over its non-zero entries
where NumPy multiplies the whole matrix, a difference of an ulp or two per step.

The browser tests need Debian's `chromium`; without it they skip and say so.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from bokeh.models import ColumnDataSource, CustomJS, Div, Slider
from bokeh.models.widgets.groups import RadioButtonGroup

from chromium import chromium
from evalib import optim, theory, worst_case
from evalib.book import live
from evalib.book.live import colorization as lc

TOL = dict(rtol=1e-9, atol=1e-9)
PIXELS, SEEDS, COLOURS = 80, (8, 44, 72), (1.0, 0.3, 0.7)
PROBLEMS = {  # the chapter's line, a short one with a seed at an end, a long one
    "chapter": (PIXELS, SEEDS, COLOURS),
    "short": (12, (0, 7), (0.5, 1.0)),
    "long": (150, (20, 149), (0.9, 0.1)),
}
STEPS = 150


def problem(name: str) -> worst_case.GraphQuadratic:
    n, seeds, colours = PROBLEMS[name]
    return worst_case.colorization(n, seeds, colours)


@functools.cache
def figure(method: str = "heavy ball", k: int = 8) -> live.LiveFigure:
    return lc.colorization_explorer(PIXELS, SEEDS, COLOURS, method=method, k=k, steps=STEPS)


# -- the browser ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def page():
    """A blank page in headless Chromium with live.js and colorization.js loaded."""
    with chromium() as browser:
        blank = browser.new_page()
        blank.add_script_tag(content=live.JS_FUNCTIONS + lc.JS_CODE)
        yield blank


def as_array(values: Any) -> np.ndarray:
    return np.array(values, dtype=float)


# -- agreement: the JavaScript functions against evalib -------------------------------
@pytest.mark.parametrize("name", PROBLEMS)
def test_line_grad_agrees_with_graph_quadratic_grad(page, name):
    p = problem(name)
    rng = np.random.default_rng(0)
    points = [rng.normal(size=p.b.size) for _ in range(5)] + [np.zeros(p.b.size), p.solution]
    got = page.evaluate(
        "([problem, points]) => points.map(lineGrad(problem))",
        [lc._problem_js(p), [w.tolist() for w in points]],
    )
    for w, g in zip(points, got):
        np.testing.assert_allclose(as_array(g), p.grad(w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", PROBLEMS)
def test_nesterov_lookahead_agrees(page, name):
    p = problem(name)
    lr, beta = lc.tunings(p)["Nesterov"]
    for start in (np.zeros(p.b.size), np.linspace(-1, 1, p.b.size)):
        ws, zs = page.evaluate(
            "([problem, w0, lr, b, steps]) => nesterovLookahead(lineGrad(problem), w0, lr, b, steps)",
            [lc._problem_js(p), start.tolist(), lr, beta, STEPS],
        )
        w, z = optim.nesterov_lookahead(p.grad, start, lr, beta, STEPS)
        np.testing.assert_allclose(as_array(ws), w, **TOL)
        np.testing.assert_allclose(as_array(zs), z, **TOL)


@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("method", lc.METHODS)
def test_colorization_state_agrees(page, name, method):
    p = problem(name)
    lr, beta = lc.tunings(p)[method]
    got = page.evaluate(
        "([problem, method, lr, b, steps]) => colorizationState(problem, method, lr, b, steps)",
        [lc._problem_js(p), method, lr, beta, STEPS],
    )
    want = lc.colorization_state(p, method, STEPS)
    np.testing.assert_allclose(as_array(got["path"]), want["path"], **TOL)
    np.testing.assert_allclose(as_array(got["error"]), want["error"], **TOL)
    # The pixels coloured: exact zeros stay exact in both, so the counts are equal.
    reached = [int(np.count_nonzero(row)) for row in as_array(got["path"])]
    assert reached == want["reached"].tolist()


def test_the_tunings_are_theory_s_optima():
    p = problem("chapter")
    interval = [p.mu, p.L]
    assert lc.tunings(p) == {
        "gradient descent": (theory.optimal_gd(interval)[0], 0.0),
        "heavy ball": theory.optimal_momentum(interval)[:2],
        "Nesterov": theory.optimal_nesterov(interval)[:2],
    }


# -- callbacks: the figure's own code against the figure built at the new setting -------
RUN_CALLBACK = """([code, args]) => {
  const names = Object.keys(args);
  new Function(...names, code)(...names.map((n) => args[n]));
  return args;
}"""


def named(fig: live.LiveFigure) -> dict[str, Any]:
    return {m.name: m for m in fig.layout.references() if getattr(m, "name", None)}


def stand_in(value: Any, k: int, active: int) -> Any:
    """A plain object with what the callback reads and writes of a Bokeh model."""
    if isinstance(value, Slider):
        return {"value": k}
    if isinstance(value, RadioButtonGroup):
        return {"active": active}
    if isinstance(value, ColumnDataSource):
        return {"data": {key: np.asarray(v).tolist() for key, v in value.data.items()}}
    if isinstance(value, Div):
        return {"text": value.text}
    return value


def callback(fig: live.LiveFigure, name: str, attribute: str) -> CustomJS:
    (code,) = named(fig)[name].js_property_callbacks[f"change:{attribute}"]
    return code


@pytest.mark.parametrize("method", lc.METHODS)
@pytest.mark.parametrize("k", [0, 1, 8, 19, 150])
@pytest.mark.parametrize("moved", ["slider", "buttons"])
def test_callback_redraws_what_colorization_explorer_draws(page, method, k, moved):
    fig = figure()
    code = callback(fig, *(("colorization-k", "value") if moved == "slider" else
                           ("colorization-method", "active")))  # fmt: skip
    args = {name: stand_in(v, k, lc.METHODS.index(method)) for name, v in code.args.items()}
    out = page.evaluate(RUN_CALLBACK, [code.code, args])
    built = named(figure(method, k))
    for name in ("colorization-profile", "colorization-errors", "colorization-now"):
        source = next(v for v in code.args.values() if getattr(v, "name", None) == name)
        arg = next(a for a, v in code.args.items() if v is source)
        want = built[name].data
        assert set(out[arg]["data"]) == set(want), name
        for column, values in want.items():
            np.testing.assert_allclose(
                as_array(out[arg]["data"][column]), np.asarray(values, dtype=float), **TOL,
                err_msg=f"{name}.{column}",
            )  # fmt: skip
    assert out["readout"]["text"] == built["colorization-readout"].text


# -- the figure in Python ----------------------------------------------------------------------
def test_figure_data_are_evalib_numbers():
    p = problem("chapter")
    fig = named(figure("Nesterov", 19))
    state = lc.colorization_state(p, "Nesterov", STEPS)
    np.testing.assert_array_equal(fig["colorization-profile"].data["w"], state["path"][19])
    np.testing.assert_array_equal(fig["colorization-errors"].data["error"], state["error"])
    distance = worst_case.hops(PIXELS, SEEDS)
    np.testing.assert_array_equal(fig["colorization-profile"].data["reach"] > 0, distance <= 18)
    np.testing.assert_array_equal(fig["colorization-profile"].data["solution"], p.solution)
    assert fig["colorization-k"].value == 19 and fig["colorization-method"].active == 2
    text = fig["colorization-readout"].text
    assert f"<b>{int(np.count_nonzero(state['path'][19]))}</b> pixels" in text
    assert f"<b>{int(np.count_nonzero(distance <= 18))}</b> lie within" in text


@pytest.mark.parametrize("method", lc.METHODS)
def test_colour_reaches_exactly_the_pixels_within_k_minus_1_steps_of_a_seed(method):
    p = problem("chapter")
    state = lc.colorization_state(p, method, 40)
    distance = worst_case.hops(PIXELS, SEEDS)
    for k, w in enumerate(state["path"]):
        np.testing.assert_array_equal(w != 0, distance <= k - 1)


def test_html_holds_one_json_item():
    html = figure().html()
    assert html.count('type="application/json"') == 1
    assert "colorizationUpdate" in html


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: lc.colorization_explorer(method="adam"), ValueError, "method"),
        (lambda: lc.colorization_explorer(method=1), TypeError, "method"),
        (lambda: lc.colorization_explorer(k=200, steps=150), ValueError, r"\bk\b"),
        (lambda: lc.colorization_explorer(k=-1), ValueError, r"\bk\b"),
        (lambda: lc.colorization_explorer(steps=0), ValueError, "steps"),
        (lambda: lc.colorization_explorer(n=1), ValueError, r"\bn\b"),
        (lambda: lc.colorization_explorer(seeds=(90,)), ValueError, "seeds"),
        (lambda: lc.colorization_explorer(colours=(1.0,)), ValueError, "colours"),
        (lambda: lc.colorization_state("problem", "heavy ball", 5), TypeError, "problem"),
        (lambda: lc.tunings(None), TypeError, "problem"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()
