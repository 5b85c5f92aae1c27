"""A probe table of evalib's public API under bad input.

Every probe calls one public function or class of evalib with one bad (or valid but
extreme) argument and states what must happen:

- ``raises=``: the exception type evalib must raise, and ``match=``, a regex its
  message must match (naming the argument). The exception must come from evalib
  itself: the innermost frame of its traceback lies in a file under ``evalib/``
  (:func:`raised_by_evalib`); an error from deep inside torch, NumPy or Python does
  not count, even of the right type.
- ``raises=None``: the call must return, and ``check(result)`` must hold (e.g. the
  output is finite).

Run as a test (one test per probe), or as a script for the summary:
``.venv/bin/python tests/test_api_probes.py`` classifies every probe as clear /
correct / unclear / silent / hang (with a per-probe time limit), and prints the
counts per module and the list of probes that are neither clear nor correct.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import evalib
from evalib import averages, cam, curvature, landscapes, models, noise, optim, sweep, theory, train
from evalib.book import checkpointing, data, live, plots, runtime

EVALIB_DIR = Path(evalib.__file__).resolve().parent
NAN, INF = math.nan, math.inf


# ----------------------------------------------------------------------------------
# The probe, its check, its classification
# ----------------------------------------------------------------------------------


@dataclass
class Probe:
    module: str
    name: str
    call: Callable[[], Any]
    raises: type[BaseException] | None = None
    match: str = ""
    check: Callable[[Any], bool] | None = None

    @property
    def id(self) -> str:
        return f"{self.module}:{self.name}"


def raised_by_evalib(err: BaseException) -> bool:
    """Whether the innermost frame of ``err``'s traceback is in a file under evalib/.

    ``raise ValueError(...) from err`` inside evalib counts as evalib's: the new
    exception's own traceback ends at that ``raise``.
    """
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(EVALIB_DIR)


def _run(probe: Probe) -> tuple[str, Any]:
    """``("returned", result)`` or ``("raised", exception)``; warnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "returned", probe.call()
        except Exception as err:
            return "raised", err


def classify(probe: Probe, timeout: float | None = None) -> tuple[str, str]:
    """``(kind, detail)``: kind is clear, correct, unclear, silent or hang.

    - clear: the expected exception, raised by evalib, with a message that matches;
    - correct: a valid-but-extreme input returned a result that passes the check;
    - unclear: an exception from deep inside torch/NumPy/Python, of another type, or
      whose message does not say what was wrong;
    - silent: no error where one was due, or a result that fails the check;
    - hang: no answer within ``timeout`` seconds (only when a timeout is given).
    """
    if timeout is None:
        how, value = _run(probe)
    else:
        box: list[tuple[str, Any]] = []
        thread = threading.Thread(target=lambda: box.append(_run(probe)), daemon=True)
        thread.start()
        thread.join(timeout)
        if not box:
            return "hang", f"no answer within {timeout:g} s"
        how, value = box[0]
    if probe.raises is None:
        if how == "raised":
            return "unclear", f"raised {type(value).__name__}: {value}"
        try:
            ok = probe.check is None or bool(probe.check(value))
        except Exception as err:
            ok, value = False, f"check failed with {type(err).__name__}: {err}"
        return ("correct", "") if ok else ("silent", f"returned {value!r:.200}")
    if how == "returned":
        return "silent", f"returned {value!r:.200} instead of raising {probe.raises.__name__}"
    err = value
    where = "evalib" if raised_by_evalib(err) else "outside evalib"
    text = f"{type(err).__name__} ({where}): {str(err)[:300]}"
    if not isinstance(err, probe.raises):
        return "unclear", f"expected {probe.raises.__name__}, got {text}"
    if where != "evalib":
        return "unclear", text
    if not re.search(probe.match, str(err)):
        return "unclear", f"message does not match {probe.match!r}: {text}"
    return "clear", ""


# ----------------------------------------------------------------------------------
# Shared small objects (built on first use, so collecting the table costs nothing)
# ----------------------------------------------------------------------------------


@functools.cache
def digits() -> data.Data:
    return data.load("digits", train_size=16, test_size=16, batch_size=8)


def tiny(width: int = 2) -> models.ResNet18:
    torch.manual_seed(0)
    return models.ResNet18(width=width)


def images(n: int = 2, size: int = 16, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0)).to(dtype)


def image_loader(x: torch.Tensor, y: torch.Tensor | None = None) -> DataLoader:
    y = torch.zeros(len(x), dtype=torch.long) if y is None else y
    return DataLoader(TensorDataset(x, y), batch_size=4)


def run_parts(width: int = 2):
    model = tiny(width)
    return model, train.momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.9)


def linear_grads(n: int = 6, p: int = 4) -> torch.Tensor:
    return torch.randn(n, p, generator=torch.Generator().manual_seed(1))


def quad_grad(w: np.ndarray) -> np.ndarray:
    return np.asarray([1.0, 10.0]) * w


def with_env(name: str, value: str | None, fn: Callable[[], Any]) -> Any:
    before = os.environ.get(name)
    try:
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
        return fn()
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def keeping_threads(fn: Callable[[], Any]) -> Any:
    before = torch.get_num_threads()
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plt.close(fig)
    return ax


def finite(x: Any) -> bool:
    if torch.is_tensor(x):
        return bool(torch.isfinite(x).all())
    return bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64))))


def saved_checkpoint() -> Path:
    model, optimizer = run_parts()
    path = Path(tempfile.mkdtemp(prefix="evalib-probe-")) / "run.pt"
    checkpointing.save_checkpoint(path, model, optimizer, None, 1, train.History())
    return path


# ----------------------------------------------------------------------------------
# Bad values, reused across functions
# ----------------------------------------------------------------------------------

# (id, value, expected exception) for an argument that must be a finite real number.
BAD_REAL = [
    ("str", "0.5", TypeError),
    ("none", None, TypeError),
    ("bool", True, TypeError),
    ("complex", 0.5 + 1j, TypeError),
    ("list", [0.5], TypeError),
    ("nan", NAN, ValueError),
    ("inf", INF, ValueError),
]
NONPOSITIVE = [("zero", 0.0, ValueError), ("negative", -1.0, ValueError)]
# For an argument that must be an int.
BAD_INT = [
    ("str", "2", TypeError),
    ("none", None, TypeError),
    ("bool", True, TypeError),
    ("float", 2.0, TypeError),
    ("nan", NAN, TypeError),
]
# For a 1-D array of finite real numbers.
BAD_SERIES = [
    ("str", "abc", TypeError),
    ("none", None, TypeError),
    ("complex", np.array([1 + 1j, 2.0]), TypeError),
    ("bool", np.array([True, False, True]), TypeError),
    ("strings", [1.0, "a"], TypeError),
    ("ragged", [[1.0, 2.0], [3.0]], TypeError),
    ("nan", [1.0, NAN, 3.0], ValueError),
    ("inf", [1.0, INF, 3.0], ValueError),
    ("empty", [], ValueError),
    ("2d", np.ones((3, 3)), ValueError),
]

PROBES: list[Any] = []


def add(
    module: str,
    name: str,
    call: Callable[[], Any],
    raises: type[BaseException] | None = None,
    match: str = "",
    check: Callable[[Any], bool] | None = None,
    xfail: str | None = None,
) -> None:
    """Add one probe to the table (``xfail``: a known defect left open, with its reason)."""
    probe = Probe(module, name, call, raises, match, check)
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    PROBES.append(pytest.param(probe, id=probe.id, marks=marks))


def add_bad(
    module: str,
    name: str,
    arg: str,
    call: Callable[[Any], Any],
    bad: list,
    match: str | None = None,
) -> None:
    """One probe per bad value: ``call(value)`` must raise the value's exception naming ``arg``."""
    for vid, value, exc in bad:
        add(
            module,
            f"{name}-{arg}-{vid}",
            lambda v=value: call(v),
            exc,
            match or rf"\b{re.escape(arg)}\b",
        )


# ----------------------------------------------------------------------------------
# evalib.averages
# ----------------------------------------------------------------------------------

M = "averages"
X = [1.0, 2.0, 3.0, 4.0]
for fn in (averages.sma, averages.wma):
    n = fn.__name__
    add_bad(M, n, "x", lambda v, fn=fn: fn(v, 2), BAD_SERIES)
    add_bad(
        M,
        n,
        "window",
        lambda v, fn=fn: fn(X, v),
        BAD_INT
        + [("zero", 0, ValueError), ("negative", -1, ValueError), ("too-long", 5, ValueError)],
    )
    add(
        M,
        f"{n}-huge-values-refused",
        lambda fn=fn: fn([1e308, 1.7e308, 1e308], 2),
        ValueError,
        r"x must all be [<>]= -?9\.7.*e\+288.*±2\*\*960",
    )
    add(
        M,
        f"{n}-values-up-to-the-limit-finite",
        lambda fn=fn: fn([2.0**960, -(2.0**960), 2.0**960], 2),
        check=lambda r: finite(r[1:]),
    )
    add(
        M,
        f"{n}-uint8-array",
        lambda fn=fn: fn(np.array([1, 2, 255], dtype=np.uint8), 2),
        check=lambda r: r[2] > 100,
    )
    add(
        M,
        f"{n}-tensor-requires-grad",
        lambda fn=fn: fn(torch.ones(4, requires_grad=True), 2),
        check=lambda r: isinstance(r, np.ndarray) and finite(r[1:]),
    )
add_bad(M, "ewma", "x", lambda v: averages.ewma(v, 0.9), BAD_SERIES)
add_bad(
    M,
    "ewma",
    "beta",
    lambda v: averages.ewma(X, v),
    BAD_REAL + [("one", 1.0, ValueError), ("negative", -0.1, ValueError)],
)
add_bad(
    M,
    "ewma",
    "bias_correction",
    lambda v: averages.ewma(X, 0.9, v),
    [("int", 1, TypeError), ("str", "yes", TypeError), ("none", None, TypeError)],
)
add(
    M,
    "ewma-huge-values-refused",
    lambda: averages.ewma([1.7e308, -1.7e308, 1.7e308], 0.5, True),
    ValueError,
    r"x must all be [<>]= -?9\.7.*e\+288.*±2\*\*960",
)
add(
    M,
    "ewma-values-up-to-the-limit-finite",
    lambda: averages.ewma([2.0**960, -(2.0**960), 2.0**960], 0.5, True),
    check=finite,
)
add(
    M,
    "ewma-beta-zero-is-identity",
    lambda: averages.ewma(X, 0.0),
    check=lambda r: np.allclose(r, X),
)
add(
    M,
    "ewma-float16-tensor",
    lambda: averages.ewma(torch.ones(3, dtype=torch.float16), 0.5, True),
    check=lambda r: np.allclose(r, 1.0),
)
add_bad(
    M,
    "effective_window",
    "beta",
    averages.effective_window,
    BAD_REAL + [("one", 1.0, ValueError), ("above-one", 2.0, ValueError)],
)
add(
    M,
    "effective_window-numpy-float32",
    lambda: averages.effective_window(np.float32(0.5)),
    check=lambda r: r == 2.0,
)
add_bad(
    M,
    "ewma_lag",
    "beta",
    averages.ewma_lag,
    BAD_REAL
    + [("one", 1.0, ValueError), ("above-one", 2.0, ValueError), ("negative", -0.1, ValueError)],
)
add(M, "ewma_lag-zero", lambda: averages.ewma_lag(0.0), check=lambda r: r == 0.0)
add(
    M,
    "ewma_lag-numpy-float32",
    lambda: averages.ewma_lag(np.float32(0.5)),
    check=lambda r: r == 1.0,
)
add(
    M,
    "ewma_lag-just-below-one-finite",
    lambda: averages.ewma_lag(np.nextafter(1.0, 0.0)),
    check=lambda r: math.isfinite(r) and r > 1e15,
)

# ----------------------------------------------------------------------------------
# evalib.theory
# ----------------------------------------------------------------------------------

