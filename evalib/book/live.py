"""Live figures: Bokeh plots whose sliders recompute the figure in the reader's browser.

Four figures, each shown by the chapter that teaches it:

- :func:`ravine_explorer`: the heavy ball on a quadratic, with sliders for ``α`` and ``β``
  ("Momentum: the heavy ball").
- :func:`stability_explorer`: the ``(αλ, β)`` plane; a click picks one direction's
  iteration ("Momentum: the heavy ball").
- :func:`ewma_explorer`: a ``β`` slider over a series ("Moving averages").
- :func:`optimiser_race`: gradient descent, the heavy ball and Nesterov on one landscape,
  with the learning rate and ``β`` adjustable ("Why momentum really works").

The figure drawn first holds evalib's own numbers. When a slider moves, a few lines of
JavaScript compute the new ones in the browser, with no kernel. Each JavaScript
function in :data:`JS_FUNCTIONS` transcribes, line by line and with its operations in
the same order, the evalib function named in its comment; ``tests/test_live.py`` runs
it against evalib for a grid of settings and ``tests/test_browser.py`` reads the
numbers of the built pages back, both to 1e-9.

Where BokehJS comes from: the built book serves the installed bokeh package's own
BokehJS from ``_static`` (``book/_ext``), once per page; in Jupyter or Colab a figure
loads the same version from Bokeh's CDN.
"""

from __future__ import annotations

import json
import math
import uuid
from decimal import ROUND_HALF_UP, Context, Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import bokeh
import numpy as np
import torch
from bokeh.embed import json_item
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, LayoutDOM, LinearColorMapper
from bokeh.models.annotations import ColorBar
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.sliders import Slider
from bokeh.plotting import figure
from numpy.typing import ArrayLike, NDArray

from evalib import averages, theory
from evalib._checks import check_array, check_instance, check_int, check_real
from evalib.book.plots import PALETTE
from evalib.landscapes import Quadratic, Rosenbrock, ravine
from evalib.optim import HeavyBall, Nesterov, steps_to_stay_within, trajectory

#: The BokehJS files a page with live figures loads (the core and the sliders).
BOKEH_JS = ("bokeh", "bokeh-widgets")
#: The CSS class of every live figure's container: book/_ext looks for it.
CSS_CLASS = "evalib-live"

# A figure keeps a white card in the book's dark mode too, as the static figures do.
_CARD = {"background-color": "white", "color": "#222", "padding": "8px", "border-radius": "6px"}

#: The JavaScript transcriptions of evalib functions that the live figures run (live.js).
JS_FUNCTIONS = files("evalib.book").joinpath("live.js").read_text(encoding="utf-8")


class LiveFigure:
    """A Bokeh layout that displays itself as HTML in the book, Jupyter and Colab.

    ``layout`` is the Bokeh object; ``html()`` (what Jupyter shows) embeds it with
    ``bokeh.embed.json_item`` and a loader that uses the page's BokehJS where it
    is already there (the built book) and fetches the same version otherwise.
    """

    def __init__(self, layout: LayoutDOM) -> None:
        self.layout = check_instance("layout", layout, LayoutDOM, "a Bokeh layout")

    def html(self) -> str:
        """The ``<div>`` and ``<script>`` that draw the figure."""
        target = f"{CSS_CLASS}-{uuid.uuid4().hex[:12]}"
        # "</" would end the script element early; JSON allows "<\/".
        item = json.dumps(json_item(self.layout)).replace("</", "<\\/")
        return f"""<div class="{CSS_CLASS}" id="{target}"></div>
<script type="application/json" id="{target}-item">{item}</script>
<script>
(function () {{
  const target = "{target}", version = "{bokeh.__version__}", files = {json.dumps(BOKEH_JS)};
  const item = JSON.parse(document.getElementById(target + "-item").textContent);
  const embed = () => window.Bokeh.embed.embed_item(item, target);
  if (window.Bokeh && window.Bokeh.version === version && window.Bokeh.Widgets) return embed();
  // Jupyter and Colab: the same BokehJS from Bokeh's CDN (the book serves it itself).
  let next = 0;
  (function load() {{
    if (next === files.length) return embed();
    const script = document.createElement("script");
    script.src = `https://cdn.bokeh.org/bokeh/release/${{files[next++]}}-${{version}}.min.js`;
    script.onload = load;
    script.onerror = () => {{ document.getElementById(target).textContent =
      "This live figure needs BokehJS " + version + ", which could not be loaded."; }};
    document.head.appendChild(script);
  }})();
}})();
</script>"""

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"LiveFigure({type(self.layout).__name__})"


def bokeh_js_files() -> list[Path]:
    """The installed bokeh package's minified BokehJS files named by :data:`BOKEH_JS`."""
    static = Path(str(files("bokeh"))) / "server" / "static" / "js"
    return [static / f"{name}.min.js" for name in BOKEH_JS]


