"""What every live figure shares: :class:`~evalib.book.live.LiveFigure` and its loader,
and the helpers that give the figures one look, whole at 360 px and at desktop width.

A figure is a Bokeh layout in a white card. Panels sit in rows that wrap
(``_panels``): side by side on a wide screen, stacked on a phone, each at least
:data:`MIN_WIDTH` px wide. Text is at least 10 pt (:data:`FONT`), legends sit below the
data (``_legend_below``), and sliders are named (``_slider``) so that the tests and the
loader's accessibility fix-ups find them. These helpers (their names begin with ``_``)
belong to the figures of this package, which call them with checked arguments.

The JavaScript lives in ``.js`` files beside this module (:func:`js_source` reads one):
the transcriptions of evalib functions (``transcriptions.js``, :data:`JS_FUNCTIONS`),
the loader (``loader.js``) and one file per figure, each a named function that
``_callback`` calls in one line.
"""

from __future__ import annotations

import json
import uuid
from decimal import ROUND_HALF_UP, Context, Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import bokeh
import contourpy
import numpy as np
from bokeh.embed import json_item
from bokeh.layouts import column, row
from bokeh.models import CustomJS, DatetimeAxis, LayoutDOM, Row
from bokeh.models.widgets.buttons import AbstractButton
from bokeh.models.widgets.markups import Div
from bokeh.models.widgets.sliders import Slider
from bokeh.plotting import figure
from numpy.typing import ArrayLike, NDArray

from evalib._checks import check_choice, check_instance

#: The BokehJS files a page with live figures loads (the core and the sliders).
BOKEH_JS = ("bokeh", "bokeh-widgets")
#: The CSS class of every live figure's container: book/_ext looks for it.
CSS_CLASS = "evalib-live"
#: The name of the ``<meta>`` tag by which a page tells the loader where its copy of
#: BokehJS is (``content``: the folder's URL relative to the page).
BOKEH_META = "evalib-bokeh"
#: The narrowest a panel gets (px): two fit side by side from ``TWO_PANELS`` up.
MIN_WIDTH = 300
_GAP, _PAD = 8, 8
#: The container width (px) from which two panels of a row stand side by side.
TWO_PANELS = 2 * MIN_WIDTH + _GAP + 2 * _PAD
#: The size of every text in a figure: at least ``plots.MIN_FONT_PT``.
FONT = "10pt"

# A figure keeps a white card in the book's dark mode too, as the static figures do.
_CARD = {
    "background-color": "white",
    "color": "#222",
    "padding": f"{_PAD}px",
    "border-radius": "6px",
    "text-align": "left",  # not the centring of the figure that holds it in the book
    "--bokeh-font-size": FONT,  # the widgets' text (Bokeh's default is 12 px)
}


def js_source(name: str) -> str:
    """The text of one of the package's JavaScript files (``"ravine.js"``, ...)."""
    folder = files("evalib.book.live")
    check_choice(
        "name", name, tuple(sorted(f.name for f in folder.iterdir() if f.name.endswith(".js")))
    )
    return folder.joinpath(name).read_text(encoding="utf-8")


#: The JavaScript transcriptions of evalib functions that the live figures run.
#:
#: :meta hide-value:
JS_FUNCTIONS = js_source("transcriptions.js")
_LOADER = js_source("loader.js")


class LiveFigure:
    """A Bokeh layout that displays itself as HTML in the book, Jupyter and Colab.

    ``layout`` is the Bokeh object; ``html()`` (what Jupyter shows) embeds it with
    ``bokeh.embed.json_item`` and the loader of ``loader.js``: BokehJS loads once per
    page, when the first figure comes near the viewport, from the page's own copy (the
    built book) or else from Bokeh's CDN. Until then the container keeps the figure's
    height, the stacked one below ``TWO_PANELS`` px and the side-by-side one above.
    """

    def __init__(self, layout: LayoutDOM) -> None:
        self.layout = check_instance("layout", layout, LayoutDOM, "a Bokeh layout")

    def html(self) -> str:
        """The ``<div>`` and ``<script>`` that draw the figure."""
        target = f"{CSS_CLASS}-{uuid.uuid4().hex[:12]}"
        # "</" would end the script element early; JSON allows "<\/".
        item = json.dumps(json_item(self.layout)).replace("</", "<\\/")
        wide, narrow = _height(self.layout, wide=True), _height(self.layout, wide=False)
        call = f'evalibLive("{target}", "{bokeh.__version__}", {json.dumps(BOKEH_JS)});'
        return f"""<div class="{CSS_CLASS}" style="container-type: inline-size">
<style>#{target} {{ min-height: {wide}px }}
@container (max-width: {TWO_PANELS - 0.02}px) {{ #{target} {{ min-height: {narrow}px }} }}</style>
<div id="{target}"></div>
</div>
<script type="application/json" id="{target}-item">{item}</script>
<script>
{_LOADER}
{call}
</script>"""

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"LiveFigure({type(self.layout).__name__})"