M = "theory"
EIG = [0.5, 2.0]
BAD_EIGVALS = [
    *BAD_SERIES[:6],
    ("nan", [1.0, NAN], ValueError),
    ("inf", [1.0, INF], ValueError),
    ("empty", [], ValueError),
    ("2d", np.ones((2, 2)), ValueError),
    ("zero", [0.0, 1.0], ValueError),
    ("negative", [-1.0, 1.0], ValueError),
]
add_bad(M, "gd_rate", "lr", lambda v: theory.gd_rate(v, EIG), BAD_REAL + NONPOSITIVE)
add_bad(M, "gd_rate", "eigvals", lambda v: theory.gd_rate(0.1, v), BAD_EIGVALS)
add(
    M,
    "gd_rate-overflowing-product",
    lambda: theory.gd_rate(1e300, [1e300]),
    ValueError,
    r"lr \* eigvals",
)
add(
    M,
    "gd_rate-scalar-eigval",
    lambda: theory.gd_rate(0.1, 2.0),
    check=lambda r: math.isclose(r, 0.8),
)
add(
    M,
    "gd_rate-tensor-eigvals",
    lambda: theory.gd_rate(torch.tensor(0.1), torch.tensor([2.0], requires_grad=True)),
    check=lambda r: math.isclose(r, 0.8, rel_tol=1e-6),
)
add_bad(
    M, "momentum_rate", "lr", lambda v: theory.momentum_rate(v, 0.9, EIG), BAD_REAL + NONPOSITIVE
)
add_bad(
    M,
    "momentum_rate",
    "beta",
    lambda v: theory.momentum_rate(0.1, v, EIG),
    BAD_REAL + [("one", 1.0, ValueError), ("negative", -0.5, ValueError)],
)
add_bad(M, "momentum_rate", "eigvals", lambda v: theory.momentum_rate(0.1, 0.9, v), BAD_EIGVALS)
add(
    M,
    "momentum_rate-extreme-spread",
    lambda: theory.momentum_rate(1e-300, 0.5, [1e-300, 1e300]),
    check=lambda r: math.isfinite(r),
)
add_bad(M, "optimal_gd", "eigvals", theory.optimal_gd, BAD_EIGVALS)
add(M, "optimal_gd-extreme-spread", lambda: theory.optimal_gd([1e-300, 1e300]), check=finite)
add(M, "optimal_gd-subnormal", lambda: theory.optimal_gd([5e-324]), ValueError, "eigvals")
add_bad(M, "optimal_momentum", "eigvals", theory.optimal_momentum, BAD_EIGVALS)
add(
    M,
    "optimal_momentum-extreme-spread",
    lambda: theory.optimal_momentum([1e-300, 1e300]),
    check=finite,
)
add_bad(
    M,
    "momentum_matrix",
    "lr",
    lambda v: theory.momentum_matrix(v, 0.9, 1.0),
    BAD_REAL + NONPOSITIVE,
)
add_bad(
    M,
    "momentum_matrix",
    "beta",
    lambda v: theory.momentum_matrix(0.1, v, 1.0),
    BAD_REAL + [("one", 1.0, ValueError)],
)
BAD_EIGVAL = (
    [b for b in BAD_REAL if b[0] != "list"] + NONPOSITIVE + [("two-values", [1.0, 2.0], ValueError)]
)
add_bad(M, "momentum_matrix", "eigval", lambda v: theory.momentum_matrix(0.1, 0.9, v), BAD_EIGVAL)
add(
    M,
    "momentum_matrix-one-element-list",
    lambda: theory.momentum_matrix(0.1, 0.9, [1.0]),
    check=lambda r: r.shape == (2, 2),
)
add(
    M,
    "momentum_matrix-shape",
    lambda: theory.momentum_matrix(0.1, 0.9, 1.0),
    check=lambda r: r.shape == (2, 2),
)
add_bad(
    M,
    "momentum_roots",
    "h",
    lambda v: theory.momentum_roots(v, 0.5),
    BAD_SERIES[:5] + BAD_SERIES[6:8],
)
add_bad(
    M,
    "momentum_roots",
    "beta",
    lambda v: theory.momentum_roots(1.0, v),
    BAD_SERIES[:5] + BAD_SERIES[6:8],
)
add(
    M,
    "momentum_roots-overflow",
    lambda: theory.momentum_roots(1e308, -1e308),
    ValueError,
    r"h must all be <= 1e\+150.*float range",
)
add(
    M,
    "momentum_roots-broadcast",
    lambda: theory.momentum_roots([0.1, 1.0, 3.9], 0.9),
    check=lambda r: r.shape == (3, 2) and finite(np.abs(r)),
)
add_bad(M, "critical_beta", "lr", lambda v: theory.critical_beta(v, 1.0), BAD_REAL + NONPOSITIVE)
add_bad(M, "critical_beta", "eigval", lambda v: theory.critical_beta(0.1, v), BAD_EIGVAL)
add_bad(
    M,
    "gd_error",
    "x0",
    lambda v: theory.gd_error(0.1, EIG, v, 3),
    BAD_SERIES[:8] + [("wrong-length", [1.0, 2.0, 3.0], ValueError)],
)
add_bad(
    M,
    "gd_error",
    "steps",
    lambda v: theory.gd_error(0.1, EIG, [1.0, 1.0], v),
    BAD_INT + [("negative", -1, ValueError)],
)
add(
    M,
    "gd_error-diverging-is-inf",
    lambda: theory.gd_error(10.0, EIG, [1.0, 1.0], 400),
    check=lambda r: r.shape == (401, 2) and np.isinf(r[-1, 1]),
)
for fn in (theory.run_gd, theory.run_momentum):
    n = fn.__name__
    extra = (0.5,) if fn is theory.run_momentum else ()

    def call(grad=quad_grad, w0=(1.0, 1.0), lr=0.1, steps=3, fn=fn, extra=extra):
        return fn(grad, w0, lr, *extra, steps)

    add_bad(M, n, "w0", lambda v, call=call: call(w0=v), BAD_SERIES[:9])
    add_bad(M, n, "lr", lambda v, call=call: call(lr=v), BAD_REAL + NONPOSITIVE)
    add_bad(
        M, n, "steps", lambda v, call=call: call(steps=v), BAD_INT + [("negative", -1, ValueError)]
    )
    add(M, f"{n}-grad-not-callable", lambda call=call: call(grad=5), TypeError, r"\bgrad\b")
    add(
        M,
        f"{n}-grad-wrong-shape",
        lambda call=call: call(grad=lambda w: np.ones(3)),
        ValueError,
        r"grad",
    )
    add(M, f"{n}-grad-returns-str", lambda call=call: call(grad=lambda w: "x"), TypeError, r"grad")
    add(
        M,
        f"{n}-diverging-returns-nonfinite",
        lambda call=call: call(lr=5.0, steps=500),
        check=lambda r: r.shape == (501, 2) and not finite(r[-1]),
    )
if True:  # run_momentum's beta
    add_bad(
        M,
        "run_momentum",
        "beta",
        lambda v: theory.run_momentum(quad_grad, [1.0, 1.0], 0.1, v, 3),
        BAD_REAL + [("one", 1.0, ValueError)],
    )
add_bad(
    M,
    "empirical_rate",
    "errors",
    lambda v: theory.empirical_rate(v),
    BAD_SERIES[:6]
    + [
        ("nan", [1.0, NAN, 0.5], ValueError),
        ("short", [1.0], ValueError),
        ("negative", [1.0, -0.5, 0.25], ValueError),
    ],
)
add_bad(
    M,
    "empirical_rate",
    "start",
    lambda v: theory.empirical_rate([1.0, 0.5, 0.25, 0.125], start=v),
    [
        ("str", "0", TypeError),
        ("float", 1.0, TypeError),
        ("after-stop", 3, ValueError),
        ("negative", -1, ValueError),
    ],
)
add_bad(
    M,
    "empirical_rate",
    "stop",
    lambda v: theory.empirical_rate([1.0, 0.5, 0.25, 0.125], stop=v),
    [("str", "3", TypeError), ("too-large", 9, ValueError)],
)
add(
    M,
    "empirical_rate-all-zero",
    lambda: theory.empirical_rate([0.0, 0.0, 0.0]),
    ValueError,
    "errors",
)
add(
    M,
    "empirical_rate-geometric",
    lambda: theory.empirical_rate(0.5 ** np.arange(20)),
    check=lambda r: math.isclose(r, 0.5),
)
add_bad(
    M,
    "iterations_needed",
    "rate",
    lambda v: theory.iterations_needed(v, 1e-3),
    BAD_REAL + [("negative", -0.5, ValueError)],
)
add_bad(
    M,
    "iterations_needed",
    "tol",
    lambda v: theory.iterations_needed(0.5, v),
    BAD_REAL + [("zero", 0.0, ValueError), ("one", 1.0, ValueError)],
)
add(
    M,
    "iterations_needed-rate-one-is-inf",
    lambda: theory.iterations_needed(1.0, 0.1),
    check=math.isinf,
)
add_bad(
    M,
    "iterations_to_tolerance",
    "errors",
    lambda v: theory.iterations_to_tolerance(v, 0.1),
    BAD_SERIES[:6] + [("empty", [], ValueError), ("2d", np.ones((2, 2)), ValueError)],
)
add_bad(
    M,
    "iterations_to_tolerance",
    "tol",
    lambda v: theory.iterations_to_tolerance([1.0, 0.1], v),
    BAD_REAL + [("zero", 0.0, ValueError)],
)

# ----------------------------------------------------------------------------------
# evalib.landscapes
# ----------------------------------------------------------------------------------

M = "landscapes"
PAIR_BAD = [
    ("str", "ab", TypeError),
    ("none", None, TypeError),
    ("complex", [1j, 1.0], TypeError),
    ("nan", [NAN, 1.0], ValueError),
    ("three", [1.0, 2.0, 3.0], ValueError),
    ("empty", [], ValueError),
]
add_bad(
    M,
    "Quadratic",
    "eigvals",
    lambda v: landscapes.Quadratic(v),
    PAIR_BAD + [("zero", [0.0, 1.0], ValueError)],
)
add_bad(M, "Quadratic", "angle", lambda v: landscapes.Quadratic((1.0, 2.0), angle=v), BAD_REAL)
add_bad(M, "Quadratic", "center", lambda v: landscapes.Quadratic((1.0, 2.0), center=v), PAIR_BAD)
add_bad(
    M,
    "Quadratic",
    "start",
    lambda v: landscapes.Quadratic((1.0, 2.0), start=v),
    PAIR_BAD[:1] + PAIR_BAD[2:],
)
add_bad(
    M,
    "Quadratic",
    "bounds",
    lambda v: landscapes.Quadratic((1.0, 2.0), bounds=v),
    [
        ("int", 5, TypeError),
        ("str", "ab", TypeError),
        ("one-pair", ((0.0, 1.0),), ValueError),
        ("nan", ((0.0, NAN), (0.0, 1.0)), ValueError),
        ("reversed", ((1.0, 0.0), (0.0, 1.0)), ValueError),
    ],
)
add(
    M,
    "Quadratic-name-int",
    lambda: landscapes.Quadratic((1.0, 2.0), name=5),
    TypeError,
    r"\bname\b",
)
add(
    M,
    "Quadratic-huge-condition",
    lambda: landscapes.Quadratic((1e-300, 1e300)).condition_number,
    ValueError,
    r"eigvals.*condition number",
)
add_bad(M, "Rosenbrock", "a", lambda v: landscapes.Rosenbrock(a=v), BAD_REAL)
add_bad(M, "Rosenbrock", "b", lambda v: landscapes.Rosenbrock(b=v), BAD_REAL + NONPOSITIVE)
for lname, land in landscapes.LANDSCAPES.items():
    add_bad(
        M,
        f"{lname}-call",
        "w",
        land,
        [
            ("str", "ab", TypeError),
            ("none", None, TypeError),
            ("scalar", 1.0, ValueError),
            ("three", [1.0, 2.0, 3.0], ValueError),
            ("bool", [True, False], TypeError),
            ("tensor-3", torch.zeros(3), ValueError),
            ("tensor-0d", torch.tensor(1.0), ValueError),
        ],
    )
    add(
        M,
        f"{lname}-call-int-tensor",
        lambda land=land: land(torch.tensor([1, 1])),
        check=lambda r: r.dtype.is_floating_point,
    )
    add(
        M,
        f"{lname}-call-nan-passes",
        lambda land=land: land([NAN, 0.0]),
        check=lambda r: np.isnan(r),
    )
    add(
        M,
        f"{lname}-call-batch",
        lambda land=land: land(np.zeros((4, 3, 2))),
        check=lambda r: r.shape == (4, 3),
    )
    add_bad(
        M,
        f"{lname}-grad",
        "w",
        land.grad,
        [("str", "ab", TypeError), ("three", [1.0, 2.0, 3.0], ValueError)],
    )
    add(
        M,
        f"{lname}-grad-float64-tensor",
        lambda land=land: land.grad(torch.zeros(2, dtype=torch.float64)),
        check=lambda r: r.shape == (2,) and r.dtype == torch.float64,
    )
add_bad(
    M,
    "grid",
    "n",
    lambda v: landscapes.ravine.grid(v),
    BAD_INT + [("one", 1, ValueError), ("negative", -3, ValueError)],
)
add_bad(
    M,
    "grid",
    "bounds",
    lambda v: landscapes.ravine.grid(5, v),
    [
        ("int", 5, TypeError),
        ("one-pair", ((0.0, 1.0),), ValueError),
        ("nan", ((0.0, NAN), (0.0, 1.0)), ValueError),
        ("str-pair", ("ab", "cd"), TypeError),
        ("reversed", ((1.0, 0.0), (0.0, 1.0)), ValueError),
    ],
)
add_bad(
    M,
    "eigen_coords",
    "w",
    landscapes.ravine.eigen_coords,
    [("str", "ab", TypeError), ("three", [1.0, 2.0, 3.0], ValueError)],
)

# ----------------------------------------------------------------------------------
# evalib.optim
# ----------------------------------------------------------------------------------

