"""The ravine explorer: the heavy ball on a quadratic, with sliders for ``α`` and ``β``
(chapter "Momentum: the heavy ball"). Its page code is ``ravine.js``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper, NumeralTickFormatter
from bokeh.models.annotations import ColorBar

from evalib import theory
from evalib._checks import check_instance, check_int, check_real
from evalib.book.live.base import (
    LiveFigure,
    _callback,
    _card,
    _centres,
    _contours,
    _finite_or_nan,
    _fixed,
    _legend_below,
    _on_click,
    _panel,
    _panels,
    _quadratic_js,
    _readout,
    _slider,
)
from evalib.book.plots import PALETTE
from evalib.landscapes import Quadratic, ravine


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
        "k": k,
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
    optimum (``theory.optimal_momentum``), each direction's double-root curve
    ``β = (1 − √(αλ_i))²`` (critical damping where ``αλ_i < 1``) and the stability edge
    ``α = (2 + 2β)/λ_max``. A click in the plane moves both sliders there. The readout
    compares the rate with the one measured from the run (``theory.empirical_rate``).
    """
    land = check_instance("land", land, Quadratic, "an evalib.landscapes.Quadratic")
    steps = check_int("steps", steps, 2, 2000)
    # α up to the edge of stability at β = 0.99, and past Polyak's optimum α*, to 3
    # significant digits; the slider's step is 0.001, or finer for a steeper quadratic.
    top = max(4.0 / float(land.eigvals.max()), 1.25 * theory.optimal_momentum(land.eigvals)[0])
    lr_max, step = float(f"{top:.3g}"), min(0.001, 10.0 ** math.floor(math.log10(top / 100)))
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
    digits = "0" * round(-math.log10(step))
    alpha_slider = _slider("ravine-alpha", "α (step size)", step, lr_max, lr, step, f"0.{digits}")
    beta_slider = _slider("ravine-beta", "β (momentum)", 0.0, 0.99, beta, 0.01, "0.00")
    text = _readout("ravine-readout", _ravine_text(state, lr, beta))
    update = _update(land, steps, alpha_slider, beta_slider, path, errors, point, text)
    alpha_slider.js_on_change("value", update)
    beta_slider.js_on_change("value", update)
    plane = _rate_plane(land, lr_max, point)
    _on_click(
        plane, _callback("ravineClick", dict(alpha=alpha_slider, beta=beta_slider), "ravine.js")
    )
    return LiveFigure(
        _card(
            _panels(alpha_slider, beta_slider),
            text,
            _panels(_path_panel(land, path), _error_panel(land, errors)),
            plane,
        )
    )


def _update(land: Quadratic, steps: int, *models: Any) -> Any:
    """The CustomJS that reruns the heavy ball when a slider moves (``ravineUpdate``)."""
    alpha, beta, path, errors, point, text = models
    return _callback(
        "ravineUpdate",
        dict(
            alpha=alpha,
            beta=beta,
            path=path,
            errors=errors,
            point=point,
            readout=text,
            q=_quadratic_js(land),
            start=list(land.start),
            steps=steps,
            lams=sorted(land.eigvals.tolist()),
            order=np.argsort(land.eigvals).tolist(),
        ),
        "transcriptions.js",
        "ravine.js",
    )


def _path_panel(land: Quadratic, path: ColumnDataSource) -> Any:
    """The path over the contour lines, the minimum as a star."""
    (x0, x1), (y0, y1) = land.bounds
    fig = _panel("Path on the ravine", "w₁", "w₂", x_range=(x0, x1), y_range=(y0, y1), height=300)
    _contours(fig, land, 10, log=False)
    fig.line("x", "y", source=path, line_color=PALETTE["blue"], line_width=2)
    fig.scatter("x", "y", source=path, size=3, color=PALETTE["blue"])
    fig.scatter([land.center[0]], [land.center[1]], marker="star", size=14, color=PALETTE["black"])
    return fig


def _error_panel(land: Quadratic, errors: ColumnDataSource) -> Any:
    """The error along each eigen-direction (solid) and the predicted line (dashed)."""
    fig = _panel(
        "Error per eigen-direction",
        "step k",
        "|error| along it",
        y_axis_type="log",
        height=300,
        y_range=(1e-12, 1e3),
    )
    lam_lo, lam_hi = sorted(land.eigvals)
    for col, color, lam in (("1", PALETTE["blue"], lam_lo), ("2", PALETTE["vermillion"], lam_hi)):
        fig.line(
            "k", f"err{col}", source=errors, color=color, line_width=2, legend_label=f"λ = {lam:g}"
        )
        fig.line(
            "k",
            f"theory{col}",
            source=errors,
            color=color,
            line_dash="dashed",
            legend_label="predicted",
        )
    _legend_below(fig)
    return fig


def _ravine_text(state: dict[str, Any], lr: float, beta: float) -> str:
    """The readout, as ``ravineText`` in ravine.js writes it."""
    measured = state["measured"]
    shown = _fixed(measured, 4) if math.isfinite(measured) else "none (the run diverges)"
    rate = state["rate"]
    return (
        f"α = {_fixed(lr, 3)}, β = {_fixed(beta, 2)}<br>rate (theory, max over directions): "
        f"<b>{_fixed(rate, 4)}</b>{' ≥ 1: diverges' if rate >= 1 else ''}<br>"
        f"rate measured on the run: <b>{shown}</b>"
    )


def _rate_plane(land: Quadratic, lr_max: float, point: ColumnDataSource) -> Any:
    """The (α, β) plane coloured by the rate, with the optimum, double roots and edge."""
    # The rate at each pixel's centre: momentum_rate over the grid at once.
    lrs, betas = _centres(0.0, lr_max, 120), _centres(0.0, 0.99, 60)
    h = lrs[None, :, None] * land.eigvals[None, None, :]
    rates = np.abs(theory.momentum_roots(h, betas[:, None, None])).max(axis=(-2, -1))
    plane = _panel(
        "Rate of each (α, β): click one",
        "α",
        "β",
        x_range=(0, lr_max),
        y_range=(0, 0.99),
        height=420,
    )
    plane.xaxis.formatter = NumeralTickFormatter(format="0.00")
    # The rate as one byte per pixel, an index into the 256 colours (a quarter of float32).
    low = float(rates.min())
    index = np.round((np.minimum(rates, 1.0) - low) / (1.0 - low) * 255).astype(np.uint8)
    colours = LinearColorMapper(palette="Viridis256", low=0, high=255)
    plane.image(image=[index], x=0, y=0, dw=lr_max, dh=0.99, color_mapper=colours, level="image")
    shades = LinearColorMapper(palette="Viridis256", low=low, high=1.0)
    bar = ColorBar(color_mapper=shades, width=10, title="rate", title_text_font_size="10pt")
    bar.major_label_text_font_size = "10pt"
    bar.formatter = NumeralTickFormatter(format="0.00")
    plane.add_layout(bar, "right")
    _plane_curves(plane, land)
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


def _plane_curves(plane: Any, land: Quadratic) -> None:
    """Each direction's double-root curve, the edge of stability and Polyak's optimum."""
    for lam, dash in zip(sorted(land.eigvals), ("dashed", "dotted")):
        a = np.linspace(1e-6, 1.0 / lam, 100)
        curve = np.array([theory.critical_beta(x, lam) for x in a])
        # White over black: visible on every colour of the plane and in the legend.
        for color, width, style in (("black", 4, "solid"), ("white", 2, dash)):
            plane.line(
                a,
                curve,
                color=color,
                line_width=width,
                line_dash=style,
                legend_label=f"double root, λ = {lam:g}",
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