def _figure(title: str, x_label: str, y_label: str, **options: Any) -> Any:
    """A Bokeh figure in the book's look: a title, labelled axes, no toolbar, full width
    unless ``width`` is given."""
    options.setdefault("sizing_mode", "fixed" if "width" in options else "stretch_width")
    return figure(
        title=title, x_axis_label=x_label, y_axis_label=y_label, toolbar_location=None, **options
    )


def _slider(
    name: str, title: str, start: float, end: float, value: float, step: float, fmt: str
) -> Slider:
    """A full-width slider; ``name`` lets the browser test find it."""
    return Slider(
        start=start,
        end=end,
        value=value,
        step=step,
        title=title,
        format=fmt,
        name=name,
        sizing_mode="stretch_width",
    )


def _legend_below(plot: Any) -> None:
    """Move the plot's legend under it, in two columns, so it hides none of the plane."""
    legend = plot.legend[0]
    legend.ncols, legend.label_text_font_size = 2, "8pt"
    legend.padding, legend.spacing, legend.margin = 2, 0, 4
    plot.add_layout(legend, "below")


def _on_click(plot: Any, callback: CustomJS) -> None:
    """Run ``callback`` on a click in ``plot``; two quick clicks count as two picks, not
    as one double click (Bokeh reports those as a separate event)."""
    for event in ("tap", "doubletap"):
        plot.js_on_event(event, callback)


def _card(*children: LayoutDOM) -> LayoutDOM:
    return column(*children, styles=_CARD, sizing_mode="stretch_width")


def _finite_or_nan(values: ArrayLike) -> list[float]:
    """Plain floats for a data source, with ±inf as NaN (Bokeh skips NaN points)."""
    arr = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(arr), arr, np.nan).tolist()


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, rounded as JavaScript's ``toFixed`` rounds (a
    tie goes up), so a readout drawn by Python and one redrawn by the page agree."""
    step = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(step, ROUND_HALF_UP, Context(prec=80)))


def _centres(lo: float, hi: float, n: int) -> NDArray[np.float64]:
    """The centres of ``n`` equal cells from ``lo`` to ``hi``: an image's pixel positions."""
    half = (hi - lo) / (2 * n)
    return np.linspace(lo + half, hi - half, n)


def _quadratic_js(q: Quadratic) -> dict[str, Any]:
    """What the JavaScript needs of a quadratic: A, Q and c as plain numbers."""
    (a11, a12), (_, a22) = q.A.tolist()
    (q11, q12), (q21, q22) = q.eigvecs.tolist()
    return dict(
        kind="quadratic",
        a11=a11,
        a12=a12,
        a22=a22,
        q11=q11,
        q12=q12,
        q21=q21,
        q22=q22,
        c=q.center.tolist(),
    )


def _contours(fig: Any, land: Any, levels: int, log: bool) -> None:
    """Draw ``levels`` grey contour lines of the landscape (of log10 f when ``log``)."""
    (x0, x1), (y0, y1) = land.bounds
    xs, ys = np.linspace(x0, x1, 160), np.linspace(y0, y1, 120)
    gx, gy = np.meshgrid(xs, ys)
    z = land(np.stack((gx, gy), axis=-1))
    if log:
        z = np.log10(z - land.min_value + 1e-3)
    fig.contour(
        gx,
        gy,
        z,
        np.linspace(z.min(), z.max(), levels + 2)[1:-1],
        line_color="#bbbbbb",
        line_width=1,
    )


# -- 1. the heavy ball on the ravine ------------------------------------------------------
def ravine_state(land: Quadratic, lr: float, beta: float, steps: int) -> dict[str, Any]:
    """The numbers :func:`ravine_explorer` draws for one setting, from evalib.

    ``path`` (``x``, ``y``), the eigen-coordinates' sizes ``|x_i(k)|`` (``err1``,
    ``err2``, flat direction first), the lines ``|x_i(0)| ρ_i^k`` that fall at the rate ``ρ_i``
    predicted for that direction, the spectral radius of its R (``theory1``, ``theory2``), the
    rate ``momentum_rate`` and the rate measured from ``‖x_k‖`` by ``empirical_rate``.
    """
    check_instance("land", land, Quadratic, "an evalib.landscapes.Quadratic")
    path = theory.run_momentum(land.grad, land.start, lr, beta, steps)
    with np.errstate(invalid="ignore", over="ignore"):
        coords = np.abs(np.asarray(land.eigen_coords(path)))
    k = np.arange(steps + 1)
    order = np.argsort(land.eigvals)
    per_direction = [theory.momentum_rate(lr, beta, [lam]) for lam in land.eigvals[order]]
    norms = np.hypot(coords[:, 0], coords[:, 1])
    measured = theory.empirical_rate(norms) if np.all(np.isfinite(norms)) else math.nan
    with np.errstate(over="ignore"):
        envelopes = [coords[0, i] * rate**k for i, rate in zip(order, per_direction)]
    return {
        "k": k.tolist(),
        "x": _finite_or_nan(path[:, 0]),
        "y": _finite_or_nan(path[:, 1]),
        "err1": _finite_or_nan(coords[:, order[0]]),
        "err2": _finite_or_nan(coords[:, order[1]]),
        "theory1": _finite_or_nan(envelopes[0]),
        "theory2": _finite_or_nan(envelopes[1]),
        "rate": max(per_direction),  # momentum_rate over both eigenvalues
        "measured": measured,
    }