M = "optim"
for cls in (optim.HeavyBall, optim.Nesterov, optim.EWMAMomentum, optim.SutskeverMomentum):
    n = cls.__name__

    def make(params=None, lr=0.1, momentum=0.9, weight_decay=0.0, cls=cls):
        params = [torch.zeros(2, requires_grad=True)] if params is None else params
        return cls(params, lr, momentum=momentum, weight_decay=weight_decay)

    add_bad(
        M, n, "lr", lambda v, make=make: make(lr=v), BAD_REAL + [("negative", -0.1, ValueError)]
    )
    add_bad(
        M,
        n,
        "momentum",
        lambda v, make=make: make(momentum=v),
        BAD_REAL + [("one", 1.0, ValueError), ("negative", -0.1, ValueError)],
    )
    add_bad(
        M,
        n,
        "weight_decay",
        lambda v, make=make: make(weight_decay=v),
        BAD_REAL + [("negative", -1.0, ValueError)],
    )
    add_bad(
        M,
        n,
        "params",
        lambda v, make=make: make(params=v),
        [
            ("empty", [], ValueError),
            ("int", 5, TypeError),
            ("none-entry", [None], TypeError),
            ("bare-tensor", torch.zeros(2, requires_grad=True), TypeError),
            ("non-leaf", [torch.zeros(2, requires_grad=True) * 2], ValueError),
        ],
    )
    add(M, f"{n}-step-without-grad", lambda make=make: make().step(), check=lambda r: r is None)
add(
    M,
    "EWMAMomentum-torch_first_step-int",
    lambda: optim.EWMAMomentum([torch.zeros(2, requires_grad=True)], 0.1, torch_first_step=1),
    TypeError,
    "torch_first_step",
)


def traj(
    fn=landscapes.ravine,
    w0=(1.0, 1.0),
    make_optimizer=lambda p: optim.HeavyBall(p, 0.01),
    steps=3,
    **kw,
):
    return optim.trajectory(fn, w0, make_optimizer, steps, **kw)


add_bad(
    M,
    "trajectory",
    "w0",
    lambda v: traj(w0=v),
    PAIR_BAD + [("bool", [True, False], TypeError), ("inf", [INF, 0.0], ValueError)],
)
add_bad(M, "trajectory", "steps", lambda v: traj(steps=v), BAD_INT + [("negative", -1, ValueError)])
add(M, "trajectory-fn-not-callable", lambda: traj(fn=5), TypeError, r"\bfn\b")
add(
    M,
    "trajectory-make_optimizer-not-callable",
    lambda: traj(make_optimizer=5),
    TypeError,
    "make_optimizer",
)
add(
    M,
    "trajectory-make_optimizer-returns-int",
    lambda: traj(make_optimizer=lambda p: 5),
    TypeError,
    "make_optimizer",
)
add(M, "trajectory-fn-vector", lambda: traj(fn=lambda w: w * 2), TypeError, r"\bfn\b")
add(M, "trajectory-fn-returns-float", lambda: traj(fn=lambda w: 1.0), TypeError, r"\bfn\b")
add(
    M,
    "trajectory-fn-constant-tensor",
    lambda: traj(fn=lambda w: torch.tensor(1.0)),
    ValueError,
    r"\bfn\b",
)
add(M, "trajectory-warn-str", lambda: traj(warn="no"), TypeError, r"\bwarn\b")
add(
    M,
    "trajectory-diverges-nan-rows",
    lambda: traj(make_optimizer=lambda p: optim.HeavyBall(p, 10.0), steps=800),
    check=lambda r: r.shape == (801, 2) and finite(r[0]) and np.isnan(r[-1]).all(),
)
add(M, "trajectory-zero-steps", lambda: traj(steps=0), check=lambda r: r.shape == (1, 2))
add_bad(
    M,
    "nesterov_lookahead",
    "grad",
    lambda v: optim.nesterov_lookahead(v, [1.0, 1.0], 0.1, 0.9, 3),
    [("int", 5, TypeError), ("none", None, TypeError)],
)
add_bad(
    M,
    "nesterov_lookahead",
    "w0",
    lambda v: optim.nesterov_lookahead(quad_grad, v, 0.1, 0.9, 3),
    BAD_SERIES[:9],
)
add_bad(
    M,
    "nesterov_lookahead",
    "lr",
    lambda v: optim.nesterov_lookahead(quad_grad, [1.0, 1.0], v, 0.9, 3),
    BAD_REAL + [("negative", -1.0, ValueError)],
)
add_bad(
    M,
    "nesterov_lookahead",
    "momentum",
    lambda v: optim.nesterov_lookahead(quad_grad, [1.0, 1.0], 0.1, v, 3),
    BAD_REAL + [("one", 1.0, ValueError)],
)
add_bad(
    M,
    "nesterov_lookahead",
    "steps",
    lambda v: optim.nesterov_lookahead(quad_grad, [1.0, 1.0], 0.1, 0.9, v),
    BAD_INT + [("negative", -1, ValueError)],
)
add(
    M,
    "nesterov_lookahead-grad-wrong-shape",
    lambda: optim.nesterov_lookahead(lambda w: np.ones(3), [1.0, 1.0], 0.1, 0.9, 3),
    ValueError,
    r"grad",
)
PATH = np.zeros((4, 2))
add_bad(
    M,
    "steps_to_stay_within",
    "path",
    lambda v: optim.steps_to_stay_within(v, [0.0, 0.0], 0.1),
    [
        ("str", "ab", TypeError),
        ("1d", np.zeros(4), ValueError),
        ("3-columns", np.zeros((4, 3)), ValueError),
        ("no-rows", np.zeros((0, 2)), ValueError),
        ("complex", np.zeros((4, 2), complex), TypeError),
    ],
)
add_bad(
    M,
    "steps_to_stay_within",
    "minimum",
    lambda v: optim.steps_to_stay_within(PATH, v, 0.1),
    [("str", "ab", TypeError), ("nan", [NAN, 0.0], ValueError)],
)
add_bad(
    M,
    "steps_to_stay_within",
    "tol",
    lambda v: optim.steps_to_stay_within(PATH, [0.0, 0.0], v),
    BAD_REAL + NONPOSITIVE,
)
add(
    M,
    "steps_to_stay_within-diverged-run",
    lambda: optim.steps_to_stay_within(np.full((3, 2), NAN), [0.0, 0.0], 0.1),
    check=lambda r: r is None,
)

# ----------------------------------------------------------------------------------
# evalib.noise
# ----------------------------------------------------------------------------------

M = "noise"
BAD_MATRIX = [
    ("list", [[1.0, 2.0]], TypeError),
    ("int-tensor", torch.ones(3, 2, dtype=torch.long), TypeError),
    ("complex", torch.ones(3, 2, dtype=torch.complex64), TypeError),
    ("bool", torch.ones(3, 2, dtype=torch.bool), TypeError),
    ("1d", torch.ones(3), ValueError),
    ("no-rows", torch.ones(0, 2), ValueError),
    ("nan", torch.tensor([[1.0, NAN], [0.0, 1.0]]), ValueError),
]


def lin_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Linear(4, 3)


def peg(model=None, loss_fn=nn.functional.cross_entropy, x=None, y=None):
    x = torch.randn(5, 4) if x is None else x
    y = torch.zeros(5, dtype=torch.long) if y is None else y
    return noise.per_example_gradients(lin_model() if model is None else model, loss_fn, x, y)


add(M, "per_example_gradients-model-str", lambda: peg(model="net"), TypeError, r"\bmodel\b")
add(M, "per_example_gradients-loss_fn-int", lambda: peg(loss_fn=5), TypeError, "loss_fn")
add(M, "per_example_gradients-x-list", lambda: peg(x=[[1.0] * 4] * 5), TypeError, r"\bx\b")
# A 0-d y is a tensor of the wrong shape: a ValueError, as for any other bad shape.
add(M, "per_example_gradients-y-0d", lambda: peg(y=torch.tensor(0)), ValueError, r"\by\b.*row")
add(
    M,
    "per_example_gradients-length-mismatch",
    lambda: peg(y=torch.zeros(4, dtype=torch.long)),
    ValueError,
    r"\bx\b.*\by\b",
)
add(
    M,
    "per_example_gradients-empty",
    lambda: peg(x=torch.randn(0, 4), y=torch.zeros(0, dtype=torch.long)),
    ValueError,
    r"\bx\b.*at least one row",
)
add(
    M,
    "per_example_gradients-batchnorm-train",
    lambda: peg(model=nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))),
    ValueError,
    r"eval\(\)",
)
add(
    M, "per_example_gradients-x-wrong-width", lambda: peg(x=torch.randn(5, 7)), ValueError, r"\bx\b"
)
add(
    M,
    "per_example_gradients-x-float64",
    lambda: peg(x=torch.randn(5, 4, dtype=torch.float64)),
    ValueError,
    r"\bx\b",
)
add(
    M,
    "per_example_gradients-shape",
    lambda: peg(),
    check=lambda r: r.shape == (5, 15) and finite(r),
)
add_bad(
    M,
    "sample_minibatch_gradients",
    "per_example",
    lambda v: noise.sample_minibatch_gradients(v, 1, 2),
    BAD_MATRIX,
)
add_bad(
    M,
    "sample_minibatch_gradients",
    "batch_size",
    lambda v: noise.sample_minibatch_gradients(linear_grads(), v, 2),
    BAD_INT + [("zero", 0, ValueError), ("too-large", 7, ValueError)],
)
add_bad(
    M,
    "sample_minibatch_gradients",
    "n_batches",
    lambda v: noise.sample_minibatch_gradients(linear_grads(), 2, v),
    BAD_INT + [("zero", 0, ValueError), ("huge", 10**12, ValueError)],
)
add(
    M,
    "sample_minibatch_gradients-generator-str",
    lambda: noise.sample_minibatch_gradients(linear_grads(), 2, 3, "g"),
    TypeError,
    "generator",
)
add(
    M,
    "sample_minibatch_gradients-float64",
    lambda: noise.sample_minibatch_gradients(linear_grads().double(), 6, 3),
    check=lambda r: (
        r.dtype == torch.float64
        and torch.allclose(r, linear_grads().double().mean(0).expand(3, -1))
    ),
)
add_bad(
    M, "minibatch_variance", "per_example", lambda v: noise.minibatch_variance(v, 1), BAD_MATRIX
)
add_bad(
    M,
    "minibatch_variance",
    "batch_size",
    lambda v: noise.minibatch_variance(linear_grads(), v),
    BAD_INT + [("zero", 0, ValueError), ("too-large", 7, ValueError)],
)
add(
    M,
    "minibatch_variance-one-row",
    lambda: noise.minibatch_variance(torch.ones(1, 3), 1),
    check=lambda r: r == 0.0,
)
add_bad(M, "ewma_rows", "grads", lambda v: noise.ewma_rows(v, 0.9), BAD_MATRIX)
add_bad(
    M,
    "ewma_rows",
    "beta",
    lambda v: noise.ewma_rows(linear_grads(), v),
    BAD_REAL + [("one", 1.0, ValueError)],
)
add_bad(
    M,
    "ewma_variance_factor",
    "beta",
    noise.ewma_variance_factor,
    BAD_REAL + [("one", 1.0, ValueError)],
)
add_bad(M, "gradient_noise", "grads", lambda v: noise.gradient_noise(v, torch.zeros(2)), BAD_MATRIX)
add_bad(
    M,
    "gradient_noise",
    "full",
    lambda v: noise.gradient_noise(linear_grads(), v),
    [
        ("list", [0.0] * 4, TypeError),
        ("wrong-shape", torch.zeros(5), ValueError),
        ("complex", torch.zeros(4, dtype=torch.complex64), TypeError),
        ("nan", torch.full((4,), NAN), ValueError),
    ],
)
add(
    M,
    "gradient_noise-zero-full",
    lambda: noise.gradient_noise(linear_grads(), torch.zeros(4)),
    check=lambda r: math.isinf(r["relative"]),
)
for arg, pos, bad in (
    ("lr", 0, BAD_REAL + NONPOSITIVE),
    ("beta", 1, BAD_REAL + [("one", 1.0, ValueError)]),
    ("eigval", 2, BAD_REAL + NONPOSITIVE),
    ("noise_var", 3, BAD_REAL + [("negative", -1.0, ValueError)]),
):

    def hb(v, pos=pos):
        args = [0.1, 0.9, 1.0, 1.0]
        args[pos] = v
        return noise.heavy_ball_noise_floor(*args)

    add_bad(M, "heavy_ball_noise_floor", arg, hb, bad)
add(
    M,
    "heavy_ball_noise_floor-unstable",
    lambda: noise.heavy_ball_noise_floor(4.0, 0.9, 1.0, 1.0),
    ValueError,
    "diverges",
)
add(
    M,
    "heavy_ball_noise_floor-overflow",
    lambda: noise.heavy_ball_noise_floor(1e300, 0.5, 1e-300, 1e300),
    ValueError,
    "float range",
)
add(
    M,
    "heavy_ball_noise_floor-tiny",
    lambda: noise.heavy_ball_noise_floor(1e-300, 0.5, 1e-300, 1e-300),
    check=finite,
)

