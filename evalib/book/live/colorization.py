"""The colorization explorer: colour spreading from seed pixels along a line, step by step,
for the method a reader picks (chapter "The limits of descent").

A live figure shown through :class:`evalib.book.live.LiveFigure` (and its loader), with
its page code in ``colorization.js``: a slider for the step ``k`` and buttons for the
method (gradient descent, the heavy ball, Nesterov), each tuned for the problem's
smallest and largest curvature. It uses only the public names of :mod:`evalib.book.live`
(``LiveFigure`` and the transcriptions ``JS_FUNCTIONS``, of which it calls
``runMomentum``). The first drawing holds evalib's own numbers
(:func:`colorization_state`); when the reader moves the slider or picks another method,
the page reruns the method with JavaScript transcriptions of
``worst_case.GraphQuadratic.grad``, ``theory.run_momentum`` and
``optim.nesterov_lookahead``, which ``tests/test_live_colorization.py`` checks against
evalib to 1e-9.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CustomJS, LayoutDOM, LinearColorMapper
from bokeh.models.widgets.groups import RadioButtonGroup
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.sliders import Slider
from bokeh.plotting import figure
from numpy.typing import ArrayLike, NDArray

from evalib import theory
from evalib._checks import check_array, check_choice, check_instance, check_int
from evalib.book.live.base import JS_FUNCTIONS, LiveFigure, js_source
from evalib.book.plots import PALETTE
from evalib.optim import nesterov_lookahead
from evalib.worst_case import GraphQuadratic, colorization, hops

#: The methods a reader can pick, in the order of the buttons.
METHODS = ("gradient descent", "heavy ball", "Nesterov")
#: The page code of the explorer, and the transcriptions it adds to ``live.JS_FUNCTIONS``.
#:
#: :meta hide-value:
JS_CODE = js_source("colorization.js")

_FONT = "10pt"  # the figures' smallest text, as plots.MIN_FONT_PT
# A white card, as evalib.book.live's figures have, readable in the book's dark mode too.
_CARD = {"background-color": "white", "color": "#222", "padding": "8px", "border-radius": "6px"}


def tunings(problem: GraphQuadratic) -> dict[str, tuple[float, float]]:
    """Each method's ``(lr, β)`` for the curvatures ``[problem.mu, problem.L]``:
    ``theory.optimal_gd``, ``theory.optimal_momentum`` (Polyak) and
    ``theory.optimal_nesterov`` (Lessard, Recht and Packard)."""
    check_instance("problem", problem, GraphQuadratic, "an evalib.worst_case.GraphQuadratic")
    interval = [problem.mu, problem.L]
    return {
        "gradient descent": (theory.optimal_gd(interval)[0], 0.0),
        "heavy ball": theory.optimal_momentum(interval)[:2],
        "Nesterov": theory.optimal_nesterov(interval)[:2],
    }


def colorization_state(problem: GraphQuadratic, method: str, steps: int) -> dict[str, Any]:
    """What the explorer draws for one method, from evalib, with ``w_0 = 0``.

    ``path``: the iterates ``w_0 .. w_steps`` (rows) of ``theory.run_gd``,
    ``theory.run_momentum`` or, for Nesterov, PyTorch's iterates ``w − αβz`` of
    ``optim.nesterov_lookahead``, each at its :func:`tunings`; ``error``: the relative
    error ``‖w_k − w*‖ / ‖w*‖`` per step; ``reached``: how many pixels hold some colour
    (are non-zero) after each step.
    """
    check_instance("problem", problem, GraphQuadratic, "an evalib.worst_case.GraphQuadratic")
    method = check_choice("method", method, METHODS)
    steps = check_int("steps", steps, 1, 2000)
    lr, beta = tunings(problem)[method]
    start = np.zeros(problem.b.size)
    if method == "Nesterov":
        w, z = nesterov_lookahead(problem.grad, start, lr, beta, steps)
        path = w - lr * beta * z
    else:
        path = theory.run_momentum(problem.grad, start, lr, beta, steps)
    error = np.linalg.norm(path - problem.solution, axis=1) / np.linalg.norm(problem.solution)
    return {"path": path, "error": error, "reached": np.count_nonzero(path, axis=1)}


def colorization_text(method: str, k: int, reached: int, reachable: int, error: float) -> str:
    """The explorer's readout: the step, the pixels coloured against the pixels that a
    method of the span class could have reached (``hops ≤ k − 1``), and the error."""
    return (
        f"{method}, step {k}: colour has reached <b>{reached}</b> pixels; "
        f"<b>{reachable}</b> lie within k − 1 steps of a seed, the most a method in the span "
        "of its gradients can reach"
        f"<br>error ‖w − w*‖ / ‖w*‖ = <b>{_fixed(error, 4)}</b>"
    )


def colorization_explorer(
    n: int = 80,
    seeds: ArrayLike = (8, 44, 72),
    colours: ArrayLike = (1.0, 0.3, 0.7),
    *,
    method: str = "heavy ball",
    k: int = 8,
    steps: int = 150,
) -> LiveFigure:
    """Goh's colorization on a line of ``n`` pixels, with a slider for the step ``k``
    (up to ``steps``) and buttons for the method.

    Top, the pixels' colours after ``k`` steps (a strip of shades, and as a line beside
    the answer ``w*``, dashed), with the pixels within ``k − 1`` steps of a seed shaded:
    no method in the span of its past gradients can have coloured any other
    (``worst_case.hops``). Bottom, the method's error per step, with step ``k`` marked.
    """
    n = check_int("n", n, 2, 400)
    problem = colorization(n, seeds, colours)
    where = np.asarray(check_array("seeds", seeds), dtype=np.int64)
    method = check_choice("method", method, METHODS)
    steps = check_int("steps", steps, 1, 2000)
    k = check_int("k", k, 0, steps)
    distance = hops(n, where)
    state = colorization_state(problem, method, steps)
    reachable = _reachable(distance, k)

    profile = ColumnDataSource(
        {
            "i": np.arange(n),
            "w": state["path"][k],
            "reach": 1.3 * reachable,
            "solution": problem.solution,
        },
        name="colorization-profile",
    )
    errors = ColumnDataSource(
        {"k": np.arange(steps + 1), "error": state["error"]}, name="colorization-errors"
    )
    now = ColumnDataSource({"k": [k], "error": [state["error"][k]]}, name="colorization-now")

    colour_panel = _panel(
        "Colour after k steps", "pixel", "colour w_i", height=300, y_range=(-0.45, 1.35)
    )
    colour_panel.vbar(
        x="i", top="reach", width=1, source=profile, fill_color=PALETTE["sky"],
        fill_alpha=0.25, line_color=None, legend_label="within k − 1 steps of a seed",
    )  # fmt: skip
    shades = LinearColorMapper(palette="Magma256", low=0.0, high=1.0)
    colour_panel.rect(
        x="i", y=-0.25, width=1, height=0.3, source=profile, line_color=None,
        fill_color={"field": "w", "transform": shades},
    )  # fmt: skip
    colour_panel.line("i", "solution", source=profile, color=PALETTE["black"],
                      line_dash="dashed", legend_label="the answer w*")  # fmt: skip
    colour_panel.line("i", "w", source=profile, color=PALETTE["vermillion"], line_width=2,
                      legend_label="w after k steps")  # fmt: skip
    colour_panel.scatter(
        where.tolist(), [1.25] * where.size, marker="triangle", size=9, color=PALETTE["black"],
        legend_label="seeds",
    )  # fmt: skip
    error_panel = _panel("Error per step", "step", "‖w − w*‖ / ‖w*‖", height=240, y_axis_type="log")
    error_panel.line("k", "error", source=errors, color=PALETTE["vermillion"], line_width=2)
    error_panel.scatter("k", "error", source=now, size=9, color=PALETTE["black"])
    for fig in (colour_panel, error_panel):
        _look(fig)
    _legend_below(colour_panel)

    k_slider = _step_slider("colorization-k", "k (steps)", 0, steps, k)
    buttons = RadioButtonGroup(
        labels=list(METHODS), active=METHODS.index(method), name="colorization-method"
    )
    readout = Div(
        text=colorization_text(
            method, k, int(state["reached"][k]), int(reachable.sum()), state["error"][k]
        ),
        name="colorization-readout",
        styles={"font-size": _FONT},
    )
    lr_beta = tunings(problem)
    update = CustomJS(
        args=dict(
            slider=k_slider,
            buttons=buttons,
            profile=profile,
            errors=errors,
            now=now,
            readout=readout,
            problem=_problem_js(problem),
            hops=distance.tolist(),
            methods=list(METHODS),
            tunings=[list(lr_beta[m]) for m in METHODS],
        ),
        code=JS_FUNCTIONS + JS_CODE + "\ncolorizationUpdate({ slider, buttons, profile, errors, "
        "now, readout, problem, hops, methods, tunings });\n",
    )
    k_slider.js_on_change("value", update)
    buttons.js_on_change("active", update)
    return LiveFigure(_card(buttons, k_slider, readout, colour_panel, error_panel))


def _reachable(distance: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """1.0 where a pixel lies within ``k − 1`` steps of a seed, else 0.0."""
    return (distance <= k - 1).astype(np.float64)


def _problem_js(problem: GraphQuadratic) -> dict[str, Any]:
    """What the JavaScript needs of a line's colorization: A's diagonal (A is tridiagonal
    with −1 beside it), b and the answer ``w*``."""
    return dict(
        diag=np.diag(problem.A).tolist(), b=problem.b.tolist(), solution=problem.solution.tolist()
    )


def _look(fig: Any) -> None:
    """Titles, axis labels and ticks at the book's smallest font size."""
    fig.title.text_font_size = _FONT
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.axis_label_text_font_size = _FONT
        axis.major_label_text_font_size = _FONT


