"""evalib.book.plots: the shared figure style."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from evalib.book import plots


def test_use_style_sets_the_colour_blind_safe_cycle():
    plots.use_style()
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert tuple(cycle) == plots.COLORS
    assert len(set(plots.COLORS)) == len(plots.COLORS)


def test_label_sets_texts_and_adds_a_legend_only_for_several_lines():
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="one")
    plots.label(ax, "t", "x (s)", "y (m)")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("t", "x (s)", "y (m)")
    assert ax.get_legend() is None
    ax.plot([1, 0], label="two")
    plots.label(ax, "t", "x (s)", "y (m)")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "two"]
    plt.close(fig)


def test_label_takes_any_text_matplotlib_takes_but_only_a_bool_legend():
    fig, ax = plt.subplots()
    plots.label(ax, 2026, 3, None)  # matplotlib draws str(3), and None as no text
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("2026", "3", "")
    with pytest.raises(TypeError, match="legend"):
        plots.label(ax, "t", "x", "y", legend="no")  # truthy: would draw a legend
    plt.close(fig)


def test_color_cycle_wraps_and_validates():
    assert list(plots.color_cycle(len(plots.COLORS) + 1))[-1] == plots.COLORS[0]
    with pytest.raises(ValueError, match="n must"):
        plots.color_cycle(-1)
