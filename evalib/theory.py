"""Convergence theory of gradient descent and momentum on a convex quadratic.

The model is ``f(w) = ½ wᵀAw − bᵀw`` with a symmetric positive-definite ``A`` whose
eigenvalues ``0 < λ_1 ≤ … ≤ λ_n`` are the curvatures; ``κ = λ_n / λ_1`` is the
condition number. In the eigenbasis of ``A`` every method studied here splits into
``n`` independent one-dimensional problems, one per eigenvalue, so everything below
takes the eigenvalues only.

- Gradient descent ``w ← w − α∇f(w)`` ("Gradient descent and pathological
  curvature"): the error along eigenvector ``i`` is multiplied by ``1 − αλ_i`` at
  every step, so the rate is ``max_i |1 − αλ_i|``.
- Momentum, the heavy ball ``z ← βz + ∇f(w)``, ``w ← w − αz`` ("Momentum:
  the heavy ball", after Polyak 1964 and Goh 2017): along eigenvector ``i`` the pair
  ``(z, x)`` is multiplied by the 2×2 matrix ``R = [[β, λ], [−αβ, 1 − αλ]]``, and the
  rate is the largest spectral radius of these matrices.
- Nesterov's method (PyTorch's form ``z ← βz + ∇f(w)``, ``w ← w − α(∇f(w) + βz)``,
  "SGD with momentum and Nesterov"): its rate and its optimal tuning on a quadratic
  (Lessard, Recht and Packard 2016; "The limits of descent").

A *rate* is the factor by which the error shrinks per step in the long run: the
error after ``k`` steps behaves like ``rate**k`` (times a polynomial in ``k`` when
``R`` has a repeated eigenvalue). A rate below 1 means convergence.

Inputs follow one rule (``evalib._checks``): numbers and arrays of numbers may be
Python or NumPy values or torch tensors (read as their values); complex, boolean and
non-numeric inputs raise a ``TypeError`` naming the argument, non-finite ones a
``ValueError``. Steps ``h = lr·λ`` up to ``1e150`` are computed as the formulas read;
beyond, where ``(1 + β − h)²`` would leave the float range (and the run diverges at
once), a ``ValueError`` says so and names the arguments, instead of a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalib._checks import check_array, check_broadcast, check_callable, check_int, check_real

__all__ = [
    "gd_rate",
    "momentum_rate",
    "momentum_matrix",
    "momentum_roots",
    "optimal_gd",
    "optimal_momentum",
    "nesterov_rate",
    "optimal_nesterov",
    "critical_beta",
    "gd_error",
    "run_gd",
    "run_momentum",
    "empirical_rate",
    "iterations_needed",
    "iterations_to_tolerance",
]


# -- input checks (the public functions call them first; what follows trusts them) -----
_FLOAT_MAX = float(np.finfo(np.float64).max)
_H_MAX = 1e150  # |h| and |β| up to here keep (1 + β − h)² within the float range
_BEYOND = ", where (1 + β − h)² would leave the float range (the run diverges at once)"
_NO_LR = ": the optimal lr would be beyond the float range"
_MAX_VALUES = 2**27  # the most numbers a run or a closed form returns: 1 GiB of float64


def _eigvals(eigvals: ArrayLike, name: str = "eigvals") -> NDArray[np.float64]:
    """``eigvals`` as a non-empty 1-D float array of positive numbers."""
    lam = check_array(name, eigvals, nonempty=True, above=0, hint=" (A positive definite)")
    if lam.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {lam.shape}")
    return np.atleast_1d(lam)


def _lr(lr: Any) -> float:
    return check_real("lr", lr, above=0)


def _beta(beta: Any) -> float:
    return check_real("beta", beta, at_least=0, below=1)


def _h(alpha: float, lam: NDArray[np.float64], name: str = "eigvals") -> NDArray[np.float64]:
    """The products ``h = lr·λ``, each at most ``1e150`` (named ``lr * {name}``)."""
    with np.errstate(over="ignore"):  # inf, refused as beyond the bound
        return check_array(f"lr * {name}", alpha * lam, finite=False, at_most=_H_MAX, hint=_BEYOND)


def _one_direction(alpha: float, eigval: Any) -> tuple[float, float]:
    """``(λ, h = lr·λ)`` of a single eigenvalue ``eigval``, checked and named as such."""
    lam = _eigvals(eigval, "eigval")
    if lam.size != 1:
        raise ValueError(f"eigval must be a single eigenvalue, got {lam.size}")
    return float(lam[0]), float(_h(alpha, lam, "eigval")[0])


def _tol(tol: Any) -> float:
    return check_real("tol", tol, above=0, below=1)


# -- gradient descent -----------------------------------------------------------------
def gd_rate(lr: float, eigvals: ArrayLike) -> float:
    """Rate of gradient descent with step ``lr``: ``max_i |1 − lr·λ_i|``.

    Along eigenvector ``i`` the error obeys ``x_i^{k+1} = (1 − αλ_i) x_i^k``, so
    ``x_i^k = (1 − αλ_i)^k x_i^0``; it shrinks iff ``0 < αλ_i < 2``
    ("Gradient descent and pathological curvature").
    """
    alpha, lam = _lr(lr), _eigvals(eigvals)
    return float(np.max(np.abs(1.0 - _h(alpha, lam))))


def optimal_gd(eigvals: ArrayLike) -> tuple[float, float]:
    """The step size that minimises :func:`gd_rate`, and that rate.

    ``α* = 2 / (λ_1 + λ_n)`` balances the slowest and the fastest direction,
    ``1 − α*λ_1 = −(1 − α*λ_n)``, giving the rate ``(κ − 1) / (κ + 1)``
    ("Gradient descent and pathological curvature").
    Any positive float eigenvalues work (the rate is computed without forming ``κ``)
    as long as ``α*`` is a float: ``λ_1 + λ_n`` must exceed ``2 / 1.8e308 ≈ 1.1e-308``,
    else a ValueError says so.
    """
    lam = _eigvals(eigvals)
    lo, hi = float(lam.min()), float(lam.max())
    mid = 0.5 * lo + 0.5 * hi  # (λ1 + λn) / 2 without overflow
    check_real("eigvals' (λ1 + λn) / 2", mid, at_least=1 / _FLOAT_MAX, hint=_NO_LR)
    q = lo / hi  # 1/κ, in (0, 1]
    return 1.0 / mid, (1.0 - q) / (1.0 + q)


def gd_error(lr: float, eigvals: ArrayLike, x0: ArrayLike, steps: int) -> NDArray[np.float64]:
    """The closed form ``x_i^k = (1 − αλ_i)^k x_i^0`` for ``k = 0..steps``.

    Returns an array of shape ``(steps + 1, n)``: row ``k`` holds the error's
    eigen-coordinates after ``k`` steps of gradient descent
    ("Gradient descent and pathological curvature").
    """
    alpha, lam = _lr(lr), _eigvals(eigvals)
    x0 = check_array("x0", x0, shape=lam.shape)  # one entry per eigenvalue
    steps = check_int("steps", steps, 0, _MAX_VALUES // lam.size - 1)
    h = _h(alpha, lam)

    k = np.arange(steps + 1)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging direction becomes ±inf
        errors = (1.0 - h) ** k * x0
    errors[:, x0 == 0] = 0.0  # a direction that starts at 0 stays there
    return errors


# -- momentum -------------------------------------------------------------------------
def momentum_matrix(lr: float, beta: float, eigval: float) -> NDArray[np.float64]:
    """The 2×2 iteration matrix ``R`` of the heavy ball along one eigen-direction.

    With ``z ← βz + λx`` and ``x ← x − αz`` (``x`` the error, ``λx`` its gradient),
    ``(z, x)`` after a step is ``R @ (z, x)`` with ``R = [[β, λ], [−αβ, 1 − αλ]]``
    ("Momentum: the heavy ball"). Its eigenvalues are :func:`momentum_roots`.
    """
    alpha, b = _lr(lr), _beta(beta)
    lam, h = _one_direction(alpha, eigval)
    return np.array([[b, lam], [-alpha * b, 1.0 - h]])


def momentum_roots(h: ArrayLike, beta: ArrayLike) -> NDArray[np.complex128]:
    """The two eigenvalues of ``R`` as functions of ``h = αλ`` and ``β`` (broadcast).

    They solve ``μ² − (1 + β − h) μ + β = 0``:
    ``μ = ((1 + β − h) ± √((1 + β − h)² − 4β)) / 2``. They are complex, with
    ``|μ| = √β``, when ``(1 − √h)² < β < (1 + √h)²``, real otherwise
    ("Momentum: the heavy ball").
    Returns a complex array of shape ``broadcast(h, β).shape + (2,)``, larger modulus
    first. Any finite real ``h`` and ``β`` within ``±1e150`` work, so the whole ``(h, β)``
    plane can be drawn; beyond, ``(1 + β − h)²`` would leave the float range, and a
    ValueError says so.
    """
    h = check_array("h", h, at_least=-_H_MAX, at_most=_H_MAX, hint=_BEYOND)
    beta = check_array("beta", beta, at_least=-_H_MAX, at_most=_H_MAX, hint=_BEYOND)
    h, beta = check_broadcast(h=h, beta=beta)

    trace = 1.0 + beta - h
    root = np.sqrt((trace**2 - 4.0 * beta).astype(np.complex128))
    # Of (trace ± root) / 2, the one with the sign of the trace has the larger modulus;
    # the other is β divided by it (the roots' product is β), which avoids cancellation.
    big = 0.5 * (trace + np.where(trace >= 0, 1.0, -1.0) * root)
    small = np.where(big != 0, beta / np.where(big != 0, big, 1.0), 0.0)
    return np.stack((big, small), axis=-1)


def momentum_rate(lr: float, beta: float, eigvals: ArrayLike) -> float:
    """Rate of the heavy ball: ``max_i ρ(R_i)``, the largest spectral radius.

    ``β = 0`` gives :func:`gd_rate`. The rate is below 1 for every eigenvalue iff
    ``0 < αλ_i < 2 + 2β`` ("Momentum: the heavy ball").
    """
    alpha, b, lam = _lr(lr), _beta(beta), _eigvals(eigvals)
    return float(np.max(np.abs(momentum_roots(_h(alpha, lam), b))))


def critical_beta(lr: float, eigval: float) -> float:
    """The double-root ``β = (1 − √(αλ))²`` of one direction ("Momentum: the heavy ball").

    It is the boundary of the complex region: for ``β > (1 − √(αλ))²`` the roots of
    ``R`` are complex, of modulus ``√β``; at this ``β`` they meet in a real double
    root ``μ = 1 − √(αλ)``; below it they are real and distinct. For ``αλ < 1`` the
    double root is positive: critical damping, the fastest return without overshoot.
    For ``1 < αλ < 4`` it is negative: the direction flips sign at every step. For ``αλ < 4`` it
    gives the direction its fastest rate over ``β``, ``|1 − √(αλ)|``; for
    ``αλ ≥ 4`` it is ``≥ 1`` and no ``β < 1`` converges.
    """
    _, h = _one_direction(_lr(lr), eigval)
    return (1.0 - math.sqrt(h)) ** 2


def optimal_momentum(eigvals: ArrayLike) -> tuple[float, float, float]:
    """The step size and momentum that minimise :func:`momentum_rate`, and that rate.

    ``α* = (2 / (√λ_1 + √λ_n))²``, ``β* = ((√κ − 1) / (√κ + 1))²``, rate
    ``√β* = (√κ − 1) / (√κ + 1)``: the square root of ``κ`` replaces the ``κ`` of
    :func:`optimal_gd` (Polyak 1964; "Momentum: the heavy ball"). The rate is computed as
    ``(√λ_n − √λ_1) / (√λ_n + √λ_1)``, so any positive float eigenvalues work as long
    as ``α*`` is a float (``√λ_1 + √λ_n`` above about ``1.5e-154``), else a ValueError
    says so. For ``κ`` beyond about ``1e32`` the rate and ``β*`` round to 1.
    """
    lam = _eigvals(eigvals)
    lo, hi = math.sqrt(float(lam.min())), math.sqrt(float(lam.max()))
    check_real("eigvals' √λ1 + √λn", lo + hi, at_least=2 / math.sqrt(_FLOAT_MAX), hint=_NO_LR)
    inverse_root = 2.0 / (lo + hi)
    rate = (hi - lo) / (hi + lo)
    return inverse_root**2, rate**2, rate


# -- Nesterov --------------------------------------------------------------------------
def nesterov_rate(lr: float, beta: float, eigvals: ArrayLike) -> float:
    """Rate of Nesterov's method on a quadratic: the largest spectral radius over directions.

    Along an eigen-direction with ``h = αλ`` the iterates obey the three-term recurrence
    ``x_{k+1} = (1 + β)(1 − h) x_k − β(1 − h) x_{k−1}``, whose characteristic polynomial
    ``μ² − (1 + β)(1 − h) μ + β(1 − h)`` is the heavy ball's (:func:`momentum_roots`) with
    the momentum ``β(1 − h)``: Nesterov is a heavy ball whose momentum shrinks with the
    curvature. The rate is ``max_i max|μ|``; it is below 1 for every direction iff
    ``0 < αλ_i < (2 + 2β) / (1 + 2β)`` ("The limits of descent"; the look-ahead and
    PyTorch's forms have the same rate, "SGD with momentum and Nesterov").
    """
    alpha, b, lam = _lr(lr), _beta(beta), _eigvals(eigvals)
    h = _h(alpha, lam)
    return float(np.max(np.abs(momentum_roots(h, b * (1.0 - h)))))


def optimal_nesterov(eigvals: ArrayLike) -> tuple[float, float, float]:
    """The step size and momentum that minimise :func:`nesterov_rate`, and that rate.

    ``α = 4 / (3λ_n + λ_1)``, ``β = (√(3κ + 1) − 2) / (√(3κ + 1) + 2)``, rate
    ``1 − 2/√(3κ + 1)`` (Lessard, Recht and Packard 2016, on quadratics; "The limits of
    descent"). The slowest direction is critically damped (a double root ``1 − 2/√(3κ+1)``)
    and the steepest one has a real root of the same size. The rate lies between
    the heavy ball's ``(√κ − 1)/(√κ + 1) ≈ 1 − 2/√κ`` and gradient descent's
    ``(κ − 1)/(κ + 1)``. Computed without forming ``κ``, so any positive float eigenvalues
    work as long as ``α`` is a float (``3λ_n + λ_1`` above about ``2.2e-308``), else a
    ValueError says so.
    """
    lam = _eigvals(eigvals)
    lo, hi = float(lam.min()), float(lam.max())
    quarter = 0.75 * hi + 0.25 * lo  # (3λn + λ1) / 4 without overflow
    if quarter < 1.0 / _FLOAT_MAX:
        raise ValueError(
            f"eigvals too small: the optimal lr 4/(3λn + λ1) = 1/{quarter:g} is beyond the "
            f"float range; 3λn + λ1 must exceed {4.0 / _FLOAT_MAX:.3g}"
        )
    q = lo / hi  # 1/κ, in (0, 1]
    two_over_s = 2.0 * math.sqrt(q / (3.0 + q))  # 2/√(3κ + 1)
    return 1.0 / quarter, (1.0 - two_over_s) / (1.0 + two_over_s), 1.0 - two_over_s


# -- running the algorithms -----------------------------------------------------------
Grad = Callable[[NDArray[np.float64]], ArrayLike]


def run_momentum(
    grad: Grad, w0: ArrayLike, lr: float, beta: float, steps: int
) -> NDArray[np.float64]:
    """Run the heavy ball ``z ← βz + ∇f(w)``, ``w ← w − αz`` from ``z = 0``.

    ``grad`` maps a float64 array of the shape of ``w0`` to the gradient there. Returns
    the ``steps + 1`` iterates ``w_0, …, w_steps`` stacked (shape ``(steps+1,) +
    w0.shape``). Iterates that overflow become ``inf``/``nan`` rather than raising, so
    divergent settings can be shown ("Momentum: the heavy ball").
    """
    grad = check_callable("grad", grad)
    alpha, beta = _lr(lr), _beta(beta)
    w = check_array("w0", w0, nonempty=True)
    steps = check_int("steps", steps, 0, _MAX_VALUES // w.size - 1)

    path = np.empty((steps + 1,) + w.shape)
    path[0] = w
    z = np.zeros_like(w)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run becomes inf/nan
        for k in range(1, steps + 1):
            z = beta * z + _gradient(grad, w)  # z ← βz + ∇f(w)
            w = w - alpha * z  # w ← w − αz
            path[k] = w
    return path


def _gradient(grad: Grad, w: NDArray[np.float64]) -> NDArray[np.float64]:
    """``grad(w)`` as a float array of ``w``'s shape (checked: it is the caller's function)."""
    g = check_array("grad(w)", grad(w), finite=False)
    if g.shape != w.shape:
        raise ValueError(f"grad(w) must have the shape of w0, {w.shape}, got {g.shape}")
    return g


def run_gd(grad: Grad, w0: ArrayLike, lr: float, steps: int) -> NDArray[np.float64]:
    """Run gradient descent ``w ← w − α∇f(w)``: :func:`run_momentum` with ``β = 0``."""
    return run_momentum(grad, w0, lr, 0.0, steps)


# -- measuring rates from runs ----------------------------------------------------------
def empirical_rate(errors: ArrayLike, start: int | None = None, stop: int | None = None) -> float:
    """The per-step factor measured from a run, to compare with a predicted rate.

    ``errors`` is a 1-D sequence of error sizes ``e_k`` (e.g. ``‖w_k − w*‖``). The
    measured rate is ``(E_stop / E_start)^(1 / (stop − start))`` with
    ``E_k = max_{stop ≥ j ≥ k} e_j``, the largest error from step ``k`` on. With
    complex roots (momentum) the error oscillates inside its envelope ``C·rate^k``;
    taking the largest later error follows the envelope instead of the oscillation.
    For a run that does not decay, ``E_k`` is the largest error up to step ``k``
    instead, and the result is a growth factor ``≥ 1``. The defaults use the second
    half of the run, where the slowest mode dominates.
    """
    e = check_array("errors", errors, ndim=1, at_least=0, hint=" (a diverged run has no rate)")
    if e.size < 2:
        raise ValueError(f"errors must hold at least 2 values, got {e.size}")
    stop = e.size - 1 if stop is None else check_int("stop", stop, 1, e.size - 1)
    start = stop // 2 if start is None else check_int("start", start, 0, stop - 1)
    window = e[start : stop + 1]
    later_max = np.maximum.accumulate(window[::-1])[::-1]  # envelope of a decaying run
    if later_max[0] == 0:
        raise ValueError(f"errors from step {start} on are all 0: there is no rate to measure")
    if later_max[-1] == 0:
        return 0.0
    rate = float(np.exp((np.log(later_max[-1]) - np.log(later_max[0])) / (stop - start)))
    if rate < 1.0:
        return rate
    # Not decaying: follow the envelope of a growing run, the largest error so far.
    earlier_max = np.maximum.accumulate(window)
    return float(np.exp((np.log(earlier_max[-1]) - np.log(earlier_max[0])) / (stop - start)))


def iterations_needed(rate: float, tol: float) -> float:
    """Steps ``k`` for ``rate**k`` to fall to ``tol``: ``ln(tol) / ln(rate)``.

    ``inf`` when ``rate >= 1`` (no convergence), 0 when ``rate == 0``. For GD at its
    optimum this grows like ``κ/2 · ln(1/tol)``; for momentum like ``√κ/2 · ln(1/tol)``.
    """
    r, t = check_real("rate", rate, at_least=0), _tol(tol)
    if r >= 1.0:
        return math.inf
    if r == 0.0:
        return 0.0
    return math.log(t) / math.log(r)


def iterations_to_tolerance(errors: ArrayLike, tol: float) -> int | None:
    """The first ``k`` with ``errors[k] <= tol · errors[0]``, or ``None`` if never reached.

    The first visit only: a run that oscillates may leave the tolerance again. For the
    step from which an optimiser's iterates stay close for good, see
    :func:`evalib.optim.steps_to_stay_within`.
    """
    e = check_array("errors", errors, ndim=1, nonempty=True, finite=False)
    tol = _tol(tol)
    if not (math.isfinite(e[0]) and np.all(e[~np.isnan(e)] >= 0)):
        raise ValueError(
            "errors must be error sizes: errors[0] finite and every entry >= 0 (NaN or inf "
            f"only where a run diverged), got errors[0] = {e[0]} and the minimum {np.nanmin(e)}"
        )
    hits = np.flatnonzero(e <= tol * e[0])
    return int(hits[0]) if hits.size else None