# ----------------------------------------------------------------------------------
# evalib.models
# ----------------------------------------------------------------------------------

M = "models"
add_bad(
    M,
    "ResNet18",
    "width",
    lambda v: models.ResNet18(width=v),
    BAD_INT + [("zero", 0, ValueError), ("negative", -2, ValueError)],
)
add_bad(
    M,
    "ResNet18",
    "num_classes",
    lambda v: models.ResNet18(num_classes=v, width=2),
    BAD_INT + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "BasicBlock",
    "in_channels",
    lambda v: models.BasicBlock(v, 4),
    BAD_INT[:4] + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "BasicBlock",
    "channels",
    lambda v: models.BasicBlock(4, v),
    BAD_INT[:4] + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "BasicBlock",
    "stride",
    lambda v: models.BasicBlock(4, 4, v),
    BAD_INT[:4] + [("zero", 0, ValueError)],
)
# BasicBlock.forward trusts its input (a private, per-step path inside ResNet18, whose
# forward checks the batch once): a wrong batch gets torch's own error there.
add_bad(
    M,
    "ResNet18-forward",
    "x",
    lambda v: tiny()(v),
    [
        ("list", [[0.0]], TypeError),
        ("numpy", np.zeros((1, 3, 8, 8), np.float32), TypeError),
        ("3d", torch.rand(3, 16, 16), ValueError),
        ("one-channel", torch.rand(1, 1, 16, 16), ValueError),
        ("uint8", torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError),
        ("float64", torch.rand(1, 3, 16, 16, dtype=torch.float64), TypeError),
        ("complex", torch.zeros(1, 3, 16, 16, dtype=torch.complex64), TypeError),
        ("bool", torch.zeros(1, 3, 16, 16, dtype=torch.bool), TypeError),
        ("meta", torch.zeros(1, 3, 16, 16, device="meta"), ValueError),
    ],
    match=r"\bx\b",
)
add(
    M,
    "ResNet18-forward-64px",
    lambda: tiny()(images(2, 64)),
    check=lambda r: r.shape == (2, 10) and finite(r),
)
add(
    M,
    "ResNet18-forward-non-square",
    lambda: tiny()(torch.rand(2, 3, 24, 40)),
    check=lambda r: r.shape == (2, 10),
)
add(
    M,
    "ResNet18-forward-empty-batch",
    lambda: tiny().eval()(torch.rand(0, 3, 16, 16)),
    check=lambda r: r.shape == (0, 10),
)
add(
    M,
    "ResNet18-forward-1px-eval",
    lambda: tiny().eval()(torch.rand(1, 3, 1, 1)),
    check=lambda r: r.shape == (1, 10),
)
add(
    M,
    "ResNet18-forward-1px-train",
    lambda: tiny()(torch.rand(1, 3, 1, 1)),
    ValueError,
    r"\bx\b|batch",
)
add(
    M,
    "ResNet18-activations-shape",
    lambda: (lambda m: (m(images(2, 16)), m.activations)[1])(tiny()),
    check=lambda r: r.shape == (2, 16, 2, 2),
)

# ----------------------------------------------------------------------------------
# evalib.cam
# ----------------------------------------------------------------------------------

M = "cam"


def gradcam(model=None, layer="layer4"):
    return cam.GradCAM(tiny() if model is None else model, layer)


add(M, "GradCAM-model-str", lambda: cam.GradCAM("net", "layer4"), TypeError, r"\bmodel\b")
add(M, "GradCAM-target_layer-int", lambda: gradcam(layer=5), TypeError, "target_layer")
add(M, "GradCAM-target_layer-unknown-name", lambda: gradcam(layer="layer9"), ValueError, "layer9")
add(
    M,
    "GradCAM-target_layer-foreign",
    lambda: gradcam(layer=nn.Conv2d(3, 3, 1)),
    ValueError,
    "target_layer",
)
add(
    M,
    "GradCAM-target_layer-linear",
    lambda: gradcam(layer="linear")(images()),
    ValueError,
    "target_layer",
)
add_bad(
    M,
    "GradCAM.cam",
    "x",
    lambda v: gradcam()(v),
    [
        ("list", [[0.0]], TypeError),
        ("3d", torch.rand(3, 16, 16), ValueError),
        ("uint8", torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError),
        ("nan", torch.full((1, 3, 16, 16), NAN), ValueError),
        ("float64", torch.rand(1, 3, 16, 16, dtype=torch.float64), TypeError),
    ],
)
if torch.cuda.is_available():  # a CPU-only host has no second device that holds data
    add(
        M,
        "GradCAM.cam-x-moved-to-the-models-device",
        lambda: gradcam(model=tiny().to("cuda"))(images()),
        check=lambda r: (
            r.device.type == "cuda" and r.shape == (2, 16, 16) and bool(r.isfinite().all())
        ),
    )
add_bad(
    M,
    "GradCAM.cam",
    "targets",
    lambda v: gradcam()(images(2), v),
    [
        ("float", 1.5, TypeError),
        ("str", "cat", TypeError),
        ("bool", True, TypeError),
        ("float-tensor", torch.tensor([0.0, 1.0]), TypeError),
        ("too-many", [0, 1, 2], ValueError),
        ("out-of-range", 10, ValueError),
        ("negative", -1, ValueError),
    ],
)
add(
    M,
    "GradCAM.cam-after-close",
    lambda: (lambda g: (g.close(), g(images()))[1])(gradcam()),
    RuntimeError,
    "closed",
)
add(
    M,
    "GradCAM.cam-range",
    lambda: gradcam()(images(2, 32)),
    check=lambda r: r.shape == (2, 32, 32) and bool(((r >= 0) & (r <= 1)).all()),
)
add(
    M,
    "GradCAM.cam-restores-train-mode",
    lambda: (lambda m: (cam.GradCAM(m, "layer4")(images()), m.training)[1])(tiny()),
    check=lambda r: r is True,
)
MAPS = torch.rand(2, 8, 8)
BOXES = torch.tensor([[0, 0, 4, 4], [2, 2, 8, 8]])
add_bad(
    M,
    "pointing_game",
    "maps",
    lambda v: cam.pointing_game(v, BOXES),
    [
        ("list", [[[0.0]]], TypeError),
        ("2d", torch.rand(8, 8), ValueError),
        ("int", torch.ones(2, 8, 8, dtype=torch.long), TypeError),
        ("nan", torch.full((2, 8, 8), NAN), ValueError),
        ("wrong-n", torch.rand(3, 8, 8), ValueError),
    ],
    match=r"\bmaps\b|\bboxes\b",
)
add_bad(
    M,
    "pointing_game",
    "boxes",
    lambda v: cam.pointing_game(MAPS, v),
    [
        ("list", [[0, 0, 4, 4]] * 2, TypeError),
        ("float", BOXES.float(), TypeError),
        ("bool", BOXES.bool(), TypeError),
        ("wrong-shape", BOXES[:, :3], ValueError),
        ("outside", torch.tensor([[0, 0, 9, 4], [0, 0, 4, 4]]), ValueError),
        ("empty-box", torch.tensor([[2, 2, 2, 4], [0, 0, 4, 4]]), ValueError),
    ],
)
add(
    M,
    "pointing_game-no-images",
    lambda: cam.pointing_game(torch.rand(0, 8, 8), torch.zeros(0, 4, dtype=torch.long)),
    ValueError,
    r"\bmaps\b",
)
add(
    M,
    "pointing_game-zero-maps-miss",
    lambda: cam.pointing_game(torch.zeros(2, 8, 8), BOXES),
    check=lambda r: r.score == 0.0 and 0 < r.chance < 1,
)

# ----------------------------------------------------------------------------------
# evalib.book.data
# ----------------------------------------------------------------------------------

M = "data"
add_bad(
    M,
    "data_root",
    "root",
    data.data_root,
    [
        ("int", 5, TypeError),
        ("bytes", b"/tmp", TypeError),
        ("empty", "", ValueError),
        ("blank", "   ", ValueError),
    ],
)
add(
    M,
    "data_root-tilde-absolute",
    lambda: data.data_root("~/x"),
    check=lambda r: r.is_absolute() and "~" not in str(r),
)
add(
    M,
    "data_root-env-blank",
    lambda: with_env(data.DATA_ENV, "  ", data.data_root),
    check=lambda r: r.is_absolute(),
)
add_bad(
    M,
    "make_digits",
    "seed",
    lambda v: data.make_digits(seed=v),
    BAD_INT + [("negative", -1, ValueError)],
)
add_bad(
    M,
    "make_digits",
    "size",
    lambda v: data.make_digits(size=v),
    BAD_INT + [("too-small", 8, ValueError), ("too-large", 10**6, ValueError)],
)
add_bad(
    M,
    "OfflineDigits",
    "split",
    lambda v: data.OfflineDigits(v),
    [("unknown", "val", ValueError), ("int", 1, TypeError), ("none", None, TypeError)],
)
add_bad(
    M,
    "OfflineDigits",
    "test_fraction",
    lambda v: data.OfflineDigits(test_fraction=v),
    BAD_REAL
    + [("zero", 0.0, ValueError), ("one", 1.0, ValueError), ("negative", -0.2, ValueError)],
)
add_bad(
    M,
    "OfflineDigits",
    "seed",
    lambda v: data.OfflineDigits(seed=v),
    [("str", "0", TypeError), ("negative", -1, ValueError)],
)
add(
    M,
    "OfflineDigits-transform-int",
    lambda: data.OfflineDigits(transform=5),
    TypeError,
    "transform",
)
add(
    M,
    "OfflineDigits-item",
    lambda: data.OfflineDigits("test")[0],
    check=lambda r: r[0].shape == (3, 32, 32) and isinstance(r[1], int),
)
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
for tf in (data.train_transform, data.test_transform):
    n = tf.__name__
    add_bad(
        M,
        n,
        "mean",
        lambda v, tf=tf: tf(v, STD),
        [
            ("str", "abc", TypeError),
            ("none", None, TypeError),
            ("two", (0.5, 0.5), ValueError),
            ("nan", (0.5, NAN, 0.5), ValueError),
        ],
    )
    add_bad(
        M,
        n,
        "std",
        lambda v, tf=tf: tf(MEAN, v),
        [
            ("str", "abc", TypeError),
            ("zero", (0.25, 0.0, 0.25), ValueError),
            ("negative", (0.25, -0.25, 0.25), ValueError),
            ("inf", (INF, 0.25, 0.25), ValueError),
        ],
    )
add_bad(
    M,
    "train_transform",
    "cutout",
    lambda v: data.train_transform(MEAN, STD, cutout=v),
    BAD_INT + [("negative", -1, ValueError), ("too-large", 33, ValueError)],
)
add_bad(
    M,
    "train_transform",
    "flip",
    lambda v: data.train_transform(MEAN, STD, flip=v),
    [("int", 1, TypeError), ("str", "no", TypeError)],
)
add(
    M,
    "test_transform-uint8",
    lambda: data.test_transform(MEAN, STD)(torch.full((3, 4, 4), 255, dtype=torch.uint8)),
    check=lambda r: r.dtype == torch.float32 and torch.allclose(r, torch.full_like(r, 2.0)),
)
SMALL = TensorDataset(torch.rand(8, 3, 8, 8), torch.zeros(8, dtype=torch.long))
add_bad(
    M,
    "loaders",
    "train_set",
    lambda v: data.loaders(v, SMALL, batch_size=2),
    [("int", 5, TypeError), ("empty", TensorDataset(torch.zeros(0)), ValueError)],
)
add_bad(
    M,
    "loaders",
    "test_set",
    lambda v: data.loaders(SMALL, v, batch_size=2),
    [("int", 5, TypeError), ("empty", TensorDataset(torch.zeros(0)), ValueError)],
)
add_bad(
    M,
    "loaders",
    "batch_size",
    lambda v: data.loaders(SMALL, SMALL, batch_size=v),
    BAD_INT + [("zero", 0, ValueError), ("too-large", 9, ValueError)],
)
add_bad(
    M,
    "loaders",
    "test_batch_size",
    lambda v: data.loaders(SMALL, SMALL, batch_size=2, test_batch_size=v),
    [("str", "2", TypeError), ("zero", 0, ValueError)],
)
add_bad(
    M,
    "loaders",
    "seed",
    lambda v: data.loaders(SMALL, SMALL, batch_size=2, seed=v),
    [("float", 0.5, TypeError), ("negative", -1, ValueError)],
)
add_bad(
    M,
    "loaders",
    "num_workers",
    lambda v: data.loaders(SMALL, SMALL, batch_size=2, num_workers=v),
    [("float", 1.0, TypeError), ("negative", -1, ValueError)],
)
add(
    M,
    "loaders-batch-equals-size",
    lambda: len(data.loaders(SMALL, SMALL, batch_size=8)[0]),
    check=lambda r: r == 1,
)


