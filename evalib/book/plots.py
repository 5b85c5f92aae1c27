"""One look for every figure in the book.

``use_style()`` sets matplotlib's defaults once per chapter: a colour-blind-safe
palette (Okabe & Ito), readable font sizes, light grids and a white figure background
that stays readable in the book's dark mode. ``label`` titles and labels an axis in
one call and adds a legend only when there is something to tell apart.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.rcsetup import cycler
from numpy.typing import NDArray

from evalib._checks import check_array, check_bool, check_instance, check_int, check_real

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
PALETTE: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS: tuple[str, ...] = tuple(PALETTE.values())


#: A figure's width in inches. Every figure of the book is at most this wide, so that on a
#: phone (a column about 340 CSS px wide) its smallest text, :data:`MIN_FONT_PT`, still
#: shows at about 9.4 px, and on a desktop (shown at its size, 96 px per inch) at 13 px.
#: Several panels stack in one column (``plt.subplots(2, 1, figsize=(WIDTH, ...))``).
WIDTH = 5.0
#: The smallest font size (points) the style uses; ``tests/test_browser.py`` checks the
#: figures' widths against it.
MIN_FONT_PT = 10


def use_style() -> None:
    """Apply the book's matplotlib defaults (idempotent).

    Figures are :data:`WIDTH` inches wide with text of at least :data:`MIN_FONT_PT`
    points, and in Jupyter they are shown as :func:`light_png` makes them: sharp on a
    phone, at their size on a desktop, and light.
    """
    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=COLORS),
            "figure.figsize": (WIDTH, 3.3),
            "figure.dpi": 100,
            "savefig.dpi": 200,
            # White behind the axes keeps figures legible on the dark theme too.
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.facecolor": "white",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": MIN_FONT_PT,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "xtick.labelsize": MIN_FONT_PT,
            "ytick.labelsize": MIN_FONT_PT,
            "legend.fontsize": MIN_FONT_PT,
            "legend.title_fontsize": MIN_FONT_PT,
            "figure.titlesize": 12,
            "figure.labelsize": 11,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "figure.constrained_layout.use": True,
        }
    )
    _retina_in_jupyter()


def _retina_in_jupyter() -> None:
    """Inside IPython, show each figure as :func:`light_png` makes it."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing is displayed inline
        return
    shell = get_ipython()
    if shell is None:
        return
    # Jupyter's inline backend registers its own PNG formatter when it loads: load it first.
    with contextlib.suppress(ImportError):
        import matplotlib_inline.backend_inline  # noqa: F401
    shell.display_formatter.formatters["image/png"].for_type(Figure, light_png)


