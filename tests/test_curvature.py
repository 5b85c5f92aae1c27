"""evalib.curvature against explicit Hessians: autograd's full matrix and known spectra."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parameters_to_vector

from evalib.curvature import directional_curvature, hessian_vector_product, top_eigen


@functools.cache
def small_network():
    """A tanh network with a squared loss on random data, in float64, and the explicit
    Hessian of that loss over all its parameters (flattened in parameter order); built
    once, since no test changes it."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    x, y = torch.randn(40, 5, dtype=torch.float64), torch.randn(40, 3, dtype=torch.float64)
    params = list(net.parameters())
    names = [name for name, _ in net.named_parameters()]

    def loss_of(theta):
        pieces = theta.split([p.numel() for p in params])
        weights = {n: t.view(p.shape) for n, t, p in zip(names, pieces, params)}
        return 0.5 * (functional_call(net, weights, (x,)) - y).pow(2).sum(1).mean()

    theta = parameters_to_vector(params).detach()
    hessian = torch.autograd.functional.hessian(loss_of, theta)

    def loss():
        return 0.5 * (net(x) - y).pow(2).sum(1).mean()

    return loss, params, hessian, loss_of, theta


def quadratic(eigenvalues, seed=0):
    """``½ wᵀAw`` with ``A = Q diag(eigenvalues) Qᵀ`` for a random rotation ``Q``."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    a = torch.tensor(q @ np.diag(eigenvalues) @ q.T)
    w = torch.randn(len(eigenvalues), dtype=torch.float64, requires_grad=True)
    return (lambda: 0.5 * w @ a @ w), [w], a


def test_top_eigen_of_a_small_network_matches_the_explicit_hessian():
    loss, params, hessian, _, _ = small_network()
    values, vectors = torch.linalg.eigh(hessian)
    assert values[0] < 0 < values[-1]  # an indefinite Hessian: the test means something
    top = top_eigen(loss, params, iterations=100, tol=1e-10)
    assert top.value == pytest.approx(values[-1].item(), rel=1e-6)
    assert abs(float(top.vector @ vectors[:, -1])) == pytest.approx(1.0, abs=1e-6)
    assert torch.linalg.norm(hessian @ top.vector - top.value * top.vector) < 1e-6
    assert top.residual == pytest.approx(
        torch.linalg.norm(hessian @ top.vector - top.value * top.vector).item(), abs=1e-8
    )


def test_top_eigen_of_a_quadratic_is_its_largest_eigenvalue():
    eigenvalues = [0.1, 0.5, 1.0, 2.0, 3.0, 7.5]
    loss, params, _ = quadratic(eigenvalues)
    top = top_eigen(loss, params, tol=0.0)
    assert top.value == pytest.approx(7.5, rel=1e-10)
    # Six dimensions: the Krylov space is the whole space after at most six products.
    assert top.iterations <= len(eigenvalues)


@pytest.mark.parametrize(
    "eigenvalues, largest",
    [([1.0, -3.0], 1.0), ([-5.0, -1.0, 0.5, 2.0], 2.0), ([-4.0, -2.0, -1.0], -1.0)],
)
def test_top_eigen_of_an_indefinite_quadratic_is_the_largest_not_the_largest_in_magnitude(
    eigenvalues, largest
):
    loss, params, _ = quadratic(eigenvalues, seed=1)
    assert top_eigen(loss, params, tol=0.0).value == pytest.approx(largest, rel=1e-10)


def test_top_eigen_of_the_saddle_of_the_chapter_is_one():
    xy = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    top = top_eigen(lambda: 0.5 * (xy[0] ** 2 - 3 * xy[1] ** 2), [xy], tol=0.0)
    assert top.value == pytest.approx(1.0, abs=1e-12)
    assert abs(float(top.vector[0])) == pytest.approx(1.0, abs=1e-12)


def test_top_eigen_started_at_the_eigenvector_stops_at_once():
    loss, params, hessian, _, _ = small_network()
    exact = torch.linalg.eigh(hessian).eigenvectors[:, -1]
    warm = top_eigen(loss, params, start=exact, tol=1e-6)
    cold = top_eigen(loss, params, tol=1e-6)
    assert warm.iterations == 1 < cold.iterations
    assert warm.value == pytest.approx(cold.value, rel=1e-9)


def test_top_eigen_vector_leans_towards_its_start():
    loss, params, hessian, _, _ = small_network()
    exact = torch.linalg.eigh(hessian).eigenvectors[:, -1]
    for start in (exact, -exact):
        top = top_eigen(loss, params, start=start + 0.1 * torch.randn_like(start), tol=1e-8)
        assert float(top.vector @ start) > 0.99


def test_top_eigen_repeats_with_a_seed_and_its_vector_is_unit_length():
    loss, params, _, _, _ = small_network()
    first, again = (top_eigen(loss, params, iterations=5, tol=0.0) for _ in range(2))
    assert first.value == again.value and torch.equal(first.vector, again.vector)
    assert torch.linalg.norm(first.vector).item() == pytest.approx(1.0, abs=1e-12)
    other = top_eigen(loss, params, iterations=5, tol=0.0, seed=1)
    assert other.value != first.value  # five products are not enough to converge


def test_top_eigen_is_zero_for_a_linear_loss_and_ignores_unused_parameters():
    w = torch.ones(3, requires_grad=True)
    assert top_eigen(lambda: (2 * w).sum(), [w]).value == 0.0
    unused = torch.zeros(2, requires_grad=True)
    scale = torch.tensor([1.0, 2.0, 5.0])
    top = top_eigen(lambda: (scale * w**2).sum(), [w, unused], tol=0.0)
    assert top.value == pytest.approx(10.0, rel=1e-5)
    assert top.vector.shape == (5,) and top.vector[3:].abs().max() < 1e-6


def test_hessian_vector_product_matches_the_explicit_hessian():
    loss, params, hessian, _, theta = small_network()
    v = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(hessian_vector_product(loss, params, v), hessian @ v, atol=1e-12)


def test_directional_curvature_is_the_rayleigh_quotient_of_the_explicit_hessian():
    loss, params, hessian, loss_of, theta = small_network()
    grad = torch.func.grad(loss_of)(theta)
    expected = float(grad @ hessian @ grad / (grad @ grad))
    assert directional_curvature(loss, params) == pytest.approx(expected, rel=1e-10)
    v = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    expected_v = float(v @ hessian @ v / (v @ v))
    assert directional_curvature(loss, params, 3 * v) == pytest.approx(expected_v, rel=1e-10)
    top = torch.linalg.eigh(hessian)
    along_top = directional_curvature(loss, params, top.eigenvectors[:, -1])
    assert along_top == pytest.approx(top.eigenvalues[-1].item(), rel=1e-10)


def test_directional_curvature_at_a_stationary_point_is_zero():
    w = torch.zeros(2, requires_grad=True)
    assert directional_curvature(lambda: (w**2).sum(), [w]) == 0.0


def test_curvature_functions_refuse_what_they_cannot_use():
    w = torch.ones(2, requires_grad=True)
    loss = lambda: (w**2).sum()  # noqa: E731
    with pytest.raises(TypeError, match="loss"):
        top_eigen(1.0, [w])
    with pytest.raises(TypeError, match="params"):
        top_eigen(loss, w)
    with pytest.raises(ValueError, match="requires_grad"):
        top_eigen(loss, [torch.ones(2)])
    with pytest.raises(ValueError, match="params"):
        top_eigen(loss, [])
    with pytest.raises(ValueError, match="iterations"):
        top_eigen(loss, [w], iterations=0)
    with pytest.raises(ValueError, match="tol"):
        top_eigen(loss, [w], tol=-1.0)
    with pytest.raises(ValueError, match="start"):
        top_eigen(loss, [w], start=torch.zeros(2))
    with pytest.raises(ValueError, match="start"):
        top_eigen(loss, [w], start=torch.ones(3))
    with pytest.raises(TypeError, match="start"):
        top_eigen(loss, [w], start=[1.0, 0.0])
    with pytest.raises(ValueError, match="finite scalar"):
        top_eigen(lambda: w**2, [w])
    with pytest.raises(ValueError, match="does not depend"):
        top_eigen(lambda: (torch.ones(2, requires_grad=True) ** 2).sum(), [w])
    with pytest.raises(ValueError, match="vector"):
        hessian_vector_product(loss, [w], torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="direction"):
        directional_curvature(loss, [w], torch.zeros(2))
