"""Tests of evalib.worst_case: the graphs against sums over their edges, the lower bound
against every method on the worst quadratic, colour against breadth-first search, and the
Lessard-Recht-Packard function against its definition and an exactly computed cycle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from evalib import polynomials, theory
from evalib import worst_case as W
from evalib.optim import nesterov_lookahead

KAPPAS = (10.0, 100.0, 1000.0)


def _edges(rows: int, cols: int) -> list[tuple[int, int]]:
    """The grid's neighbouring pairs, listed directly."""
    pairs = []
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                pairs.append((r * cols + c, r * cols + c + 1))
            if r + 1 < rows:
                pairs.append((r * cols + c, (r + 1) * cols + c))
    return pairs


def _every_method(problem: W.GraphQuadratic, steps: int) -> dict[str, np.ndarray]:
    """Iterates from w_0 = 0 of the five methods of the chapter, each tuned for [μ, L]."""
    lam = [problem.mu, problem.L]
    w0 = np.zeros(problem.b.size)
    lr_hb, beta_hb, _ = theory.optimal_momentum(lam)
    lr_n, beta_n, _ = theory.optimal_nesterov(lam)
    w, z = nesterov_lookahead(problem.grad, w0, lr_n, beta_n, steps)
    return {
        "gradient descent": theory.run_gd(problem.grad, w0, theory.optimal_gd(lam)[0], steps),
        "heavy ball": theory.run_momentum(problem.grad, w0, lr_hb, beta_hb, steps),
        "Nesterov": w - lr_n * beta_n * z,
        "Chebyshev": polynomials.chebyshev_iteration(
            problem.grad, w0, problem.mu, problem.L, steps
        ),
        "conjugate gradients": polynomials.conjugate_gradient(problem.A, problem.b, w0, steps),
    }


# -- graphs -------------------------------------------------------------------------------
@pytest.mark.parametrize("rows, cols", [(1, 1), (1, 7), (4, 5), (3, 1)])
def test_grid_laplacian_quadratic_form_is_the_sum_of_squared_differences_over_edges(
    rows: int, cols: int
) -> None:
    lap = W.grid_laplacian(rows, cols)
    w = np.random.default_rng(rows * cols).normal(size=rows * cols)
    expected = sum((w[i] - w[j]) ** 2 for i, j in _edges(rows, cols))
    assert w @ lap @ w == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(lap, lap.T)
    np.testing.assert_allclose(lap.sum(axis=1), 0.0, atol=0)


def test_path_laplacian_is_the_one_row_grid() -> None:
    np.testing.assert_array_equal(W.path_laplacian(6), W.grid_laplacian(1, 6))
    np.testing.assert_array_equal(np.diag(W.path_laplacian(4)), [1.0, 2.0, 2.0, 1.0])


