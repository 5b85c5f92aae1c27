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


def test_light_png_is_a_256_colour_png_at_twice_the_density_shown_at_its_size():
    import io

    import numpy as np
    from PIL import Image

    plots.use_style()
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0, 1, 50) ** 2, label="curve")
    data, shown = plots.light_png(fig)
    image = Image.open(io.BytesIO(data))
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=2 * fig.dpi)
    plt.close(fig)
    assert image.mode == "P" and len(image.getcolors(256)) <= 256
    width_in, height_in = plots.WIDTH, matplotlib.rcParams["figure.figsize"][1]
    assert image.size == (round(2 * fig.dpi * width_in), round(2 * fig.dpi * height_in))
    assert shown == {"width": image.width // 2, "height": image.height // 2}
    assert image.info["dpi"][0] == pytest.approx(2 * fig.dpi, abs=0.01)
    # The palette keeps the picture: the same pixels as the full-colour PNG, to within
    # what 256 colours can say about antialiased edges.
    exact = np.asarray(Image.open(full).convert("RGB"), dtype=float)
    quantised = np.asarray(image.convert("RGB"), dtype=float)
    assert np.abs(exact - quantised).mean() < 1.0
    assert len(data) < 0.5 * len(full.getvalue())


def test_use_style_shows_figures_in_ipython_as_light_pngs():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    plots.use_style()
    fig, _ = plt.subplots()
    bundle, metadata = shell.display_formatter.format(fig)
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)
    assert metadata["image/png"] == {"width": 500, "height": 330}
    InteractiveShell.clear_instance()
