"""Time evalib.averages against pandas, the library a reader would otherwise use.

    .venv/bin/python benchmarks/averages.py

Prints the median time of several runs on 10**6 points and the ratio
evalib / pandas (below 1.0: evalib is faster).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from evalib.averages import ewma, sma

N = 1_000_000
REPEATS = 15
BETA, WINDOW = 0.9, 20


def median_seconds(fn: Callable[[], object]) -> float:
    fn()  # warm-up: first-call allocations
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    x = np.cumsum(np.random.default_rng(0).normal(size=N)) + 100.0
    series = pd.Series(x)
    cases = [
        (
            f"ewma (beta={BETA})",
            lambda: ewma(x, BETA),
            lambda: series.ewm(alpha=1 - BETA, adjust=False).mean(),
        ),
        (
            "ewma, bias-corrected",
            lambda: ewma(x, BETA, bias_correction=True),
            lambda: series.ewm(alpha=1 - BETA, adjust=True).mean(),
        ),
        (f"sma (window={WINDOW})", lambda: sma(x, WINDOW), lambda: series.rolling(WINDOW).mean()),
    ]
    print(
        f"{N:,} points, median of {REPEATS} runs; numpy {np.__version__}, pandas {pd.__version__}"
    )
    print(f"{'':24s} {'evalib':>10s} {'pandas':>10s} {'ratio':>7s}")
    for name, ours, theirs in cases:
        t_ours, t_theirs = median_seconds(ours), median_seconds(theirs)
        print(f"{name:24s} {t_ours * 1e3:8.2f}ms {t_theirs * 1e3:8.2f}ms {t_ours / t_theirs:7.2f}")


if __name__ == "__main__":
    main()