# -- the worst case and the lower bound ----------------------------------------------------
@pytest.mark.parametrize("kappa", KAPPAS)
def test_worst_case_solution_is_the_closed_form_and_tends_to_rho_to_the_i(kappa: float) -> None:
    n = 60
    problem = W.worst_case(n, kappa)
    rho = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    i = np.arange(1, n + 1)
    closed = (rho**i - rho ** (2 * (n + 1) - i)) / (1 - rho ** (2 * (n + 1)))
    np.testing.assert_allclose(problem.solution, closed, rtol=1e-10, atol=1e-15)
    assert problem.rate == pytest.approx(rho, rel=1e-15) and problem.kappa == kappa
    long = W.worst_case(800, kappa).solution[:40]
    np.testing.assert_allclose(long, rho ** np.arange(1, 41), rtol=1e-12)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_worst_case_spectrum_is_the_closed_form_inside_mu_and_l(kappa: float) -> None:
    for n in (10, 400):
        problem = W.worst_case(n, kappa)
        eig = np.linalg.eigvalsh(problem.A)
        # The tridiagonal (-1, 2, -1) has the eigenvalues 2 - 2cos(jπ/(n + 1)).
        j = np.arange(1, n + 1)
        closed = 1 + (kappa - 1) / 4 * (2 - 2 * np.cos(j * np.pi / (n + 1)))
        np.testing.assert_allclose(eig, closed, rtol=1e-10)
        assert problem.mu < eig[0] and eig[-1] < problem.L
    # The function of the docstring, up to a constant, is ½wᵀAw − bᵀw.
    problem = W.worst_case(5, kappa)
    w = np.random.default_rng(0).normal(size=5)
    padded = np.concatenate(([1.0], w, [0.0]))
    f = (kappa - 1) / 8 * np.sum(np.diff(padded) ** 2) + 0.5 * w @ w
    assert problem(w) == pytest.approx(f - (kappa - 1) / 8, rel=1e-12)
    np.testing.assert_allclose(problem.grad(w), problem.A @ w - problem.b)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_after_k_steps_every_method_leaves_the_nodes_beyond_k_exactly_untouched(
    kappa: float,
) -> None:
    problem = W.worst_case(120, kappa)
    for name, path in _every_method(problem, 60).items():
        for k, w in enumerate(path):
            assert np.all(w[k:] == 0.0), f"{name} touched node {k + 1} after {k} steps"
            if k > 0 and name != "conjugate gradients":
                assert w[k - 1] != 0.0, f"{name} did not reach node {k} in {k} steps"


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("steps", [5, 20, 60])
def test_no_method_goes_below_the_lower_bound_on_the_worst_case(kappa: float, steps: int) -> None:
    n = 600  # long enough that w* = ρ^i to rounding over the nodes the methods reach
    problem = W.worst_case(n, kappa)
    start_error = np.linalg.norm(problem.solution)
    bound = W.lower_bound(kappa, steps) * start_error
    # The exact floor: the untouched tail of w* after k steps.
    tail = np.array([np.linalg.norm(problem.solution[k:]) for k in range(steps + 1)])
    np.testing.assert_allclose(tail, bound, rtol=1e-12)
    for name, path in _every_method(problem, steps).items():
        errors = np.linalg.norm(path - problem.solution, axis=1)
        assert np.all(errors >= tail * (1 - 1e-12)), name
        assert np.all(errors >= bound * (1 - 1e-9)), name


@pytest.mark.parametrize("kappa", KAPPAS)
def test_polyaks_heavy_ball_writes_the_solution_one_node_per_step_and_meets_the_bound(
    kappa: float,
) -> None:
    problem = W.worst_case(600, kappa)
    lr, beta, _ = theory.optimal_momentum([problem.mu, problem.L])
    path = theory.run_momentum(problem.grad, np.zeros(600), lr, beta, 50)
    for k in range(51):
        np.testing.assert_allclose(path[k, :k], problem.solution[:k], rtol=1e-9, atol=1e-300)
    errors = np.linalg.norm(path - problem.solution, axis=1)
    bound = W.lower_bound(kappa, 50) * np.linalg.norm(problem.solution)
    # Equal to 1e-8, down to where the rounding of w* (1e-16 of its norm) takes over.
    np.testing.assert_allclose(errors, bound, rtol=1e-8, atol=1e-15 * bound[0])


def test_lower_bound_is_rho_to_the_k() -> None:
    np.testing.assert_allclose(W.lower_bound(9.0, 4), 0.5 ** np.arange(5), rtol=1e-15)


