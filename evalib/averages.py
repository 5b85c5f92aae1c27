"""Moving averages of a 1-D series: simple, weighted and exponential.

The chapter "Moving averages" explains each one; momentum's buffer (chapters 2 and 4)
is ``1/(1-beta)`` times the exponential moving average of the gradients,
:func:`ewma_recursion`. All functions take any 1-D array-like of finite real numbers
(a list, a NumPy array, a torch tensor: read as its values) and return a float64 NumPy
array of the same length. Complex, boolean or non-numeric input raises a
``TypeError``; empty, non-1-D or non-finite input a ``ValueError``, and so do values
beyond ``±2**960 ≈ ±1e289``, where a sum of the series' values could leave the float
range (a series that large is a unit error: rescale it).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import convolve, lfilter

from evalib._checks import check_array, check_bool, check_int, check_real

__all__ = ["sma", "wma", "ewma", "ewma_recursion", "effective_window", "ewma_lag"]

_LIMIT = 2.0**960  # any sum of up to 2**63 values of this size stays below the float max


def _check_series(x: ArrayLike, ndim: int | None = 1) -> NDArray[np.float64]:
    """``x`` as a float64 array of finite values within ``±2**960``, at least one of them."""
    return check_array("x", x, ndim=ndim, nonempty=True, at_least=-_LIMIT, at_most=_LIMIT,
                       hint=" (±2**960: sums of its values must stay in the float range)")  # fmt: skip


def _within(out: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``out`` clipped to ``[min(x, 0), max(x, 0)]``, where every average of ``x`` lies
    (a weighted mean of 0 and the points): rounding cannot push a value past them."""
    return np.clip(out, min(x.min(), 0.0), max(x.max(), 0.0), out=out)


def sma(x: ArrayLike, window: int) -> NDArray[np.float64]:
    """Simple moving average: the plain mean of the last ``window`` points.

    ``sma[t] = (x[t] + x[t-1] + ... + x[t-window+1]) / window``. The first
    ``window - 1`` entries, where fewer than ``window`` points exist, are NaN, as in
    pandas' ``Series.rolling(window).mean()``.
    """
    x = _check_series(x)
    w = check_int("window", window, 1, x.size)

    # Window sums as differences of one cumulative sum: O(n) whatever the window.
    # Centring first keeps the running total small, so the differences stay exact.
    mean = x.mean()
    totals = np.cumsum(x - mean)
    out = np.full(x.size, np.nan)
    out[w - 1] = totals[w - 1]
    out[w:] = totals[w:] - totals[:-w]
    out[w - 1 :] = out[w - 1 :] / w + mean
    return _within(out, x)


def wma(x: ArrayLike, window: int) -> NDArray[np.float64]:
    """Weighted moving average with linearly decreasing weights.

    The newest point has weight ``window``, the one before ``window - 1``, down to 1
    for the oldest point in the window; the weights sum to ``window(window+1)/2``::

        wma[t] = (window*x[t] + (window-1)*x[t-1] + ... + 1*x[t-window+1])
                 / (window*(window+1)/2)

    The first ``window - 1`` entries are NaN, as for :func:`sma`.
    """
    x = _check_series(x)
    w = check_int("window", window, 1, x.size)

    # convolve flips its kernel, so weights listed newest-first land on the newest point.
    weights = np.arange(w, 0, -1, dtype=np.float64) / (w * (w + 1) / 2)
    out = np.full(x.size, np.nan)
    out[w - 1 :] = convolve(x, weights, mode="valid")
    return _within(out, x)


def ewma(x: ArrayLike, beta: float, bias_correction: bool = False) -> NDArray[np.float64]:
    """Exponentially weighted moving average, the recursion behind momentum.

    ``v[t] = beta * v[t-1] + (1 - beta) * x[t]`` with ``v`` starting at 0 before the
    first point, so ``v[0] = (1 - beta) * x[0]`` (:func:`ewma_recursion`). Unrolled,
    ``x[t-k]`` carries weight ``(1 - beta) * beta**k``. Starting at zero biases the
    first values towards 0; ``bias_correction=True`` returns ``v[t] / (1 - beta**(t+1))``
    (``t`` counted from 0), which is the weighted mean of the points seen so far, as
    pandas' ``Series.ewm(alpha=1-beta, adjust=True).mean()``.
    """
    x = _check_series(x)
    beta = check_real("beta", beta, at_least=0, below=1)
    bias_correction = check_bool("bias_correction", bias_correction)

    v = _recursion(x, beta)
    if bias_correction and beta > 0:
        t = np.arange(1, x.size + 1)
        v /= -np.expm1(t * math.log(beta))  # 1 - beta**t, accurate also for beta near 1
    return v


def ewma_recursion(x: ArrayLike, beta: float) -> NDArray[np.float64]:
    """``v[t] = beta * v[t-1] + (1 - beta) * x[t]`` from ``v = 0``, along the first axis.

    The recursion of :func:`ewma` for a series of numbers (``x`` 1-D) or of vectors
    (``x`` of shape ``(T, ...)``: each coordinate is averaged on its own), such as the
    minibatch gradients of :func:`evalib.noise.ewma_rows`. Returns ``v`` with the shape
    of ``x``.
    """
    x = _check_series(x, ndim=None)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension (the steps), got a single number")
    beta = check_real("beta", beta, at_least=0, below=1)
    return _recursion(x, beta)


def _recursion(x: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    """The loop ``v = 0; for t: v = beta * v + (1 - beta) * x[t]``, run along the first
    axis by SciPy's linear filter in compiled code."""
    out: NDArray[np.float64] = lfilter([1.0 - beta], [1.0, -beta], x, axis=0)
    return out


def effective_window(beta: float) -> float:
    """How many recent points an EWMA with this ``beta`` averages over: ``1/(1-beta)``.

    The newest point gets weight ``1-beta``, as in a simple average over
    ``1/(1-beta)`` points; the newest ``1/(1-beta)`` weights ``(1-beta) * beta**k``
    add up to ``1 - beta**(1/(1-beta))``, about ``1 - 1/e = 63 %`` for beta near 1.
    """
    return 1.0 / (1.0 - check_real("beta", beta, at_least=0, below=1))


def ewma_lag(beta: float) -> float:
    """How many steps an EWMA trails a steady trend: ``beta/(1-beta)``.

    It is the mean age of the weights, ``sum_k k (1-beta) beta**k``. On a straight line
    ``x[t] = c t`` the bias-corrected EWMA tends to ``c (t - beta/(1-beta))``: the
    average is the line as it was ``beta/(1-beta)`` steps ago ("Moving averages").
    """
    b = check_real("beta", beta, at_least=0, below=1)
    return b / (1.0 - b)