def load_digits(**kw):
    kw = {"train_size": 16, "test_size": 16, "batch_size": 8, **kw}
    return data.load("digits", **kw)


add_bad(
    M,
    "load",
    "dataset",
    lambda v: data.load(v, train_size=16, test_size=16, batch_size=8),
    [("unknown", "mnist", ValueError), ("int", 10, TypeError), ("upper", "CIFAR10", ValueError)],
)
add_bad(
    M,
    "load",
    "batch_size",
    lambda v: load_digits(batch_size=v),
    BAD_INT + [("zero", 0, ValueError), ("too-large", 17, ValueError)],
)
add_bad(
    M,
    "load",
    "train_size",
    lambda v: load_digits(train_size=v),
    [
        ("str", "16", TypeError),
        ("float", 16.0, TypeError),
        ("zero", 0, ValueError),
        ("too-large", 10**6, ValueError),
    ],
)
add_bad(
    M,
    "load",
    "test_size",
    lambda v: load_digits(test_size=v),
    [("zero", 0, ValueError), ("too-large", 10**6, ValueError)],
)
add_bad(
    M,
    "load",
    "cutout",
    lambda v: load_digits(cutout=v),
    [("negative", -1, ValueError), ("float", 4.0, TypeError)],
)
add_bad(
    M,
    "load",
    "augment",
    lambda v: load_digits(augment=v),
    [("int", 1, TypeError), ("str", "yes", TypeError)],
)
add_bad(M, "load", "download", lambda v: load_digits(download=v), [("int", 0, TypeError)])
add_bad(
    M,
    "load",
    "root",
    lambda v: load_digits(root=v),
    [("int", 5, TypeError), ("empty", "", ValueError)],
)
add(
    M,
    "load-cifar10-offline-falls-back",
    lambda: data.load(
        "cifar10",
        root=tempfile.mkdtemp(),
        download=False,
        train_size=16,
        test_size=16,
        batch_size=8,
    ),
    check=lambda r: r.name == "digits" and r.boxes.shape == (16, 4),
)
add_bad(
    M,
    "Data.denormalize",
    "x",
    lambda v: digits().denormalize(v),
    [
        ("uint8", torch.zeros(3, 4, 4, dtype=torch.uint8), TypeError),
        ("list", [[0.0]], TypeError),
        ("two-channels", torch.zeros(2, 4, 4), ValueError),
    ],
)
add(
    M,
    "Data.denormalize-range",
    lambda: digits().denormalize(torch.full((2, 3, 4, 4), 100.0)),
    check=lambda r: float(r.max()) == 1.0,
)

# ----------------------------------------------------------------------------------
# evalib.train
# ----------------------------------------------------------------------------------

M = "train"
add_bad(
    M,
    "momentum_sgd",
    "lr_eff",
    lambda v: train.momentum_sgd([torch.zeros(2, requires_grad=True)], lr_eff=v, beta=0.9),
    BAD_REAL + NONPOSITIVE,
)
add_bad(
    M,
    "momentum_sgd",
    "beta",
    lambda v: train.momentum_sgd([torch.zeros(2, requires_grad=True)], lr_eff=0.1, beta=v),
    BAD_REAL + [("one", 1.0, ValueError), ("negative", -0.1, ValueError)],
)
add_bad(
    M,
    "momentum_sgd",
    "weight_decay",
    lambda v: train.momentum_sgd(
        [torch.zeros(2, requires_grad=True)], lr_eff=0.1, beta=0.9, weight_decay=v
    ),
    BAD_REAL + [("negative", -1.0, ValueError)],
)
add_bad(
    M,
    "momentum_sgd",
    "nesterov",
    lambda v: train.momentum_sgd(
        [torch.zeros(2, requires_grad=True)], lr_eff=0.1, beta=0.9, nesterov=v
    ),
    [("int", 1, TypeError), ("str", "yes", TypeError)],
)
add_bad(
    M,
    "momentum_sgd",
    "params",
    lambda v: train.momentum_sgd(v, lr_eff=0.1, beta=0.9),
    [
        ("empty", [], ValueError),
        ("int", 5, TypeError),
        ("bare-tensor", torch.zeros(2, requires_grad=True), TypeError),
    ],
)
add(
    M,
    "momentum_sgd-effective-lr",
    lambda: train.momentum_sgd([torch.zeros(2, requires_grad=True)], lr_eff=0.1, beta=0.9),
    check=lambda r: math.isclose(r.param_groups[0]["lr"], 0.01),
)
OPT = functools.partial(torch.optim.SGD, [torch.zeros(2, requires_grad=True)], lr=0.1)
add(M, "one_cycle-optimizer-str", lambda: train.one_cycle("sgd", 10), TypeError, "optimizer")
add_bad(
    M,
    "one_cycle",
    "total_steps",
    lambda v: train.one_cycle(OPT(), v),
    BAD_INT + [("one", 1, ValueError), ("negative", -10, ValueError)],
)
add_bad(
    M,
    "one_cycle",
    "warmup",
    lambda v: train.one_cycle(OPT(), 100, warmup=v),
    BAD_REAL + [("zero", 0.0, ValueError), ("one", 1.0, ValueError)],
)
add_bad(
    M,
    "one_cycle",
    "start_div",
    lambda v: train.one_cycle(OPT(), 100, start_div=v),
    BAD_REAL + [("half", 0.5, ValueError)],
)
add_bad(
    M,
    "one_cycle",
    "final_div",
    lambda v: train.one_cycle(OPT(), 100, final_div=v),
    BAD_REAL + [("half", 0.5, ValueError)],
)
BAD_DEVICE = [
    ("meta", "meta", ValueError),
    ("gpu", "gpu", ValueError),
    ("cuda99", "cuda:99", ValueError),
    ("int", 0, TypeError),
    ("empty", "", ValueError),
]


def pred(model=None, loader=None, **kw):
    return train.predict(
        tiny() if model is None else model,
        image_loader(images(4)) if loader is None else loader,
        **kw,
    )


add(M, "predict-model-str", lambda: pred(model="net"), TypeError, r"\bmodel\b")
add(
    M,
    "predict-loader-list-of-tensors",
    lambda: pred(loader=[images(2)]),
    TypeError,
    r"loader",
)
add(M, "predict-loader-int", lambda: pred(loader=5), TypeError, r"loader")
add(
    M,
    "predict-loader-list-of-pairs",
    lambda: pred(loader=[(images(2), torch.zeros(2, dtype=torch.long))]),
    check=lambda r: r[0].shape == (2, 10) and r[1].shape == (2,),
)
add(
    M,
    "predict-loader-empty",
    lambda: pred(loader=DataLoader(TensorDataset(torch.zeros(0, 3, 8, 8)), batch_size=2)),
    ValueError,
    "loader",
)
add_bad(M, "predict", "device", lambda v: pred(device=v), BAD_DEVICE)
add(
    M,
    "predict-meta-keeps-weights",
    lambda: (
        lambda m: (
            _run(Probe("", "", lambda: pred(model=m, device="meta"))),
            m.conv1.weight.device.type,
        )[1]
    )(tiny()),
    check=lambda r: r == "cpu",
)
add_bad(
    M, "predict", "amp", lambda v: pred(amp=v), [("str", "yes", TypeError), ("int", 1, TypeError)]
)
add_bad(
    M,
    "predict",
    "channels_last",
    lambda v: pred(channels_last=v),
    [("str", "yes", TypeError), ("true-on-cpu", True, ValueError)],
)
add(
    M,
    "predict-uint8-images",
    lambda: pred(loader=image_loader(images(4, dtype=torch.uint8))),
    TypeError,
    r"uint8",
)
add(
    M,
    "predict-restores-train-mode",
    lambda: (lambda m: (pred(model=m), m.training)[1])(tiny()),
    check=lambda r: r is True,
)


def ev(model=None, loader=None, **kw):
    return train.evaluate(
        tiny() if model is None else model,
        image_loader(images(4)) if loader is None else loader,
        **kw,
    )


add(M, "evaluate-loss_fn-int", lambda: ev(loss_fn=5), TypeError, "loss_fn")
add(
    M,
    "evaluate-label-out-of-range",
    lambda: ev(loader=image_loader(images(4), torch.full((4,), 12))),
    ValueError,
    "label 12",
)
add(
    M,
    "evaluate-negative-label",
    lambda: ev(loader=image_loader(images(4), torch.full((4,), -1))),
    ValueError,
    "label -1",
)
add_bad(M, "evaluate", "device", lambda v: ev(device=v), BAD_DEVICE[:3])
add(
    M, "evaluate-finite", lambda: ev(), check=lambda r: len(r) == 2 and finite(r) and 0 <= r[1] <= 1
)


def fit(model=None, optimizer=None, train_loader=None, **kw):
    m, o = run_parts()
    model = m if model is None else model
    optimizer = o if optimizer is None else optimizer
    loader = image_loader(images(8)) if train_loader is None else train_loader
    return train.fit(model, optimizer, loader, **{"progress": False, "device": "cpu", **kw})


add(M, "fit-model-str", lambda: fit(model="net"), TypeError, r"\bmodel\b")
add(M, "fit-optimizer-str", lambda: fit(optimizer="sgd"), TypeError, "optimizer")
add(M, "fit-optimizer-foreign", lambda: fit(optimizer=run_parts()[1]), ValueError, "optimizer")
add(
    M,
    "fit-train_loader-list-of-tensors",
    lambda: fit(train_loader=[images(2)]),
    TypeError,
    "train_loader",
)
add(M, "fit-train_loader-int", lambda: fit(train_loader=5), TypeError, "train_loader")
add(M, "fit-test_loader-int", lambda: fit(test_loader=5), TypeError, "test_loader")
add(
    M,
    "fit-test_loader-list-of-tensors",
    lambda: fit(test_loader=[images(2)]),
    TypeError,
    "test_loader",
)
add(
    M,
    "fit-train_loader-list-of-pairs",
    lambda: fit(train_loader=[(images(2), torch.zeros(2, dtype=torch.long))]),
    check=lambda r: len(r.step_loss) == 1 and finite(r.step_loss),
)
add_bad(
    M,
    "fit",
    "epochs",
    lambda v: fit(epochs=v),
    BAD_INT + [("zero", 0, ValueError), ("negative", -1, ValueError)],
)
add_bad(M, "fit", "device", lambda v: fit(device=v), BAD_DEVICE)
add(
    M,
    "fit-meta-keeps-weights",
    lambda: (
        lambda m: (
            _run(Probe("", "", lambda: fit(model=m, device="meta"))),
            m.conv1.weight.device.type,
        )[1]
    )(tiny()),
    check=lambda r: r == "cpu",
)
add(M, "fit-scheduler-int", lambda: fit(scheduler=5), TypeError, "scheduler")
add(M, "fit-loss_fn-int", lambda: fit(loss_fn=5), TypeError, "loss_fn")
add(M, "fit-checkpoint-int", lambda: fit(checkpoint=5), TypeError, "checkpoint")
add(
    M,
    "fit-checkpoint-folder",
    lambda: fit(checkpoint=tempfile.gettempdir()),
    ValueError,
    "checkpoint",
)
add(M, "fit-resume-without-checkpoint", lambda: fit(resume=True), ValueError, "resume")
add(
    M,
    "fit-resume-str",
    lambda: fit(resume="no", checkpoint=Path(tempfile.mkdtemp()) / "r.pt"),
    TypeError,
    "resume",
)
add(M, "fit-progress-str", lambda: fit(progress="no"), TypeError, "progress")
add(M, "fit-desc-int", lambda: fit(desc=5), TypeError, "desc")
add_bad(M, "fit", "amp", lambda v: fit(amp=v), [("str", "yes", TypeError)])
add_bad(
    M,
    "fit",
    "channels_last",
    lambda v: fit(channels_last=v),
    [("str", "yes", TypeError), ("true-on-cpu", True, ValueError)],
)
add(
    M,
    "fit-label-out-of-range",
    lambda: fit(train_loader=image_loader(images(8), torch.full((8,), 10))),
    ValueError,
    "label 10",
)
add(
    M,
    "fit-nan-images",
    lambda: fit(train_loader=image_loader(torch.full((8, 3, 8, 8), NAN))),
    FloatingPointError,
    "epoch 1, step 1",
)
add(
    M,
    "fit-schedule-too-short",
    lambda: (
        lambda m, o: train.fit(
            m,
            o,
            image_loader(images(8)),
            epochs=3,
            progress=False,
            scheduler=train.one_cycle(o, 4, warmup=0.5),
            device="cpu",
        )
    )(*run_parts()),
    ValueError,
    "total_steps",
)
add(M, "fit-history", lambda: fit(), check=lambda r: len(r.step_loss) == 2 and finite(r.step_loss))


def save(
    path=None, model=None, optimizer=None, scheduler=None, epoch=1, history=None, train_loader=None
):
    m, o = run_parts()
    path = Path(tempfile.mkdtemp()) / "c.pt" if path is None else path
    return checkpointing.save_checkpoint(
        path,
        m if model is None else model,
        o if optimizer is None else optimizer,
        scheduler,
        epoch,
        train.History() if history is None else history,
        train_loader,
    )


