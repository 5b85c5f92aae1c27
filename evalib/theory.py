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
``ValueError``. Any positive float eigenvalue works: where an answer (such as
``lr·λ`` or an optimal step) is beyond the float range, a ``ValueError`` says so and
names the arguments, instead of a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalib._checks import finite_real as _scalar
from evalib._checks import function, integer, real_array, unit_interval

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


# -- input checks -------------------------------------------------------------------
_FLOAT_MAX = float(np.finfo(np.float64).max)


def _eigvals(eigvals: ArrayLike, name: str = "eigvals") -> NDArray[np.float64]:
    """``eigvals`` as a non-empty 1-D float array of finite positive numbers."""
    lam = np.atleast_1d(real_array(name, eigvals))
    if lam.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {lam.shape}")
    if lam.size == 0:
        raise ValueError(f"{name} must hold at least one eigenvalue, got none")
    if np.any(lam <= 0):
        raise ValueError(
            f"{name} must all be > 0 (A positive definite), got the minimum {lam.min()}"
        )
    return lam


def _lr(lr: Any) -> float:
    out = _scalar("lr", lr)
    if out <= 0:
        raise ValueError(f"lr must be > 0, got {out}")
    return out


def _beta(beta: Any) -> float:
    return unit_interval("beta", beta)


def _h(alpha: float, lam: NDArray[np.float64], name: str = "eigvals") -> NDArray[np.float64]:
    """The products ``h = lr·λ``, or a ValueError (naming lr and ``name``) if one overflows."""
    with np.errstate(over="ignore"):
        h = alpha * lam
    if not np.all(np.isfinite(h)):
        raise ValueError(
            f"lr * {name} must stay within the float range (about {_FLOAT_MAX:.3g}), "
            f"got lr = {alpha:g} and {name} up to {lam.max():g}"
        )
    return h


def _one_direction(alpha: float, eigval: Any) -> tuple[float, float]:
    """``(λ, h = lr·λ)`` of a single eigenvalue ``eigval``, checked and named as such."""
    lam = _eigvals(eigval, "eigval")
    if lam.size != 1:
        raise ValueError(f"eigval must be a single eigenvalue, got {lam.size}")
    return float(lam[0]), float(_h(alpha, lam, "eigval")[0])


def _steps(steps: Any) -> int:
    return integer("steps", steps, 0)


def _tol(tol: Any) -> float:
    out = _scalar("tol", tol)
    if not 0.0 < out < 1.0:
        raise ValueError(f"tol must satisfy 0 < tol < 1, got {out}")
    return out


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
    if mid < 1.0 / _FLOAT_MAX:
        raise ValueError(
            f"eigvals too small: the optimal lr 2/(λ1 + λn) = 1/{mid:g} is beyond the float "
            f"range; λ1 + λn must exceed {2.0 / _FLOAT_MAX:.3g}"
        )
    q = lo / hi  # 1/κ, in (0, 1]
    return 1.0 / mid, (1.0 - q) / (1.0 + q)


