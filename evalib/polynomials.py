"""Residual polynomials: what a gradient-span method does to the error on a quadratic.

On ``f(w) = ½ wᵀAw − bᵀw`` the gradient is ``A(w − w*)``. A method whose every point
(iterate or look-ahead) is the start plus a combination of the gradients it has queried
before (gradient descent, the heavy ball, Nesterov, the Chebyshev iteration, conjugate
gradients; not the adaptive methods, which rescale coordinates) therefore leaves the error

    ``w_k − w* = p_k(A) (w_0 − w*)``,

for a polynomial ``p_k`` of degree at most ``k`` with ``p_k(0) = 1``: its *residual
polynomial*. Along eigenvector ``i`` the error is ``p_k(λ_i)`` times its start, so a method
is fast when its polynomial is small on the spectrum ``[λ_1, λ_n]`` (Goh 2017; "The limits
of descent").

- :func:`gd_polynomial`: gradient descent, ``p_k(λ) = (1 − αλ)^k``.
- :func:`momentum_polynomial`, :func:`nesterov_polynomial`: the heavy ball and Nesterov's
  method, from their three-term recurrences.
- :func:`chebyshev_polynomial`, :func:`chebyshev_max`: the scaled Chebyshev polynomial,
  the smallest possible on ``[λ_1, λ_n]``, and its largest value there.
- :func:`chebyshev_steps`, :func:`chebyshev_iteration`: the method whose residual
  polynomial it is, a heavy ball with a schedule.
- :func:`conjugate_gradient`: the method that picks the best polynomial for the actual
  eigenvalues and starting error (in the ``A``-norm).

Inputs follow evalib's one rule (``evalib._checks``): ``TypeError`` for non-numbers,
``ValueError`` for numbers out of range, each naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalib._checks import finite_real, function, integer, real_array, unit_interval

__all__ = [
    "gd_polynomial",
    "momentum_polynomial",
    "nesterov_polynomial",
    "chebyshev_polynomial",
    "chebyshev_max",
    "chebyshev_steps",
    "chebyshev_iteration",
    "conjugate_gradient",
]

Grad = Callable[[NDArray[np.float64]], ArrayLike]


# -- input checks -------------------------------------------------------------------
def _points(lam: Any) -> NDArray[np.float64]:
    """Where a polynomial is evaluated: a number or a 1-D array of finite reals."""
    out = np.atleast_1d(real_array("lam", lam))
    if out.ndim != 1:
        raise ValueError(f"lam must be a number or a 1-D array, got shape {out.shape}")
    return out


def _positive(name: str, value: Any) -> float:
    out = finite_real(name, value)
    if out <= 0:
        raise ValueError(f"{name} must be > 0, got {out}")
    return out


def _interval(lo: Any, hi: Any) -> tuple[float, float]:
    """The spectrum's bounds ``0 < lo < hi``."""
    low, high = _positive("lo", lo), _positive("hi", hi)
    if not low < high:
        raise ValueError(f"need lo < hi (the bounds of the spectrum), got lo={low}, hi={high}")
    return low, high


def _steps(steps: Any) -> int:
    return integer("steps", steps, 0)


# -- the polynomials of the fixed-step methods ------------------------------------------
def gd_polynomial(lr: float, lam: ArrayLike, steps: int) -> NDArray[np.float64]:
    """Gradient descent's residual polynomials ``p_k(λ) = (1 − αλ)^k``, ``k = 0..steps``.

    Returns shape ``(steps + 1, len(lam))``; row ``k`` is ``p_k`` at the points ``lam``
    ("Gradient descent and pathological curvature"; "The limits of descent"). Values
    beyond the float range become ``±inf``.
    """
    alpha, x, n = _positive("lr", lr), _points(lam), _steps(steps)
    with np.errstate(over="ignore", invalid="ignore"):
        return (1.0 - alpha * x) ** np.arange(n + 1)[:, None]


def momentum_polynomial(lr: float, beta: float, lam: ArrayLike, steps: int) -> NDArray[np.float64]:
    """The heavy ball's residual polynomials, from its three-term recurrence.

    Eliminating the velocity from ``z ← βz + ∇f(w)``, ``w ← w − αz`` (``z_0 = 0``) gives
    ``w_{k+1} − w* = (1 + β − αA)(w_k − w*) − β(w_{k−1} − w*)``, so

    ``p_0 = 1``, ``p_1(λ) = 1 − αλ``, ``p_{k+1}(λ) = (1 + β − αλ) p_k(λ) − β p_{k−1}(λ)``

    ("Momentum: the heavy ball"; "The limits of descent"). Returns shape
    ``(steps + 1, len(lam))``; ``β = 0`` gives :func:`gd_polynomial`.
    """
    alpha, b = _positive("lr", lr), unit_interval("beta", beta)
    x, n = _points(lam), _steps(steps)
    return _three_term(1.0 - alpha * x, 1.0 + b - alpha * x, np.full_like(x, b), n)