def ravine_explorer(
    land: Quadratic = ravine, lr: float = 0.05, beta: float = 0.5, steps: int = 100
) -> LiveFigure:
    """The heavy ball on a 2-D quadratic with sliders for ``α`` and ``β``.

    Three panels: the path over the contour lines; the error along each eigen-direction,
    ``|x_i(k)|`` on a log scale, beside the line ``|x_i(0)| ρ(R_i)^k`` that falls at the
    rate theory predicts (dashed); and the ``(α, β)`` plane coloured by the rate, with Polyak's
    optimum (``theory.optimal_momentum``), each direction's critical damping
    ``β = (1 − √(αλ_i))²`` and the stability edge ``α = (2 + 2β)/λ_max``. A click in the
    plane moves both sliders there. The readout compares the rate with the one measured
    from the run (``theory.empirical_rate``).
    """
    land = check_instance("land", land, Quadratic, "an evalib.landscapes.Quadratic")
    steps = check_int("steps", steps, 2, 2000)
    # α up to the edge of stability at β = 0.99, and past Polyak's optimum α*.
    lr_max = round(
        max(4.0 / float(land.eigvals.max()), 1.25 * theory.optimal_momentum(land.eigvals)[0]), 3
    )
    lr = check_real("lr", lr)
    if not 0 < lr <= lr_max:
        raise ValueError(f"lr must be in (0, {lr_max}] (the slider's range), got {lr}")
    beta = check_real("beta", beta, at_least=0, below=1)
    state = ravine_state(land, lr, beta, steps)
    path = ColumnDataSource({c: state[c] for c in ("x", "y")}, name="ravine-path")
    errors = ColumnDataSource(
        {c: state[c] for c in ("k", "err1", "err2", "theory1", "theory2")}, name="ravine-errors"
    )
    point = ColumnDataSource({"lr": [lr], "beta": [beta]}, name="ravine-point")

    (x0, x1), (y0, y1) = land.bounds
    paths = _figure(
        "Path on the ravine",
        "w₁",
        "w₂",
        x_range=(x0, x1),
        y_range=(y0, y1),
        height=320,
    )
    _contours(paths, land, 10, log=False)
    paths.line("x", "y", source=path, line_color=PALETTE["blue"], line_width=2)
    paths.scatter("x", "y", source=path, size=3, color=PALETTE["blue"])
    paths.scatter(
        [land.center[0]], [land.center[1]], marker="star", size=14, color=PALETTE["black"]
    )

    err = _figure(
        "Error per eigen-direction",
        "step k",
        "|error| along the direction",
        y_axis_type="log",
        height=320,
        y_range=(1e-12, 1e3),
    )
    lam_lo, lam_hi = sorted(land.eigvals)
    for col, color, lam in (("1", PALETTE["blue"], lam_lo), ("2", PALETTE["vermillion"], lam_hi)):
        err.line(
            "k",
            f"err{col}",
            source=errors,
            color=color,
            line_width=2,
            legend_label=f"λ = {lam:g} (run)",
        )
        err.line(
            "k",
            f"theory{col}",
            source=errors,
            color=color,
            line_dash="dashed",
            legend_label=f"λ = {lam:g}: |x(0)|·ρᵏ",
        )
    err.legend.location = "bottom_left"
    err.legend.background_fill_alpha = 0.7

    plane = _rate_plane(land, lr_max, point)
    alpha_slider = _slider("ravine-alpha", "α (step size)", 0.001, lr_max, lr, 0.001, "0.000")
    beta_slider = _slider("ravine-beta", "β (momentum)", 0.0, 0.99, beta, 0.01, "0.00")
    readout = Div(text=_ravine_text(state, lr, beta), name="ravine-readout")
    update = CustomJS(
        args=dict(
            alpha=alpha_slider,
            beta=beta_slider,
            path=path,
            errors=errors,
            point=point,
            readout=readout,
            q=_quadratic_js(land),
            start=list(land.start),
            steps=steps,
            lams=sorted(land.eigvals.tolist()),
            order=np.argsort(land.eigvals).tolist(),
        ),
        code=JS_FUNCTIONS
        + r"""
const lr = alpha.value, b = beta.value;
const run = runMomentum(quadraticGrad(q), start, lr, b, steps);
const coords = run.map((w) => eigenCoords(q, w).map(Math.abs));
// order: the eigen-coordinates' indices, flat direction first (as in Python).
const rates = lams.map((lam) => momentumRate(lr, b, [lam]));
const clean = (v) => (Number.isFinite(v) ? v : NaN);
const k = run.map((_, i) => i);
path.data = { x: run.map((w) => clean(w[0])), y: run.map((w) => clean(w[1])) };
errors.data = {
  k: k,
  err1: coords.map((c) => clean(c[order[0]])), err2: coords.map((c) => clean(c[order[1]])),
  theory1: k.map((i) => clean(coords[0][order[0]] * rates[0] ** i)),
  theory2: k.map((i) => clean(coords[0][order[1]] * rates[1] ** i))
};
point.data = { lr: [lr], beta: [b] };
const rate = Math.max(...rates);  // momentumRate over both eigenvalues
const measured = empiricalRate(coords.map((c) => Math.hypot(c[0], c[1])));
readout.text = ravineText(lr, b, rate, measured);
"""
        + _RAVINE_TEXT_JS,
    )
    alpha_slider.js_on_change("value", update)
    beta_slider.js_on_change("value", update)
    _on_click(
        plane,
        CustomJS(
            args=dict(alpha=alpha_slider, beta=beta_slider),
            code="""
alpha.value = Math.min(alpha.end, Math.max(alpha.start, Math.round(cb_obj.x * 1000) / 1000));
beta.value = Math.min(beta.end, Math.max(beta.start, Math.round(cb_obj.y * 100) / 100));
""",
        ),
    )
    controls = column(alpha_slider, beta_slider, readout, sizing_mode="stretch_width")
    return LiveFigure(
        _card(
            row(paths, err, sizing_mode="stretch_width"),
            row(plane, controls, sizing_mode="stretch_width"),
        )
    )


