"""Tests of evalib.optim: the momentum forms, their equality with torch.optim.SGD, trajectories."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from evalib.optim import (
    EWMAMomentum,
    HeavyBall,
    Nesterov,
    SutskeverMomentum,
    nesterov_lookahead,
    steps_to_stay_within,
    trajectory,
)

STEPS = 12


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """Real data: 256 of scikit-learn's handwritten digits, pixels scaled to [0, 1]."""
    data = load_digits()
    x = torch.tensor(data.data[:256] / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target[:256], dtype=torch.long)
    return x, y


def _model(dtype: torch.dtype = torch.float32) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).to(dtype)


def _run(model: nn.Module, optimizer: torch.optim.Optimizer, digits, steps: int = STEPS):
    """Train on a fixed sequence of minibatches; the parameters after every step."""
    x, y = digits
    x = x.to(next(model.parameters()).dtype)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for k in range(steps):
        batch = slice(32 * (k % 8), 32 * (k % 8) + 32)
        optimizer.zero_grad()
        loss_fn(model(x[batch]), y[batch]).backward()
        optimizer.step()
        history.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))
    return history


def _assert_same_paths(ours, reference) -> None:
    assert len(ours) == len(reference)
    moved = (reference[-1] - reference[0]).abs().max()
    assert moved > 1e-3  # the runs really moved, so equality is not trivial
    for k, (a, b) in enumerate(zip(ours, reference)):
        torch.testing.assert_close(a, b, msg=lambda m, k=k: f"step {k + 1}: {m}")


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 5e-3])
def test_heavyball_matches_torch_sgd_step_for_step(digits, momentum, weight_decay):
    a, b = _model(), _model()
    ours = _run(
        a, HeavyBall(a.parameters(), lr=0.1, momentum=momentum, weight_decay=weight_decay), digits
    )
    ref = _run(
        b,
        torch.optim.SGD(b.parameters(), lr=0.1, momentum=momentum, weight_decay=weight_decay),
        digits,
    )
    _assert_same_paths(ours, ref)


@pytest.mark.parametrize("momentum", [0.5, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 5e-3])
def test_nesterov_matches_torch_sgd_nesterov_step_for_step(digits, momentum, weight_decay):
    a, b = _model(), _model()
    ours = _run(
        a, Nesterov(a.parameters(), lr=0.1, momentum=momentum, weight_decay=weight_decay), digits
    )
    ref = _run(
        b,
        torch.optim.SGD(
            b.parameters(), lr=0.1, momentum=momentum, nesterov=True, weight_decay=weight_decay
        ),
        digits,
    )
    _assert_same_paths(ours, ref)


def test_nesterov_with_zero_momentum_is_plain_sgd(digits):
    a, b = _model(), _model()
    ours = _run(a, Nesterov(a.parameters(), lr=0.1, momentum=0.0, weight_decay=1e-3), digits)
    ref = _run(b, torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=1e-3), digits)
    _assert_same_paths(ours, ref)


def test_heavyball_follows_a_learning_rate_schedule_like_torch(digits):
    a, b = _model(), _model()
    opt_a = HeavyBall(a.parameters(), lr=0.2, momentum=0.9)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.2, momentum=0.9)
    sched_a = torch.optim.lr_scheduler.StepLR(opt_a, step_size=1, gamma=0.8)
    sched_b = torch.optim.lr_scheduler.StepLR(opt_b, step_size=1, gamma=0.8)
    ours, ref = [], []
    for _ in range(4):
        ours += _run(a, opt_a, digits, steps=3)
        ref += _run(b, opt_b, digits, steps=3)
        sched_a.step()
        sched_b.step()
    _assert_same_paths(ours, ref)


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_ewma_form_equals_heavyball_with_learning_rate_times_one_minus_beta(digits, beta):
    a, b = _model(torch.float64), _model(torch.float64)
    ours = _run(a, EWMAMomentum(a.parameters(), lr=0.5, momentum=beta, weight_decay=1e-3), digits)
    ref = _run(
        b, HeavyBall(b.parameters(), lr=0.5 * (1 - beta), momentum=beta, weight_decay=1e-3), digits
    )
    _assert_same_paths(ours, ref)


def test_ewma_with_torch_first_step_matches_torch_dampening(digits):
    a, b = _model(), _model()
    ours = _run(
        a, EWMAMomentum(a.parameters(), lr=0.3, momentum=0.9, torch_first_step=True), digits
    )
    ref = _run(b, torch.optim.SGD(b.parameters(), lr=0.3, momentum=0.9, dampening=0.9), digits)
    _assert_same_paths(ours, ref)


