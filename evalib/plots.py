"""One look for every figure in the book.

``use_style()`` sets matplotlib's defaults once per chapter: a colour-blind-safe
palette (Okabe & Ito), readable font sizes, light grids and a white figure background
that stays readable in the book's dark mode. ``label`` titles and labels an axis in
one call and adds a legend only when there is something to tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.axes import Axes

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


def use_style() -> None:
    """Apply the book's matplotlib defaults (idempotent)."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            # White behind the axes keeps figures legible on the dark theme too.
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.facecolor": "white",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "animation.embed_limit": 40.0,  # MB; the chapters' animations stay well below
        }
    )


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

    ``legend=None`` draws a legend only when at least two artists carry a label.
    """
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, _ = ax.get_legend_handles_labels()
    if legend or (legend is None and len(handles) >= 2):
        ax.legend(loc=legend_loc)
    return ax


def color_cycle(n: int) -> Sequence[str]:
    """The first ``n`` palette colours (cycling when ``n`` exceeds the palette)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return [COLORS[i % len(COLORS)] for i in range(n)]
