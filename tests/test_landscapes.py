"""Tests of evalib.landscapes: values, gradients, minima, shapes and input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evalib import landscapes as L
from evalib.landscapes import Quadratic, beale, ravine, rosenbrock, saddle

ALL = [ravine, rosenbrock, beale, saddle, Quadratic((2.0, 0.3), angle=1.1, center=(0.5, -1.0))]
IDS = [f.name for f in ALL]


def _random_points(landscape: L.Landscape, n: int = 64, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = landscape.bounds
    pts = np.column_stack((rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)))
    return torch.tensor(pts, dtype=torch.float64)


def test_known_values() -> None:
    assert float(rosenbrock(torch.tensor([0.0, 0.0]))) == pytest.approx(1.0)
    assert float(rosenbrock(torch.tensor([-1.0, 2.0]))) == pytest.approx(4.0 + 100.0)
    # Beale at the origin: 1.5² + 2.25² + 2.625²
    assert float(beale(torch.tensor([0.0, 0.0]))) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert float(saddle(torch.tensor([1.0, 0.0]))) == pytest.approx(1.0)
    assert float(saddle(torch.tensor([0.0, 1.0]))) == pytest.approx(-0.5)


def test_quadratic_matches_its_matrix_form_and_the_contract_form() -> None:
    q = Quadratic((3.0, 0.25), angle=0.7, center=(1.0, -2.0))
    w = np.array([0.3, 1.7])
    d = w - q.center
    assert float(q(w)) == pytest.approx(0.5 * d @ q.A @ d)
    # ½wᵀAw − bᵀw differs from ½(w−c)ᵀA(w−c) only by the constant ½cᵀAc.
    contract = 0.5 * w @ q.A @ w - q.b @ w
    assert float(q(w)) == pytest.approx(contract + 0.5 * q.center @ q.A @ q.center)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), np.sort(q.eigvals))
    np.testing.assert_allclose(q.A @ q.eigvecs[:, 0], q.eigvals[0] * q.eigvecs[:, 0])
    np.testing.assert_allclose(q.eigvecs[:, 0], [math.cos(0.7), math.sin(0.7)])
    assert q.condition_number == pytest.approx(12.0)
    assert q.minimum == (1.0, -2.0)


def test_quadratic_separates_in_eigen_coordinates() -> None:
    q = Quadratic((5.0, 0.5), angle=-0.4, center=(0.2, 0.1))
    w = np.random.default_rng(1).normal(size=(10, 2))
    x = q.eigen_coords(w)
    np.testing.assert_allclose(q(w), 0.5 * (q.eigvals * x**2).sum(axis=-1))
    np.testing.assert_allclose(q.eigen_coords(q.center), [0.0, 0.0], atol=1e-15)


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
def test_closed_form_gradient_equals_autograd(landscape: L.Landscape) -> None:
    w = _random_points(landscape).requires_grad_(True)
    landscape(w).sum().backward()
    np.testing.assert_allclose(
        landscape.grad(w.detach()).numpy(), w.grad.numpy(), rtol=1e-10, atol=1e-9
    )


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
def test_gradient_vanishes_at_the_stationary_point(landscape: L.Landscape) -> None:
    g = landscape.grad(np.array(landscape.stationary_point))
    np.testing.assert_allclose(g, [0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize(
    "landscape", [f for f in ALL if f.minimum is not None], ids=lambda f: f.name
)
def test_minimum_is_lower_than_its_neighbours(landscape: L.Landscape) -> None:
    m = np.array(landscape.minimum)
    angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    for r in (1e-3, 1e-1):
        ring = m + r * np.column_stack((np.cos(angles), np.sin(angles)))
        assert np.all(landscape(ring) > landscape(m))
    assert float(landscape(m)) == pytest.approx(landscape.min_value, abs=1e-12)


def test_saddle_point_is_not_a_minimum_and_the_minima_are() -> None:
    assert saddle.minimum is None
    assert (
        float(saddle(np.array([0.0, 0.1])))
        < float(saddle(np.zeros(2)))
        < float(saddle(np.array([0.1, 0.0])))
    )
    for m in saddle.minima:
        np.testing.assert_allclose(saddle.grad(np.array(m)), [0.0, 0.0], atol=1e-15)
        assert float(saddle(np.array(m))) == pytest.approx(saddle.min_value)
    _, _, Z = saddle.grid(101)
    assert Z.min() >= saddle.min_value - 1e-12


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
def test_shapes_torch_in_torch_out_numpy_in_numpy_out(landscape: L.Landscape) -> None:
    assert landscape(torch.zeros(2)).shape == ()
    assert isinstance(landscape(torch.zeros(2)), torch.Tensor)
    assert landscape(torch.zeros(4, 3, 2)).shape == (4, 3)
    assert landscape.grad(torch.zeros(4, 3, 2)).shape == (4, 3, 2)
    out = landscape(np.zeros((5, 2)))
    assert isinstance(out, np.ndarray) and out.shape == (5,)
    assert landscape(torch.zeros(2, dtype=torch.float32)).dtype == torch.float32


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
def test_plot_metadata_is_consistent(landscape: L.Landscape) -> None:
    (x0, x1), (y0, y1) = landscape.bounds
    assert x0 < x1 and y0 < y1
    for p in (landscape.start, landscape.stationary_point):
        assert x0 <= p[0] <= x1 and y0 <= p[1] <= y1
    X, Y, Z = landscape.grid(30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    assert np.all(np.isfinite(Z))
    assert float(landscape(np.array(landscape.start))) > landscape.min_value


def test_ravine_is_ill_conditioned_and_rotated() -> None:
    assert ravine.condition_number >= 20
    assert abs(ravine.A[0, 1]) > 0  # rotated: the axes are not eigen-directions


def test_module_instances_have_the_documented_minima() -> None:
    assert rosenbrock.minimum == (1.0, 1.0)
    assert beale.minimum == (3.0, 0.5)
    assert saddle.stationary_point == (0.0, 0.0)
    assert set(L.LANDSCAPES) == {"ravine", "rosenbrock", "beale", "saddle"}


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"eigvals": (1.0, 0.0)}, ValueError),
        ({"eigvals": (1.0, -2.0)}, ValueError),
        ({"eigvals": (1.0, 2.0, 3.0)}, ValueError),
        ({"eigvals": (1.0, float("nan"))}, ValueError),
        ({"eigvals": "ab"}, TypeError),
        ({"eigvals": (1.0, 2.0), "angle": float("inf")}, ValueError),
        ({"eigvals": (1.0, 2.0), "angle": "0"}, TypeError),
        ({"eigvals": (1.0, 2.0), "center": (0.0,)}, ValueError),
    ],
)
def test_quadratic_rejects_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        Quadratic(**kwargs)


def test_calls_reject_points_that_are_not_2d() -> None:
    with pytest.raises(ValueError, match="shape"):
        ravine(torch.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        rosenbrock.grad(np.zeros((4, 1)))
    with pytest.raises(ValueError, match="shape"):
        beale(torch.tensor(1.0))
    with pytest.raises(TypeError):
        saddle(["a", "b"])
    with pytest.raises(ValueError, match="n must"):
        ravine.grid(1)


# -- the contour-and-path figures of evalib.book.plots ------------------------------------------
def test_plot_paths_draws_every_path_and_marks_the_minimum() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evalib.book import plots
    from evalib.theory import run_gd, run_momentum

    paths = {
        "GD": run_gd(ravine.grad, ravine.start, 0.09, 30),
        "momentum": run_momentum(ravine.grad, ravine.start, 0.05, 0.8, 30),
    }
    for landscape in (ravine, rosenbrock, saddle):
        fig, ax = plt.subplots()
        plots.plot_paths(ax, landscape, paths)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert {"GD", "momentum", "start"} <= set(labels)
        assert ("minimum" in labels) == (landscape.minimum is not None)
        line = next(li for li in ax.get_lines() if li.get_label() == "GD")
        np.testing.assert_array_equal(line.get_xydata(), paths["GD"])
        assert ax.get_xlim() == landscape.bounds[0]
        assert ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    with pytest.raises(ValueError):
        plots.plot_paths(plt.gca(), ravine, {"bad": np.zeros((3, 3))})
    plt.close("all")


def test_plot_paths_styles_replace_the_palette_colour_of_named_paths() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from evalib.book import plots
    from evalib.theory import run_gd

    paths = {
        "GD": run_gd(ravine.grad, ravine.start, 0.09, 5),
        "other": run_gd(ravine.grad, ravine.start, 0.05, 5),
    }
    _, ax = plt.subplots()
    plots.plot_paths(
        ax, ravine, paths, styles={"GD": {"color": plots.PALETTE["black"], "linestyle": "--"}}
    )
    lines = {li.get_label(): li for li in ax.get_lines()}
    assert (
        to_hex(lines["GD"].get_color()) == plots.PALETTE["black"].lower()
        and lines["GD"].get_linestyle() == "--"
    )
    assert to_hex(lines["other"].get_color()) == plots.COLORS[1].lower()
    with pytest.raises(ValueError, match="not in paths"):
        plots.plot_paths(ax, ravine, paths, styles={"Adam": {"color": "red"}})
    with pytest.raises(TypeError, match="styles must"):
        plots.plot_paths(ax, ravine, paths, styles={"GD": "red"})
    plt.close("all")


def test_complex_points_and_arguments_raise_type_errors_naming_them() -> None:
    with pytest.raises(TypeError, match=r"w must be .*complex"):
        rosenbrock(np.array([1.0 + 1.0j, 0.0]))
    with pytest.raises(TypeError, match="eigvals"):
        Quadratic((1.0 + 0j, 2.0))
    with pytest.raises(TypeError, match="n must be an int"):
        ravine.grid(2.5)
    # Torch in, torch out: a point that requires grad is evaluated as NumPy's twin is.
    w = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    assert beale(w).item() == pytest.approx(float(beale(np.array([0.5, 0.5]))))
