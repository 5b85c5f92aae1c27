"""Properties of evalib's public numeric API, checked with Hypothesis.

For every finite input in a function's documented domain the result is finite (or,
where the docstring says so, ``inf`` for divergence), or a ValueError that names the
argument and the supported range; never NaN, never another exception. For an argument
of the wrong type (string, complex, bool, None, other objects) the error is a
TypeError that names the argument.

The examples are derandomized and the example database is off, so CI runs the same
cases every time; the whole file takes a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalib import averages as A
from evalib import noise as N
from evalib import theory as T

settings.register_profile(
    "evalib-properties",
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("evalib-properties")  # applied per test, not globally

finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, exclude_min=True, allow_infinity=False)
betas = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
tols = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True)
series = st.lists(finite, min_size=1, max_size=25)
spectra = st.lists(positive, min_size=1, max_size=6)
# Values of a wrong type for a number or an array of numbers.
wrong = st.one_of(
    st.text(max_size=3),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e3),
    st.lists(
        st.complex_numbers(allow_nan=False, allow_infinity=False, min_magnitude=1e-3),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
    st.lists(st.booleans(), min_size=1, max_size=3),
    st.none(),
    st.just(object()),
    st.just([None, 1.0]),
)


def _finite_or_clear(call, *names: str):
    """``call()``'s result, or None after a ValueError that names one of ``names``."""
    try:
        return call()
    except ValueError as err:
        assert any(name in str(err) for name in names), f"unclear ValueError: {err}"
        return None


# -- averages -----------------------------------------------------------------------
@PROFILE
@given(st.data())
def test_moving_averages_of_finite_series_are_finite_and_within_the_data(data):
    x = data.draw(series)
    window = data.draw(st.integers(1, len(x)))
    beta = data.draw(betas)
    # Within the data, up to rounding errors relative to the largest value.
    slack = 4 * float(np.finfo(float).eps) * max(abs(v) for v in x)
    low, high = min(min(x), 0.0) - slack, max(max(x), 0.0) + slack
    outs = [
        _finite_or_clear(lambda: A.sma(x, window)[window - 1 :], "x must all be"),
        _finite_or_clear(lambda: A.wma(x, window)[window - 1 :], "x must all be"),
        _finite_or_clear(lambda: A.ewma(x, beta), "x must all be"),
        _finite_or_clear(lambda: A.ewma(x, beta, bias_correction=True), "x must all be"),
    ]
    refused = max(abs(v) for v in x) > 2.0**960  # beyond the documented range
    for out in outs:
        assert (out is None) == refused
        assert out is None or (
            np.isfinite(out).all() and (out >= low).all() and (out <= high).all()
        )
    assert math.isfinite(A.effective_window(beta)) and A.effective_window(beta) >= 1.0


@PROFILE
@given(bad=wrong)
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: A.sma(v, 1), "x"),
        (lambda v: A.wma([1.0, 2.0], v), "window"),
        (lambda v: A.ewma(v, 0.5), "x"),
        (lambda v: A.ewma([1.0, 2.0], v), "beta"),
        (lambda v: A.effective_window(v), "beta"),
    ],
)
def test_averages_refuse_wrong_types_naming_the_argument(call, name, bad):
    with pytest.raises(TypeError, match=name):
        call(bad)


# -- theory -------------------------------------------------------------------------
@PROFILE
@given(lr=positive, beta=betas, eigvals=spectra)
def test_rates_are_finite_or_refused_naming_lr_and_eigvals(lr, beta, eigvals):
    for call in (lambda: T.gd_rate(lr, eigvals), lambda: T.momentum_rate(lr, beta, eigvals)):
        rate = _finite_or_clear(call, "lr * eigvals")
        assert rate is None or (math.isfinite(rate) and rate >= 0.0)
    matrix = _finite_or_clear(lambda: T.momentum_matrix(lr, beta, eigvals[0]), "lr * eigval")
    assert matrix is None or np.isfinite(matrix).all()
    critical = _finite_or_clear(lambda: T.critical_beta(lr, eigvals[0]), "lr * eigval")
    assert critical is None or (math.isfinite(critical) and critical >= 0.0)