# The readout, once in Python (the figure as built) and once in JavaScript (after a move).
_RAVINE_TEXT_JS = r"""
function ravineText(lr, b, rate, measured) {
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(4) : "none (the run diverges)");
  return `α = ${lr.toFixed(3)}, β = ${b.toFixed(2)}<br>rate (theory, max over directions): ` +
         `<b>${rate.toFixed(4)}</b>${rate >= 1 ? " ≥ 1: diverges" : ""}<br>` +
         `rate measured on the run: <b>${fmt(measured)}</b>`;
}
"""


def _ravine_text(state: dict[str, Any], lr: float, beta: float) -> str:
    measured = state["measured"]
    shown = _fixed(measured, 4) if math.isfinite(measured) else "none (the run diverges)"
    rate = state["rate"]
    return (
        f"α = {_fixed(lr, 3)}, β = {_fixed(beta, 2)}<br>rate (theory, max over directions): "
        f"<b>{_fixed(rate, 4)}</b>{' ≥ 1: diverges' if rate >= 1 else ''}<br>"
        f"rate measured on the run: <b>{shown}</b>"
    )


def _rate_plane(land: Quadratic, lr_max: float, point: ColumnDataSource) -> Any:
    """The (α, β) plane coloured by the rate, with the optimum, critical damping and edge."""
    # The rate at each pixel's centre: momentum_rate over the grid at once.
    lrs, betas = _centres(0.0, lr_max, 160), _centres(0.0, 0.99, 90)
    h = lrs[None, :, None] * land.eigvals[None, None, :]
    rates = np.abs(theory.momentum_roots(h, betas[:, None, None])).max(axis=(-2, -1))
    plane = _figure(
        "Rate in the (α, β) plane (click to choose)",
        "α",
        "β",
        x_range=(0, lr_max),
        y_range=(0, 0.99),
        height=400,
    )
    shades = LinearColorMapper(palette="Viridis256", low=float(rates.min()), high=1.0)
    plane.image(
        image=[np.minimum(rates, 1.0).astype(np.float32)],
        x=0,
        y=0,
        dw=lr_max,
        dh=0.99,
        color_mapper=shades,
        level="image",
    )
    plane.add_layout(ColorBar(color_mapper=shades, width=10, title="rate"), "right")
    for lam, dash in zip(sorted(land.eigvals), ("dashed", "dotted")):
        a = np.linspace(1e-6, 1.0 / lam, 100)
        curve = [theory.critical_beta(x, lam) for x in a]
        # White over black: visible on every colour of the plane and in the legend.
        for color, width, style in (("black", 4, "solid"), ("white", 2, dash)):
            plane.line(
                a,
                curve,
                color=color,
                line_width=width,
                line_dash=style,
                legend_label=f"critical damping, λ = {lam:g}",
            )
    edge_b = np.linspace(0.0, 0.99, 50)
    plane.line(
        (2 + 2 * edge_b) / land.eigvals.max(),
        edge_b,
        color=PALETTE["vermillion"],
        line_width=2,
        legend_label="edge of stability",
    )
    lr_opt, beta_opt, _ = theory.optimal_momentum(land.eigvals)
    plane.scatter(
        [lr_opt],
        [beta_opt],
        marker="star",
        size=16,
        color=PALETTE["orange"],
        line_color="black",
        legend_label="optimum (α*, β*)",
    )
    plane.scatter(
        "lr",
        "beta",
        source=point,
        size=11,
        fill_color="white",
        line_color="black",
        line_width=2,
        legend_label="chosen",
    )
    _legend_below(plane)
    return plane