# -- colorization ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [12, (5, 6)])
def test_colorization_is_goh_s_sum_of_seed_and_edge_terms(shape) -> None:
    rows, cols = (1, shape) if isinstance(shape, int) else shape
    seeds, colours = [0, 7, rows * cols - 1], [1.0, -0.5, 0.25]
    problem = W.colorization(shape, seeds, colours)
    w = np.random.default_rng(1).normal(size=rows * cols)
    f = 0.5 * sum((w[s] - c) ** 2 for s, c in zip(seeds, colours))
    f += 0.5 * sum((w[i] - w[j]) ** 2 for i, j in _edges(rows, cols))
    constant = 0.5 * sum(c**2 for c in colours)
    assert problem(w) == pytest.approx(f - constant, rel=1e-12)
    np.testing.assert_allclose(problem.A @ problem.solution, problem.b, atol=1e-12)
    eig = np.linalg.eigvalsh(problem.A)
    assert (problem.mu, problem.L) == pytest.approx((eig[0], eig[-1]), rel=1e-12)


@pytest.mark.parametrize("shape, seeds", [(30, [3, 17]), ((6, 8), [0, 29, 47])])
def test_hops_is_the_breadth_first_distance_to_the_nearest_seed(shape, seeds) -> None:
    rows, cols = (1, shape) if isinstance(shape, int) else shape
    adjacency = (W.grid_laplacian(rows, cols) < 0).astype(float)
    distances = shortest_path(adjacency, unweighted=True, indices=seeds).min(axis=0)
    np.testing.assert_array_equal(W.hops(shape, seeds), distances.astype(int))


@pytest.mark.parametrize("shape, seeds", [(40, [5, 30]), ((7, 9), [10, 50])])
def test_colour_reaches_exactly_the_pixels_within_k_minus_1_hops_after_k_steps(
    shape, seeds
) -> None:
    problem = W.colorization(shape, seeds, [1.0, 0.6])
    distance = W.hops(shape, seeds)
    lam = [problem.mu, problem.L]
    w0 = np.zeros(problem.b.size)
    runs = {
        "gradient descent": theory.run_gd(problem.grad, w0, theory.optimal_gd(lam)[0], 30),
        "heavy ball": theory.run_momentum(problem.grad, w0, *theory.optimal_momentum(lam)[:2], 30),
    }
    for name, path in runs.items():
        for k, w in enumerate(path):
            np.testing.assert_array_equal(w != 0, distance <= k - 1, err_msg=f"{name}, k={k}")


# -- the Lessard-Recht-Packard function -----------------------------------------------------
def test_lrp_function_is_continuously_differentiable_1_strongly_convex_and_25_smooth() -> None:
    x = np.linspace(-3.0, 5.0, 8001)
    h = 1e-6
    numeric = (W.lrp_function(x + h) - W.lrp_function(x - h)) / (2 * h)
    np.testing.assert_allclose(W.lrp_gradient(x), numeric, rtol=1e-6, atol=1e-5)
    for edge in (1.0, 2.0):  # value and slope agree from both sides
        left, right = np.nextafter(edge, -np.inf), edge
        assert W.lrp_function(left) == pytest.approx(W.lrp_function(right), rel=1e-12)
        assert W.lrp_gradient(left) == pytest.approx(W.lrp_gradient(right), rel=1e-12)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-3, 5, 10000), rng.uniform(-3, 5, 10000)
    slopes = (W.lrp_gradient(a) - W.lrp_gradient(b)) / (a - b)
    assert slopes.min() >= W.LRP_MU - 1e-9 and slopes.max() <= W.LRP_L + 1e-9
    assert W.lrp_function(0.0) == 0.0 and W.lrp_gradient(0.0) == 0.0


def _polyak_cycle() -> np.ndarray:
    """The heavy ball's period-3 orbit through the pieces x < 1, x ≥ 2, x < 1, solved as
    three linear equations x_{k+1} = x_k − α g(x_k) + β(x_k − x_{k−1}), g = 25x or 25x − 24."""
    alpha, beta = 1 / 9, 4 / 9
    slopes, offsets = np.array([25.0, 25.0, 25.0]), np.array([0.0, -24.0, 0.0])
    # Unknowns (p, q, r), visited in that order and repeating.
    M, rhs = np.zeros((3, 3)), np.zeros(3)
    for j in range(3):  # x_{j+1} = (1 + β − α s_j) x_j − β x_{j−1} − α o_j
        cur, prev, nxt = j, (j - 1) % 3, (j + 1) % 3
        M[j, nxt] += 1.0
        M[j, cur] -= 1 + beta - alpha * slopes[cur]
        M[j, prev] += beta
        rhs[j] = -alpha * offsets[cur]
    return np.linalg.solve(M, rhs)