def light_png(fig: Figure) -> tuple[bytes, dict[str, int]]:
    """``fig`` as a PNG at twice its density, shown at its size, in 256 colours.

    Twice the density keeps lines and text sharp on a phone's screen; 256 colours
    (a median-cut palette, no dithering: a figure has few colours) make the file about a
    quarter of a full-colour PNG's size. The figure is saved whole, not cropped to its
    contents: constrained layout already fills it, and a crop's padding would make a
    :data:`WIDTH`-inch figure wider than that.
    """
    from PIL import Image

    dpi = 2 * fig.dpi
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=dpi)
    image = Image.open(full).convert("RGB")
    image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    light = io.BytesIO()
    image.save(light, format="png", optimize=True, dpi=(dpi, dpi))
    return light.getvalue(), {"width": image.width // 2, "height": image.height // 2}


def label(
    ax: Axes,
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    legend: bool | None = None,
    legend_loc: str = "best",
) -> Axes:
    """Set the title and axis labels of ``ax``; add a legend where lines are labelled.

    The texts may be anything matplotlib accepts (it draws ``str`` of a number).
    ``legend=None`` draws a legend only when at least two artists carry a label.
    """
    check_instance("ax", ax, Axes, "a matplotlib Axes")
    # A truthy string such as "no" would silently draw a legend: only bools and None.
    check_bool("legend", legend, optional=True)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, _ = ax.get_legend_handles_labels()
    if legend or (legend is None and len(handles) >= 2):
        ax.legend(loc=legend_loc)  # type: ignore[call-overload]  # matplotlib checks the str
    return ax


def color_cycle(n: int) -> Sequence[str]:
    """The first ``n`` palette colours (cycling when ``n`` exceeds the palette)."""
    n = check_int("n", n, 0)
    return [COLORS[i % len(COLORS)] for i in range(n)]


# -- landscapes and the paths of optimisers (chapters 1, 2 and 5) ----------------------
def _landscape_levels(z: np.ndarray, levels: int, log_scale: bool) -> np.ndarray:
    """Contour levels, dense near the bottom where the interesting detail is.

    Geometric spacing above the lowest value for steep-walled landscapes
    (``log_scale``); otherwise quadratic spacing, which draws a quadratic bowl as
    evenly spaced ellipses.
    """
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    span = max(hi - lo, 1e-12)
    if log_scale:
        return lo + np.geomspace(1e-6 * span, span, levels)
    return lo + span * np.linspace(0.0, 1.0, levels + 1)[1:] ** 2


def plot_landscape(
    ax: Axes, landscape, *, n: int = 200, levels: int = 25, filled: bool = False
) -> Axes:
    """Draw the contours of a 2-D landscape (``evalib.landscapes``) over its ``bounds``.

    Marks the known minimum with a star, or the stationary point with a cross when the
    landscape has no minimum. Levels are logarithmic where ``landscape.log_scale``.
    """
    check_instance("ax", ax, Axes, "a matplotlib Axes")
    if not all(hasattr(landscape, a) for a in ("grid", "bounds", "minimum", "stationary_point")):
        raise TypeError(
            f"landscape must be a landscape of evalib.landscapes (e.g. evalib.landscapes.ravine), "
            f"got {type(landscape).__name__}"
        )
    levels = check_int("levels", levels, 1)
    filled = check_bool("filled", filled)
    X, Y, Z = landscape.grid(n)
    lv = _landscape_levels(Z, levels, getattr(landscape, "log_scale", False))
    draw = ax.contourf if filled else ax.contour
    draw(X, Y, Z, levels=lv, cmap="Greys_r" if filled else "viridis", linewidths=0.7, alpha=0.8)
    # The minimum as a star, or (a saddle has none) the stationary point as a cross.
    if landscape.minimum is not None:
        point, marker, size, name = landscape.minimum, "*", 14, "minimum"
    else:
        point, marker, size, name = landscape.stationary_point, "X", 10, "saddle point"
    ax.plot(
        *point, marker=marker, markersize=size, color=PALETTE["black"], linestyle="none", label=name
    )
    (x0, x1), (y0, y1) = landscape.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.grid(False)
    return ax


def plot_paths(
    ax: Axes,
    landscape,
    paths: dict[str, np.ndarray],
    *,
    title: str | None = None,
    markers: bool = True,
    n: int = 200,
    levels: int = 25,
    styles: dict[str, dict] | None = None,
) -> Axes:
    """The figure every trajectory in the book uses: contours plus iterate paths.

    ``paths`` maps a legend label to an array of iterates of shape ``(steps+1, 2)``
    (``evalib.theory.run_momentum`` or ``evalib.optim.trajectory`` return these).
    Iterates outside the plot window are clipped; ``nan``/``inf`` (a diverged run)
    end the line. ``styles`` optionally maps a label to matplotlib line keywords
    (e.g. ``{"GD": {"color": PALETTE["black"], "linestyle": "--"}}``) that replace
    the palette's colour for that path.
    """
    arrays = check_paths(paths)
    styles = check_styles(styles, paths)
    plot_landscape(ax, landscape, n=n, levels=levels)
    for (name, p), color in zip(arrays.items(), color_cycle(len(arrays))):
        kw = {"color": color, "linewidth": 1.3, **styles.get(name, {})}
        ax.plot(p[:, 0], p[:, 1], marker="o" if markers else None, markersize=2.5, label=name, **kw)
    ax.plot(
        *next(iter(arrays.values()))[0],
        marker="o",
        markersize=8,
        markerfacecolor="white",
        color=PALETTE["black"],
        linestyle="none",
        label="start",
    )
    label(
        ax,
        title if title is not None else landscape.name,
        "$w_1$ (dimensionless)",
        "$w_2$ (dimensionless)",
        legend=True,
    )
    return ax


def check_paths(paths: Any) -> dict[str, NDArray[np.float64]]:
    """``paths`` as a dict of float64 arrays of shape ``(steps+1, 2)`` with at least one row;
    NaN and inf (a diverged run) are allowed. The static and the live path figures
    (:func:`plot_paths`, :func:`evalib.book.live.animation.path_animation`) take paths this way."""
    if not isinstance(paths, dict):
        raise TypeError(
            f"paths must be a dict {{label: (steps+1, 2) array}}, got {type(paths).__name__}"
        )
    if not paths:
        raise ValueError("paths must be a non-empty dict {label: (steps+1, 2) array}")
    arrays = {}
    for name, path in paths.items():
        p = check_array(f"paths[{name!r}]", path, finite=False)
        if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
            raise ValueError(
                f"paths[{name!r}] must have shape (steps+1, 2) with steps >= 0, got {p.shape}"
            )
        arrays[name] = p
    return arrays


def check_styles(styles: Any, paths: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``styles`` (None: none) as a dict of dicts whose keys are labels of ``paths``."""
    if styles is None:
        return {}
    if not isinstance(styles, dict) or not all(isinstance(v, dict) for v in styles.values()):
        raise TypeError("styles must be a dict {label: dict of line keywords}")
    unknown = sorted(set(styles) - set(paths))
    if unknown:
        raise ValueError(f"styles names labels that are not in paths: {unknown}")
    return styles


def cam_overlay(
    ax: Axes,
    image,
    cam,
    *,
    title: str = "",
    alpha: float = 0.5,
    cmap: str = "inferno",
    colorbar: bool = True,
):
    """Draw a class activation map over its image, with a colour bar (chapters 6 and 7).

    ``image``: ``(H, W, 3)`` or ``(3, H, W)`` (a torch tensor or an array) with values
    in [0, 1], i.e. already un-normalised; ``cam``: ``(H, W)`` in [0, 1], e.g. one map
    of :meth:`evalib.cam.GradCAM.cam`. The map is drawn with transparency ``alpha``
    in a perceptually uniform colour map, so "brighter" reads as "more evidence".
    Returns the map's ``AxesImage``.
    """

    def as_array(name: str, value) -> np.ndarray:
        if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU
            value = value.detach().cpu().numpy()
        if np.asarray(value).dtype.kind == "c":
            raise TypeError(f"{name} must hold real numbers, got complex values")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be an array or tensor of numbers: {err}") from None
        if not np.all(np.isfinite(arr)) or arr.min(initial=0.0) < 0 or arr.max(initial=0.0) > 1:
            raise ValueError(
                f"{name} must hold finite values in [0, 1] (un-normalise images first)"
            )
        return arr

    check_instance("ax", ax, Axes, "a matplotlib Axes")
    alpha = check_real("alpha", alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    colorbar = check_bool("colorbar", colorbar)
    img = as_array("image", image)
    if img.ndim == 3 and img.shape[0] == 3 and img.shape[-1] != 3:
        img = img.transpose(1, 2, 0)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"image must be (H, W, 3) or (3, H, W), got shape {img.shape}")
    heat = as_array("cam", cam)
    if heat.shape != img.shape[:2]:
        raise ValueError(
            f"cam must be (H, W) = {img.shape[:2]} like the image, got shape {heat.shape}"
        )

    ax.imshow(img, interpolation="nearest")
    shown = ax.imshow(heat, cmap=cmap, vmin=0.0, vmax=1.0, alpha=alpha, interpolation="bilinear")
    ax.set_title(title)
    ax.set_axis_off()
    if colorbar:
        ax.figure.colorbar(
            shown, ax=ax, fraction=0.046, pad=0.04, label="Grad-CAM (0 = none, 1 = peak)"
        )
    return shown