def test_ewma_without_torch_first_step_differs_from_torch_dampening(digits):
    a, b = _model(), _model()
    ours = _run(a, EWMAMomentum(a.parameters(), lr=0.3, momentum=0.9), digits)
    ref = _run(b, torch.optim.SGD(b.parameters(), lr=0.3, momentum=0.9, dampening=0.9), digits)
    assert (ours[0] - ref[0]).abs().max() > 1e-3  # torch's first step is 1/(1-beta) = 10x longer


def _feed(optimizer: torch.optim.Optimizer, w: torch.Tensor, grads: list[torch.Tensor], lrs=None):
    """Step with prescribed gradients (and learning rates); the iterates, starting with w."""
    path = [w.detach().clone()]
    for k, g in enumerate(grads):
        if lrs is not None:
            optimizer.param_groups[0]["lr"] = lrs[k]
        w.grad = g.clone()
        optimizer.step()
        path.append(w.detach().clone())
    return path


def test_torch_dampened_buffer_is_the_ewma_plus_the_decayed_first_gradient():
    beta = 0.8
    gen = torch.Generator().manual_seed(1)
    grads = [torch.randn(5, generator=gen, dtype=torch.float64) for _ in range(15)]
    w_ours = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    w_torch = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    ours = EWMAMomentum([w_ours], lr=0.1, momentum=beta)
    ref = torch.optim.SGD([w_torch], lr=0.1, momentum=beta, dampening=beta)
    for t, g in enumerate(grads, start=1):
        _feed(ours, w_ours, [g])
        _feed(ref, w_torch, [g])
        v_ours = ours.state[w_ours]["momentum_buffer"]
        v_torch = ref.state[w_torch]["momentum_buffer"]
        torch.testing.assert_close(v_torch, v_ours + beta**t * grads[0], rtol=1e-12, atol=1e-12)


def test_sutskever_form_equals_heavyball_at_constant_learning_rate(digits):
    a, b = _model(torch.float64), _model(torch.float64)
    ours = _run(
        a, SutskeverMomentum(a.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3), digits
    )
    ref = _run(b, HeavyBall(b.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3), digits)
    _assert_same_paths(ours, ref)


def test_sutskever_form_keeps_old_learning_rates_when_the_rate_changes():
    """After lr drops from a1 to a2 at step s, Sutskever's step exceeds the heavy ball's
    by (a1 - a2) * beta**(t-s) * z_s, the old buffer still carrying the old rate."""
    beta, a1, a2, s = 0.9, 0.2, 0.05, 6
    gen = torch.Generator().manual_seed(2)
    grads = [torch.randn(3, generator=gen, dtype=torch.float64) for _ in range(14)]
    lrs = [a1] * s + [a2] * (len(grads) - s)
    w_s = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    w_h = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    sut = SutskeverMomentum([w_s], lr=a1, momentum=beta)
    heavy = HeavyBall([w_h], lr=a1, momentum=beta)
    path_s, path_h = _feed(sut, w_s, grads, lrs), _feed(heavy, w_h, grads, lrs)
    z = torch.zeros(3, dtype=torch.float64)
    for g in grads[:s]:
        z = beta * z + g
    for t in range(len(grads) + 1):
        if t <= s:
            torch.testing.assert_close(path_s[t], path_h[t], rtol=1e-12, atol=1e-12)
        else:
            step_s = path_s[t - 1] - path_s[t]
            step_h = path_h[t - 1] - path_h[t]
            torch.testing.assert_close(
                step_s - step_h, (a1 - a2) * beta ** (t - s) * z, rtol=1e-10, atol=1e-12
            )
    assert (path_s[-1] - path_h[-1]).abs().max() > 1e-2


