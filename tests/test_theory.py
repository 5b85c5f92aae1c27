"""Tests of evalib.theory: every formula against brute force and against actual runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evalib import theory as T
from evalib.landscapes import ravine, rosenbrock

RNG_SEEDS = (0, 1, 2)
KAPPAS = (10.0, 100.0, 1000.0)


def _spectrum(kappa: float, n: int = 6, seed: int = 0) -> np.ndarray:
    """``n`` eigenvalues in ``[1, κ]`` with both ends present, so the condition number is κ."""
    rng = np.random.default_rng(seed)
    inner = np.exp(rng.uniform(0.0, math.log(kappa), n - 2))
    return np.sort(np.concatenate(([1.0, kappa], inner)))


def _random_spd(eigvals: np.ndarray, seed: int) -> np.ndarray:
    """A dense symmetric matrix with these eigenvalues (random orthogonal basis)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(eigvals.size,) * 2))
    return q @ np.diag(eigvals) @ q.T


def _dense_quadratic(kappa: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues from 1 to ``kappa`` (:func:`_spectrum`) and a dense ``A`` that has them."""
    lam = _spectrum(kappa, seed=seed)
    return lam, _random_spd(lam, seed)


def _long_run_rate(
    A: np.ndarray, x0: np.ndarray, lr: float, beta: float, predicted: float
) -> float:
    """The rate measured on a run of the heavy ball (``beta = 0``: ``run_gd``) on ``½wᵀAw``.

    The minimiser sits at 0 (b = 0): errors then keep full relative precision far below
    1e-16, so a run until the predicted error is 1e-120 (at most 8000 steps) isolates
    the asymptotic rate from the transient.
    """
    steps = int(min(8000, T.iterations_needed(predicted, 1e-120)))
    if beta == 0:
        path = T.run_gd(lambda w: A @ w, x0, lr, steps)
    else:
        path = T.run_momentum(lambda w: A @ w, x0, lr, beta, steps)
    return T.empirical_rate(np.linalg.norm(path, axis=1))


def _brute_momentum_radius(lr: float, beta: float, eigvals: np.ndarray) -> float:
    return max(np.abs(np.linalg.eigvals(T.momentum_matrix(lr, beta, lam))).max() for lam in eigvals)


# -- gradient descent --------------------------------------------------------------------
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_gd_rate_is_the_spectral_radius_of_the_gd_iteration_matrix(seed: int) -> None:
    lam = _spectrum(50.0, seed=seed)
    A = _random_spd(lam, seed)
    for lr in (0.001, 0.02, 2.0 / 51.0, 0.039, 0.045):
        brute = np.abs(np.linalg.eigvals(np.eye(lam.size) - lr * A)).max()
        assert T.gd_rate(lr, lam) == pytest.approx(brute, rel=1e-10)


def test_gd_error_closed_form_equals_a_run_in_eigen_coordinates() -> None:
    lam = np.array([0.2, 1.5, 4.0])
    x0 = np.array([1.0, -2.0, 0.5])
    path = T.run_gd(lambda x: lam * x, x0, lr=0.3, steps=25)
    np.testing.assert_allclose(T.gd_error(0.3, lam, x0, 25), path, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_optimal_gd_formula_and_that_no_other_step_does_better(kappa: float) -> None:
    lam = _spectrum(kappa)
    lr, rate = T.optimal_gd(lam)
    assert lr == pytest.approx(2.0 / (1.0 + kappa))
    assert rate == pytest.approx((kappa - 1.0) / (kappa + 1.0))
    assert T.gd_rate(lr, lam) == pytest.approx(rate)
    grid = np.linspace(1e-4, 2.0 / kappa, 4001)
    assert min(T.gd_rate(a, lam) for a in grid) >= rate - 1e-12


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_gd_rate_measured_on_a_random_dense_quadratic_matches_the_prediction(
    kappa: float, seed: int
) -> None:
    lam, A = _dense_quadratic(kappa, seed)
    rng = np.random.default_rng(seed + 10)
    for lr in (T.optimal_gd(lam)[0], 0.6 / kappa):
        measured = _long_run_rate(A, rng.normal(size=lam.size), lr, 0.0, T.gd_rate(lr, lam))
        assert measured == pytest.approx(T.gd_rate(lr, lam), rel=2e-3)


@pytest.mark.parametrize("eps", (0.01, 0.001))
def test_gd_stability_boundary_lr_lambda_equal_two_on_both_sides(eps: float) -> None:
    lam = np.array([0.5, 10.0])
    x0 = np.array([1.0, 1.0])
    steps = int(10 / eps)  # (1 ± eps)**steps is about exp(∓10)
    inside = T.run_gd(lambda x: lam * x, x0, lr=(2 - eps) / 10.0, steps=steps)
    outside = T.run_gd(lambda x: lam * x, x0, lr=(2 + eps) / 10.0, steps=steps)
    assert T.gd_rate((2 - eps) / 10.0, lam) < 1 < T.gd_rate((2 + eps) / 10.0, lam)
    assert np.linalg.norm(inside[-1]) < 1e-3 * np.linalg.norm(x0)
    assert np.linalg.norm(outside[-1]) > 1e3 * np.linalg.norm(x0)


def test_d2l_example_crawls_at_0_4_and_diverges_at_0_6() -> None:
    # f = 0.1 x1² + 2 x2²: Hessian eigenvalues 0.2 and 4 (Zhang et al., "Momentum").
    lam = np.array([0.2, 4.0])
    assert T.gd_rate(0.4, lam) == pytest.approx(0.92)  # |1 - 0.4*0.2|: the crawl
    assert T.gd_rate(0.6, lam) == pytest.approx(1.4)  # |1 - 0.6*4|: divergence
    assert T.momentum_rate(0.6, 0.5, lam) < 1  # momentum converges at the same step


# -- momentum ------------------------------------------------------------------------------
def test_momentum_matrix_is_one_step_of_the_heavy_ball() -> None:
    lr, beta, lam = 0.07, 0.8, 3.0
    z, x = 0.4, -1.3
    z_new = beta * z + lam * x
    x_new = x - lr * z_new
    np.testing.assert_allclose(T.momentum_matrix(lr, beta, lam) @ [z, x], [z_new, x_new])


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_momentum_roots_equal_numpy_eigenvalues_of_R(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        lr, beta, lam = rng.uniform(0.01, 1.0), rng.uniform(0.0, 0.999), rng.uniform(0.01, 5.0)
        brute = np.linalg.eigvals(T.momentum_matrix(lr, beta, lam))
        ours = T.momentum_roots(lr * lam, beta)
        # Each root is one of numpy's (near a double root an eigen-solver is only
        # accurate to about √eps ≈ 1e-8), and the pair has R's trace and determinant.
        for mu in ours:
            assert np.min(np.abs(brute - mu)) < 1e-7
        assert ours.sum() == pytest.approx(np.trace(T.momentum_matrix(lr, beta, lam)))
        assert ours.prod() == pytest.approx(np.linalg.det(T.momentum_matrix(lr, beta, lam)))
        assert abs(ours[0]) >= abs(ours[1]) - 1e-15


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_momentum_rate_is_the_largest_spectral_radius_of_the_R_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lam = _spectrum(200.0, seed=seed)
    for _ in range(50):
        lr, beta = rng.uniform(1e-4, 0.02), rng.uniform(0.0, 0.99)
        assert T.momentum_rate(lr, beta, lam) == pytest.approx(
            _brute_momentum_radius(lr, beta, lam), rel=1e-7
        )


def test_momentum_with_beta_zero_is_gradient_descent() -> None:
    lam = _spectrum(30.0)
    for lr in (0.01, 0.05, 0.07):
        assert T.momentum_rate(lr, 0.0, lam) == pytest.approx(T.gd_rate(lr, lam))
    grad = lambda w: lam * w  # noqa: E731
    np.testing.assert_array_equal(
        T.run_momentum(grad, np.ones(lam.size), 0.05, 0.0, 40),
        T.run_gd(grad, np.ones(lam.size), 0.05, 40),
    )


def test_roots_are_complex_with_modulus_sqrt_beta_exactly_inside_the_damping_band() -> None:
    h = np.linspace(0.01, 3.9, 300)[:, None]
    beta = np.linspace(0.0, 0.99, 300)[None, :]
    roots = T.momentum_roots(h, beta)
    complex_ = np.abs(roots[..., 0].imag) > 1e-12
    band = ((1 - np.sqrt(h)) ** 2 < beta) & (beta < (1 + np.sqrt(h)) ** 2)
    # Points within rounding of the band's edges may land either way.
    edge = (
        np.minimum(np.abs(beta - (1 - np.sqrt(h)) ** 2), np.abs(beta - (1 + np.sqrt(h)) ** 2))
        < 1e-9
    )
    assert np.array_equal(complex_[~edge], band[~edge])
    np.testing.assert_allclose(
        np.abs(roots[..., 0])[complex_], np.broadcast_to(np.sqrt(beta), complex_.shape)[complex_]
    )


@pytest.mark.parametrize("beta", (0.0, 0.5, 0.9, 0.99))
def test_momentum_stability_boundary_lr_lambda_equal_two_plus_two_beta(beta: float) -> None:
    lam = 1.0
    edge = 2.0 + 2.0 * beta
    assert T.momentum_rate(edge * 0.999, beta, lam) < 1.0
    assert T.momentum_rate(edge * 1.001, beta, lam) > 1.0
    # ... and a run agrees on both sides (one mode, error in x), over about 20 e-folds.
    for factor in (0.999, 1.001):
        lr = edge * factor
        steps = int(20 / abs(math.log(T.momentum_rate(lr, beta, lam))))
        final = abs(T.run_momentum(lambda x: lam * x, [1.0], lr, beta, steps)[-1, 0])
        assert final < 1e-3 if factor < 1 else final > 1e3
    # Below the edge, a tiny step still converges; at lr <= 0 there is no method.
    assert T.momentum_rate(1e-6, beta, lam) < 1.0


def test_critical_beta_is_where_the_roots_meet_and_the_direction_is_fastest() -> None:
    for lr, lam in ((0.1, 1.0), (0.01, 9.0), (0.5, 0.3)):
        bc = T.critical_beta(lr, lam)
        assert bc == pytest.approx((1 - math.sqrt(lr * lam)) ** 2)
        r = T.momentum_roots(lr * lam, bc)
        assert abs(r[0] - r[1]) < 1e-6  # a double root
        assert abs(r[0]) == pytest.approx(math.sqrt(bc), rel=1e-6)
        # Real and distinct just below, complex just above.
        assert abs(T.momentum_roots(lr * lam, bc * 0.99)[0].imag) == 0.0
        assert abs(T.momentum_roots(lr * lam, bc * 1.01 + 1e-9)[0].imag) > 0.0
        betas = np.linspace(0.0, 0.999, 2000)
        rates = [T.momentum_rate(lr, b, lam) for b in betas]
        assert min(rates) >= math.sqrt(bc) - 2e-3
        assert betas[int(np.argmin(rates))] == pytest.approx(bc, abs=1e-3)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_optimal_momentum_formula_and_a_grid_search_finds_nothing_better(kappa: float) -> None:
    lam = _spectrum(kappa)
    lr, beta, rate = T.optimal_momentum(lam)
    sk = math.sqrt(kappa)
    assert lr == pytest.approx((2 / (1 + sk)) ** 2)
    assert beta == pytest.approx(((sk - 1) / (sk + 1)) ** 2)
    assert rate == pytest.approx((sk - 1) / (sk + 1))
    # At the optimum both extreme directions have a double root, where the square root
    # of a discriminant of about ±1e-16 costs about 1e-8 of accuracy.
    assert T.momentum_rate(lr, beta, lam) == pytest.approx(rate, rel=1e-7)
    assert rate < T.optimal_gd(lam)[1]
    best = min(
        T.momentum_rate(a, b, lam)
        for a in np.linspace(0.05, 2.0, 60) * lr
        for b in np.linspace(0.0, 0.999, 60)
    )
    assert best >= rate - 1e-9


@pytest.mark.parametrize("kappa", KAPPAS)
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_momentum_rate_measured_on_a_random_dense_quadratic_matches_the_prediction(
    kappa: float, seed: int
) -> None:
    lam, A = _dense_quadratic(kappa, seed)
    rng = np.random.default_rng(seed + 20)
    lr_opt, beta_opt, _ = T.optimal_momentum(lam)
    # Away from critical damping the error is a plain geometric sequence (times an
    # oscillation for complex roots), so a long window measures the rate closely.
    for lr, beta in ((0.5 * lr_opt, 0.8 * beta_opt), (lr_opt, min(0.999, 1.1 * beta_opt))):
        predicted = T.momentum_rate(lr, beta, lam)
        measured = _long_run_rate(A, rng.normal(size=lam.size), lr, beta, predicted)
        # Rotating (complex) modes make the envelope's peaks uneven: 0.5 % tolerance.
        assert measured == pytest.approx(predicted, rel=5e-3)


def test_iterations_to_tolerance_of_a_run_matches_iterations_needed() -> None:
    for kappa in KAPPAS:
        lam = np.array([1.0, kappa])
        x0 = np.array([1.0, 0.0])  # only the slow mode: its error is exactly rate**k
        lr = 1.0 / kappa
        rate = T.gd_rate(lr, lam)
        path = T.run_gd(
            lambda x, lam=lam: lam * x, x0, lr, int(3 * T.iterations_needed(rate, 1e-6))
        )
        k = T.iterations_to_tolerance(np.linalg.norm(path, axis=1), 1e-6)
        assert k == math.ceil(T.iterations_needed(rate, 1e-6) - 1e-9)
    assert T.iterations_needed(1.2, 1e-3) == math.inf
    assert T.iterations_to_tolerance([1.0, 2.0, 4.0], 0.5) is None


def test_run_momentum_equals_torch_sgd_with_momentum() -> None:
    # torch.optim.SGD(momentum=β) updates v ← βv + g, w ← w − αv: the same heavy ball.
    for landscape, lr, beta in ((ravine, 0.02, 0.9), (rosenbrock, 1e-4, 0.95)):
        ours = T.run_momentum(landscape.grad, landscape.start, lr, beta, 100)
        w = torch.tensor(landscape.start, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=lr, momentum=beta)
        theirs = [w.detach().clone().numpy()]
        for _ in range(100):
            opt.zero_grad()
            landscape(w).backward()
            opt.step()
            theirs.append(w.detach().clone().numpy())
        np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-10, atol=1e-12)


def test_empirical_rate_recovers_a_geometric_sequence() -> None:
    e = 3.0 * 0.87 ** np.arange(100)
    assert T.empirical_rate(e) == pytest.approx(0.87)
    assert T.empirical_rate(e, start=0, stop=10) == pytest.approx(0.87)
    assert T.empirical_rate(np.array([1.0, 0.0])) == 0.0
    growing = 0.5 * 1.1 ** np.arange(60) * (1.0 + 0.5 * np.cos(2.0 * np.arange(60)))
    assert T.empirical_rate(growing, 0, 59) == pytest.approx(1.1, rel=2e-2)
    decaying = 0.9 ** np.arange(200) * np.abs(np.cos(0.7 * np.arange(200)))
    assert T.empirical_rate(decaying) == pytest.approx(0.9, rel=1e-2)  # uneven peaks


def test_quadratic_landscape_and_theory_agree_on_the_ravine() -> None:
    lr, rate = T.optimal_gd(ravine.eigvals)
    path = T.run_gd(ravine.grad, ravine.start, lr, 400)
    err = np.linalg.norm(path - np.array(ravine.minimum), axis=1)
    assert T.empirical_rate(err) == pytest.approx(rate, rel=2e-3)
    assert ravine.condition_number == pytest.approx((1 + rate) / (1 - rate))


# -- Nesterov --------------------------------------------------------------------------------
def _lookahead_matrix(lr: float, beta: float, lam: float) -> np.ndarray:
    """One step of Nesterov's look-ahead form on ``λw²/2``, acting on ``(w, z)``: written
    from the update ``z ← βz + λ(w − αβz)``, ``w ← w − αz``, independently of evalib."""
    damp = 1 - lr * lam
    return np.array([[damp, -lr * beta * damp], [lam, beta * damp]])


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_nesterov_rate_is_the_spectral_radius_of_the_lookahead_iteration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        lam = rng.uniform(0.1, 10.0, size=4)
        lr, beta = rng.uniform(0.01, 0.4), rng.uniform(0.0, 0.99)
        brute = max(np.abs(np.linalg.eigvals(_lookahead_matrix(lr, beta, x))).max() for x in lam)
        # Near a double root the roots are ill-conditioned: agreement to about √ε.
        assert T.nesterov_rate(lr, beta, lam) == pytest.approx(brute, rel=1e-6)


def test_nesterov_rate_with_beta_zero_is_gradient_descent() -> None:
    lam = _spectrum(100.0)
    for lr in (0.001, 0.01, 0.019, 0.03):
        assert T.nesterov_rate(lr, 0.0, lam) == pytest.approx(T.gd_rate(lr, lam), rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9, 0.99])
def test_nesterov_stability_edge_is_lr_lambda_equal_two_plus_two_beta_over_one_plus_two_beta(
    beta: float,
) -> None:
    edge = (2 + 2 * beta) / (1 + 2 * beta)
    assert T.nesterov_rate(edge * (1 - 1e-6), beta, [1.0]) < 1
    assert T.nesterov_rate(edge * (1 + 1e-6), beta, [1.0]) > 1


@pytest.mark.parametrize("kappa", KAPPAS)
def test_optimal_nesterov_formula_and_no_setting_nearby_or_on_a_grid_is_faster(
    kappa: float,
) -> None:
    lam = _spectrum(kappa)
    lr, beta, rate = T.optimal_nesterov(lam)
    s = math.sqrt(3 * kappa + 1)
    assert lr == pytest.approx(4 / (3 * kappa + 1), rel=1e-14)
    assert beta == pytest.approx((s - 2) / (s + 2), rel=1e-14)
    assert rate == pytest.approx(1 - 2 / s, rel=1e-14)
    # The slowest direction has a double root: √ε of accuracy.
    assert T.nesterov_rate(lr, beta, lam) == pytest.approx(rate, rel=1e-7)
    heavy_ball, gd = T.optimal_momentum(lam)[2], T.optimal_gd(lam)[1]
    assert heavy_ball < rate < gd
    nearby = min(
        T.nesterov_rate(lr * (1 + da), beta + db, lam)
        for da in np.linspace(-0.02, 0.02, 21)
        for db in np.linspace(-0.01, 0.01, 21)
        if beta + db < 1
    )
    grid = min(
        T.nesterov_rate(a, b, lam)
        for a in np.linspace(0.05, 1.6, 60) * lr
        for b in np.linspace(0.0, 0.999, 60)
    )
    assert min(nearby, grid) >= rate - 1e-9


@pytest.mark.parametrize("kappa", KAPPAS)
def test_nesterov_rate_measured_on_a_run_of_nesterov_matches_the_prediction(kappa: float) -> None:
    from evalib.optim import nesterov_lookahead

    lam = _spectrum(kappa, n=4, seed=3)
    lr_opt, beta_opt, _ = T.optimal_nesterov(lam)
    lr, beta = 0.7 * lr_opt, 0.9 * beta_opt  # away from the double root: a clean rate
    predicted = T.nesterov_rate(lr, beta, lam)
    steps = int(min(3000, T.iterations_needed(predicted, 1e-100)))
    w, z = nesterov_lookahead(lambda v: lam * v, np.ones(lam.size), lr, beta, steps)
    pytorch_iterates = w - lr * beta * z  # "SGD with momentum and Nesterov"
    measured = T.empirical_rate(np.linalg.norm(pytorch_iterates, axis=1))
    assert measured == pytest.approx(predicted, rel=5e-3)


# -- input checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: T.gd_rate(0.1, []), ValueError),
        (lambda: T.gd_rate(0.1, [1.0, 0.0]), ValueError),
        (lambda: T.gd_rate(0.1, [1.0, -1.0]), ValueError),
        (lambda: T.gd_rate(0.1, [1.0, float("nan")]), ValueError),
        (lambda: T.gd_rate(0.1, [[1.0, 2.0]]), ValueError),
        (lambda: T.gd_rate(0.1, "1"), TypeError),
        (lambda: T.gd_rate(0.0, [1.0]), ValueError),
        (lambda: T.gd_rate(-0.1, [1.0]), ValueError),
        (lambda: T.gd_rate(None, [1.0]), TypeError),
        (lambda: T.momentum_rate(0.1, 1.0, [1.0]), ValueError),
        (lambda: T.momentum_rate(0.1, -0.1, [1.0]), ValueError),
        (lambda: T.momentum_rate(0.1, float("nan"), [1.0]), ValueError),
        (lambda: T.momentum_rate(0.1, True, [1.0]), TypeError),
        (lambda: T.momentum_matrix(0.1, 0.5, [1.0, 2.0]), ValueError),
        (lambda: T.momentum_matrix(0.1, 0.5, 0.0), ValueError),
        (lambda: T.optimal_gd([]), ValueError),
        (lambda: T.optimal_momentum([1.0, 0.0]), ValueError),
        (lambda: T.critical_beta(0.0, 1.0), ValueError),
        (lambda: T.run_gd(lambda w: w, [1.0], 0.1, -1), ValueError),
        (lambda: T.run_gd(lambda w: w, [float("inf")], 0.1, 3), ValueError),
        (lambda: T.empirical_rate([1.0]), ValueError),
        (lambda: T.iterations_needed(0.5, 1.5), ValueError),
        (lambda: T.iterations_needed(-0.5, 0.1), ValueError),
        (lambda: T.gd_error(0.1, [1.0, 2.0], [1.0], 3), ValueError),
        (lambda: T.nesterov_rate(0.0, 0.5, [1.0]), ValueError),
        (lambda: T.nesterov_rate(0.1, 1.0, [1.0]), ValueError),
        (lambda: T.nesterov_rate(0.1, 0.5, [0.0, 1.0]), ValueError),
        (lambda: T.nesterov_rate("0.1", 0.5, [1.0]), TypeError),
        (lambda: T.optimal_nesterov([]), ValueError),
        (lambda: T.optimal_nesterov([1.0, -2.0]), ValueError),
        (lambda: T.optimal_nesterov([1e-320, 2e-320]), ValueError),
    ],
)
def test_bad_input_raises_a_clear_error(call, error) -> None:
    with pytest.raises(error):
        call()


def test_optimal_settings_are_finite_for_extreme_but_representable_spectra() -> None:
    lr, rate = T.optimal_gd([1e-320, 1.0])
    assert lr == pytest.approx(2.0) and rate == 1.0  # κ beyond the float range: rate rounds to 1
    lr, rate = T.optimal_gd([1e308, 1.5e308])  # λ1 + λn overflows, 2 / (λ1 + λn) does not
    assert lr == pytest.approx(2 / 2.5e308) and rate == pytest.approx(0.2)
    lr, beta, rate = T.optimal_momentum([1e-300, 1e300])
    assert lr == pytest.approx(4e-300) and rate == pytest.approx(1.0) and beta == pytest.approx(1.0)
    lr, beta, rate = T.optimal_momentum([1e300, 1.7e308])
    assert math.isfinite(lr) and 0 < rate < 1 and beta == pytest.approx(rate**2)


@pytest.mark.parametrize(
    "call", [lambda: T.optimal_gd([1e-320]), lambda: T.optimal_momentum([1e-320, 2e-320])]
)
def test_optimal_step_beyond_the_float_range_is_refused_with_the_supported_range(call) -> None:
    with pytest.raises(ValueError, match=r"eigvals.*float range"):
        call()


def test_steps_up_to_1e150_give_the_formulas_values_and_beyond_are_refused() -> None:
    # αλ = 1e149: the roots of μ² − (1.5 − 1e149) μ + 0.5 are ≈ −1e149 and ≈ −5e-150.
    assert T.momentum_rate(0.1, 0.5, [1e150]) == pytest.approx(1e149)
    assert T.gd_rate(0.1, [1e150]) == pytest.approx(1e149)
    roots = T.momentum_roots(1e150, 0.5)
    np.testing.assert_allclose(roots, [-1e150, -0.5e-150], rtol=1e-12)
    for call in (lambda: T.momentum_rate(0.1, 0.5, [1e308]), lambda: T.gd_rate(0.1, [1e308])):
        with pytest.raises(ValueError, match=r"lr \* eigvals must all be <= 1e\+150.*float range"):
            call()
    with pytest.raises(ValueError, match=r"h must all be >= -1e\+150.*float range"):
        T.momentum_roots(-1e308, 1e308)


def test_momentum_roots_of_shapes_that_do_not_broadcast_are_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"h and beta must broadcast.*h \(2,\) and beta \(3,\)"):
        T.momentum_roots([1, 2], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("errors", [[math.nan, 1.0, 0.1], [-1.0, 0.5, 0.1], [1.0, -0.5, 0.1]])
def test_iterations_to_tolerance_refuses_errors_that_are_no_sizes(errors) -> None:
    with pytest.raises(ValueError, match=r"errors must be error sizes"):
        T.iterations_to_tolerance(errors, 0.5)


def test_runs_longer_than_a_gib_of_iterates_are_refused_naming_steps() -> None:
    for call in (
        lambda: T.run_momentum(lambda w: w, [1.0, 2.0], 0.1, 0.5, 10**12),
        lambda: T.gd_error(0.1, [1.0, 2.0], [1.0, 1.0], 10**12),
    ):
        with pytest.raises(ValueError, match=r"steps must be between 0 and 67108863"):
            call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: T.momentum_rate(1e308, 0.5, [10.0]),
        lambda: T.gd_rate(1e308, [10.0]),
        lambda: T.momentum_matrix(1e308, 0.5, 10.0),
    ],
)
def test_steps_beyond_the_float_range_are_refused_naming_the_callers_arguments(call) -> None:
    with pytest.raises(ValueError, match=r"lr.*eigval") as info:
        call()
    assert " h " not in f" {info.value} " and "h and beta" not in str(info.value)


def test_complex_or_boolean_eigenvalues_raise_type_errors() -> None:
    with pytest.raises(TypeError, match=r"eigvals.*complex"):
        T.gd_rate(0.1, np.array([1.0 + 1.0j, 2.0]))
    with pytest.raises(TypeError, match="eigvals"):
        T.optimal_gd([True, True])
    with pytest.raises(TypeError, match="steps"):
        T.gd_error(0.1, [1.0], [1.0], 2.5)


def test_tensors_that_require_grad_are_read_as_their_values() -> None:
    lam = torch.tensor([1.0, 10.0], requires_grad=True)
    assert T.gd_rate(0.1, lam) == T.gd_rate(0.1, [1.0, 10.0])
    assert T.optimal_momentum(lam) == T.optimal_momentum([1.0, 10.0])
    rate = T.momentum_rate(torch.tensor(0.1, dtype=torch.float64), np.float32(0.5), lam)
    assert rate == T.momentum_rate(0.1, 0.5, [1.0, 10.0])
