"""The optimiser race: gradient descent, the heavy ball and Nesterov on one landscape,
with the learning rate and ``β`` adjustable (chapter "Why momentum really works"). Its
page code is ``race.js``."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import torch
from bokeh.models import ColumnDataSource

from evalib._checks import check_instance, check_int, check_real
from evalib.book.live.base import (
    LiveFigure,
    _callback,
    _card,
    _contours,
    _legend_below,
    _panel,
    _panels,
    _quadratic_js,
    _readout,
    _slider,
)
from evalib.book.plots import PALETTE
from evalib.landscapes import Quadratic, Rosenbrock
from evalib.optim import HeavyBall, Nesterov, steps_to_stay_within, trajectory

RACERS = ("GD", "heavy ball", "Nesterov")
_COLOURS = {"GD": PALETTE["black"], "heavy ball": PALETTE["blue"], "Nesterov": PALETTE["orange"]}


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
            "x": path[:, 0],
            "y": path[:, 1],
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
    (the momentum of the two momentum methods). One panel shows the three paths over the
    contour lines, the other each one's distance to the minimum per step (log scale).
    The readout counts the steps until each stays within ``tol`` of the minimum for
    good, or says that it diverges.
    """
    check_instance("land", land, (Quadratic, Rosenbrock), "a Quadratic or a Rosenbrock landscape")
    lo, hi = _lr_range(lr_range)
    lr = check_real("lr", lr)
    if not lo <= lr <= hi:
        raise ValueError(f"lr must lie in lr_range {lr_range}, got {lr}")
    beta = check_real("beta", beta, at_least=0, below=1)
    steps = check_int("steps", steps, 1, 20000)
    tol = check_real("tol", tol)
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol}")

    state = race_state(land, lr, beta, steps, tol)
    minimum = [float(v) for v in cast(tuple[float, float], land.minimum)]
    sources = {racer: _source(racer, state[racer], minimum) for racer in RACERS}
    paths, dist = _paths_panel(land, sources, minimum), _distance_panel(sources)
    lr_slider = _slider("race-lr", "α (learning rate)", lo, hi, lr, (hi - lo) / 200, "0.00000")
    beta_slider = _slider("race-beta", "β (momentum)", 0.0, 0.99, beta, 0.01, "0.00")
    text = _readout("race-readout", _race_text([state[r] for r in RACERS], steps, tol))
    land_js = (
        _quadratic_js(land)
        if isinstance(land, Quadratic)
        else dict(kind="rosenbrock", a=land.a, b=land.b)
    )
    args = dict(lr=lr_slider, beta=beta_slider, sources=[sources[r] for r in RACERS])
    args.update(racers=list(RACERS), land=land_js, start=list(land.start), minimum=minimum)
    args.update(steps=steps, tol=tol, tolText=f"{tol:g}", readout=text)
    update = _callback("raceUpdate", args, "transcriptions.js", "race.js")
    lr_slider.js_on_change("value", update)
    beta_slider.js_on_change("value", update)
    return LiveFigure(_card(_panels(lr_slider, beta_slider), text, _panels(paths, dist)))


def _lr_range(lr_range: Any) -> tuple[float, float]:
    """``lr_range`` checked: a pair ``(low, high)`` with ``0 < low < high``."""
    if not isinstance(lr_range, (tuple, list)):
        raise TypeError(f"lr_range must be a (low, high) pair, got {type(lr_range).__name__}")
    if len(lr_range) != 2:
        raise ValueError(f"lr_range must be a (low, high) pair, got {len(lr_range)} values")
    lo, hi = (check_real("lr_range", v) for v in lr_range)
    if not 0 < lo < hi:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range}")
    return lo, hi


def _source(racer: str, run: dict[str, Any], minimum: list[float]) -> ColumnDataSource:
    """One racer's path and its distance to the minimum per step."""
    xs, ys = run["x"], run["y"]
    d = np.hypot(xs - minimum[0], ys - minimum[1])
    k = np.arange(len(xs), dtype=np.int32)
    slug = racer.replace(" ", "-")
    return ColumnDataSource({"k": k, "x": xs, "y": ys, "d": d}, name=f"race-{slug}")


def _paths_panel(
    land: Quadratic | Rosenbrock, sources: dict[str, ColumnDataSource], minimum: list[float]
) -> Any:
    """The three paths over the contour lines; the minimum a star, the start a white dot."""
    (x0, x1), (y0, y1) = land.bounds
    fig = _panel(
        f"Paths on {land.name}", "w₁", "w₂", x_range=(x0, x1), y_range=(y0, y1), height=340
    )
    _contours(fig, land, 12, log=isinstance(land, Rosenbrock))
    for racer, src in sources.items():
        fig.line("x", "y", source=src, color=_COLOURS[racer], line_width=2, legend_label=racer)
    fig.scatter([minimum[0]], [minimum[1]], marker="star", size=14, color=PALETTE["black"])
    fig.scatter([land.start[0]], [land.start[1]], size=8, fill_color="white", line_color="black")
    _legend_below(fig)
    return fig


def _distance_panel(sources: dict[str, ColumnDataSource]) -> Any:
    """Each racer's distance to the minimum per step, on a log scale."""
    fig = _panel(
        "Distance to the minimum",
        "step",
        "‖w − w*‖",
        y_axis_type="log",
        height=340,
        y_range=(1e-8, 1e2),
    )
    for racer, src in sources.items():
        fig.line("k", "d", source=src, color=_COLOURS[racer], line_width=2, legend_label=racer)
    _legend_below(fig)
    return fig


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