def test_polyaks_heavy_ball_cycles_on_the_lrp_function_and_nesterov_converges() -> None:
    lr, beta, _ = theory.optimal_momentum([W.LRP_MU, W.LRP_L])
    assert (lr, beta) == pytest.approx((1 / 9, 4 / 9), rel=1e-15)
    cycle = _polyak_cycle()
    np.testing.assert_allclose(cycle, np.array([-2208.0, 2592.0, 792.0]) / 1225, rtol=1e-12)
    assert cycle[0] < 1 and cycle[1] >= 2 and cycle[2] < 1  # each point in its piece
    path = theory.run_momentum(W.lrp_gradient, [3.3], lr, beta, 600)[:, 0]
    last = path[-3:]
    shift = int(np.argmin(np.abs(last[0] - cycle)))
    np.testing.assert_allclose(last, np.roll(cycle, -shift), rtol=1e-10)
    # Nesterov with its standard tuning, from the same start, converges.
    kappa = W.LRP_L / W.LRP_MU
    w, _ = nesterov_lookahead(
        W.lrp_gradient, [3.3], 1 / W.LRP_L, (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), 600
    )
    assert abs(w[-1, 0]) < 1e-12


def test_nesterov_meets_its_guarantee_on_the_lrp_function_from_every_start() -> None:
    kappa = W.LRP_L / W.LRP_MU
    lr, beta = 1 / W.LRP_L, (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    k = np.arange(201)
    for x0 in np.linspace(-10.0, 10.0, 201):
        w, _ = nesterov_lookahead(W.lrp_gradient, [x0], lr, beta, 200)
        start = W.lrp_function(x0) + W.LRP_MU / 2 * x0**2
        bound = (1 - 1 / math.sqrt(kappa)) ** k * start
        assert np.all(W.lrp_function(w[:, 0]) <= bound * (1 + 1e-12) + 1e-300)


# -- input checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: W.worst_case(0, 10.0), ValueError, "n"),
        (lambda: W.worst_case(5, 1.0), ValueError, "kappa"),
        (lambda: W.worst_case(5.0, 10.0), TypeError, "n"),
        (lambda: W.lower_bound(float("inf"), 3), ValueError, "kappa"),
        (lambda: W.lower_bound(10.0, -1), ValueError, "steps"),
        (lambda: W.grid_laplacian(0, 3), ValueError, "rows"),
        (lambda: W.path_laplacian("5"), TypeError, "n"),
        (lambda: W.colorization(10, [], []), ValueError, "seeds"),
        (lambda: W.colorization(10, [10], [1.0]), ValueError, "seeds"),
        (lambda: W.colorization(10, [1, 1], [1.0, 2.0]), ValueError, "seeds"),
        (lambda: W.colorization(10, 3, [1.0]), TypeError, "seeds"),
        (lambda: W.colorization(10, [1, 2], [1.0]), ValueError, "colours"),
        (lambda: W.colorization((2, 3, 4), [1], [1.0]), ValueError, "shape"),
        (lambda: W.hops((2, 0), [0]), ValueError, "shape"),
        (lambda: W.lrp_gradient("1"), TypeError, "x"),
        (lambda: W.lrp_function([float("nan")]), ValueError, "x"),
    ],
)
def test_bad_input_raises_an_error_naming_the_argument(call, error, name: str) -> None:
    with pytest.raises(error, match=rf"\b{name}"):
        call()