# -- 2. the stability region --------------------------------------------------------------
_REGIONS = ("real roots (over-damped)", "complex roots (under-damped)", "divergent")


def _region_index(h: ArrayLike, beta: ArrayLike) -> NDArray[np.intp]:
    """Index into ``_REGIONS`` of each ``(h, β)`` (broadcast): divergent when a root of
    ``theory.momentum_roots`` has ``|μ| ≥ 1``, else complex or real roots."""
    roots = theory.momentum_roots(h, beta)
    complex_roots = np.abs(roots[..., 0].imag) > 0
    return np.where(np.abs(roots).max(axis=-1) >= 1.0, 2, np.where(complex_roots, 1, 0))


def root_type(h: float, beta: float) -> str:
    """The region of the ``(αλ, β)`` plane that ``(h, β)`` lies in: ``"divergent"``, or
    real or complex roots of the direction's ``R``, as :func:`stability_explorer` names it."""
    return _REGIONS[int(_region_index(check_real("h", h), check_real("beta", beta)))]


#: The (h, β) plane of the stability explorer: h up to 4.5, β below 1, the range of
#: ``theory.run_momentum`` (at β ≥ 1 every direction diverges).
_PLANE = (4.5, 1.0)


def _plane_point(h: Any, beta: Any) -> tuple[float, float]:
    """``(h, β)`` checked to lie in the explorer's plane ``(0, 4.5] × [0, 1)``."""
    h, beta = check_real("h", h), check_real("beta", beta)
    h_max, b_max = _PLANE
    if not (0 < h <= h_max and 0 <= beta < b_max):
        raise ValueError(f"(h, beta) must lie in (0, {h_max}] × [0, {b_max}), got ({h}, {beta})")
    return h, beta


def stability_state(h: float, beta: float, steps: int) -> dict[str, Any]:
    """The numbers :func:`stability_explorer` draws for one point, from evalib: the
    iteration ``x_k`` of one direction with ``λ = 1``, ``α = h`` from ``x_0 = 1``
    (``theory.run_momentum``) and the two roots (``theory.momentum_roots``)."""
    h, beta = _plane_point(h, beta)
    xs = theory.run_momentum(lambda w: w, [1.0], h, beta, steps)[:, 0]
    roots = theory.momentum_roots(h, beta)
    return {
        "k": list(range(steps + 1)),
        "x": _finite_or_nan(xs),
        "re": roots.real.tolist(),
        "im": roots.imag.tolist(),
        "kind": root_type(h, beta),
    }