add(M, "save_checkpoint-path-int", lambda: save(path=5), TypeError, r"\bpath\b")
add(M, "save_checkpoint-model-str", lambda: save(model="net"), TypeError, r"\bmodel\b")
add(
    M,
    "save_checkpoint-optimizer-str",
    lambda: save(optimizer="sgd"),
    TypeError,
    "optimizer",
)
add(M, "save_checkpoint-scheduler-int", lambda: save(scheduler=5), TypeError, "scheduler")
add_bad(
    M,
    "save_checkpoint",
    "epoch",
    lambda v: save(epoch=v),
    [("str", "1", TypeError), ("float", 1.5, TypeError), ("negative", -1, ValueError)],
)
add(M, "save_checkpoint-history-dict", lambda: save(history={}), TypeError, "history")
add(
    M,
    "save_checkpoint-train_loader-int",
    lambda: save(train_loader=1),
    TypeError,
    "train_loader",
)
add(
    M,
    "save_checkpoint-path-is-folder",
    lambda: save(path=Path(tempfile.mkdtemp())),
    ValueError,
    r"folder",
)
add(M, "save_checkpoint-returns-path", lambda: save(), check=lambda r: r.is_file())


def load_ck(path=None, model=None, **kw):
    return checkpointing.load_checkpoint(
        saved_checkpoint() if path is None else path, tiny() if model is None else model, **kw
    )


add(
    M,
    "load_checkpoint-missing",
    lambda: load_ck(path="/nonexistent/run.pt"),
    FileNotFoundError,
    "nonexistent",
)
add(M, "load_checkpoint-path-int", lambda: load_ck(path=5), TypeError, r"\bpath\b")
add(
    M,
    "load_checkpoint-empty-file",
    lambda: load_ck(path=Path(tempfile.mkstemp()[1])),
    ValueError,
    "checkpoint",
)
add(M, "load_checkpoint-model-str", lambda: load_ck(model="net"), TypeError, r"\bmodel\b")
add(M, "load_checkpoint-other-width", lambda: load_ck(model=tiny(4)), ValueError, "another shape")
add(M, "load_checkpoint-optimizer-str", lambda: load_ck(optimizer="sgd"), TypeError, "optimizer")
add(M, "load_checkpoint-scheduler-int", lambda: load_ck(scheduler=5), TypeError, "scheduler")
add(
    M,
    "load_checkpoint-restore_rng-str",
    lambda: load_ck(restore_rng="no"),
    TypeError,
    "restore_rng",
)
add(
    M,
    "load_checkpoint-train_loader-int",
    lambda: load_ck(train_loader=1),
    TypeError,
    "train_loader",
)
add(M, "load_checkpoint-roundtrip", lambda: load_ck(), check=lambda r: r[0] == 1)

# ----------------------------------------------------------------------------------
# evalib.sweep
# ----------------------------------------------------------------------------------

M = "sweep"
FEATURES = TensorDataset(torch.randn(8, 4), torch.arange(8) % 3)


def sw(make_model=lambda: nn.Linear(4, 3), settings=(("a", 0.9, 0.1),), train_set=FEATURES, **kw):
    kw = {"steps": 2, "batch_size": 4, "progress": False, **kw}
    return sweep.momentum_sweep(make_model, settings, train_set, **kw)


add(M, "momentum_sweep-make_model-int", lambda: sw(make_model=5), TypeError, "make_model")
add(
    M,
    "momentum_sweep-make_model-returns-str",
    lambda: sw(make_model=lambda: "net"),
    TypeError,
    "model",
)
add_bad(
    M,
    "momentum_sweep",
    "settings",
    lambda v: sw(settings=v),
    [
        ("str", "abc", TypeError),
        ("int", 5, TypeError),
        ("empty", [], ValueError),
        ("pair", [("a", 0.9)], TypeError),
        ("name-int", [(1, 0.9, 0.1)], TypeError),
        ("beta-one", [("a", 1.0, 0.1)], ValueError),
        ("beta-str", [("a", "0.9", 0.1)], TypeError),
        ("lr-zero", [("a", 0.9, 0.0)], ValueError),
        ("lr-nan", [("a", 0.9, NAN)], ValueError),
        ("repeated", [("a", 0.9, 0.1), ("a", 0.5, 0.1)], ValueError),
    ],
    match=r"settings",
)
add_bad(M, "momentum_sweep", "steps", lambda v: sw(steps=v), BAD_INT + [("zero", 0, ValueError)])
add_bad(
    M,
    "momentum_sweep",
    "batch_size",
    lambda v: sw(batch_size=v),
    BAD_INT + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "momentum_sweep",
    "seed",
    lambda v: sw(seed=v),
    [("float", 0.5, TypeError), ("negative", -1, ValueError)],
)
add_bad(
    M,
    "momentum_sweep",
    "weight_decay",
    lambda v: sw(weight_decay=v),
    BAD_REAL + [("negative", -1.0, ValueError)],
)
add(M, "momentum_sweep-train_set-int", lambda: sw(train_set=5), TypeError, "train_set")
add(
    M,
    "momentum_sweep-train_set-empty",
    lambda: sw(train_set=TensorDataset(torch.zeros(0, 4))),
    ValueError,
    "train_set",
)
add(M, "momentum_sweep-test_loader-list", lambda: sw(test_loader=[1]), TypeError, "test_loader")
add(M, "momentum_sweep-progress-str", lambda: sw(progress="no"), TypeError, "progress")
add(
    M,
    "momentum_sweep-batch-larger-than-set",
    lambda: sw(batch_size=20),
    check=lambda r: len(r["a"].step_loss) == 2,
)
P = torch.zeros(3, requires_grad=True)
add(
    M, "largest_curvature-loss-int", lambda: sweep.largest_curvature(5, [P]), TypeError, r"\bloss\b"
)
add_bad(
    M,
    "largest_curvature",
    "params",
    lambda v: sweep.largest_curvature(lambda: (P**2).sum(), v),
    [
        ("empty", [], ValueError),
        ("list-of-str", ["w"], TypeError),
        ("bare-tensor", torch.zeros(3, requires_grad=True), TypeError),
        ("no-grad", [torch.zeros(3)], ValueError),
    ],
)
add_bad(
    M,
    "largest_curvature",
    "iterations",
    lambda v: sweep.largest_curvature(lambda: (P**2).sum(), [P], v),
    BAD_INT + [("zero", 0, ValueError)],
)
add(
    M,
    "largest_curvature-vector-loss",
    lambda: sweep.largest_curvature(lambda: P * 2, [P]),
    ValueError,
    r"loss",
)
add(
    M,
    "largest_curvature-nan-loss",
    lambda: sweep.largest_curvature(lambda: (P**2).sum() * NAN, [P]),
    ValueError,
    r"loss",
)
add(
    M,
    "largest_curvature-loss-ignores-params",
    lambda: sweep.largest_curvature(lambda: (torch.ones(2, requires_grad=True) ** 2).sum(), [P]),
    ValueError,
    r"loss",
)
add(
    M,
    "largest_curvature-quadratic",
    lambda: sweep.largest_curvature(lambda: (torch.tensor([1.0, 2.0, 5.0]) * P**2).sum(), [P]),
    check=lambda r: math.isclose(r, 10.0, rel_tol=1e-4),
)
add(
    M,
    "largest_curvature-linear-loss-is-flat",
    lambda: sweep.largest_curvature(lambda: P.sum(), [P]),
    check=lambda r: r == 0.0,
)
add(
    M,
    "largest_curvature-one-param-unused",
    lambda: sweep.largest_curvature(lambda: (P**2).sum(), [P, torch.zeros(2, requires_grad=True)]),
    check=lambda r: math.isclose(r, 2.0, rel_tol=1e-4),
)
DIGIT_SET = TensorDataset(torch.rand(4, 3, 16, 16), torch.arange(4))
add(
    M,
    "classifier_inputs-model-linear",
    lambda: sweep.classifier_inputs(nn.Linear(4, 3), DIGIT_SET),
    TypeError,
    r"\bmodel\b",
)
add(
    M,
    "classifier_inputs-dataset-int",
    lambda: sweep.classifier_inputs(tiny(), 5),
    TypeError,
    "dataset",
)
add(
    M,
    "classifier_inputs-dataset-empty",
    lambda: sweep.classifier_inputs(tiny(), TensorDataset(torch.zeros(0))),
    ValueError,
    "dataset",
)
add_bad(
    M,
    "classifier_inputs",
    "batch_size",
    lambda v: sweep.classifier_inputs(tiny(), DIGIT_SET, batch_size=v),
    BAD_INT + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "classifier_inputs",
    "device",
    lambda v: sweep.classifier_inputs(tiny(), DIGIT_SET, device=v),
    BAD_DEVICE,
)
add(
    M,
    "classifier_inputs-uint8-images",
    lambda: sweep.classifier_inputs(
        tiny(), TensorDataset(torch.zeros(2, 3, 16, 16, dtype=torch.uint8), torch.arange(2))
    ),
    TypeError,
    "uint8",
)
add(
    M,
    "classifier_inputs-shape",
    lambda: sweep.classifier_inputs(tiny(), DIGIT_SET).tensors[0],
    check=lambda r: r.shape == (4, 16) and finite(r),
)

# ----------------------------------------------------------------------------------
# evalib.curvature
# ----------------------------------------------------------------------------------

M = "curvature"
W = torch.tensor([0.3, -0.2], requires_grad=True)


def saddle() -> torch.Tensor:
    return 0.5 * (W[0] ** 2 - 3 * W[1] ** 2)


add(M, "top_eigen-loss-int", lambda: curvature.top_eigen(5, [W]), TypeError, r"\bloss\b")
add_bad(
    M,
    "top_eigen",
    "params",
    lambda v: curvature.top_eigen(saddle, v),
    [
        ("empty", [], ValueError),
        ("int", 3, TypeError),
        ("list-of-str", ["w"], TypeError),
        ("bare-tensor", W, TypeError),
        ("no-grad", [torch.zeros(2)], ValueError),
    ],
)
add_bad(
    M,
    "top_eigen",
    "iterations",
    lambda v: curvature.top_eigen(saddle, [W], iterations=v),
    BAD_INT + [("zero", 0, ValueError)],
)
add_bad(
    M,
    "top_eigen",
    "tol",
    lambda v: curvature.top_eigen(saddle, [W], tol=v),
    BAD_REAL + [("negative", -1.0, ValueError)],
)
add_bad(
    M,
    "top_eigen",
    "start",
    lambda v: curvature.top_eigen(saddle, [W], start=v),
    [
        ("list", [1.0, 0.0], TypeError),
        ("zero", torch.zeros(2), ValueError),
        ("wrong-length", torch.ones(3), ValueError),
        ("2d", torch.ones(1, 2), ValueError),
        ("nan", torch.tensor([1.0, NAN]), ValueError),
        ("int", torch.tensor([1, 0]), ValueError),
    ],
)
add(
    M,
    "top_eigen-vector-loss",
    lambda: curvature.top_eigen(lambda: W * 2, [W]),
    ValueError,
    r"loss",
)
add(
    M,
    "top_eigen-nan-loss",
    lambda: curvature.top_eigen(lambda: saddle() * NAN, [W]),
    ValueError,
    r"loss",
)
add(
    M,
    "top_eigen-loss-ignores-params",
    lambda: curvature.top_eigen(lambda: (torch.ones(2, requires_grad=True) ** 2).sum(), [W]),
    ValueError,
    r"loss",
)
add(
    M,
    "top_eigen-indefinite-is-largest-not-largest-magnitude",
    lambda: curvature.top_eigen(saddle, [W], tol=0.0).value,
    check=lambda r: math.isclose(r, 1.0, rel_tol=1e-6),
)
add(
    M,
    "top_eigen-linear-loss-is-flat",
    lambda: curvature.top_eigen(lambda: W.sum(), [W]).value,
    check=lambda r: r == 0.0,
)
add(
    M,
    "top_eigen-one-iteration",
    lambda: curvature.top_eigen(saddle, [W], iterations=1),
    check=lambda r: r.iterations == 1 and math.isfinite(r.value),
)
add_bad(
    M,
    "hessian_vector_product",
    "vector",
    lambda v: curvature.hessian_vector_product(saddle, [W], v),
    [
        ("none", None, TypeError),
        ("wrong-length", torch.ones(3), ValueError),
        ("inf", torch.tensor([1.0, INF]), ValueError),
    ],
)
add(
    M,
    "hessian_vector_product-saddle",
    lambda: curvature.hessian_vector_product(saddle, [W], torch.ones(2)),
    check=lambda r: torch.allclose(r, torch.tensor([1.0, -3.0])),
)
add_bad(
    M,
    "directional_curvature",
    "direction",
    lambda v: curvature.directional_curvature(saddle, [W], v),
    [
        ("list", [1.0, 0.0], TypeError),
        ("zero", torch.zeros(2), ValueError),
        ("wrong-length", torch.ones(3), ValueError),
    ],
)
add(
    M,
    "directional_curvature-along-y",
    lambda: curvature.directional_curvature(saddle, [W], torch.tensor([0.0, 2.0])),
    check=lambda r: math.isclose(r, -3.0, rel_tol=1e-6),
)
add(
    M,
    "directional_curvature-at-a-stationary-point",
    lambda: curvature.directional_curvature(
        lambda: (torch.zeros(2, requires_grad=True) * 0 + W * 0).pow(2).sum(), [W]
    ),
    check=lambda r: r == 0.0,
)