@PROFILE
@given(eigvals=spectra)
def test_optimal_settings_are_finite_or_refused_with_the_supported_range(eigvals):
    gd = _finite_or_clear(lambda: T.optimal_gd(eigvals), "eigvals")
    if gd is not None:
        lr, rate = gd
        assert math.isfinite(lr) and lr > 0 and 0.0 <= rate <= 1.0
    heavy = _finite_or_clear(lambda: T.optimal_momentum(eigvals), "eigvals")
    if heavy is not None:
        lr, beta, rate = heavy
        assert math.isfinite(lr) and lr > 0 and 0.0 <= rate <= 1.0 and 0.0 <= beta <= 1.0


@PROFILE
@given(h=finite, beta=finite)
def test_momentum_roots_are_finite_or_refused_as_beyond_the_float_range(h, beta):
    roots = _finite_or_clear(lambda: T.momentum_roots(h, beta), "float range")
    assert roots is None or np.isfinite(roots).all()


@PROFILE
@given(
    lr=positive,
    eigvals=spectra,
    steps=st.integers(0, 20),
    rate=st.floats(min_value=0.0, allow_infinity=False),
    tol=tols,
)
def test_closed_forms_never_return_nan(lr, eigvals, steps, rate, tol):
    x0 = np.linspace(-1.0, 1.0, len(eigvals))  # includes 0 when the length is odd
    errors = _finite_or_clear(lambda: T.gd_error(lr, eigvals, x0, steps), "lr * eigvals")
    assert errors is None or not np.isnan(errors).any()  # ±inf only for divergence
    assert not math.isnan(T.iterations_needed(rate, tol))  # inf when rate >= 1


@PROFILE
@given(bad=wrong)
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: T.gd_rate(v, [1.0]), "lr"),
        (lambda v: T.gd_rate(0.1, v), "eigvals"),
        (lambda v: T.momentum_rate(0.1, v, [1.0]), "beta"),
        (lambda v: T.momentum_matrix(0.1, 0.5, v), "eigval"),
        (lambda v: T.optimal_gd(v), "eigvals"),
        (lambda v: T.optimal_momentum(v), "eigvals"),
        (lambda v: T.momentum_roots(v, 0.5), "h"),
        (lambda v: T.critical_beta(v, 1.0), "lr"),
        (lambda v: T.gd_error(0.1, [1.0], [1.0], v), "steps"),
        (lambda v: T.iterations_needed(0.5, v), "tol"),
    ],
)
def test_theory_refuses_wrong_types_naming_the_argument(call, name, bad):
    with pytest.raises(TypeError, match=name):
        call(bad)


# -- noise (its NumPy-in part: plain numbers) ---------------------------------------
@PROFILE
@given(
    lr=positive,
    beta=betas,
    eigval=positive,
    noise_var=st.floats(min_value=0.0, allow_infinity=False),
)
def test_noise_floor_is_finite_or_refused_clearly(lr, beta, eigval, noise_var):
    floor = _finite_or_clear(
        lambda: N.heavy_ball_noise_floor(lr, beta, eigval, noise_var), "diverges", "float range"
    )
    assert floor is None or (math.isfinite(floor) and floor >= 0.0)
    factor = N.ewma_variance_factor(beta)
    assert 0.0 < factor <= 1.0


@PROFILE
@given(bad=wrong)
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: N.heavy_ball_noise_floor(v, 0.5, 1.0, 1.0), "lr"),
        (lambda v: N.heavy_ball_noise_floor(0.1, v, 1.0, 1.0), "beta"),
        (lambda v: N.heavy_ball_noise_floor(0.1, 0.5, v, 1.0), "eigval"),
        (lambda v: N.heavy_ball_noise_floor(0.1, 0.5, 1.0, v), "noise_var"),
        (lambda v: N.ewma_variance_factor(v), "beta"),
    ],
)
def test_noise_refuses_wrong_types_naming_the_argument(call, name, bad):
    with pytest.raises(TypeError, match=name):
        call(bad)
