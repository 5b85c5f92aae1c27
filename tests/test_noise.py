"""Tests of evalib.noise: per-example gradients, minibatch noise and its EWMA, the noise floor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from evalib.averages import ewma
from evalib.noise import (
    ewma_rows,
    ewma_variance_factor,
    gradient_noise,
    heavy_ball_noise_floor,
    minibatch_variance,
    per_example_gradients,
    sample_minibatch_gradients,
)


@pytest.fixture(scope="module")
def setup():
    """A small MLP on 400 real digits (float64) and its per-example gradients."""
    data = load_digits()
    x = torch.tensor(data.data[:400] / 16.0, dtype=torch.float64)
    y = torch.tensor(data.target[:400], dtype=torch.long)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10)).double()
    loss_fn = nn.CrossEntropyLoss()
    return model, loss_fn, x, y, per_example_gradients(model, loss_fn, x, y)


def _autograd(model, loss) -> torch.Tensor:
    model.zero_grad()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def test_per_example_gradients_average_to_the_full_batch_gradient(setup):
    model, loss_fn, x, y, G = setup
    n_params = sum(p.numel() for p in model.parameters())
    assert G.shape == (400, n_params)
    full = _autograd(model, loss_fn(model(x), y))
    torch.testing.assert_close(G.mean(dim=0), full, rtol=1e-10, atol=1e-12)


def test_per_example_gradient_rows_are_single_example_gradients(setup):
    model, loss_fn, x, y, G = setup
    for i in (0, 17, 399):
        one = _autograd(model, loss_fn(model(x[i : i + 1]), y[i : i + 1]))
        torch.testing.assert_close(G[i], one, rtol=1e-10, atol=1e-12)


def test_minibatch_variance_is_total_variance_over_b_with_population_correction(setup):
    *_, G = setup
    spread = (G - G.mean(0)).pow(2).sum(1).mean().item()
    assert minibatch_variance(G, 1) == pytest.approx(spread)
    assert minibatch_variance(G, 400) == 0.0
    assert minibatch_variance(G, 40) == pytest.approx(spread / 40 * 360 / 399)


@pytest.mark.parametrize("batch_size", [4, 32, 200])
def test_sampled_minibatch_gradients_match_the_variance_formula_within_5_percent(setup, batch_size):
    *_, G = setup
    gen = torch.Generator().manual_seed(batch_size)
    grads = sample_minibatch_gradients(G, batch_size, 2000, generator=gen)
    assert grads.shape == (2000, G.shape[1])
    measured = gradient_noise(grads, G.mean(0))["variance"]
    assert measured == pytest.approx(minibatch_variance(G, batch_size), rel=0.05)
    # unbiased: the mean of 2000 minibatch gradients has 1/2000 of one's variance
    bias = (grads.mean(0) - G.mean(0)).pow(2).sum().item()
    assert bias < 3 * minibatch_variance(G, batch_size) / 2000


def test_ewma_rows_equal_the_one_dimensional_ewma_column_by_column():
    gen = torch.Generator().manual_seed(3)
    g = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    v = ewma_rows(g, 0.8)
    for j in range(4):
        np.testing.assert_allclose(
            v[:, j].numpy(), ewma(g[:, j].numpy(), 0.8), rtol=1e-12, atol=1e-14
        )


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_ewma_of_minibatch_gradients_cuts_the_variance_by_one_minus_beta_over_one_plus_beta(
    setup, beta
):
    """Steady state (after 20/(1-beta) steps) within 10 % of (1-beta)/(1+beta)."""
    *_, G = setup
    gen = torch.Generator().manual_seed(4)
    grads = sample_minibatch_gradients(G, 16, 4000, generator=gen)
    burn_in = int(20 / (1 - beta))
    v = ewma_rows(grads, beta)[burn_in:]
    full = G.mean(0)
    ratio = gradient_noise(v, full)["variance"] / minibatch_variance(G, 16)
    assert ratio == pytest.approx(ewma_variance_factor(beta), rel=0.10)
    assert gradient_noise(v, full)["cosine"] > gradient_noise(grads, full)["cosine"]


def test_ewma_variance_factor_values():
    assert ewma_variance_factor(0.0) == 1.0
    assert ewma_variance_factor(0.9) == pytest.approx(0.1 / 1.9)
    with pytest.raises(ValueError, match="beta"):
        ewma_variance_factor(1.0)


def test_gradient_noise_of_exact_gradients_is_zero_variance_and_cosine_one():
    full = torch.tensor([3.0, 4.0], dtype=torch.float64)
    stats = gradient_noise(torch.stack([full, full]), full)
    assert stats == pytest.approx({"variance": 0.0, "relative": 0.0, "cosine": 1.0})
    stats = gradient_noise(torch.stack([full + torch.tensor([4.0, -3.0])]), full)
    assert stats == pytest.approx({"variance": 25.0, "relative": 1.0, "cosine": 1 / np.sqrt(2)})


def test_heavy_ball_noise_floor_without_momentum_is_the_closed_form():
    lr, lam, s2 = 0.1, 2.0, 0.5
    assert heavy_ball_noise_floor(lr, 0.0, lam, s2) == pytest.approx(
        lr * s2 / (lam * (2 - lr * lam))
    )


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_heavy_ball_noise_floor_matches_a_simulation_within_5_percent(beta):
    lr, lam, sigma = 0.05, 1.0, 1.0
    rng = np.random.default_rng(5)
    chains, steps = 4000, int(40 / (lr * lam * (1 - beta)) ** 0.5 / (1 - beta) + 400)
    w, z = np.zeros(chains), np.zeros(chains)
    for _ in range(steps):
        z = beta * z + lam * w + sigma * rng.standard_normal(chains)
        w = w - lr * z
    assert w.var() == pytest.approx(heavy_ball_noise_floor(lr, beta, lam, sigma**2), rel=0.05)


def test_heavy_ball_noise_floor_rejects_unstable_or_bad_parameters():
    with pytest.raises(ValueError, match="diverges"):
        heavy_ball_noise_floor(1.0, 0.5, 3.0, 1.0)
    with pytest.raises(ValueError, match="lr"):
        heavy_ball_noise_floor(-0.1, 0.5, 1.0, 1.0)
    with pytest.raises(TypeError, match="beta"):
        heavy_ball_noise_floor(0.1, "0.9", 1.0, 1.0)


def test_sampling_rejects_a_batch_larger_than_the_dataset(setup):
    *_, G = setup
    with pytest.raises(ValueError, match="batch_size"):
        sample_minibatch_gradients(G, 401, 5)
    with pytest.raises(ValueError, match="per_example"):
        minibatch_variance(G[0], 4)


def test_sampling_refuses_a_result_too_large_to_hold_at_once(setup):
    *_, G = setup
    with pytest.raises(ValueError, match=r"n_batches must be between 1 and .*1000000000.*at most"):
        sample_minibatch_gradients(G, 2, 10**9)


@pytest.mark.parametrize(
    "grads, error, match",
    [
        (torch.ones(3, 2, dtype=torch.complex128), TypeError, "grads must be .*complex"),
        (torch.ones(3, 2, dtype=torch.int64), TypeError, "grads must be .*floating"),
        (np.ones((3, 2)), TypeError, "grads must be a torch tensor"),
        (torch.ones(0, 2), ValueError, "grads must hold at least one row"),
        (torch.ones(2), ValueError, r"grads must have shape \(rows, P\)"),
    ],
)
def test_gradient_matrices_of_the_wrong_kind_raise_naming_the_argument(grads, error, match):
    with pytest.raises(error, match=match):
        ewma_rows(grads, 0.5)


def test_gradient_noise_around_a_zero_gradient_has_infinite_relative_noise():
    full = torch.zeros(2, dtype=torch.float64)
    stats = gradient_noise(torch.tensor([[3.0, 4.0]], dtype=torch.float64), full)
    assert stats["variance"] == 25.0 and stats["relative"] == float("inf")
    assert gradient_noise(full[None], full)["relative"] == 0.0


@pytest.mark.parametrize(
    "args",
    [
        (1e-308, 0.9, 1.0, 1e308),  # ασ² = 1 although σ² alone is near the float limit
        (1e-300, 0.5, 1e300, 1e308),
        (1e300, 0.5, 1e-300, 1e-300),
    ],
)
def test_heavy_ball_noise_floor_is_exact_for_extreme_but_representable_inputs(args):
    lr, beta, lam, s2 = args
    # ασ²(1+β) / (λ(1−β)(2+2β−αλ)), the Lyapunov solution in closed form, in exact arithmetic.
    from fractions import Fraction as Q

    a, b, lm, s = map(Q, args)
    expected = float(a * s * (1 + b) / (lm * (1 - b) * (2 + 2 * b - a * lm)))
    assert heavy_ball_noise_floor(lr, beta, lam, s2) == pytest.approx(expected, rel=1e-12)


def test_heavy_ball_noise_floor_beyond_the_float_range_is_refused():
    with pytest.raises(ValueError, match="float range"):
        heavy_ball_noise_floor(1.0, 0.9, 1e-300, 1e300)


def test_scalar_arguments_accept_numpy_and_tensor_numbers_and_refuse_complex():
    expected = heavy_ball_noise_floor(0.1, 0.5, 2.0, 1.0)
    assert heavy_ball_noise_floor(
        np.float32(0.1), torch.tensor(0.5), np.int64(2), 1
    ) == pytest.approx(expected)
    with pytest.raises(TypeError, match="noise_var"):
        heavy_ball_noise_floor(0.1, 0.5, 2.0, 1.0 + 0j)
    with pytest.raises(TypeError, match="beta"):
        ewma_variance_factor(np.bool_(False))


@pytest.fixture
def resnet():
    from evalib.models import ResNet18

    torch.manual_seed(0)
    return ResNet18(num_classes=3, width=2), torch.randn(3, 3, 8, 8), torch.tensor([0, 1, 2])


def test_per_example_gradients_leave_the_models_hook_attributes_as_they_were(resnet):
    model, x, y = resnet
    model.eval()
    model(x[:1]).sum().backward()
    before = model.activations, model.gradients
    G = per_example_gradients(model, nn.CrossEntropyLoss(), x, y)
    assert model.activations is before[0] and model.gradients is before[1]
    assert torch.isfinite(model.activations).all()  # a live tensor, not a functorch leftover
    # Rows are single-example gradients, as for any other model.
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x[1:2]), y[1:2]).backward()
    grad = torch.cat([p.grad.flatten() for p in model.parameters()])
    torch.testing.assert_close(G[1], grad, rtol=1e-4, atol=1e-6)


def test_per_example_gradients_refuse_batch_norm_in_train_mode_clearly(resnet):
    model, x, y = resnet
    model.train()
    with pytest.raises(ValueError, match=r"model\.eval\(\)"):
        per_example_gradients(model, nn.CrossEntropyLoss(), x, y)
    assert model.activations is None and model.gradients is None and model.training


def test_per_example_gradients_name_the_wrong_argument():
    model, loss_fn = nn.Linear(3, 2), nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="x must be a torch tensor"):
        per_example_gradients(model, loss_fn, np.zeros((2, 3)), torch.zeros(2, dtype=torch.long))
    with pytest.raises(TypeError, match="loss_fn"):
        per_example_gradients(
            model, "cross-entropy", torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)
        )
    with pytest.raises(ValueError, match=r"x must hold at least one row, got shape \(0, 3\)"):
        per_example_gradients(model, loss_fn, torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
