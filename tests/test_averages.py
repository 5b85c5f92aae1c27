"""evalib.averages against its definitions and against pandas/scipy references."""

import numpy as np
import pandas as pd
import pytest

from evalib.averages import effective_window, ewma, ewma_recursion, sma, wma


@pytest.fixture
def noisy() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.cumsum(rng.normal(size=2_000)) + 100.0


def ewma_loop(x, beta):
    """The recursion as written in the book, one point at a time."""
    v, out = 0.0, []
    for value in x:
        v = beta * v + (1 - beta) * value
        out.append(v)
    return np.array(out)


@pytest.mark.parametrize("window", [1, 2, 5, 37, 2_000])
def test_sma_matches_pandas_rolling_mean(noisy, window):
    expected = pd.Series(noisy).rolling(window).mean().to_numpy()
    np.testing.assert_allclose(sma(noisy, window), expected, rtol=1e-12, equal_nan=True)


def test_sma_first_window_minus_one_entries_are_nan():
    out = sma(np.arange(10.0), 4)
    assert np.isnan(out[:3]).all() and not np.isnan(out[3:]).any()
    assert out[3] == pytest.approx(1.5)  # mean of 0, 1, 2, 3


def test_sma_stays_exact_on_a_long_series_with_a_large_offset():
    x = 1e6 + np.sin(np.arange(1_000_000) / 50.0)
    expected = pd.Series(x).rolling(20).mean().to_numpy()
    np.testing.assert_allclose(sma(x, 20), expected, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("window", [1, 3, 5, 64])
def test_wma_matches_linear_weights_definition(noisy, window):
    weights = np.arange(1, window + 1, dtype=float)  # oldest 1 ... newest `window`
    expected = (
        pd.Series(noisy).rolling(window).apply(lambda w: w @ weights / weights.sum(), raw=True)
    )
    np.testing.assert_allclose(wma(noisy, window), expected.to_numpy(), rtol=1e-10, equal_nan=True)


def test_wma_five_point_weights_are_5_to_1_over_15():
    spike = np.zeros(12)
    spike[5] = 1.0
    np.testing.assert_allclose(wma(spike, 5)[5:10], [5 / 15, 4 / 15, 3 / 15, 2 / 15, 1 / 15])


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98, 0.999])
def test_ewma_matches_the_recursion(noisy, beta):
    np.testing.assert_allclose(ewma(noisy, beta), ewma_loop(noisy, beta), rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.98, 0.999])
def test_ewma_bias_corrected_matches_adjusted_pandas(noisy, beta):
    expected = pd.Series(noisy).ewm(alpha=1 - beta, adjust=True).mean().to_numpy()
    np.testing.assert_allclose(ewma(noisy, beta, bias_correction=True), expected, rtol=1e-12)


def test_ewma_weights_are_geometric():
    beta = 0.8
    spike = np.zeros(40)
    spike[0] = 1.0
    np.testing.assert_allclose(ewma(spike, beta), (1 - beta) * beta ** np.arange(40))


def test_ewma_bias_correction_reproduces_a_constant_from_the_first_step():
    np.testing.assert_allclose(ewma(np.full(50, 7.0), 0.99, bias_correction=True), 7.0)
    assert ewma(np.full(50, 7.0), 0.99)[0] == pytest.approx(0.07)


def test_ewma_noise_variance_is_one_minus_beta_over_one_plus_beta():
    rng = np.random.default_rng(2)
    noise = rng.normal(size=400_000)
    for beta in (0.5, 0.9):
        measured = np.var(ewma(noise, beta)[1_000:])
        assert measured == pytest.approx((1 - beta) / (1 + beta), rel=0.02)


def test_ewma_lags_a_ramp_by_beta_over_one_minus_beta():
    ramp = np.arange(1.0, 2_001.0)
    assert ramp[-1] - ewma(ramp, 0.95)[-1] == pytest.approx(0.95 / 0.05)


@pytest.mark.parametrize("beta, window", [(0.0, 1.0), (0.5, 2.0), (0.9, 10.0), (0.98, 50.0)])
def test_effective_window_is_one_over_one_minus_beta(beta, window):
    assert effective_window(beta) == pytest.approx(window)


def test_outputs_are_float64_of_input_length():
    for out in (sma([1, 2, 3], 2), wma([1, 2, 3], 2), ewma([1, 2, 3], 0.5)):
        assert out.dtype == np.float64 and out.shape == (3,)


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5, float("nan"), float("inf")])
def test_bad_beta_raises_value_error_naming_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        ewma([1.0, 2.0], beta)
    with pytest.raises(ValueError, match="beta"):
        effective_window(beta)