def test_nesterov_lookahead_points_are_the_pytorch_form_iterates():
    """w - lr*beta*z of the look-ahead method equals torch-form Nesterov's iterate, every step."""
    A = torch.tensor([[3.0, 1.0], [1.0, 0.5]], dtype=torch.float64)
    b = torch.tensor([1.0, -2.0], dtype=torch.float64)
    fn = lambda w: 0.5 * w @ A @ w - b @ w  # noqa: E731
    grad = lambda w: A.numpy() @ w - b.numpy()  # noqa: E731
    lr, beta, steps = 0.2, 0.8, 40
    w, z = nesterov_lookahead(grad, [2.0, 1.0], lr, beta, steps)
    torch_form = trajectory(fn, [2.0, 1.0], lambda p: Nesterov(p, lr=lr, momentum=beta), steps)
    np.testing.assert_allclose(w - lr * beta * z, torch_form, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        torch_form,
        trajectory(
            fn, [2.0, 1.0], lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=True), steps
        ),
        rtol=1e-12,
        atol=1e-12,
    )
    assert np.abs(w - torch_form).max() > 1e-3  # the two sequences are different points


def _bowl(lam1: float = 1.0, lam2: float = 10.0):
    return lambda w: 0.5 * (lam1 * w[0] ** 2 + lam2 * w[1] ** 2)


def test_trajectory_returns_steps_plus_one_rows_starting_at_w0():
    path = trajectory(_bowl(), [1.0, -2.0], lambda p: HeavyBall(p, lr=0.05), 30)
    assert path.shape == (31, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], [1.0, -2.0])
    assert trajectory(_bowl(), [1.0, -2.0], lambda p: HeavyBall(p, lr=0.05), 0).shape == (1, 2)


def test_trajectory_of_gradient_descent_is_one_minus_lr_lambda_to_the_k():
    lr, steps = 0.15, 25
    path = trajectory(
        _bowl(1.0, 10.0), [1.0, 1.0], lambda p: HeavyBall(p, lr=lr, momentum=0.0), steps
    )
    k = np.arange(steps + 1)
    np.testing.assert_allclose(path[:, 0], (1 - lr * 1.0) ** k, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], (1 - lr * 10.0) ** k, rtol=1e-12)


def test_trajectory_accepts_torch_adaptive_optimisers():
    for make in (
        lambda p: torch.optim.Adam(p, lr=0.1),
        lambda p: torch.optim.RMSprop(p, lr=0.01),
        lambda p: torch.optim.Adagrad(p, lr=0.5),
    ):
        path = trajectory(_bowl(), [1.0, 1.0], make, 200)
        assert np.all(np.isfinite(path))
        assert np.linalg.norm(path[-1]) < 0.1 * np.linalg.norm(path[0])


def test_trajectory_of_a_diverging_run_stops_with_nan_rows_and_a_warning():
    # lr * lambda = 3 > 2: GD multiplies the error by -2 per step and overflows.
    with pytest.warns(RuntimeWarning, match="diverged"):
        path = trajectory(
            _bowl(1.0, 1.0), [1.0, 1.0], lambda p: HeavyBall(p, lr=3.0, momentum=0.0), 2000
        )
    assert path.shape == (2001, 2)
    finite = np.isfinite(path).all(axis=1)
    first_bad = int(np.argmin(finite))
    # w_k = (-2)**k per coordinate, so the loss 4**k overflows float64 (max ~2**1024)
    # at k = 512: w_512 is the last point kept.
    assert first_bad == 513
    assert finite[:first_bad].all() and not finite[first_bad:].any()


def test_trajectory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="w0"):
        trajectory(_bowl(), [1.0, 2.0, 3.0], lambda p: HeavyBall(p, lr=0.1), 5)
    with pytest.raises(ValueError, match="steps"):
        trajectory(_bowl(), [1.0, 2.0], lambda p: HeavyBall(p, lr=0.1), -1)
    with pytest.raises(TypeError, match="make_optimizer"):
        trajectory(_bowl(), [1.0, 2.0], lambda p: p, 5)