def _legend_below(fig: Any) -> None:
    """The legend under the data, two entries a row, so it covers nothing."""
    legend = fig.legend[0]
    legend.ncols, legend.label_text_font_size = 2, _FONT
    legend.padding, legend.spacing, legend.margin = 2, 4, 4
    legend.border_line_alpha = 0
    fig.add_layout(legend, "below")


def _panel(title: str, x_label: str, y_label: str, **options: Any) -> Any:
    """A Bokeh figure as wide as the card, labelled, without a toolbar."""
    return figure(
        title=title,
        x_axis_label=x_label,
        y_axis_label=y_label,
        toolbar_location=None,
        sizing_mode="stretch_width",
        **options,
    )


def _step_slider(name: str, title: str, start: int, end: int, value: int) -> Slider:
    """A full-width slider over whole steps; ``name`` lets the browser tests find it."""
    return Slider(
        start=start,
        end=end,
        value=value,
        step=1,
        title=title,
        format="0",
        name=name,
        sizing_mode="stretch_width",
    )


def _card(*children: LayoutDOM) -> LayoutDOM:
    return column(*children, styles=_CARD, sizing_mode="stretch_width")


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, rounded as JavaScript's ``toFixed`` rounds (a
    tie goes up), so the readout drawn by Python and the one redrawn by the page agree."""
    step = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(step, ROUND_HALF_UP, Context(prec=80)))