# ----------------------------------------------------------------------------------
# evalib.book.runtime
# ----------------------------------------------------------------------------------

M = "runtime"
add_bad(
    M,
    "set_threads",
    "threads",
    lambda v: keeping_threads(lambda: runtime.set_threads(v)),
    [
        ("str", "2", TypeError),
        ("float", 2.0, TypeError),
        ("bool", True, TypeError),
        ("zero", 0, ValueError),
        ("negative", -1, ValueError),
    ],
)
add(
    M,
    "set_threads-numpy-int",
    lambda: keeping_threads(lambda: runtime.set_threads(np.int64(1))),
    check=lambda r: r == 1,
)
add(M, "set_threads-default", lambda: keeping_threads(runtime.set_threads), check=lambda r: r >= 1)
add_bad(
    M,
    "seed_everything",
    "seed",
    runtime.seed_everything,
    [
        ("str", "1", TypeError),
        ("float", 1.5, TypeError),
        ("bool", True, TypeError),
        ("none", None, TypeError),
        ("negative", -1, ValueError),
        ("huge", 2**70, ValueError),
    ],
)
add_bad(
    M,
    "profile",
    "EVALIB_PROFILE",
    lambda v: with_env(runtime.PROFILE_ENV, v, runtime.profile),
    [("unknown", "fast", ValueError), ("gpu", "gpu", ValueError)],
)
add(
    M,
    "profile-env-padded-upper",
    lambda: with_env(runtime.PROFILE_ENV, " FULL ", runtime.profile),
    check=lambda r: r == "full",
)
add(
    M,
    "profile-env-empty",
    lambda: with_env(runtime.PROFILE_ENV, "", runtime.profile),
    check=lambda r: r in runtime.PROFILES,
)
add(M, "device", runtime.device, check=lambda r: isinstance(r, torch.device))
add(M, "cpu_threads", runtime.cpu_threads, check=lambda r: isinstance(r, int) and r >= 1)

# ----------------------------------------------------------------------------------
# evalib.book.plots
# ----------------------------------------------------------------------------------

M = "plots"
add(M, "label-ax-none", lambda: plots.label(None, "t", "x", "y"), TypeError, r"\bax\b")
add(
    M,
    "label-title-int",
    lambda: plots.label(axes(), 5, "x", "y").get_title(),
    check=lambda r: r == "5",
)
add(
    M,
    "label-title-none",
    lambda: plots.label(axes(), None, "x", "y").get_title(),
    check=lambda r: r == "",
)
add(
    M,
    "label-legend-str",
    lambda: plots.label(axes(), "t", "x", "y", legend="yes"),
    TypeError,
    "legend",
)
add_bad(M, "color_cycle", "n", plots.color_cycle, BAD_INT + [("negative", -1, ValueError)])
add(M, "color_cycle-zero", lambda: plots.color_cycle(0), check=lambda r: list(r) == [])
add(
    M,
    "plot_landscape-ax-none",
    lambda: plots.plot_landscape(None, landscapes.ravine),
    TypeError,
    r"\bax\b",
)
add(
    M,
    "plot_landscape-landscape-str",
    lambda: plots.plot_landscape(axes(), "ravine"),
    TypeError,
    "landscape",
)
add_bad(
    M,
    "plot_landscape",
    "n",
    lambda v: plots.plot_landscape(axes(), landscapes.ravine, n=v),
    [("one", 1, ValueError), ("str", "20", TypeError)],
)
add_bad(
    M,
    "plot_landscape",
    "levels",
    lambda v: plots.plot_landscape(axes(), landscapes.ravine, n=10, levels=v),
    [
        ("zero", 0, ValueError),
        ("negative", -3, ValueError),
        ("str", "5", TypeError),
        ("float", 2.5, TypeError),
    ],
)
add(
    M,
    "plot_landscape-filled-str",
    lambda: plots.plot_landscape(axes(), landscapes.ravine, n=10, filled="yes"),
    TypeError,
    "filled",
)
GOOD = {"GD": np.zeros((3, 2))}
add_bad(
    M,
    "plot_paths",
    "paths",
    lambda v: plots.plot_paths(axes(), landscapes.ravine, v, n=10),
    [
        ("list", [np.zeros((3, 2))], TypeError),
        ("empty", {}, ValueError),
        ("3-columns", {"a": np.zeros((3, 3))}, ValueError),
        ("str-values", {"a": "abc"}, TypeError),
        ("no-rows", {"a": np.zeros((0, 2))}, ValueError),
        ("complex", {"a": np.zeros((3, 2), complex)}, TypeError),
    ],
)
add_bad(
    M,
    "plot_paths",
    "styles",
    lambda v: plots.plot_paths(axes(), landscapes.ravine, GOOD, n=10, styles=v),
    [("list", [{}], TypeError), ("unknown-label", {"Adam": {}}, ValueError)],
)
add(
    M,
    "plot_paths-diverged-nan",
    lambda: plots.plot_paths(
        axes(), landscapes.ravine, {"a": np.array([[0.0, 0.0], [NAN, NAN]])}, n=10
    ),
    check=lambda r: r is not None,
)
IMG = np.full((4, 4, 3), 0.5)
HEAT = np.full((4, 4), 0.5)
add(M, "cam_overlay-ax-none", lambda: plots.cam_overlay(None, IMG, HEAT), TypeError, r"\bax\b")
add_bad(
    M,
    "cam_overlay",
    "image",
    lambda v: plots.cam_overlay(axes(), v, HEAT),
    [
        ("str", "abc", TypeError),
        ("2d", np.full((4, 4), 0.5), ValueError),
        ("above-one", np.full((4, 4, 3), 2.0), ValueError),
        ("nan", np.full((4, 4, 3), NAN), ValueError),
        ("complex", IMG.astype(complex), TypeError),
    ],
)
add_bad(
    M,
    "cam_overlay",
    "cam",
    lambda v: plots.cam_overlay(axes(), IMG, v),
    [
        ("wrong-shape", np.zeros((3, 3)), ValueError),
        ("negative", np.full((4, 4), -0.5), ValueError),
        ("complex", HEAT.astype(complex), TypeError),
    ],
)
add_bad(
    M,
    "cam_overlay",
    "alpha",
    lambda v: plots.cam_overlay(axes(), IMG, HEAT, alpha=v),
    [("two", 2.0, ValueError), ("str", "0.5", TypeError), ("nan", NAN, ValueError)],
)
add(
    M,
    "cam_overlay-colorbar-str",
    lambda: plots.cam_overlay(axes(), IMG, HEAT, colorbar="no"),
    TypeError,
    "colorbar",
)
add(
    M,
    "cam_overlay-chw-tensor",
    lambda: plots.cam_overlay(
        axes(), torch.full((3, 4, 4), 0.5), torch.full((4, 4), 0.5), colorbar=False
    ),
    check=lambda r: r is not None,
)

# ----------------------------------------------------------------------------------
# evalib.book.live
# ----------------------------------------------------------------------------------

M = "live"
BAD_BETA = BAD_REAL + [("one", 1.0, ValueError), ("negative", -0.1, ValueError)]
LIVE_SERIES = [1.0, 3.0, 2.0, 4.0]
RACE_RANGE = (0.0005, 0.002)


def race(**changes: Any) -> Any:
    """optimiser_race on Rosenbrock with small, valid arguments but for ``changes``."""
    kwargs: dict[str, Any] = dict(
        land=landscapes.rosenbrock, lr=0.001, beta=0.9, steps=3, lr_range=RACE_RANGE
    )
    kwargs.update(changes)
    return live.optimiser_race(kwargs.pop("land"), kwargs.pop("lr"), **kwargs)


def is_live(r: Any) -> bool:
    return isinstance(r, live.LiveFigure) and live.CSS_CLASS in r.html()


add_bad(
    M,
    "ravine_explorer",
    "land",
    live.ravine_explorer,
    [
        ("str", "ravine", TypeError),
        ("none", None, TypeError),
        ("rosenbrock", landscapes.rosenbrock, TypeError),
    ],
)
add_bad(
    M,
    "ravine_explorer",
    "lr",
    lambda v: live.ravine_explorer(lr=v, steps=2),
    BAD_REAL + NONPOSITIVE + [("beyond-slider", 5.0, ValueError)],
)
add_bad(M, "ravine_explorer", "beta", lambda v: live.ravine_explorer(beta=v, steps=2), BAD_BETA)
add_bad(
    M,
    "ravine_explorer",
    "steps",
    lambda v: live.ravine_explorer(steps=v),
    BAD_INT + [("one", 1, ValueError), ("too-many", 2001, ValueError)],
)
add(
    M,
    "ravine_explorer-diverging-numpy-scalars",
    lambda: live.ravine_explorer(lr=np.float32(0.125), beta=np.float64(0.0), steps=np.int64(800)),
    check=is_live,
)
add_bad(
    M,
    "stability_explorer",
    "h",
    lambda v: live.stability_explorer(h=v, steps=2),
    BAD_REAL + NONPOSITIVE + [("beyond-plane", 5.0, ValueError)],
)
add_bad(
    M,
    "stability_explorer",
    "beta",
    lambda v: live.stability_explorer(beta=v, steps=2),
    BAD_BETA + [("above-one", 1.1, ValueError)],
)
add_bad(
    M,
    "stability_explorer",
    "steps",
    lambda v: live.stability_explorer(steps=v),
    BAD_INT + [("one", 1, ValueError), ("too-many", 1001, ValueError)],
)
add(
    M,
    "stability_explorer-corner",
    lambda: live.stability_explorer(h=4.5, beta=0.0, steps=2),
    check=is_live,
)
add_bad(
    M,
    "ewma_explorer",
    "series",
    lambda v: live.ewma_explorer(v, zoom=2),
    BAD_SERIES + [("one-point", [1.0], ValueError)],
)
add_bad(
    M,
    "ewma_explorer",
    "beta",
    lambda v: live.ewma_explorer(LIVE_SERIES, beta=v, zoom=2),
    BAD_BETA + [("above-slider", 0.999, ValueError)],
)
add_bad(
    M,
    "ewma_explorer",
    "dates",
    lambda v: live.ewma_explorer(LIVE_SERIES, v, zoom=2),
    [("too-short", [1, 2], ValueError), ("2d", np.zeros((4, 1)), ValueError)],
)
for vid, value in (("objects", [object()] * 4), ("none-entries", [None] * 4)):
    add(
        M,
        f"ewma_explorer-dates-{vid}",
        lambda value=value: live.ewma_explorer(LIVE_SERIES, value, zoom=2),
        TypeError,
        r"\bdates\b",
    )
add_bad(
    M,
    "ewma_explorer",
    "zoom",
    lambda v: live.ewma_explorer(LIVE_SERIES, zoom=v),
    # None is allowed: it means the default, 60 points or the whole series.
    [bad for bad in BAD_INT if bad[0] != "none"]
    + [("one", 1, ValueError), ("beyond-series", 5, ValueError)],
)
add_bad(
    M,
    "ewma_explorer",
    "label",
    lambda v: live.ewma_explorer(LIVE_SERIES, zoom=2, label=v),
    [("int", 5, TypeError), ("none", None, TypeError)],
)
add(
    M,
    "ewma_explorer-tensor-and-dates",
    lambda: live.ewma_explorer(
        torch.tensor(LIVE_SERIES),
        np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]"),
        beta=0.995,
        zoom=4,
    ),
    check=is_live,
)
add_bad(
    M,
    "optimiser_race",
    "land",
    lambda v: race(land=v),
    [
        ("str", "rosenbrock", TypeError),
        ("none", None, TypeError),
        ("beale", landscapes.beale, TypeError),
    ],
)
add_bad(
    M,
    "optimiser_race",
    "lr",
    lambda v: race(lr=v),
    BAD_REAL + [("outside-range", 0.01, ValueError)],
    match=r"\blr(_range)?\b",
)
add_bad(
    M,
    "optimiser_race",
    "lr_range",
    lambda v: race(lr_range=v),
    [
        ("str-entries", ("a", 0.1), TypeError),
        ("nan", (NAN, 0.002), ValueError),
        ("reversed", (0.002, 0.0005), ValueError),
        ("zero-low", (0.0, 0.002), ValueError),
    ],
)
for vid, value, exc in (
    ("none", None, TypeError),
    ("one-value", (0.001,), ValueError),
    ("three-values", (0.0005, 0.001, 0.002), ValueError),
):
    add(
        M,
        f"optimiser_race-lr_range-{vid}",
        lambda value=value: race(lr_range=value),
        exc,
        r"\blr_range\b",
    )