def stability_explorer(h: float = 0.5, beta: float = 0.6, steps: int = 40) -> LiveFigure:
    """The ``(αλ, β)`` plane of one eigen-direction: click a point to see its iteration.

    Left, the plane coloured by the type of the roots of ``R`` (real, complex,
    divergent), with the critical-damping curve ``β = (1 − √h)²`` and the edge
    ``h = 2 + 2β``. Right, for the chosen point, the error ``x_k`` of that direction
    from ``x_0 = 1`` and the two roots in the complex plane with the unit circle.
    """
    h, beta = _plane_point(h, beta)
    steps = check_int("steps", steps, 2, 1000)
    h_max, b_max = _PLANE
    hs, bs = _centres(0.0, h_max, 360), _centres(0.0, b_max, 200)
    kinds = _region_index(hs[None, :], bs[:, None]).astype(np.uint8)
    colours = [PALETTE["sky"], PALETTE["yellow"], "#dddddd"]
    plane = _figure(
        "Roots of R in the (αλ, β) plane (click a point)",
        "αλ",
        "β",
        x_range=(0, h_max),
        y_range=(0, b_max),
        height=420,
        name="stability-plane",
    )
    plane.image(image=[kinds], x=0, y=0, dw=h_max, dh=b_max, palette=colours, level="image")
    for name, colour in zip(_REGIONS, colours):
        plane.scatter([-1], [-1], marker="square", size=12, color=colour, legend_label=name)
    # Critical damping; the other root curve, (1 + √h)², lies above β = 1.
    root_h = np.linspace(0, 4, 200)
    plane.line(
        root_h,
        (1 - np.sqrt(root_h)) ** 2,
        color="black",
        line_dash="dashed",
        legend_label="β = (1 − √(αλ))²",
    )
    edge = np.linspace(0, b_max, 50)
    plane.line(
        2 + 2 * edge, edge, color=PALETTE["vermillion"], line_width=2, legend_label="αλ = 2 + 2β"
    )
    _legend_below(plane)

    state = stability_state(h, beta, steps)
    pick = ColumnDataSource({"h": [h], "beta": [beta]}, name="stability-pick")
    iterates = ColumnDataSource({c: state[c] for c in ("k", "x")}, name="stability-iterates")
    roots = ColumnDataSource({c: state[c] for c in ("re", "im")}, name="stability-roots")
    plane.scatter(
        "h", "beta", source=pick, size=12, fill_color="white", line_color="black", line_width=2
    )

    walk = _figure("Error of this direction, x₀ = 1", "step k", "xₖ", height=200, y_range=(-2, 2))
    walk.line("k", "x", source=iterates, color=PALETTE["blue"], line_width=2)
    walk.scatter("k", "x", source=iterates, color=PALETTE["blue"], size=4)
    circle = np.linspace(0, 2 * np.pi, 200)
    disk = _figure(
        "Roots μ and the unit circle",
        "Re μ",
        "Im μ",
        height=260,
        width=260,
        x_range=(-1.6, 1.6),
        y_range=(-1.6, 1.6),
    )
    disk.line(np.cos(circle), np.sin(circle), color="black")
    disk.scatter("re", "im", source=roots, size=10, color=PALETTE["vermillion"])
    readout = Div(text=_stability_text(h, beta, state["kind"]), name="stability-readout")
    _on_click(
        plane,
        CustomJS(
            args=dict(
                pick=pick,
                iterates=iterates,
                roots=roots,
                readout=readout,
                steps=steps,
                regions=list(_REGIONS),
                hMax=h_max,
                bMax=b_max,
            ),
            code=JS_FUNCTIONS
            + r"""
const h = cb_obj.x, b = cb_obj.y;
if (!(h > 0 && h <= hMax && b >= 0 && b < bMax)) return;  // _plane_point's range
const run = runMomentum((w) => w, [1], h, b, steps).map((w) => w[0]);
const mu = momentumRoots(h, b);
const kind = Math.max(Math.hypot(...mu[0]), Math.hypot(...mu[1])) >= 1 ? regions[2]
           : (Math.abs(mu[0][1]) > 0 ? regions[1] : regions[0]);
pick.data = { h: [h], beta: [b] };
iterates.data = { k: run.map((_, i) => i), x: run.map((v) => (Number.isFinite(v) ? v : NaN)) };
roots.data = { re: [mu[0][0], mu[1][0]], im: [mu[0][1], mu[1][1]] };
readout.text = `αλ = ${h.toFixed(3)}, β = ${b.toFixed(3)}: <b>${kind}</b>`;
""",
        ),
    )
    right = column(readout, walk, disk, sizing_mode="stretch_width")
    return LiveFigure(_card(row(plane, right, sizing_mode="stretch_width")))


def _stability_text(h: float, beta: float, kind: str) -> str:
    return f"αλ = {_fixed(h, 3)}, β = {_fixed(beta, 3)}: <b>{kind}</b>"


# -- 3. the EWMA of a series --------------------------------------------------------------
def ewma_lag_text(beta: float) -> str:
    """The readout of :func:`ewma_explorer` for one ``β``: the effective window
    ``averages.effective_window`` and the lag ``averages.ewma_lag``."""
    window, lag = averages.effective_window(beta), averages.ewma_lag(beta)
    return (
        f"β = {_fixed(beta, 3)}: averages over about 1/(1 − β) = "
        f"<b>{_fixed(window, 1)}</b> points; lags a steady trend by "
        f"β/(1 − β) = <b>{_fixed(lag, 1)}</b> steps"
    )