def nesterov_polynomial(lr: float, beta: float, lam: ArrayLike, steps: int) -> NDArray[np.float64]:
    """Nesterov's residual polynomials, for the iterates of PyTorch's form.

    ``z ← βz + ∇f(w)``, ``w ← w − α(∇f(w) + βz)`` from ``z_0 = 0``
    (``evalib.optim.Nesterov``, "SGD with momentum and Nesterov") gives

    ``p_0 = 1``, ``p_1(λ) = 1 − (1 + β)αλ``,
    ``p_{k+1}(λ) = (1 + β)(1 − αλ) p_k(λ) − β(1 − αλ) p_{k−1}(λ)``:

    the heavy ball's recurrence with the momentum ``β(1 − αλ)`` ("The limits of descent").
    Returns shape ``(steps + 1, len(lam))``.
    """
    alpha, b = _positive("lr", lr), unit_interval("beta", beta)
    x, n = _points(lam), _steps(steps)
    damp = 1.0 - alpha * x
    return _three_term(1.0 - (1.0 + b) * alpha * x, (1.0 + b) * damp, b * damp, n)


def _three_term(
    first: NDArray[np.float64], a: NDArray[np.float64], c: NDArray[np.float64], steps: int
) -> NDArray[np.float64]:
    """``p_0 = 1``, ``p_1 = first``, ``p_{k+1} = a p_k − c p_{k−1}``, as ``(steps + 1, n)``."""
    out = np.empty((steps + 1, first.size))
    out[0] = 1.0
    if steps >= 1:
        out[1] = first
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps):
            out[k + 1] = a * out[k] - c * out[k - 1]
    return out