def gd_error(lr: float, eigvals: ArrayLike, x0: ArrayLike, steps: int) -> NDArray[np.float64]:
    """The closed form ``x_i^k = (1 − αλ_i)^k x_i^0`` for ``k = 0..steps``.

    Returns an array of shape ``(steps + 1, n)``: row ``k`` holds the error's
    eigen-coordinates after ``k`` steps of gradient descent
    ("Gradient descent and pathological curvature").
    """
    alpha, lam = _lr(lr), _eigvals(eigvals)
    x0 = real_array("x0", x0)
    if x0.shape != lam.shape:
        raise ValueError(
            f"x0 must have one entry per eigenvalue, shape {lam.shape}, got {x0.shape}"
        )
    factor = 1.0 - _h(alpha, lam)
    k = np.arange(_steps(steps) + 1)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        errors = factor**k * x0
    # A diverging direction overflows to ±inf; a direction that starts at 0 stays there.
    errors[:, x0 == 0] = 0.0
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
    first. Accepts any finite real ``h`` and ``β`` so the whole ``(h, β)`` plane can be
    drawn; a ValueError says when a root's modulus is beyond the float range.
    """
    h_arr = real_array("h", h)
    b_arr = real_array("beta", beta)
    h_arr, b_arr = np.broadcast_arrays(h_arr, b_arr)
    # Work with μ / 2**e, where 2**e bounds |h| and |β|: the equation becomes
    # ν² − ((1 + β − h)/2**e) ν + β/4**e = 0, whose coefficients cannot overflow. For
    # |h|, |β| < 2 (the usual case) e = 0 and nothing changes; a power of two scales
    # without rounding, so elsewhere the digits are those of the unscaled formula.
    e = np.frexp(np.maximum.reduce([np.ones_like(h_arr), np.abs(h_arr), np.abs(b_arr)]))[1] - 1
    trace = np.ldexp(1.0, -e) + np.ldexp(b_arr, -e) - np.ldexp(h_arr, -e)
    sq = np.sqrt((trace**2 - 4.0 * np.ldexp(b_arr, -2 * e)).astype(np.complex128))
    # Of trace ± sq, the root with the sign of the trace has the larger modulus; the
    # other is β / (that root), which avoids cancellation.
    sign = np.where(trace >= 0, 1.0, -1.0)
    scaled = 0.5 * (trace + sign * sq)
    big = np.empty_like(scaled)
    with np.errstate(over="ignore"):
        big.real, big.imag = np.ldexp(scaled.real, e), np.ldexp(scaled.imag, e)
    if not np.all(np.isfinite(big)):
        raise ValueError(
            "h and beta are so large that a root's modulus is beyond the float range "
            f"(about {_FLOAT_MAX:.3g})"
        )
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        small = np.where(big != 0, b_arr / np.where(big != 0, big, 1.0), 0.0)
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
    inverse_root = 2.0 / (lo + hi)
    if inverse_root > math.sqrt(_FLOAT_MAX):
        raise ValueError(
            f"eigvals too small: the optimal lr (2/(√λ1 + √λn))² is beyond the float range; "
            f"√λ1 + √λn must exceed {2.0 / math.sqrt(_FLOAT_MAX):.3g}, got {lo + hi:g}"
        )
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
    grad = function("grad", grad)
    alpha, b, n = _lr(lr), _beta(beta), _steps(steps)
    w = real_array("w0", w0)
    if w.size == 0:
        raise ValueError("w0 must be a non-empty array of finite numbers, got an empty one")
    return _momentum_path(grad, w, alpha, b, n)[0]


def _momentum_path(
    grad: Grad,
    w0: NDArray[np.float64],
    lr: float,
    beta: float,
    steps: int,
    *,
    lookahead: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The loop behind :func:`run_momentum` and :func:`evalib.optim.nesterov_lookahead`.

    ``z ← βz + ∇f(p)``, ``w ← w − αz`` from ``w = w0``, ``z = 0``, with the gradient
    taken at ``p = w`` (the heavy ball) or, with ``lookahead=True``, at the look-ahead
    point ``p = w − αβz`` (Nesterov's method as first written; "SGD with momentum and
    Nesterov"). Returns the iterates ``w`` and the buffers ``z``, each of shape
    ``(steps+1,) + w0.shape``. The arguments are taken as already checked (the public
    runners check them); ``grad(p)`` must return an array of ``w0``'s shape.
    Overflowing iterates become ``inf``/``nan`` without warnings.
    """
    path = np.empty((steps + 1,) + w0.shape)
    buffers = np.zeros_like(path)
    path[0] = w = w0
    z = buffers[0]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            g = real_array("grad(w)", grad(w - lr * beta * z if lookahead else w), finite=False)
            if g.shape != w.shape:
                raise ValueError(f"grad(w) must have the shape of w0, {w.shape}, got {g.shape}")
            z = beta * z + g
            w = w - lr * z
            path[k], buffers[k] = w, z
    return path, buffers


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
    e = real_array("errors", errors, finite=False)
    if e.ndim != 1 or e.size < 2:
        raise ValueError(f"errors must be a 1-D array of at least 2 values, got shape {e.shape}")
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError("errors must be finite and >= 0 (a diverged run has no rate to measure)")
    stop = e.size - 1 if stop is None else integer("stop", stop)
    start = stop // 2 if start is None else integer("start", start)
    if not 0 <= start < stop <= e.size - 1:
        raise ValueError(f"need 0 <= start < stop <= {e.size - 1}, got start={start}, stop={stop}")
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
    r, t = _scalar("rate", rate), _tol(tol)
    if r < 0:
        raise ValueError(f"rate must be >= 0, got {r}")
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
    e = real_array("errors", errors, finite=False)
    if e.ndim != 1 or e.size == 0:
        raise ValueError(f"errors must be a non-empty 1-D array, got shape {e.shape}")
    hits = np.flatnonzero(e <= _tol(tol) * e[0])
    return int(hits[0]) if hits.size else None