@pytest.mark.parametrize("beta", ["0.9", None, True])
def test_non_numeric_beta_raises_type_error(beta):
    with pytest.raises(TypeError, match="beta"):
        ewma([1.0, 2.0], beta)


@pytest.mark.parametrize("func", [sma, wma])
@pytest.mark.parametrize("window", [0, -3, 4])
def test_bad_window_raises_value_error_naming_window(func, window):
    with pytest.raises(ValueError, match="window"):
        func([1.0, 2.0, 3.0], window)


@pytest.mark.parametrize("func", [sma, wma])
@pytest.mark.parametrize("window", [2.0, "2", True])
def test_non_integer_window_raises_type_error(func, window):
    with pytest.raises(TypeError, match="window"):
        func([1.0, 2.0, 3.0], window)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.ones((3, 2)), "1-D"),
        ([], "empty"),
        ([1.0, np.nan, 2.0], r"x\[1\]"),
        ([1.0, 2.0, np.inf], r"x\[2\]"),
    ],
)
def test_bad_series_raises_value_error_naming_x(x, message):
    for call in (lambda: sma(x, 1), lambda: wma(x, 1), lambda: ewma(x, 0.5)):
        with pytest.raises(ValueError, match=message):
            call()


def test_non_numeric_series_raises_type_error():
    with pytest.raises(TypeError, match="x must be"):
        ewma(["a", "b"], 0.5)


def _exact_window_means(x, window):
    """The reference: each window's mean in exact rational arithmetic, then rounded."""
    from fractions import Fraction

    exact = [Fraction(v) for v in x]
    out = [np.nan] * (window - 1)
    out += [float(sum(exact[t - window + 1 : t + 1]) / window) for t in range(window - 1, len(x))]
    return np.array(out)


@pytest.mark.parametrize(
    "x",
    [
        [2.0**960] * 4,
        [2.0**960, -(2.0**960), 1.5e288, 1e288, 3.0, -(2.0**960)],
        [5e-324, 1e-320, 2e-310, 0.0],
    ],
)
def test_moving_averages_of_series_up_to_the_limit_are_finite_and_accurate(x):
    """Up to ±2**960 and down to the subnormals: accurate to rounding errors of the
    series' scale."""
    scale = np.max(np.abs(x))
    for window in range(1, len(x) + 1):
        out = sma(x, window)
        np.testing.assert_allclose(
            out, _exact_window_means(x, window), rtol=1e-12, atol=1e-12 * scale, equal_nan=True
        )
        assert np.isfinite(out[window - 1 :]).all()
        assert np.isfinite(wma(x, window)[window - 1 :]).all()
    assert np.isfinite(ewma(x, 0.5)).all() and np.isfinite(ewma(x, 0.9, bias_correction=True)).all()


@pytest.mark.parametrize("call", [lambda x: sma(x, 2), lambda x: wma(x, 2), lambda x: ewma(x, 0.5)])
def test_series_beyond_the_limit_are_refused_naming_x(call):
    with pytest.raises(ValueError, match=r"x must all be [<>]= -?9\.7.*e\+288.*±2\*\*960"):
        call([1.0, 1e300, 2.0])


def test_ewma_recursion_averages_each_coordinate_of_a_series_of_vectors(noisy):
    vectors = np.stack([noisy, -2 * noisy, noisy[::-1]], axis=1)
    out = ewma_recursion(vectors, 0.9)
    for j in range(3):
        np.testing.assert_allclose(out[:, j], ewma_loop(vectors[:, j], 0.9), rtol=1e-12)


def test_complex_series_raises_type_error_naming_x():
    for call in (
        lambda: sma([1 + 1j, 2.0], 1),
        lambda: wma(np.array([1j, 1j]), 1),
        lambda: ewma([1j], 0.5),
    ):
        with pytest.raises(TypeError, match=r"x must be .*complex"):
            call()


def test_tensors_that_require_grad_are_read_as_their_values():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, 2.0, 4.0, 8.0], requires_grad=True)
    np.testing.assert_array_equal(sma(t, 2), sma([1.0, 2.0, 4.0, 8.0], 2))
    np.testing.assert_array_equal(ewma(t, 0.5), ewma([1.0, 2.0, 4.0, 8.0], 0.5))


def test_numpy_integers_and_bools_are_accepted_where_ints_and_bools_are():
    x = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(wma(x, np.int64(2)), wma(x, 2))
    np.testing.assert_array_equal(ewma(x, 0.5, np.bool_(True)), ewma(x, 0.5, True))
    with pytest.raises(TypeError, match="window"):
        sma(x, np.bool_(True))