def bokeh_js_files() -> list[Path]:
    """The installed bokeh package's minified BokehJS files named by ``BOKEH_JS``."""
    static = Path(str(files("bokeh"))) / "server" / "static" / "js"
    return [static / f"{name}.min.js" for name in BOKEH_JS]


# -- the height a figure takes, reserved before it is drawn ---------------------------------
_SLIDER_HEIGHT, _BUTTON_HEIGHT, _LINE_HEIGHT, _CHARS_PER_LINE = 54, 40, 19, 44


def _height(model: Any, *, wide: bool) -> int:
    """The height (px) ``model`` takes, wide (rows side by side) or narrow (stacked)."""
    if isinstance(model, Row):
        sizes = [_height(child, wide=wide) for child in model.children]
        buttons = all(isinstance(child, AbstractButton) for child in model.children)
        side_by_side = buttons or (wide and len(sizes) <= 2)
        return max(sizes) if side_by_side else sum(sizes) + _GAP * (len(sizes) - 1)
    if hasattr(model, "children"):  # a column, the card among them
        padding = 2 * _PAD if model.styles and "padding" in model.styles else 0
        spacing = _GAP * (len(model.children) - 1) if model.spacing else 0
        return padding + spacing + sum(_height(child, wide=wide) for child in model.children)
    if isinstance(model, Slider):
        return _SLIDER_HEIGHT
    if isinstance(model, Div):
        text = model.text.replace("<b>", "").replace("</b>", "")
        parts = text.split("<br>")
        lines = len(parts) if wide else sum(-(-len(p) // _CHARS_PER_LINE) for p in parts)
        return lines * _LINE_HEIGHT
    if model.height is not None:
        return int(model.height)
    return _BUTTON_HEIGHT


# -- the figures' parts ------------------------------------------------------------------
def _panel(title: str, x_label: str, y_label: str, **options: Any) -> Any:
    """A Bokeh figure in the book's look: a short title (it must fit a phone), labelled
    axes, text at ``FONT``, no toolbar; as wide as its row allows, at least
    ``MIN_WIDTH`` px, unless ``width`` is given."""
    if "width" not in options:
        options.setdefault("sizing_mode", "stretch_width")
        options.setdefault("min_width", MIN_WIDTH)
    fig = figure(
        title=title,
        x_axis_label=x_label,
        y_axis_label=y_label,
        tools="",
        toolbar_location=None,
        **options,
    )
    fig.title.text_font_size = FONT  # type: ignore[union-attr]  # figure(title=str) makes a Title
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.axis_label_text_font_size = FONT
        axis.major_label_text_font_size = FONT
        # Dates take about twice the room of numbers: fewer of them on a phone.
        axis.ticker.desired_num_ticks = 3 if isinstance(axis, DatetimeAxis) else 5
    return fig


def _panels(*children: LayoutDOM) -> LayoutDOM:
    """A row of panels that wraps: side by side where they fit, stacked where not."""
    # Each panel in a column of its own: a row aligns its figures' frames, which leaves
    # a gap under a figure without a legend once the row wraps.
    return row(
        *(_stack(child) for child in children),
        sizing_mode="stretch_width",
        styles={"flex-wrap": "wrap", "gap": f"{_GAP}px", "align-content": "flex-start"},
    )


def _stack(*children: LayoutDOM) -> LayoutDOM:
    """Parts one below the other that together make one panel of a row."""
    return column(*children, sizing_mode="stretch_width", min_width=MIN_WIDTH)


def _card(*children: LayoutDOM) -> LayoutDOM:
    """The white card that holds a figure's parts, one below the other."""
    return column(*children, styles=_CARD, sizing_mode="stretch_width")


def _slider(
    name: str, title: str, start: float, end: float, value: float, step: float, fmt: str
) -> Slider:
    """A full-width slider; ``name`` lets the browser tests find it, ``title`` names it
    for a screen reader, and ``fmt`` is how its value shows (the loader announces that)."""
    return Slider(
        start=start,
        end=end,
        value=value,
        step=step,
        title=title,
        format=fmt,
        name=name,
        sizing_mode="stretch_width",
        min_width=MIN_WIDTH - 2 * _PAD,
    )


def _legend_below(plot: Any) -> None:
    """Move the plot's legend under the data, in as many columns as fit the narrowest
    panel, so that it hides none of the data and is never cut off."""
    legend = plot.legend[0]
    labels = [str(item.label.value) for item in legend.items]
    # 10 pt text is about 7 px a character; a glyph, its gaps and padding about 36 px.
    item_width = 36 + 7 * max(len(label) for label in labels)
    legend.ncols = max(1, min(len(labels), int((MIN_WIDTH - 16) // item_width)))
    legend.label_text_font_size = FONT
    legend.padding, legend.spacing, legend.margin = 2, 8, 4
    legend.label_height, legend.glyph_height = 16, 16
    legend.border_line_alpha = 0
    legend.location = "center"
    plot.add_layout(legend, "below")


def _readout(name: str, text: str) -> Div:
    """The text under a figure's controls that the figure's code rewrites."""
    return Div(text=text, name=name, sizing_mode="stretch_width", min_width=MIN_WIDTH - 2 * _PAD)


def _callback(function: str, args: dict[str, Any], *sources: str) -> CustomJS:
    """A CustomJS whose code is the JavaScript files ``sources`` and one line that calls
    ``function`` with the arguments by name and the object that fired (``cb_obj``)."""
    names = ", ".join(args)
    code = "".join(js_source(name) for name in sources)
    return CustomJS(args=args, code=f"{code}\nreturn {function}({{ {names} }}, cb_obj);\n")


def _on_click(plot: Any, action: CustomJS) -> None:
    """Run ``action`` on a click in ``plot``; two quick clicks count as two picks, not
    as one double click (Bokeh reports those as a separate event)."""
    for event in ("tap", "doubletap"):
        plot.js_on_event(event, action)


# -- numbers for the figures ---------------------------------------------------------------
def _finite_or_nan(values: ArrayLike) -> NDArray[np.float64]:
    """A float64 array for a data source, with ±inf as NaN (Bokeh skips NaN points)."""
    arr = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(arr), arr, np.nan)


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, rounded as JavaScript's ``toFixed`` rounds (a
    tie goes up), so a readout drawn by Python and one redrawn by the page agree."""
    step = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(step, ROUND_HALF_UP, Context(prec=80)))


def _centres(lo: float, hi: float, n: int) -> NDArray[np.float64]:
    """The centres of ``n`` equal cells from ``lo`` to ``hi``: an image's pixel positions."""
    half = (hi - lo) / (2 * n)
    return np.linspace(lo + half, hi - half, n)


def _contours(
    fig: Any, land: Any, levels: int, log: bool, grid: tuple[int, int] = (90, 70)
) -> None:
    """Draw ``levels`` grey contour lines of the landscape (of log10 f when ``log``) as one
    line of float32 points, NaN between the pieces: a few KB in the page."""
    (x0, x1), (y0, y1) = land.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid[0]), np.linspace(y0, y1, grid[1]))
    z = np.asarray(land(np.stack((gx, gy), axis=-1)), dtype=np.float64)
    if log:
        z = np.log10(z - z.min() + 1e-3)
    generator = contourpy.contour_generator(gx, gy, z, line_type="Separate")
    # Quadratic spacing above the lowest value draws a quadratic bowl as evenly spaced
    # ellipses; the log of a steep landscape is spaced evenly.
    spacing = np.linspace(0.0, 1.0, levels + 2)[1:-1]
    pieces: list[NDArray[np.float64]] = []
    for level in z.min() + (z.max() - z.min()) * (spacing if log else spacing**2):
        for piece in generator.lines(level):  # Separate: one (n, 2) array per line
            pieces += [np.asarray(piece, dtype=np.float64), np.full((1, 2), np.nan)]
    points = np.concatenate(pieces).astype(np.float32)
    fig.line(points[:, 0], points[:, 1], line_color="#bbbbbb", line_width=1)


def _quadratic_js(q: Any) -> dict[str, Any]:
    """What the JavaScript needs of a ``landscapes.Quadratic``: A, Q and c as numbers."""
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
