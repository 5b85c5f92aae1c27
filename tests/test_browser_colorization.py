"""The colorization explorer of "The limits of descent", as a reader uses it in the built
book: offline, the step slider moved and the method buttons pressed, the page's numbers
read back and compared with evalib's to 1e-9 (as tests/test_browser.py does for the
figures of evalib.book.live, whose helpers and fixtures it uses).

Needs Debian's `chromium`; without it these tests skip and say so.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_browser import (  # the fixtures too: pytest finds them by name here
    CLOSE,
    FIND,
    browser,  # noqa: F401
    finish,
    live_page,
    read,
    recomputed,
    server,  # noqa: F401
    set_slider,
    shoot,
    value,
)

from chromium import CHROMIUM, NO_CHROMIUM
from evalib import worst_case
from evalib.book.live import colorization as lc

pytestmark = [pytest.mark.book, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

CHAPTER = "limits_of_descent"
# The line the chapter colours (its cell "n_pixels, seeds, colours = ...").
PIXELS, SEEDS, COLOURS = 80, (8, 44, 72), (1.0, 0.3, 0.7)


def assert_shows(page, problem, method: str, k: int) -> None:
    """The page draws evalib's numbers for ``method`` after ``k`` steps."""
    steps = len(read(page, "colorization-errors")["k"]) - 1
    state = lc.colorization_state(problem, method, steps)
    profile = read(page, "colorization-profile")
    np.testing.assert_allclose(profile["w"], state["path"][k], **CLOSE)
    np.testing.assert_array_equal(profile["reach"] > 0, worst_case.hops(PIXELS, SEEDS) <= k - 1)
    np.testing.assert_allclose(read(page, "colorization-errors")["error"], state["error"], **CLOSE)
    np.testing.assert_allclose(
        read(page, "colorization-now")["error"], [state["error"][k]], **CLOSE
    )
    text = value(page, "colorization-readout", "text")
    assert text.startswith(f"{method}, step {k}:"), text
    assert f"<b>{int(state['reached'][k])}</b> pixels" in text, text
    assert f"<b>{state['error'][k]:.4f}</b>" in text, text


def press(page, method: str) -> None:
    """Press the button of ``method``, as a click does; wait for the page to redraw."""
    active = lc.METHODS.index(method)
    recomputed(
        page,
        "colorization-profile",
        lambda: page.evaluate(
            f"(i) => {{ {FIND} find('colorization-method').active = i; }}", active
        ),
    )


def test_live_colorization_slider_and_buttons(browser, server):  # noqa: F811
    page, errors, outside = live_page(browser, server, CHAPTER, ["colorization-k"])
    figure = 0  # the chapter's only live figure
    shoot(page, CHAPTER, figure, "before")
    problem = worst_case.colorization(PIXELS, SEEDS, COLOURS)
    assert_shows(page, problem, "heavy ball", value(page, "colorization-k"))  # as built
    # A reader's click on a button, then the slider: each method, early and late steps.
    button = page.locator(".bk-btn", has_text="gradient descent").first
    button.scroll_into_view_if_needed()
    recomputed(page, "colorization-profile", button.click)
    assert value(page, "colorization-method", "active") == 0
    assert_shows(page, problem, "gradient descent", value(page, "colorization-k"))
    last = int(value(page, "colorization-k", "end"))
    for method in lc.METHODS:
        if lc.METHODS.index(method) != value(page, "colorization-method", "active"):
            press(page, method)
        for k in (0, 1, 12, 40, last):
            k = set_slider(page, "colorization-k", k, "colorization-profile")
            assert_shows(page, problem, method, k)
    finish(page, CHAPTER, figure, errors, outside)
