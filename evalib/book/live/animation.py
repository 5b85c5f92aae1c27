"""The path animation: optimisers' paths over a landscape, growing step by step, drawn
by the browser (chapters "Momentum: the heavy ball" and "Why momentum really works").
Its page code is ``animation.js``.

The page holds each path once, as numbers (a few KB: :func:`path_rows` leaves out the
rows that would move the line by about a pixel or less), and draws the rows up to the
step that the slider shows (:func:`path_frame`; in the page, ``pathPrefix``) with a
marker at each path's head. Play runs the slider to the last step; the step buttons move
it by one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from bokeh.layouts import row
from bokeh.models import ColumnDataSource
from bokeh.models.widgets.buttons import Button, Toggle
from numpy.typing import ArrayLike, NDArray

from evalib._checks import check_array, check_instance, check_int, check_real
from evalib.book.live.base import (
    FONT,
    LiveFigure,
    _callback,
    _card,
    _contours,
    _finite_or_nan,
    _legend_below,
    _panel,
    _slider,
)
from evalib.book.plots import COLORS, PALETTE, check_paths, check_styles
from evalib.landscapes import Landscape

# matplotlib's line styles (as the static figures' ``styles`` give them) in Bokeh's words.
_DASHES = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dashdot"}
_DASHES.update({name: name for name in ("solid", "dashed", "dotted", "dashdot")})


def path_frame(
    path: ArrayLike, step: int, steps: ArrayLike | None = None
) -> dict[str, NDArray[np.float64]]:
    """What :func:`path_animation` draws of one path at ``step``: the rows whose step
    number is at most ``step`` (``k``, ``x``, ``y``) and the head (``hx``, ``hy``), the
    last of those rows whose coordinates are finite (nothing when none is).

    ``steps`` gives each row's step number, increasing (default ``0, 1, 2, ...``): the
    page holds only the rows :func:`path_rows` keeps."""
    p = check_array("path", path, finite=False)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"path must have shape (steps+1, 2) with steps >= 0, got {p.shape}")
    step = check_int("step", step, 0)
    k = np.arange(len(p), dtype=np.float64) if steps is None else check_array("steps", steps)
    if k.shape != (len(p),) or np.any(np.diff(k) <= 0):
        raise ValueError(f"steps must be one increasing step number per row of path, got {k}")
    shown = int(np.searchsorted(k, step, side="right"))  # rows 0..shown-1 have k <= step
    rows = p[:shown]
    finite = np.flatnonzero(np.isfinite(rows).all(axis=1))
    head = rows[finite[-1:]]  # one row, or none
    return {"k": k[:shown], "x": rows[:, 0], "y": rows[:, 1], "hx": head[:, 0], "hy": head[:, 1]}


def path_rows(path: ArrayLike, tol: float) -> NDArray[np.intp]:
    """The rows of ``path`` that :func:`path_animation` puts in the page: the first and
    the last, every row that is not finite and the one after it, and each row at least
    ``tol`` from the last row kept. A dropped row lies within ``tol`` of the row kept
    before it, so the line drawn through the kept rows strays from the path by less than
    ``tol`` (the figure takes a fraction of a pixel): a run that crawls costs few bytes."""
    p = check_array("path", path, finite=False)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"path must have shape (steps+1, 2) with steps >= 0, got {p.shape}")
    if check_real("tol", tol) < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    finite = [bool(np.isfinite(row).all()) for row in p]
    keep, last = [0], p[0]
    for i in range(1, len(p)):
        if (
            not (finite[i] and finite[keep[-1]])
            or i == len(p) - 1
            or np.hypot(*(p[i] - last)) >= tol
        ):
            keep.append(i)
            last = p[i]
    return np.array(keep)


def path_animation(
    landscape: Landscape,
    paths: dict[str, ArrayLike],
    *,
    title: str | None = None,
    styles: dict[str, dict[str, str]] | None = None,
    step: int = 0,
    frames: int = 150,
    interval: int = 60,
) -> LiveFigure:
    """Paths over ``landscape``'s contour lines, growing step by step, played in the page.

    ``paths`` maps a legend label to the iterates, ``(steps+1, 2)`` (as
    ``theory.run_momentum`` and ``optim.trajectory`` return them; NaN or inf rows of a
    diverged run end its line). ``styles`` optionally gives a label's ``color`` and
    ``linestyle`` (matplotlib's ``"-"``, ``"--"``, ``":"``, ``"-."``), as the static
    figures' ``plots.plot_paths`` takes them. The slider starts at ``step``; Play
    advances it every ``interval`` ms by as many steps as let a whole run take at most
    ``frames`` moves; the buttons beside it step back and forward by one.
    """
    check_instance("landscape", landscape, Landscape, "a landscape of evalib.landscapes")
    arrays = _paths(paths)
    styles = _styles(styles, arrays)
    check_instance("title", title, str, "a str", optional=True)
    steps = max(len(p) for p in arrays.values()) - 1
    step = check_int("step", step, 0, steps)
    frames = check_int("frames", frames, 1)
    if check_real("interval", interval) < 10:
        raise ValueError(f"interval must be at least 10 (milliseconds per move), got {interval}")

    fig = _landscape_panel(landscape, title)
    (x0, x1), (y0, y1) = landscape.bounds
    tol = max(x1 - x0, y1 - y0) / 750  # about a pixel on a desktop, a third on a phone
    full, shown, heads = [], [], []
    for i, (name, p) in enumerate(arrays.items()):
        k = path_rows(p, tol)
        full.append(ColumnDataSource({"k": k.astype(np.int32), "x": p[k, 0], "y": p[k, 1]}))
        frame = path_frame(p[k], step, k)
        shown.append(ColumnDataSource({c: frame[c] for c in ("k", "x", "y")}, name=f"path-{i}"))
        heads.append(ColumnDataSource({"x": frame["hx"], "y": frame["hy"]}, name=f"path-head-{i}"))
        full[i].name = f"path-full-{i}"
        color = styles.get(name, {}).get("color", COLORS[i % len(COLORS)])
        dash = _DASHES[styles.get(name, {}).get("linestyle", "-")]
        fig.line(
            "x", "y", source=shown[i], color=color, line_width=2, line_dash=dash, legend_label=name
        )
        fig.scatter("x", "y", source=heads[i], size=9, color=color, line_color="white")
    _legend_below(fig)

    step_slider = _slider("path-step", "step", 0, steps, step, 1, "0")
    play = Toggle(label="Play", width=70, name="path-play")
    back = Button(label="Step back", width=96, name="path-back")
    forward = Button(label="Step forward", width=110, name="path-forward")
    args = dict(step=step_slider, play=play, back=back, forward=forward, full=full)
    args.update(shown=shown, heads=heads, stride=math.ceil(steps / frames), interval=interval)
    action = _callback("pathAnimation", args, "animation.js")
    step_slider.js_on_change("value", action)
    play.js_on_change("active", action)
    for button in (back, forward, play):
        button.styles = {"font-size": FONT}
    back.js_on_event("button_click", action)
    forward.js_on_event("button_click", action)
    buttons = row(play, back, forward, styles={"gap": "8px", "flex-wrap": "wrap"})
    return LiveFigure(_card(buttons, step_slider, fig))


def _landscape_panel(landscape: Landscape, title: str | None) -> Any:
    """The contour lines, the minimum (a star; a saddle's stationary point, a cross) and
    the start of the first path (a white dot)."""
    (x0, x1), (y0, y1) = landscape.bounds
    name = landscape.name if title is None else title
    fig = _panel(name, "w₁", "w₂", x_range=(x0, x1), y_range=(y0, y1), height=340)
    _contours(fig, landscape, 12, log=landscape.log_scale)
    if landscape.minimum is not None:
        point, marker, label = landscape.minimum, "star", "minimum"
    else:
        point, marker, label = landscape.stationary_point, "x", "saddle point"
    fig.scatter(
        [point[0]], [point[1]], marker=marker, size=14, color=PALETTE["black"], legend_label=label
    )
    fig.scatter(
        [landscape.start[0]],
        [landscape.start[1]],
        size=9,
        fill_color="white",
        line_color="black",
        legend_label="start",
    )
    return fig


def _paths(paths: Any) -> dict[str, NDArray[np.float64]]:
    """``paths`` as float64 arrays of shape ``(steps+1, 2)``, ±inf as NaN; at least one
    path, and one with at least two rows."""
    arrays = check_paths(paths)
    for name in arrays:
        check_instance("paths' labels", name, str, "str")
    arrays = {name: _finite_or_nan(p) for name, p in arrays.items()}
    if max(len(p) for p in arrays.values()) < 2:
        raise ValueError("paths must hold at least one path of two or more iterates")
    return arrays


def _styles(styles: Any, paths: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``styles`` checked: labels of ``paths``, each a dict of ``color`` and ``linestyle``."""
    styles = check_styles(styles, paths)
    for name, style in styles.items():
        extra = sorted(set(style) - {"color", "linestyle"})
        if extra:
            raise ValueError(f"styles[{name!r}] may give only 'color' and 'linestyle', got {extra}")
        if style.get("linestyle", "-") not in _DASHES:
            raise ValueError(f"styles[{name!r}]['linestyle'] must be one of {sorted(_DASHES)}")
    return styles
