"""The stability explorer: the ``(αλ, β)`` plane of one eigen-direction, where a click
picks the iteration to show (chapter "Momentum: the heavy ball"). Its page code is
``stability.js``."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource
from numpy.typing import ArrayLike, NDArray

from evalib import theory
from evalib._checks import check_int, check_real
from evalib.book.live.base import (
    LiveFigure,
    _callback,
    _card,
    _centres,
    _finite_or_nan,
    _fixed,
    _legend_below,
    _on_click,
    _panel,
    _panels,
    _readout,
    _stack,
)
from evalib.book.plots import PALETTE

_REGIONS = ("real roots (over-damped)", "complex roots (under-damped)", "divergent")
_COLOURS = (PALETTE["sky"], PALETTE["yellow"], "#dddddd")


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
    steps = check_int("steps", steps, 2, 1000)  # the explorer's range
    xs = theory.run_momentum(lambda w: w, [1.0], h, beta, steps)[:, 0]
    roots = theory.momentum_roots(h, beta)
    return {
        "k": np.arange(steps + 1),
        "x": _finite_or_nan(xs),
        "re": roots.real,
        "im": roots.imag,
        "kind": root_type(h, beta),
    }


def stability_explorer(h: float = 0.5, beta: float = 0.6, steps: int = 40) -> LiveFigure:
    """The ``(αλ, β)`` plane of one eigen-direction: click a point to see its iteration.

    First, the plane coloured by the type of the roots of ``R`` (real, complex,
    divergent), with the double-root curve ``β = (1 − √h)²`` (critical damping for ``h < 1``) and the edge
    ``h = 2 + 2β``. Then, for the chosen point, the error ``x_k`` of that direction
    from ``x_0 = 1`` and the two roots in the complex plane with the unit circle.
    """
    h, beta = _plane_point(h, beta)
    steps = check_int("steps", steps, 2, 1000)
    state = stability_state(h, beta, steps)
    pick = ColumnDataSource({"h": [h], "beta": [beta]}, name="stability-pick")
    iterates = ColumnDataSource({c: state[c] for c in ("k", "x")}, name="stability-iterates")
    roots = ColumnDataSource({c: state[c] for c in ("re", "im")}, name="stability-roots")
    plane = _region_plane(pick)
    text = _readout("stability-readout", _stability_text(h, beta, state["kind"]))
    h_max, b_max = _PLANE
    args = dict(pick=pick, iterates=iterates, roots=roots, readout=text, steps=steps)
    args.update(regions=list(_REGIONS), hMax=h_max, bMax=b_max)
    _on_click(plane, _callback("stabilityClick", args, "transcriptions.js", "stability.js"))

    walk = _panel("Error of this direction, x₀ = 1", "step k", "xₖ", height=220, y_range=(-2, 2))
    walk.line("k", "x", source=iterates, color=PALETTE["blue"], line_width=2)
    walk.scatter("k", "x", source=iterates, color=PALETTE["blue"], size=4)
    circle = np.linspace(0, 2 * np.pi, 120)
    disk = _panel(
        "Roots μ, unit circle",
        "Re μ",
        "Im μ",
        height=260,
        width=260,
        x_range=(-1.6, 1.6),
        y_range=(-1.6, 1.6),
    )
    disk.xaxis.ticker = disk.yaxis.ticker = [-1, 0, 1]
    disk.line(np.cos(circle).astype(np.float32), np.sin(circle).astype(np.float32), color="black")
    disk.scatter("re", "im", source=roots, size=10, color=PALETTE["vermillion"])
    return LiveFigure(_card(_panels(plane, _stack(text, walk, disk))))


def _region_plane(pick: ColumnDataSource) -> Any:
    """The (αλ, β) plane coloured by region, with the double roots, the edge and the pick."""
    h_max, b_max = _PLANE
    hs, bs = _centres(0.0, h_max, 180), _centres(0.0, b_max, 100)
    kinds = _region_index(hs[None, :], bs[:, None]).astype(np.uint8)
    plane = _panel(
        "Roots of R: click a point",
        "αλ",
        "β",
        x_range=(0, h_max),
        y_range=(0, b_max),
        height=420,
        name="stability-plane",
    )
    plane.image(image=[kinds], x=0, y=0, dw=h_max, dh=b_max, palette=list(_COLOURS), level="image")
    for name, colour in zip(_REGIONS, _COLOURS):
        plane.scatter([-1], [-1], marker="square", size=12, color=colour, legend_label=name)
    # The double roots; the other root curve, (1 + √h)², lies above β = 1.
    root_h = np.linspace(0, 4, 120)
    plane.line(
        root_h,
        (1 - np.sqrt(root_h)) ** 2,
        color="black",
        line_dash="dashed",
        legend_label="β = (1 − √(αλ))²",
    )
    edge = np.linspace(0, b_max, 2)
    plane.line(
        2 + 2 * edge, edge, color=PALETTE["vermillion"], line_width=2, legend_label="αλ = 2 + 2β"
    )
    _legend_below(plane)
    plane.scatter(
        "h", "beta", source=pick, size=12, fill_color="white", line_color="black", line_width=2
    )
    return plane


def _stability_text(h: float, beta: float, kind: str) -> str:
    return f"αλ = {_fixed(h, 3)}, β = {_fixed(beta, 3)}: <b>{kind}</b>"