add_bad(M, "optimiser_race", "beta", lambda v: race(beta=v), BAD_BETA)
add_bad(M, "optimiser_race", "steps", lambda v: race(steps=v), BAD_INT + [("zero", 0, ValueError)])
add_bad(M, "optimiser_race", "tol", lambda v: race(tol=v), BAD_REAL + NONPOSITIVE)
add(
    M,
    "optimiser_race-diverging-quadratic",
    lambda: race(land=landscapes.ravine, lr=0.3, lr_range=(0.01, 0.3), steps=300),
    check=is_live,
)
for arg, index in (("h", 0), ("beta", 1)):
    add_bad(
        M,
        "root_type",
        arg,
        lambda v, index=index: live.root_type(*[v if i == index else 0.5 for i in (0, 1)]),
        BAD_REAL,
    )
add(
    M,
    "root_type-far-outside-the-plane",
    lambda: live.root_type(1e300, 1e300),
    ValueError,
    r"h must all be <= 1e\+150",
)
add(
    M,
    "root_type-far-but-within-the-plane",
    lambda: live.root_type(1e150, 1e150),
    check=lambda r: r == "divergent",
)
add_bad(
    M,
    "LiveFigure",
    "layout",
    live.LiveFigure,
    [("str", "layout", TypeError), ("none", None, TypeError), ("list", [], TypeError)],
)


# ----------------------------------------------------------------------------------
# Probes of the code-shape review, tried as a hostile but realistic user would: each
# was silent, unclear or a hang before evalib's checks moved to the door of each
# public function.
# ----------------------------------------------------------------------------------


def two_forwards_then_first_backward() -> tuple[int, int]:
    """Forward 2 images, then 3, then backpropagate through the first pass."""
    model = tiny().eval()
    first = model(images(2))
    model(images(3))
    first.sum().backward()
    return len(model.activations), len(model.gradients)


def cam_keeps_the_models_tensors() -> bool:
    model = tiny().eval()
    model(images(2)).sum().backward()
    before = model.activations, model.gradients
    with cam.GradCAM(model, "layer4") as gc:
        gc(images(3))
    return model.activations is before[0] and model.gradients is before[1]


def nan_batch() -> tuple[str, bool, list[int]]:
    """fit on a loader whose second epoch's last batch holds NaN: the error, whether
    batch norm's statistics stayed finite, and the epochs the error's history kept."""
    model, optimizer = run_parts()
    x = images(8)
    loader = [(x[:4], torch.zeros(4, dtype=torch.long)), (x[4:], torch.zeros(4, dtype=torch.long))]

    class Loader(list):  # the second pass hands over a NaN batch
        passes = 0

        def __iter__(self):
            Loader.passes += 1
            for i, (xb, yb) in enumerate(list.__iter__(self)):
                yield (torch.full_like(xb, NAN) if Loader.passes == 2 and i == 1 else xb), yb

    try:
        train.fit(model, optimizer, Loader(loader), epochs=2, progress=False, device="cpu")
    except FloatingPointError as err:
        stats = [b for n, b in model.named_buffers() if "running" in n]
        return "FloatingPointError", all(finite(b) for b in stats), err.history.epoch
    return "returned", False, []


def resume_into(make_optimizer: Callable[[Any], torch.optim.Optimizer]) -> Any:
    model, optimizer = run_parts()
    path = Path(tempfile.mkdtemp(prefix="evalib-probe-")) / "run.pt"
    train.fit(model, optimizer, image_loader(images(8)), epochs=1, progress=False,
              device="cpu", checkpoint=path)  # fmt: skip
    fresh = tiny()
    return train.fit(fresh, make_optimizer(fresh.parameters()), image_loader(images(8)),
                     epochs=2, progress=False, device="cpu", checkpoint=path, resume=True)  # fmt: skip


M = "averages"
add_bad(M, "ewma_recursion", "x", lambda v: averages.ewma_recursion(v, 0.9),
        [bad for bad in BAD_SERIES if bad[0] != "2d"] + [("scalar", 1.0, ValueError)])  # fmt: skip
add_bad(M, "ewma_recursion", "beta", lambda v: averages.ewma_recursion(X, v),
        BAD_REAL + [("one", 1.0, ValueError)])  # fmt: skip

M = "theory"
for vid, errors in (("nan-first", [NAN, 1.0, 0.1]), ("negative-first", [-1.0, 0.5, 0.1])):
    add(M, f"iterations_to_tolerance-{vid}",
        lambda errors=errors: theory.iterations_to_tolerance(errors, 0.5),
        ValueError, r"errors must be error sizes")  # fmt: skip
add(M, "run_momentum-steps-1e12",
    lambda: theory.run_momentum(quad_grad, (1.0, 1.0), 0.1, 0.5, 10**12),
    ValueError, r"steps must be between 0 and")  # fmt: skip
add(M, "gd_error-steps-1e12", lambda: theory.gd_error(0.1, [1.0, 2.0], [1.0, 1.0], 10**12),
    ValueError, r"steps must be between 0 and")  # fmt: skip
add(M, "momentum_roots-shapes-that-do-not-broadcast",
    lambda: theory.momentum_roots([1, 2], [0.1, 0.2, 0.3]),
    ValueError, r"h and beta must broadcast.*h \(2,\) and beta \(3,\)")  # fmt: skip

M = "landscapes"
add(M, "Quadratic-subnormal-eigval", lambda: landscapes.Quadratic((1e-320, 1.0)),
    ValueError, r"eigvals.*condition number")  # fmt: skip
add(M, "grid-n-1e6", lambda: landscapes.ravine.grid(10**6), ValueError,
    r"n must be between 2 and 4096")  # fmt: skip

M = "optim"
for cls in (optim.HeavyBall, optim.Nesterov, optim.EWMAMomentum, optim.SutskeverMomentum):
    for key, value in (("lr", -1.0), ("momentum", 5.0), ("weight_decay", -0.1)):
        add(M, f"{cls.__name__}-param-group-{key}",
            lambda cls=cls, key=key, value=value: cls(
                [{"params": [torch.zeros(2, requires_grad=True)], key: value}], lr=0.1),
            ValueError, rf"\b{key}\b")  # fmt: skip
    add(M, f"{cls.__name__}-add_param_group-momentum",
        lambda cls=cls: cls([torch.zeros(2, requires_grad=True)], lr=0.1).add_param_group(
            {"params": [torch.zeros(2, requires_grad=True)], "momentum": 5}),
        ValueError, r"\bmomentum\b")  # fmt: skip
add(M, "nesterov_lookahead-steps-1e12",
    lambda: optim.nesterov_lookahead(quad_grad, (1.0, 1.0), 0.1, 0.5, 10**12),
    ValueError, r"steps must be between 0 and")  # fmt: skip
add(M, "trajectory-steps-1e12", lambda: traj(steps=10**12), ValueError, r"steps must be between")
add(M, "trajectory-lbfgs",
    lambda: traj(make_optimizer=lambda p: torch.optim.LBFGS(p, lr=1.0), steps=5),
    check=lambda r: finite(r) and np.linalg.norm(r[-1]) < 1e-4)  # fmt: skip

M = "models"
add(M, "ResNet18-width-1e6", lambda: models.ResNet18(width=10**6), ValueError, r"\bwidth\b")
add(M, "ResNet18-two-forwards-then-first-backward", two_forwards_then_first_backward,
    check=lambda r: r == (2, 2))  # fmt: skip

M = "cam"
add(M, "cam-keeps-the-models-activations-and-gradients", cam_keeps_the_models_tensors,
    check=lambda r: r is True)  # fmt: skip
add(M, "cam-targets-1e20", lambda: gradcam()(images(), 10**20), ValueError, r"\btargets\b")
add(M, "cam-targets-list-1e20", lambda: gradcam()(images(), [0, 10**20]), ValueError,
    r"\btargets\b")  # fmt: skip
add(M, "cam-x-on-meta", lambda: gradcam()(torch.empty(2, 3, 16, 16, device="meta")),
    ValueError, r"\bx\b.*meta")  # fmt: skip

M = "data"
STATS = ((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
add(M, "train_transform-float-0-255",
    lambda: data.train_transform(*STATS)(torch.rand(3, 32, 32) * 255),
    ValueError, r"float image must lie in \[0, 1\]")  # fmt: skip
add(M, "test_transform-one-channel", lambda: data.test_transform(*STATS)(torch.rand(1, 32, 32)),
    ValueError, r"1 channel")  # fmt: skip
add(M, "load-seed-2**64", lambda: load_digits(seed=2**64), ValueError, r"\bseed\b")

M = "train"
add(M, "fit-loss-not-scalar", lambda: fit(loss_fn=lambda out, y: out), ValueError,
    r"loss_fn must return a scalar")  # fmt: skip
add(M, "fit-every-parameter-frozen",
    lambda: (lambda m, o: (m.requires_grad_(False), fit(model=m, optimizer=o)))(*run_parts()),
    ValueError, r"frozen")  # fmt: skip
# 250 characters: the temporary file's longer name failed after the first epoch.
add(M, "fit-checkpoint-name-of-250-characters",
    lambda: (lambda p: (fit(checkpoint=p), p.is_file())[1])(
        Path(tempfile.mkdtemp()) / ("r" * 250 + ".pt")),
    check=lambda r: r is True)  # fmt: skip
add(M, "fit-checkpoint-name-of-300-characters",
    lambda: fit(checkpoint=Path(tempfile.mkdtemp()) / ("r" * 300 + ".pt")),
    ValueError, r"checkpoint .* cannot be written")  # fmt: skip
add(M, "fit-nan-batch-keeps-history-and-batch-norm", nan_batch,
    check=lambda r: r == ("FloatingPointError", True, [1]))  # fmt: skip
add(M, "fit-resume-into-another-optimizer-type",
    lambda: resume_into(lambda p: torch.optim.Adam(p, lr=0.01)),
    ValueError, r"another kind of optimizer")  # fmt: skip
add(M, "fit-resume-into-nesterov-from-heavy-ball",
    lambda: resume_into(lambda p: optim.Nesterov(p, lr=0.01)),
    ValueError, r"another kind of optimizer")  # fmt: skip

M = "sweep"
SAME = nn.Linear(4, 3)
add(M, "momentum_sweep-make_model-returns-the-same-module",
    lambda: sw(make_model=lambda: SAME, settings=(("a", 0.9, 0.1), ("b", 0.0, 0.1))),
    ValueError, r"make_model")  # fmt: skip
add(M, "momentum_sweep-steps-1e12", lambda: sw(steps=10**12), ValueError, r"\bsteps\b")

M = "live"
add(M, "stability_state-steps-1e8", lambda: live.stability_state(0.5, 0.6, 10**8), ValueError,
    r"\bsteps\b")  # fmt: skip
add(M, "ravine_explorer-steep-quadratic",
    lambda: live.ravine_explorer(landscapes.Quadratic((1.0, 1e4)), lr=2e-4, steps=20),
    check=is_live)  # fmt: skip

M = "runtime"
add(
    M,
    "set_threads-more-than-the-cores",
    lambda: keeping_threads(lambda: runtime.set_threads(10**4)),
    ValueError,
    r"\bthreads\b",
)


# ----------------------------------------------------------------------------------
# The test, and the summary
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("probe", PROBES)
def test_probe(probe: Probe) -> None:
    kind, detail = classify(probe)
    assert kind in ("clear", "correct"), f"{probe.id}: {kind}: {detail}"


KINDS = ("clear", "correct", "unclear", "silent", "hang")


def summary(timeout: float = 10.0) -> tuple[dict[str, Counter], list[tuple[str, str, str]]]:
    """Classify every probe (each within ``timeout`` seconds): counts per module, and
    ``(id, kind, detail)`` for every probe that is neither clear nor correct."""
    counts: dict[str, Counter] = {}
    bad: list[tuple[str, str, str]] = []
    for param in PROBES:
        probe = param.values[0]
        kind, detail = classify(probe, timeout)
        counts.setdefault(probe.module, Counter())[kind] += 1
        if kind not in ("clear", "correct"):
            xfail = " [xfail]" if param.marks else ""
            bad.append((probe.id + xfail, kind, detail))
    return counts, bad


def main() -> int:
    start = time.perf_counter()
    counts, bad = summary()
    total = Counter()
    print(f"{'module':<12}" + "".join(f"{k:>9}" for k in KINDS) + f"{'total':>9}")
    for module, c in counts.items():
        total.update(c)
        print(f"{module:<12}" + "".join(f"{c[k]:>9}" for k in KINDS) + f"{sum(c.values()):>9}")
    print(f"{'all':<12}" + "".join(f"{total[k]:>9}" for k in KINDS) + f"{sum(total.values()):>9}")
    print(f"\n{len(bad)} probes not clear ({time.perf_counter() - start:.1f} s):")
    for pid, kind, detail in bad:
        print(f"  {kind:<8} {pid}: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
