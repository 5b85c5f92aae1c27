"""Moving averages of a 1-D series: simple, weighted and exponential.

The chapter "Moving averages" explains each one; momentum's buffer (chapters 2 and 4)
is ``1/(1-beta)`` times the exponential moving average of the gradients. All functions take any 1-D array-like of
finite real numbers (a list, a NumPy array, a torch tensor: read as its values) and
return a float64 NumPy array of the same length, finite wherever the average is
defined, even for values near the float limits. Complex, boolean or non-numeric input
raises a ``TypeError``; empty, non-1-D or non-finite input a ``ValueError``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import convolve, lfilter

from evalib._checks import flag, integer, real_array, unit_interval

__all__ = ["sma", "wma", "ewma", "effective_window", "ewma_lag"]


def _series(x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as a 1-D float64 array of finite values, or an error naming ``x``."""
    arr = real_array("x", x)
    if arr.ndim != 1:
        raise ValueError(f"x must be 1-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("x must hold at least one value, got an empty array")
    return arr


def _window(window: int, n: int) -> int:
    """``window`` checked to be a whole number in ``[1, n]``."""
    w = integer("window", window)
    if not 1 <= w <= n:
        raise ValueError(f"window must be between 1 and len(x) = {n}, got {w}")
    return w


def _scaled(arr: NDArray[np.float64]) -> tuple[NDArray[np.float64], int]:
    """``arr / 2**e``, with ``e > 0`` only for values near the float limit (above 2**960).

    Every average here is a weighted mean, so it commutes exactly with scaling by a
    power of two: computing on the scaled series and scaling back (``np.ldexp``) gives
    the same digits, while the sums along the way (up to ``len(x)`` times the largest
    value) stay far from overflow. Series below ``2**960 ≈ 1e289`` are not touched.
    """
    exponent = max(0, int(np.frexp(np.max(np.abs(arr)))[1]) - 960)
    return np.ldexp(arr, -exponent), exponent


def _unscaled(
    out: NDArray[np.float64], arr: NDArray[np.float64], exponent: int
) -> NDArray[np.float64]:
    """Undo :func:`_scaled` on ``out``, computed from the scaled ``arr``.

    Every average lies between the smallest and the largest of 0 and the points; the
    clip keeps rounding from pushing a value past them (and so past the float range).
    """
    np.clip(out, min(arr.min(), 0.0), max(arr.max(), 0.0), out=out)
    return np.ldexp(out, exponent)


def sma(x: ArrayLike, window: int) -> NDArray[np.float64]:
    """Simple moving average: the plain mean of the last ``window`` points.

    ``sma[t] = (x[t] + x[t-1] + ... + x[t-window+1]) / window``. The first
    ``window - 1`` entries, where fewer than ``window`` points exist, are NaN, as in
    pandas' ``Series.rolling(window).mean()``.
    """
    arr, exponent = _scaled(_series(x))
    w = _window(window, arr.size)
    # Window sums as differences of one cumulative sum: O(n) whatever the window.
    # Centring first keeps the running total small, so the differences stay exact.
    mean = arr.mean()
    totals = np.cumsum(arr - mean)
    out = np.empty(arr.size)
    out[: w - 1] = np.nan
    out[w - 1] = totals[w - 1]
    np.subtract(totals[w:], totals[:-w], out=out[w:])
    out[w - 1 :] /= w
    out[w - 1 :] += mean
    return _unscaled(out, arr, exponent)


def wma(x: ArrayLike, window: int) -> NDArray[np.float64]:
    """Weighted moving average with linearly decreasing weights.

    The newest point has weight ``window``, the one before ``window - 1``, down to 1
    for the oldest point in the window; the weights sum to ``window(window+1)/2``::

        wma[t] = (window*x[t] + (window-1)*x[t-1] + ... + 1*x[t-window+1])
                 / (window*(window+1)/2)

    The first ``window - 1`` entries are NaN, as for :func:`sma`.
    """
    arr, exponent = _scaled(_series(x))
    w = _window(window, arr.size)
    # convolve flips its kernel, so weights listed newest-first land on the newest point.
    weights = np.arange(w, 0, -1, dtype=np.float64) / (w * (w + 1) / 2)
    out = np.full(arr.size, np.nan)
    out[w - 1 :] = convolve(arr, weights, mode="valid")
    return _unscaled(out, arr, exponent)


def ewma(x: ArrayLike, beta: float, bias_correction: bool = False) -> NDArray[np.float64]:
    """Exponentially weighted moving average, the recursion behind momentum.

    ``v[t] = beta * v[t-1] + (1 - beta) * x[t]`` with ``v`` starting at 0 before the
    first point, so ``v[0] = (1 - beta) * x[0]``. Unrolled, ``x[t-k]`` carries weight
    ``(1 - beta) * beta**k``. Starting at zero biases the first values towards 0;
    ``bias_correction=True`` returns ``v[t] / (1 - beta**(t+1))`` (``t`` counted from
    0), which is the weighted mean of the points seen so far, as pandas'
    ``Series.ewm(alpha=1-beta, adjust=True).mean()``.
    """
    arr, exponent = _scaled(_series(x))
    b = unit_interval("beta", beta)
    bias_correction = flag("bias_correction", bias_correction)
    # lfilter runs the recursion v[t] = b*v[t-1] + (1-b)*x[t] in compiled code.
    v: NDArray[np.float64] = lfilter([1.0 - b], [1.0, -b], arr)
    if bias_correction and b > 0:
        # 1 - b**t rounds to exactly 1.0 once b**t < 2**-53, so only the first
        # `start_up` values need dividing.
        start_up = min(arr.size, math.ceil(-53 * math.log(2) / math.log(b)) + 1)
        steps = np.arange(1, start_up + 1)
        v[:start_up] /= -np.expm1(steps * math.log(b))  # 1 - b**t, accurate for small t
    return _unscaled(v, arr, exponent)


def effective_window(beta: float) -> float:
    """How many recent points an EWMA with this ``beta`` averages over: ``1/(1-beta)``.

    The newest point gets weight ``1-beta``, as in a simple average over
    ``1/(1-beta)`` points; the newest ``1/(1-beta)`` weights ``(1-beta) * beta**k``
    add up to ``1 - beta**(1/(1-beta))``, about ``1 - 1/e = 63 %`` for beta near 1.
    """
    return 1.0 / (1.0 - unit_interval("beta", beta))


def ewma_lag(beta: float) -> float:
    """How many steps an EWMA trails a steady trend: ``beta/(1-beta)``.

    It is the mean age of the weights, ``sum_k k (1-beta) beta**k``. On a straight line
    ``x[t] = c t`` the bias-corrected EWMA tends to ``c (t - beta/(1-beta))``: the
    average is the line as it was ``beta/(1-beta)`` steps ago ("Moving averages").
    """
    b = unit_interval("beta", beta)
    return b / (1.0 - b)