def ewma_explorer(
    series: ArrayLike,
    dates: ArrayLike | None = None,
    beta: float = 0.9,
    *,
    zoom: int | None = None,
    label: str = "price",
) -> LiveFigure:
    """A ``β`` slider over a series: the EWMA with and without bias correction.

    Top, the whole series and both averages; bottom, the first ``zoom`` points (60, or
    the whole series if it is shorter), where
    the uncorrected average starts near 0 and the corrected one does not. The readout
    gives the effective window ``1/(1 − β)`` and the lag ``β/(1 − β)``.
    """
    x = check_array("series", series)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"series must be 1-D with at least 2 points, got shape {x.shape}")
    beta = check_real("beta", beta, at_least=0, below=1)
    if beta > 0.995:
        raise ValueError(f"beta must be at most 0.995 (the slider's range), got {beta}")
    zoom = min(60, x.size) if zoom is None else check_int("zoom", zoom, 2, x.size)
    check_instance("label", label, str, "a str")
    if dates is None:
        when: Any = np.arange(x.size)
        axis = "linear"
    else:
        when = np.asarray(dates)
        if when.dtype.kind not in "Mif":
            raise TypeError(
                f"dates must be numpy datetime64 values or numbers, got dtype {when.dtype}"
            )
        if when.shape != x.shape:
            raise ValueError(f"dates must have the shape of series, {x.shape}, got {when.shape}")
        axis = "datetime" if when.dtype.kind == "M" else "linear"
    source = ColumnDataSource(
        {
            "t": when,
            "x": x,
            "raw": averages.ewma(x, beta),
            "corrected": averages.ewma(x, beta, bias_correction=True),
        },
        name="ewma-lines",
    )
    slider = _slider("ewma-beta", "β", 0.0, 0.995, beta, 0.005, "0.000")
    readout = Div(text=ewma_lag_text(beta), name="ewma-readout")
    panels = []
    for title, x_range in (("the whole series", None), (f"the first {zoom} points", zoom)):
        fig = _figure(
            f"EWMA: {title}",
            "date" if axis == "datetime" else "step",
            label,
            x_axis_type=axis,
            height=260,
        )
        if x_range is not None:
            first, last = when[0], when[zoom - 1]
            if axis == "datetime":  # Bokeh's datetime axes count milliseconds
                first, last = (
                    float(t.astype("datetime64[ms]").astype(np.int64)) for t in (first, last)
                )
            fig.x_range.start, fig.x_range.end = first, last
            fig.y_range.start, fig.y_range.end = 0.0, 1.15 * float(x[:zoom].max())
        fig.line("t", "x", source=source, color=PALETTE["black"], line_width=1, legend_label=label)
        fig.line(
            "t",
            "raw",
            source=source,
            color=PALETTE["vermillion"],
            line_width=2,
            legend_label="EWMA, no bias correction",
        )
        fig.line(
            "t",
            "corrected",
            source=source,
            color=PALETTE["blue"],
            line_width=2,
            legend_label="EWMA, bias-corrected",
        )
        fig.legend.location = "bottom_right" if x_range is not None else "top_left"
        fig.legend.background_fill_alpha = 0.7
        panels.append(fig)
    slider.js_on_change(
        "value",
        CustomJS(
            args=dict(slider=slider, source=source, readout=readout),
            code=JS_FUNCTIONS
            + r"""
const b = slider.value, x = Array.from(source.data.x);
source.data = { t: source.data.t, x: source.data.x, raw: ewma(x, b, false),
                corrected: ewma(x, b, true) };
// evalib.averages.effective_window and ewma_lag.
readout.text = `β = ${b.toFixed(3)}: averages over about 1/(1 − β) = ` +
  `<b>${(1 / (1 - b)).toFixed(1)}</b> points; lags a steady trend by ` +
  `β/(1 − β) = <b>${(b / (1 - b)).toFixed(1)}</b> steps`;
""",
        ),
    )
    return LiveFigure(_card(slider, readout, *panels))


# -- 4. the optimiser race ----------------------------------------------------------------
RACERS = ("GD", "heavy ball", "Nesterov")