# -- Chebyshev --------------------------------------------------------------------------
def chebyshev_steps(
    lo: float, hi: float, steps: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Step sizes ``α_k`` and momenta ``β_k`` of the Chebyshev iteration on ``[lo, hi]``.

    With ``d = (hi + lo)/2`` and ``σ = (hi + lo)/(hi − lo)``, the step
    ``w_{k+1} = w_k − α_k ∇f(w_k) + β_k (w_k − w_{k−1})`` uses ``α_k = ω_k / d`` and
    ``β_k = ω_k − 1``, where ``ω_0 = 1`` (a plain gradient step, so that
    ``P_1(λ) = 1 − λ/d``) and, for ``k ≥ 1``, ``ω_k = 2σ T_k(σ)/T_{k+1}(σ)``. The
    Chebyshev recurrence ``T_{k+1} = 2tT_k − T_{k−1}`` gives ``ω_k = 1 / (1 − r/(4σ²))``
    with ``r = ω_{k−1}`` for ``k ≥ 2`` and ``r = 2σ T_0(σ)/T_1(σ) = 2`` (not ``ω_0``) for
    ``k = 1``. As ``k`` grows, ``α_k`` and ``β_k`` tend to Polyak's heavy-ball tuning
    ``(4/(√hi + √lo)², ((√κ − 1)/(√κ + 1))²)`` ("The limits of descent").
    Returns the two arrays ``(α_0..α_{steps−1}, β_0..β_{steps−1})``.
    """
    low, high = _interval(lo, hi)
    n = _steps(steps)
    sigma2 = ((high + low) / (high - low)) ** 2
    omega, ratio = np.empty(n), 2.0  # ratio: 2σ T_0(σ) / T_1(σ)
    for k in range(n):
        if k > 0:
            ratio = 1.0 / (1.0 - ratio / (4.0 * sigma2))
        omega[k] = 1.0 if k == 0 else ratio
    return omega / (0.5 * (high + low)), omega - 1.0


def chebyshev_polynomial(lam: ArrayLike, lo: float, hi: float, steps: int) -> NDArray[np.float64]:
    """The scaled Chebyshev polynomials ``P_k(λ) = T_k(t(λ)) / T_k(t(0))``, ``k = 0..steps``.

    ``t(λ) = (hi + lo − 2λ)/(hi − lo)`` maps ``[lo, hi]`` onto ``[−1, 1]``, where the
    Chebyshev polynomial ``T_k(t) = cos(k arccos t)`` stays within ±1 and reaches ±1 at
    ``k + 1`` points (equal ripples); dividing by ``T_k(t(0))`` makes ``P_k(0) = 1``. Of all
    polynomials of degree ``k`` with ``p(0) = 1``, ``P_k`` has the smallest maximum of
    ``|p|`` on ``[lo, hi]``, :func:`chebyshev_max` ("The limits of descent").
    Evaluated with the recurrence of :func:`chebyshev_steps` (no ``T_k(σ)``, which
    overflows for large ``k``); returns shape ``(steps + 1, len(lam))``.
    """
    x = _points(lam)
    low, high = _interval(lo, hi)
    n = _steps(steps)
    lrs, betas = chebyshev_steps(low, high, n)
    out = np.empty((n + 1, x.size))
    out[0] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n):
            previous = out[k - 1] if k > 0 else out[0]
            out[k + 1] = out[k] - lrs[k] * x * out[k] + betas[k] * (out[k] - previous)
    return out


def chebyshev_max(lo: float, hi: float, steps: int) -> NDArray[np.float64]:
    """The largest ``|P_k(λ)|`` on ``[lo, hi]``: ``1/T_k(σ) = 2ρ^k / (1 + ρ^{2k})``, ``k = 0..steps``.

    ``σ = (hi + lo)/(hi − lo)`` and ``ρ = (√κ − 1)/(√κ + 1)`` with ``κ = hi/lo``; the
    closed form follows from ``T_k(σ) = ((σ + √(σ² − 1))^k + (σ − √(σ² − 1))^k)/2`` and
    ``σ + √(σ² − 1) = 1/ρ``. It tends to ``2ρ^k``: the rate of Polyak's heavy ball
    ("The limits of descent").
    """
    low, high = _interval(lo, hi)
    n = _steps(steps)
    rho = (math.sqrt(high) - math.sqrt(low)) / (math.sqrt(high) + math.sqrt(low))
    with np.errstate(under="ignore"):
        power = rho ** np.arange(n + 1)
        return 2.0 * power / (1.0 + power**2)


def chebyshev_iteration(
    grad: Grad, w0: ArrayLike, lo: float, hi: float, steps: int
) -> NDArray[np.float64]:
    """Run the Chebyshev iteration for a quadratic whose spectrum lies in ``[lo, hi]``.

    ``w_{k+1} = w_k − α_k ∇f(w_k) + β_k (w_k − w_{k−1})`` with the schedule of
    :func:`chebyshev_steps`; on a quadratic the error after ``k`` steps is
    ``P_k(A)(w_0 − w*)`` (:func:`chebyshev_polynomial`). Returns the ``steps + 1``
    iterates stacked, shape ``(steps + 1,) + w0.shape`` ("The limits of descent").
    """
    grad = function("grad", grad)
    w = real_array("w0", w0)
    if w.size == 0:
        raise ValueError("w0 must be a non-empty array of finite numbers, got an empty one")
    lrs, betas = chebyshev_steps(lo, hi, steps)
    path = np.empty((lrs.size + 1,) + w.shape)
    path[0] = previous = w
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(lrs.size):
            g = real_array("grad(w)", grad(w), finite=False)
            if g.shape != w.shape:
                raise ValueError(f"grad(w) must have the shape of w0, {w.shape}, got {g.shape}")
            w, previous = w - lrs[k] * g + betas[k] * (w - previous), w
            path[k + 1] = w
    return path


# -- conjugate gradients -----------------------------------------------------------------
def conjugate_gradient(
    A: ArrayLike, b: ArrayLike, x0: ArrayLike, steps: int
) -> NDArray[np.float64]:
    """Run conjugate gradients on ``f(w) = ½ wᵀAw − bᵀw`` (Hestenes and Stiefel's method).

    From ``r_0 = b − Ax_0``, ``p_0 = r_0``: ``a_k = r_kᵀr_k / p_kᵀAp_k``,
    ``x_{k+1} = x_k + a_k p_k``, ``r_{k+1} = r_k − a_k Ap_k``,
    ``p_{k+1} = r_{k+1} + (r_{k+1}ᵀr_{k+1} / r_kᵀr_k) p_k``. Step ``k`` minimises the error
    in the ``A``-norm over ``x_0`` plus the Krylov space ``span{r_0, Ar_0, …, A^{k−1}r_0}``:
    it chooses the best residual polynomial for this ``A`` and this start, not for a
    whole interval ("The limits of descent"). Once the residual is exactly zero the
    iterates stay put. Returns shape ``(steps + 1, n)``.
    """
    a = real_array("A", A)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"A must be a non-empty square matrix, got shape {a.shape}")
    if np.abs(a - a.T).max() > 1e-10 * np.abs(a).max():  # symmetric up to rounding
        raise ValueError("A must be symmetric (conjugate gradients needs A = Aᵀ)")
    rhs, x = real_array("b", b), real_array("x0", x0)
    for name, v in (("b", rhs), ("x0", x)):
        if v.shape != (a.shape[0],):
            raise ValueError(f"{name} must have shape ({a.shape[0]},) to match A, got {v.shape}")
    n = _steps(steps)
    path = np.empty((n + 1, x.size))
    path[0] = x
    r = rhs - a @ x
    p, rr = r.copy(), float(r @ r)
    for k in range(n):
        if rr == 0.0:  # solved exactly: nothing left to do
            path[k + 1 :] = x
            break
        ap = a @ p
        curvature = float(p @ ap)
        if curvature <= 0.0:
            raise ValueError(f"A must be positive definite: pᵀAp = {curvature:g} at step {k}")
        step = rr / curvature
        x = x + step * p
        r = r - step * ap
        rr, rr_old = float(r @ r), rr
        p = r + (rr / rr_old) * p
        path[k + 1] = x
    return path
