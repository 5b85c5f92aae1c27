"""The EWMA explorer: a ``β`` slider over a series, the average with and without bias
correction (chapter "Moving averages"). Its page code is ``ewma.js``."""

from __future__ import annotations

from typing import Any

import numpy as np
from bokeh.models import ColumnDataSource
from numpy.typing import ArrayLike

from evalib import averages
from evalib._checks import check_array, check_instance, check_int, check_real
from evalib.book.live.base import (
    LiveFigure,
    _callback,
    _card,
    _fixed,
    _legend_below,
    _panel,
    _panels,
    _readout,
    _slider,
)
from evalib.book.plots import PALETTE


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

    One panel shows the whole series and both averages; the other the first ``zoom``
    points (60, or the whole series if it is shorter), where the uncorrected average
    starts near 0 and the corrected one does not. The readout gives the effective window
    ``1/(1 − β)`` and the lag ``β/(1 − β)``.
    """
    x = check_array("series", series)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"series must be 1-D with at least 2 points, got shape {x.shape}")
    beta = check_real("beta", beta, at_least=0, below=1)
    if beta > 0.995:
        raise ValueError(f"beta must be at most 0.995 (the slider's range), got {beta}")
    zoom = min(60, x.size) if zoom is None else check_int("zoom", zoom, 2, x.size)
    check_instance("label", label, str, "a str")
    when, axis = _times(dates, x.shape)
    source = ColumnDataSource(
        {
            "t": when,
            "x": x,
            "raw": averages.ewma(x, beta),
            "corrected": averages.ewma(x, beta, bias_correction=True),
        },
        name="ewma-lines",
    )
    beta_slider = _slider("ewma-beta", "β", 0.0, 0.995, beta, 0.005, "0.000")
    text = _readout("ewma-readout", ewma_lag_text(beta))
    args = dict(slider=beta_slider, source=source, readout=text)
    beta_slider.js_on_change("value", _callback("ewmaUpdate", args, "transcriptions.js", "ewma.js"))
    whole = _ewma_panel("EWMA: the whole series", source, axis, label)
    start = _ewma_panel(f"EWMA: the first {zoom} points", source, axis, label)
    first, last = when[0], when[zoom - 1]
    if axis == "datetime":  # Bokeh's datetime axes count milliseconds
        first, last = (float(t.astype("datetime64[ms]").astype(np.int64)) for t in (first, last))
    start.x_range.start, start.x_range.end = first, last
    start.y_range.start, start.y_range.end = 0.0, 1.15 * float(x[:zoom].max())
    return LiveFigure(_card(beta_slider, text, _panels(whole, start)))


def _times(dates: ArrayLike | None, shape: tuple[int, ...]) -> tuple[Any, str]:
    """The x values of the series (its dates, or 0, 1, 2, ...) and the axis type."""
    if dates is None:
        return np.arange(shape[0]), "linear"
    when = np.asarray(dates)
    if when.dtype.kind not in "Mif":
        raise TypeError(f"dates must be numpy datetime64 values or numbers, got dtype {when.dtype}")
    if when.shape != shape:
        raise ValueError(f"dates must have the shape of series, {shape}, got {when.shape}")
    return when, "datetime" if when.dtype.kind == "M" else "linear"


def _ewma_panel(title: str, source: ColumnDataSource, axis: str, label: str) -> Any:
    """One panel: the series (black) and both averages, the legend below."""
    x_label = "date" if axis == "datetime" else "step"
    fig = _panel(title, x_label, label, x_axis_type=axis, height=300)
    fig.line("t", "x", source=source, color=PALETTE["black"], line_width=1, legend_label=label)
    for column, color, name in (
        ("raw", PALETTE["vermillion"], "EWMA"),
        ("corrected", PALETTE["blue"], "bias-corrected"),
    ):
        fig.line("t", column, source=source, color=color, line_width=2, legend_label=name)
    _legend_below(fig)
    return fig
