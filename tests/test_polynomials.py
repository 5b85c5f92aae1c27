"""Tests of evalib.polynomials: each polynomial against the iterates of its method, the
Chebyshev polynomials against NumPy's, and conjugate gradients against SciPy's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.polynomial import chebyshev as npcheb
from scipy.sparse.linalg import cg as scipy_cg

from evalib import polynomials as P
from evalib import theory
from evalib.optim import nesterov_lookahead

KAPPAS = (10.0, 100.0, 1000.0)


def _diagonal_problem(kappa: float, n: int = 8, seed: int = 0):
    """Eigenvalues from 1 to κ, a start, and a minimiser away from 0 (b ≠ 0)."""
    rng = np.random.default_rng(seed)
    lam = np.sort(np.concatenate(([1.0, kappa], np.exp(rng.uniform(0, math.log(kappa), n - 2)))))
    w_star, w0 = rng.normal(size=n), rng.normal(size=n)
    return lam, w_star, w0, (lambda w: lam * (w - w_star))


def _random_spd(n: int, seed: int, kappa: float = 50.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T


# -- every polynomial is its method's error ------------------------------------------------
def test_every_residual_polynomial_equals_one_at_zero() -> None:
    for polys in (
        P.gd_polynomial(0.3, [0.0], 30),
        P.momentum_polynomial(0.3, 0.8, [0.0], 30),
        P.nesterov_polynomial(0.3, 0.8, [0.0], 30),
        P.chebyshev_polynomial([0.0], 1.0, 10.0, 30),
    ):
        np.testing.assert_allclose(polys[:, 0], 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_gd_polynomial_times_the_start_is_the_error_of_run_gd(kappa: float) -> None:
    lam, w_star, w0, grad = _diagonal_problem(kappa)
    lr, _ = theory.optimal_gd(lam)
    run = theory.run_gd(grad, w0, lr, 60)
    predicted = P.gd_polynomial(lr, lam, 60) * (w0 - w_star)
    np.testing.assert_allclose(run - w_star, predicted, rtol=0, atol=1e-13)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_momentum_polynomial_times_the_start_is_the_error_of_run_momentum(kappa: float) -> None:
    lam, w_star, w0, grad = _diagonal_problem(kappa)
    for lr, beta in (theory.optimal_momentum(lam)[:2], (0.5 / kappa, 0.9)):
        run = theory.run_momentum(grad, w0, lr, beta, 80)
        predicted = P.momentum_polynomial(lr, beta, lam, 80) * (w0 - w_star)
        np.testing.assert_allclose(run - w_star, predicted, rtol=0, atol=1e-12)


def test_momentum_polynomial_is_the_position_entry_of_powers_of_the_2x2_matrix() -> None:
    lr, beta = 0.05, 0.7
    lam = np.array([0.5, 3.0, 20.0, 39.0])
    polys = P.momentum_polynomial(lr, beta, lam, 40)
    for i, x in enumerate(lam):
        state = np.array([0.0, 1.0])  # (velocity, position), z_0 = 0
        R = theory.momentum_matrix(lr, beta, x)
        for k in range(41):
            assert polys[k, i] == pytest.approx(state[1], abs=1e-13)
            state = R @ state


def test_momentum_polynomial_with_beta_zero_is_the_gd_polynomial() -> None:
    lam = np.linspace(0.0, 10.0, 11)
    np.testing.assert_allclose(
        P.momentum_polynomial(0.15, 0.0, lam, 25), P.gd_polynomial(0.15, lam, 25), atol=1e-14
    )


@pytest.mark.parametrize("kappa", KAPPAS)
def test_nesterov_polynomial_times_the_start_is_the_error_of_pytorch_nesterov(
    kappa: float,
) -> None:
    lam, w_star, w0, grad = _diagonal_problem(kappa)
    lr, beta, _ = theory.optimal_nesterov(lam)
    steps = 50
    predicted = P.nesterov_polynomial(lr, beta, lam, steps) * (w0 - w_star)
    w, z = nesterov_lookahead(grad, w0, lr, beta, steps)
    np.testing.assert_allclose(w - lr * beta * z - w_star, predicted, rtol=0, atol=1e-12)
    # ... and torch.optim.SGD(nesterov=True), an implementation evalib did not write.
    param = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr, momentum=beta, nesterov=True)
    path = [param.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        param.grad = torch.tensor(grad(param.detach().numpy()))
        opt.step()
        path.append(param.detach().numpy().copy())
    np.testing.assert_allclose(np.array(path) - w_star, predicted, rtol=0, atol=1e-12)


# -- Chebyshev ---------------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi", [(1.0, 10.0), (0.5, 200.0), (2.0, 3.0)])
def test_chebyshev_polynomial_is_numpys_chebyshev_polynomial_scaled(lo: float, hi: float) -> None:
    lam = np.linspace(0.0, 1.2 * hi, 301)
    ours = P.chebyshev_polynomial(lam, lo, hi, 30)
    t, sigma = (hi + lo - 2 * lam) / (hi - lo), (hi + lo) / (hi - lo)
    for k in range(31):
        basis = np.eye(k + 1)[k]  # the coefficients of T_k in the Chebyshev basis
        expected = npcheb.chebval(t, basis) / npcheb.chebval(sigma, basis)
        np.testing.assert_allclose(ours[k], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_chebyshev_max_on_the_interval_is_the_closed_form_and_numpys_one_over_t_k(
    kappa: float,
) -> None:
    lo, hi, steps = 1.0, kappa, 40
    closed = P.chebyshev_max(lo, hi, steps)
    sigma = (hi + lo) / (hi - lo)
    for k in range(1, steps + 1):
        # The extremal points t = cos(jπ/k) mapped back to λ, plus a dense grid.
        lam = np.concatenate(
            ((hi + lo) / 2 - (hi - lo) / 2 * np.cos(np.arange(k + 1) * np.pi / k),
             np.linspace(lo, hi, 2001))
        )  # fmt: skip
        values = P.chebyshev_polynomial(lam, lo, hi, k)[k]
        assert np.abs(values).max() == pytest.approx(closed[k], rel=1e-9)
        assert closed[k] == pytest.approx(1 / npcheb.chebval(sigma, np.eye(k + 1)[k]), rel=1e-12)


def test_chebyshev_polynomial_has_equal_ripples_of_alternating_sign() -> None:
    lo, hi, k = 1.0, 50.0, 9
    t = np.cos(np.arange(k + 1) * np.pi / k)  # where T_k = ±1
    lam = (hi + lo) / 2 - (hi - lo) / 2 * t
    values = P.chebyshev_polynomial(lam, lo, hi, k)[k]
    np.testing.assert_allclose(np.abs(values), P.chebyshev_max(lo, hi, k)[k], rtol=1e-10)
    assert np.all(np.sign(values[1:]) == -np.sign(values[:-1]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_other_polynomial_with_p_of_0_equal_1_is_smaller_on_the_interval(seed: int) -> None:
    lo, hi, k = 1.0, 30.0, 6
    grid = np.linspace(lo, hi, 4001)
    best = P.chebyshev_max(lo, hi, k)[k]
    rng = np.random.default_rng(seed)
    cheb = P.chebyshev_polynomial(grid, lo, hi, k)[k]
    for _ in range(200):  # P_k plus a small polynomial that vanishes at 0
        coef = rng.normal(size=k) * 10.0 ** rng.uniform(-6, -1) / hi ** np.arange(1, k + 1)
        bump = sum(c * grid ** (j + 1) for j, c in enumerate(coef))
        assert np.abs(cheb + bump).max() >= best * (1 - 1e-12)
    # The other methods' polynomials of the same degree are larger.
    lr, beta, _ = theory.optimal_momentum([lo, hi])
    assert np.abs(P.momentum_polynomial(lr, beta, grid, k)[k]).max() > best
    assert np.abs(P.gd_polynomial(2 / (lo + hi), grid, k)[k]).max() > best


@pytest.mark.parametrize("kappa", KAPPAS)
def test_chebyshev_steps_tend_to_polyaks_heavy_ball(kappa: float) -> None:
    lrs, betas = P.chebyshev_steps(1.0, kappa, 4000)
    lr, beta, _ = theory.optimal_momentum([1.0, kappa])
    assert lrs[0] == pytest.approx(2 / (1 + kappa)) and betas[0] == 0.0
    assert lrs[-1] == pytest.approx(lr, rel=1e-9) and betas[-1] == pytest.approx(beta, rel=1e-9)


@pytest.mark.parametrize("kappa", KAPPAS)
def test_chebyshev_iteration_error_is_the_chebyshev_polynomial_times_the_start(
    kappa: float,
) -> None:
    lam, w_star, w0, grad = _diagonal_problem(kappa)
    run = P.chebyshev_iteration(grad, w0, 1.0, kappa, 60)
    predicted = P.chebyshev_polynomial(lam, 1.0, kappa, 60) * (w0 - w_star)
    np.testing.assert_allclose(run - w_star, predicted, rtol=0, atol=1e-12)
    # Its error never exceeds the guarantee max|P_k| · ‖w0 − w*‖.
    errors = np.linalg.norm(run - w_star, axis=1)
    bound = P.chebyshev_max(1.0, kappa, 60) * np.linalg.norm(w0 - w_star)
    assert np.all(errors <= bound * (1 + 1e-9) + 1e-13)


def test_chebyshev_iteration_on_a_dense_quadratic_follows_the_polynomial_in_its_eigenbasis() -> (
    None
):
    A = _random_spd(12, seed=4)
    lam, Q = np.linalg.eigh(A)
    b = np.arange(12.0)
    w_star = np.linalg.solve(A, b)
    w0 = np.ones(12)
    run = P.chebyshev_iteration(lambda w: A @ w - b, w0, lam[0], lam[-1], 40)
    predicted = P.chebyshev_polynomial(lam, lam[0], lam[-1], 40) * (Q.T @ (w0 - w_star))
    np.testing.assert_allclose((run - w_star) @ Q, predicted, rtol=0, atol=1e-9)


# -- conjugate gradients ------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conjugate_gradient_iterates_equal_scipys(seed: int) -> None:
    A = _random_spd(40, seed)
    rng = np.random.default_rng(seed)
    b, x0 = rng.normal(size=40), rng.normal(size=40)
    ours = P.conjugate_gradient(A, b, x0, 25)
    theirs: list[np.ndarray] = []
    scipy_cg(
        A, b, x0=x0, rtol=0.0, atol=0.0, maxiter=25, callback=lambda x: theirs.append(x.copy())
    )
    assert len(theirs) == 25
    np.testing.assert_allclose(ours[1:], np.array(theirs), rtol=1e-10, atol=1e-12)


def test_conjugate_gradient_minimises_the_a_norm_error_over_the_krylov_space() -> None:
    A = _random_spd(20, seed=5, kappa=200.0)
    b = np.random.default_rng(5).normal(size=20)
    w_star = np.linalg.solve(A, b)
    ours = P.conjugate_gradient(A, b, np.zeros(20), 8)
    for k in range(1, 9):
        # The best point of span{b, Ab, ..., A^{k-1} b} in the A-norm, by least squares
        # in an orthonormal basis of that span.
        krylov = np.linalg.qr(np.stack([np.linalg.matrix_power(A, j) @ b for j in range(k)], 1))[0]
        coef = np.linalg.solve(krylov.T @ A @ krylov, krylov.T @ b)
        np.testing.assert_allclose(ours[k], krylov @ coef, rtol=0, atol=1e-8 * np.abs(w_star).max())


def test_conjugate_gradient_solves_n_distinct_eigenvalues_in_n_steps_then_stays() -> None:
    A = np.diag([1.0, 2.0, 5.0])
    b = np.array([1.0, 1.0, 1.0])
    path = P.conjugate_gradient(A, b, np.zeros(3), 6)
    np.testing.assert_allclose(path[3], b / np.diag(A), rtol=1e-12)
    np.testing.assert_allclose(path[3:], np.broadcast_to(path[3], (4, 3)), rtol=1e-12)
    # A start at the solution: the residual is exactly zero and nothing moves.
    solved = P.conjugate_gradient(np.eye(2), [1.0, 2.0], [1.0, 2.0], 3)
    assert np.array_equal(solved, np.array([[1.0, 2.0]] * 4))


# -- input checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: P.gd_polynomial(0.0, [1.0], 3), ValueError, "lr"),
        (lambda: P.gd_polynomial(0.1, [[1.0]], 3), ValueError, "lam"),
        (lambda: P.gd_polynomial(0.1, "1", 3), TypeError, "lam"),
        (lambda: P.gd_polynomial(0.1, [1.0], -1), ValueError, "steps"),
        (lambda: P.gd_polynomial(0.1, [1.0], 2.5), TypeError, "steps"),
        (lambda: P.momentum_polynomial(0.1, 1.0, [1.0], 3), ValueError, "beta"),
        (lambda: P.nesterov_polynomial(0.1, -0.1, [1.0], 3), ValueError, "beta"),
        (lambda: P.nesterov_polynomial(0.1, 0.5, [float("nan")], 3), ValueError, "lam"),
        (lambda: P.chebyshev_polynomial([1.0], 2.0, 1.0, 3), ValueError, "lo"),
        (lambda: P.chebyshev_polynomial([1.0], 0.0, 1.0, 3), ValueError, "lo"),
        (lambda: P.chebyshev_max(1.0, float("inf"), 3), ValueError, "hi"),
        (lambda: P.chebyshev_steps(1.0, 2.0, None), TypeError, "steps"),
        (lambda: P.chebyshev_iteration(None, [1.0], 1.0, 2.0, 3), TypeError, "grad"),
        (lambda: P.chebyshev_iteration(lambda w: w, [], 1.0, 2.0, 3), ValueError, "w0"),
        (
            lambda: P.chebyshev_iteration(lambda w: w[:1], [1.0, 2.0], 1.0, 2.0, 3),
            ValueError,
            "grad",
        ),
        (lambda: P.conjugate_gradient(np.ones((2, 3)), [1.0, 1.0], [0.0, 0.0], 3), ValueError, "A"),
        (
            lambda: P.conjugate_gradient([[1.0, 2.0], [0.0, 1.0]], [1, 1], [0, 0], 3),
            ValueError,
            "A",
        ),
        (lambda: P.conjugate_gradient(np.eye(2), [1.0], [0.0, 0.0], 3), ValueError, "b"),
        (lambda: P.conjugate_gradient(np.eye(2), [1.0, 1.0], [0.0], 3), ValueError, "x0"),
        (lambda: P.conjugate_gradient(-np.eye(2), [1.0, 1.0], [0.0, 0.0], 3), ValueError, "A"),
    ],
)
def test_bad_input_raises_an_error_naming_the_argument(call, error, name: str) -> None:
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()