@pytest.mark.parametrize("cls", [HeavyBall, Nesterov, EWMAMomentum, SutskeverMomentum])
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"lr": -0.1}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, "momentum"),
        ({"lr": 0.1, "momentum": -0.1}, ValueError, "momentum"),
        ({"lr": 0.1, "weight_decay": -1e-4}, ValueError, "weight_decay"),
        ({"lr": "0.1"}, TypeError, "lr"),
        ({"lr": 0.1, "momentum": True}, TypeError, "momentum"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_argument(cls, kwargs, error, name):
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(error, match=name):
        cls([w], **kwargs)


def test_steps_to_stay_within_counts_from_the_last_exit():
    path = np.array([[4.0, 0.0], [0.5, 0.0], [2.0, 0.0], [0.9, 0.0], [0.1, 0.0], [0.0, 0.0]])
    assert (
        steps_to_stay_within(path, [0.0, 0.0], 1.0) == 3
    )  # passes through at step 1, settles at 3
    assert steps_to_stay_within(path, [0.0, 0.0], 5.0) == 0
    assert steps_to_stay_within(path[:3], [0.0, 0.0], 1.0) is None
    diverged = path.copy()
    diverged[4:] = np.nan
    assert steps_to_stay_within(diverged, [0.0, 0.0], 1.0) is None
    with pytest.raises(ValueError, match="tol"):
        steps_to_stay_within(path, [0.0, 0.0], 0.0)


def _embedding_run(make_optimizer, steps: int = 4) -> list[torch.Tensor]:
    """A sparse-gradient model: rows of an nn.Embedding(sparse=True), different rows per step."""
    torch.manual_seed(0)
    emb = nn.Embedding(10, 3, sparse=True).double()
    optimizer = make_optimizer(emb.parameters())
    history = []
    for k in range(steps):
        optimizer.zero_grad()
        idx = torch.tensor([k % 10, (3 * k + 1) % 10, k % 10])
        emb(idx).pow(2).sum().backward()
        assert emb.weight.grad.is_sparse
        optimizer.step()
        history.append(emb.weight.detach().clone())
    return history


@pytest.mark.parametrize(("cls", "nesterov"), [(HeavyBall, False), (Nesterov, True)])
def test_sparse_gradients_give_torch_sgds_steps(cls, nesterov):
    ours = _embedding_run(lambda p: cls(p, lr=0.1, momentum=0.9))
    reference = _embedding_run(
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=nesterov)
    )
    _assert_same_paths(ours, reference)


def test_the_other_forms_take_sparse_gradients_too():
    heavy = _embedding_run(lambda p: HeavyBall(p, lr=0.1, momentum=0.9))
    ewma = _embedding_run(lambda p: EWMAMomentum(p, lr=1.0, momentum=0.9))  # lr (1 - beta) = 0.1
    sutskever = _embedding_run(lambda p: SutskeverMomentum(p, lr=0.1, momentum=0.9))
    for path in (ewma, sutskever):
        _assert_same_paths(path, heavy)


@pytest.mark.parametrize("cls", [HeavyBall, Nesterov, EWMAMomentum, SutskeverMomentum])
def test_weight_decay_with_sparse_gradients_is_refused_clearly(cls):
    with pytest.raises(ValueError, match=r"weight_decay.*sparse"):
        _embedding_run(lambda p: cls(p, lr=0.1, momentum=0.9, weight_decay=1e-3), steps=1)


def test_numpy_bools_and_ints_are_accepted_and_empty_paths_refused():
    w = torch.zeros(2, requires_grad=True)
    assert (
        EWMAMomentum([w], lr=0.1, torch_first_step=np.bool_(True)).param_groups[0][
            "torch_first_step"
        ]
        is True
    )
    with pytest.raises(TypeError, match="torch_first_step"):
        EWMAMomentum([w], lr=0.1, torch_first_step=1)
    with pytest.raises(ValueError, match=r"path.*empty|at least one"):
        steps_to_stay_within(np.zeros((0, 2)), [0.0, 0.0], 1.0)
    with pytest.raises(TypeError, match="path"):
        steps_to_stay_within(np.array([[1j, 0.0]]), [0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="w0"):
        nesterov_lookahead(lambda w: w, [], 0.1, 0.9, 3)


@pytest.mark.parametrize("cls", [HeavyBall, Nesterov, EWMAMomentum, SutskeverMomentum])
@pytest.mark.parametrize(("key", "value"), [("lr", -1.0), ("momentum", 5.0), ("weight_decay", -1)])
def test_param_groups_are_checked_as_the_constructors_arguments_are(cls, key, value):
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=rf"\b{key}\b"):
        cls([{"params": [w], key: value}], lr=0.1)
    optimizer = cls([w], lr=0.1)
    with pytest.raises(ValueError, match=rf"\b{key}\b"):
        optimizer.add_param_group({"params": [torch.zeros(1, requires_grad=True)], key: value})
    assert len(optimizer.param_groups) == 1


def test_trajectory_runs_an_optimiser_that_needs_a_closure():
    from evalib.landscapes import ravine

    path = trajectory(ravine, ravine.start, lambda p: torch.optim.LBFGS(p, lr=1.0), 5)
    assert np.isfinite(path).all() and np.linalg.norm(path[-1] - ravine.minimum) < 1e-4
