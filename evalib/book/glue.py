"""Numbers for the prose: ``glue`` stores a value that the book's text quotes.

A chapter computes a number and glues it, ``glue("ewma_lag_90", float(lag))``; its
prose quotes it as ``{glue:text}`ewma_lag_90:.1f```. The book build (myst-nb) reads
the glued values from the executed notebook and writes them into the text, so text
and results cannot drift.

Only the book build needs this. Where myst-nb is installed (the build, ``pytest
--nbmake``, a developer's Jupyter), :func:`glue` is ``myst_nb.glue``. Elsewhere (Colab,
a reader's own Jupyter) it shows nothing: there the prose already carries the values of
the book's build (book/colab/ notebooks), and the cells recompute them. So a chapter
runs without myst-nb, and Colab installs evalib alone.
"""

from __future__ import annotations

import re
from typing import Any

from evalib._checks import check_bool

_NAME = re.compile(r"[\w.-]+")


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the book's prose; show it only if ``display``.

    With myst-nb installed this is ``myst_nb.glue(name, value, display)``: the value's
    display data (for a number, its ``repr`` as ``text/plain``) becomes an output of
    the cell that the book build pastes into the text. Without myst-nb nothing is
    stored, and ``display=True`` shows the value as Jupyter would show a cell's last
    value. Unlike myst-nb, ``display`` defaults to False: the book glues numbers for
    its text, not to show them twice.

    Glue plain Python numbers (``float(x)``, ``int(n)``): a NumPy scalar's ``repr`` is
    ``np.float64(...)``, which a format spec such as ``:.3f`` cannot read.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not _NAME.fullmatch(name):
        raise ValueError(
            "name must be letters, digits, '_', '-' or '.' (the prose's role "
            f"{{glue:text}}`name:format` reads it), got {name!r}"
        )
    display = check_bool("display", display)

    store = _myst_nb_glue()
    if store is not None:
        store(name, value, display=display)
    elif display:
        _show(value)


def _myst_nb_glue() -> Any:
    """``myst_nb.glue``, or None where myst-nb is not installed."""
    try:
        from myst_nb import glue as store
    except ImportError:
        return None
    return store


def _show(value: Any) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python, no Jupyter
        print(repr(value))
    else:
        display(value)
