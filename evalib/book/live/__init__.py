"""Live figures: Bokeh plots that the reader's browser recomputes and plays, with no kernel.

Each figure is shown by the chapter that teaches it, and lives in its own module with
its page code in a ``.js`` file of the same name:

- :mod:`evalib.book.live.ravine` (``ravine.js``): the ravine explorer,
  :func:`~evalib.book.live.ravine.ravine_explorer`, the heavy ball on a quadratic with
  sliders for ``α`` and ``β`` ("Momentum: the heavy ball");
- :mod:`evalib.book.live.stability` (``stability.js``): the stability explorer,
  :func:`~evalib.book.live.stability.stability_explorer`, the ``(αλ, β)`` plane where a
  click picks one direction's iteration (same chapter);
- :mod:`evalib.book.live.ewma` (``ewma.js``): the EWMA explorer,
  :func:`~evalib.book.live.ewma.ewma_explorer`, a ``β`` slider over a series ("Moving
  averages");
- :mod:`evalib.book.live.race` (``race.js``): the optimiser race,
  :func:`~evalib.book.live.race.optimiser_race`, gradient descent, the heavy ball and
  Nesterov on one landscape with the learning rate and ``β`` adjustable ("Why momentum
  really works");
- :mod:`evalib.book.live.animation` (``animation.js``): the path animation,
  :func:`~evalib.book.live.animation.path_animation`, paths growing step by step over a
  landscape, with Play/Pause, step buttons and a step slider (both chapters);
- :mod:`evalib.book.live.colorization` (``colorization.js``): the colorization explorer,
  :func:`~evalib.book.live.colorization.colorization_explorer`, colour spreading along a
  line of pixels one node per step, with a slider for the step and a choice of method
  ("The limits of descent").

The base module, :mod:`evalib.book.live.base`, holds what they share:
:class:`LiveFigure` and its loader (``loader.js``: BokehJS loads
once per page, when the first figure comes near the viewport, from the book's own copy
or else from Bokeh's CDN, and every slider gets an accessible name and value), and the
helpers that keep every figure whole from a phone's 360 px to a desktop.

The figure drawn first holds evalib's own numbers. When a slider moves, JavaScript
computes the new ones in the browser. Each function of
:data:`~evalib.book.live.base.JS_FUNCTIONS` (``transcriptions.js``) transcribes, line by
line and with its operations in the same order, the evalib function named in its
comment; ``tests/test_live.py`` runs it against evalib for a grid of settings and
``tests/test_browser.py`` reads the numbers of the built pages back, both to 1e-9.
"""

from evalib.book.live.animation import path_animation, path_frame, path_rows
from evalib.book.live.base import BOKEH_JS, CSS_CLASS, JS_FUNCTIONS, LiveFigure, bokeh_js_files
from evalib.book.live.colorization import colorization_explorer, colorization_state
from evalib.book.live.ewma import ewma_explorer, ewma_lag_text
from evalib.book.live.race import RACERS, optimiser_race, race_state
from evalib.book.live.ravine import ravine_explorer, ravine_state
from evalib.book.live.stability import root_type, stability_explorer, stability_state

# Documented, and referred to, where readers import them from: evalib.book.live.
LiveFigure.__module__ = bokeh_js_files.__module__ = __name__

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
    "path_animation",
    "path_frame",
    "path_rows",
    "colorization_explorer",
    "colorization_state",
]