def race_state(
    land: Quadratic | Rosenbrock, lr: float, beta: float, steps: int, tol: float
) -> dict[str, Any]:
    """The numbers :func:`optimiser_race` draws for one setting, from evalib: each
    racer's path from ``optim.trajectory`` (``HeavyBall`` with ``momentum=0``, with
    ``β``, and ``Nesterov`` with ``β``), its ``optim.steps_to_stay_within`` (``settle``)
    and whether it diverged (``diverged``: its last rows are NaN)."""
    check_instance("land", land, (Quadratic, Rosenbrock), "a Quadratic or a Rosenbrock landscape")
    makers = {
        "GD": lambda p: HeavyBall(p, lr=lr, momentum=0.0),
        "heavy ball": lambda p: HeavyBall(p, lr=lr, momentum=beta),
        "Nesterov": lambda p: Nesterov(p, lr=lr, momentum=beta),
    }
    minimum = cast(tuple[float, float], land.minimum)  # both kinds have one

    def loss(w: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(land(w))

    state: dict[str, Any] = {}
    for racer, make in makers.items():
        path = trajectory(loss, land.start, make, steps, warn=False)
        state[racer] = {
            "x": path[:, 0].tolist(),
            "y": path[:, 1].tolist(),
            "settle": steps_to_stay_within(path, minimum, tol),
            "diverged": bool(np.isnan(path[-1]).any()),
        }
    return state


def optimiser_race(
    land: Quadratic | Rosenbrock,
    lr: float,
    beta: float = 0.9,
    steps: int = 300,
    *,
    lr_range: tuple[float, float],
    tol: float = 1e-3,
) -> LiveFigure:
    """Gradient descent, the heavy ball and Nesterov on one landscape, live.

    Sliders set the learning rate (within ``lr_range``, PyTorch's ``lr``) and ``β``
    (the momentum of the two momentum methods). Left, the three paths over the contour
    lines; right, each one's distance to the minimum per step (log scale). The readout
    counts the steps until each stays within ``tol`` of the minimum for good, or says
    that it diverges.
    """
    check_instance("land", land, (Quadratic, Rosenbrock), "a Quadratic or a Rosenbrock landscape")
    if not isinstance(lr_range, (tuple, list)):
        raise TypeError(f"lr_range must be a (low, high) pair, got {type(lr_range).__name__}")
    if len(lr_range) != 2:
        raise ValueError(f"lr_range must be a (low, high) pair, got {len(lr_range)} values")
    lo, hi = (check_real("lr_range", v) for v in lr_range)
    if not 0 < lo < hi:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range}")
    lr = check_real("lr", lr)
    if not lo <= lr <= hi:
        raise ValueError(f"lr must lie in lr_range {lr_range}, got {lr}")
    beta = check_real("beta", beta, at_least=0, below=1)
    steps = check_int("steps", steps, 1, 20000)
    tol = check_real("tol", tol)
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    land_js = (
        _quadratic_js(land)
        if isinstance(land, Quadratic)
        else dict(kind="rosenbrock", a=land.a, b=land.b)
    )
    state = race_state(land, lr, beta, steps, tol)
    minimum = [float(v) for v in cast(tuple[float, float], land.minimum)]
    colours = {"GD": PALETTE["black"], "heavy ball": PALETTE["blue"], "Nesterov": PALETTE["orange"]}
    (x0, x1), (y0, y1) = land.bounds
    paths = _figure(
        f"Paths on {land.name}", "w₁", "w₂", x_range=(x0, x1), y_range=(y0, y1), height=340
    )
    _contours(paths, land, 12, log=isinstance(land, Rosenbrock))
    dist = _figure(
        "Distance to the minimum",
        "step",
        "‖w − w*‖",
        y_axis_type="log",
        height=340,
        y_range=(1e-8, 1e2),
    )
    sources = {}
    for racer in RACERS:
        xs, ys = np.array(state[racer]["x"]), np.array(state[racer]["y"])
        d = np.hypot(xs - minimum[0], ys - minimum[1])
        slug = racer.replace(" ", "-")
        sources[racer] = src = ColumnDataSource(
            {"k": np.arange(steps + 1, dtype=np.int32), "x": xs, "y": ys, "d": d},
            name=f"race-{slug}",
        )
        paths.line("x", "y", source=src, color=colours[racer], line_width=2, legend_label=racer)
        dist.line("k", "d", source=src, color=colours[racer], line_width=2, legend_label=racer)
    paths.scatter([minimum[0]], [minimum[1]], marker="star", size=14, color=PALETTE["black"])
    paths.scatter([land.start[0]], [land.start[1]], size=8, fill_color="white", line_color="black")
    for fig in (paths, dist):
        fig.legend.location = "bottom_left"
        fig.legend.background_fill_alpha = 0.7
    lr_slider = _slider("race-lr", "α (learning rate)", lo, hi, lr, (hi - lo) / 200, "0.00000")
    beta_slider = _slider("race-beta", "β (momentum)", 0.0, 0.99, beta, 0.01, "0.00")
    readout = Div(text=_race_text([state[r] for r in RACERS], steps, tol), name="race-readout")
    update = CustomJS(
        args=dict(
            lr=lr_slider,
            beta=beta_slider,
            sources=[sources[r] for r in RACERS],
            racers=list(RACERS),
            land=land_js,
            start=list(land.start),
            minimum=minimum,
            steps=steps,
            tol=tol,
            tolText=f"{tol:g}",
            readout=readout,
        ),
        code=JS_FUNCTIONS
        + r"""
const outcome = [];
racers.forEach((racer, i) => {
  const b = racer === "GD" ? 0 : beta.value;
  const [xs, ys] = optimiserPath(land, start, lr.value, b, racer === "Nesterov", steps);
  sources[i].data = { k: xs.map((_, k) => k), x: xs, y: ys,
                      d: xs.map((x, k) => Math.hypot(x - minimum[0], ys[k] - minimum[1])) };
  const settle = stepsToStayWithin(xs, ys, minimum, tol);
  outcome.push(settle !== null ? settle : Number.isNaN(xs[steps]) ? "diverges" : "not reached");
});
readout.text = `Steps until within ${tolText} of the minimum for good (of ${steps}): ` +
  racers.map((r, i) => `${r} <b>${outcome[i]}</b>`).join(", ");
""",
    )
    lr_slider.js_on_change("value", update)
    beta_slider.js_on_change("value", update)
    return LiveFigure(
        _card(row(paths, dist, sizing_mode="stretch_width"), lr_slider, beta_slider, readout)
    )


def _race_text(runs: list[dict[str, Any]], steps: int, tol: float) -> str:
    """The race's readout: per racer, the step it settles, or that it diverges or not."""
    outcomes = [
        run["settle"]
        if run["settle"] is not None
        else "diverges"
        if run["diverged"]
        else "not reached"
        for run in runs
    ]
    parts = [f"{racer} <b>{outcome}</b>" for racer, outcome in zip(RACERS, outcomes)]
    return f"Steps until within {tol:g} of the minimum for good (of {steps}): " + ", ".join(parts)


__all__ = [
    "BOKEH_JS",
    "CSS_CLASS",
    "JS_FUNCTIONS",
    "RACERS",
    "LiveFigure",
    "bokeh_js_files",
    "ewma_explorer",
    "ewma_lag_text",
    "optimiser_race",
    "race_state",
    "ravine_explorer",
    "ravine_state",
    "root_type",
    "stability_explorer",
    "stability_state",
]
