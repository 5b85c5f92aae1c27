"""evalib.sweep: every run starts alike and sees the same batches; the curvature is λ_max."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from evalib.sweep import largest_curvature, momentum_sweep
from evalib.train import fit


def dataset(n: int = 40) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 5, generator=g), torch.randint(0, 3, (n,), generator=g))


def make_model() -> nn.Module:
    torch.manual_seed(7)
    return nn.Sequential(
        nn.Linear(5, 8), nn.Dropout(0.3), nn.Linear(8, 3)
    )  # dropout: random per run


def test_runs_with_the_same_setting_are_identical_whatever_runs_between():
    settings = [("a", 0.9, 0.1), ("b", 0.0, 0.5), ("c", 0.9, 0.1)]
    runs = momentum_sweep(make_model, settings, dataset(), steps=7, batch_size=8, progress=False)
    assert list(runs) == ["a", "b", "c"]
    assert runs["a"].step_loss == runs["c"].step_loss  # same start, batches and dropout masks
    assert runs["a"].step_loss != runs["b"].step_loss
    assert len(runs["a"].step_loss) == 7 and runs["a"].lr == [0.1] * 7


def test_more_steps_than_one_pass_draw_whole_shuffles_in_turn():
    runs = momentum_sweep(
        make_model, [("sgd", 0.0, 0.1)], dataset(12), steps=5, batch_size=6, progress=False
    )
    assert len(runs["sgd"].step_loss) == 5


def test_a_run_is_plain_sgd_with_pytorchs_lr_and_momentum():
    data = dataset()
    runs = momentum_sweep(
        make_model, [("hb", 0.5, 0.2)], data, steps=5, batch_size=8, seed=3, progress=False
    )
    # The same run by hand: the sweep's order of images, its seed, torch.optim.SGD.
    generator = torch.Generator().manual_seed(3)
    order = torch.randperm(len(data), generator=generator)[:40]
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(data, order.tolist()), batch_size=8
    )
    model = make_model()
    torch.manual_seed(3)
    history = fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.5),
        loader,
        device="cpu",
        progress=False,
    )
    assert history.step_loss == runs["hb"].step_loss


@pytest.mark.parametrize(
    "settings, error",
    [
        ([], ValueError),
        ([("a", 0.5, 0.1), ("a", 0.9, 0.1)], ValueError),
        ([("a", 1.0, 0.1)], ValueError),
        ([("a", 0.5, 0.0)], ValueError),
        ([("a", 0.5)], TypeError),
        ([(1, 0.5, 0.1)], TypeError),
        ("abc", TypeError),
    ],
)
def test_bad_settings_are_refused(settings, error):
    with pytest.raises(error, match="settings"):
        momentum_sweep(make_model, settings, dataset(), steps=2, batch_size=4, progress=False)


def test_bad_sizes_and_models_are_refused():
    with pytest.raises(ValueError, match="steps"):
        momentum_sweep(make_model, [("a", 0.0, 0.1)], dataset(), steps=0, batch_size=4)
    with pytest.raises(TypeError, match="make_model"):
        momentum_sweep("model", [("a", 0.0, 0.1)], dataset(), steps=1, batch_size=4)
    with pytest.raises(ValueError, match="empty"):
        momentum_sweep(make_model, [("a", 0.0, 0.1)], dataset(0), steps=1, batch_size=4)


def test_largest_curvature_of_a_quadratic_is_its_largest_eigenvalue():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    eigenvalues = np.array([0.1, 0.5, 1.0, 2.0, 3.0, 7.5])
    a = torch.tensor(q @ np.diag(eigenvalues) @ q.T)
    w = torch.ones(6, dtype=torch.float64, requires_grad=True)
    value = largest_curvature(lambda: 0.5 * w @ a @ w, [w], iterations=200)
    assert value == pytest.approx(7.5, rel=1e-9)


def test_largest_curvature_of_an_indefinite_quadratic_is_its_largest_eigenvalue():
    # ½(x² − 3y²): power iteration would report −3, the eigenvalue of largest magnitude.
    w = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    assert largest_curvature(lambda: 0.5 * (w[0] ** 2 - 3 * w[1] ** 2), [w]) == pytest.approx(1.0)


def test_largest_curvature_of_a_linear_classifier_matches_the_full_hessian():
    torch.manual_seed(0)
    x, y = torch.randn(50, 4, dtype=torch.float64), torch.randint(0, 3, (50,))
    w = (0.1 * torch.randn(3, 4, dtype=torch.float64)).requires_grad_()
    loss = lambda: F.cross_entropy(x @ w.T, y)  # noqa: E731
    hessian = torch.autograd.functional.hessian(lambda m: F.cross_entropy(x @ m.T, y), w.detach())
    expected = torch.linalg.eigvalsh(hessian.reshape(12, 12)).max().item()
    assert largest_curvature(loss, [w], iterations=300) == pytest.approx(expected, rel=1e-6)


def test_largest_curvature_refuses_what_it_cannot_use():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="loss"):
        largest_curvature(1.0, [w])
    with pytest.raises(ValueError, match="requires_grad"):
        largest_curvature(lambda: (w**2).sum(), [torch.ones(2)])
    with pytest.raises(ValueError, match="finite scalar"):
        largest_curvature(lambda: w**2, [w])


def test_classifier_inputs_are_what_the_linear_layer_turns_into_the_scores():
    from evalib.models import ResNet18
    from evalib.sweep import classifier_inputs

    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=4)
    images = TensorDataset(torch.randn(6, 3, 32, 32), torch.arange(6))
    features = classifier_inputs(model, images, batch_size=4)
    x, labels = features.tensors
    assert x.shape == (6, 32) and labels.tolist() == list(range(6))
    with torch.no_grad():
        assert torch.allclose(model.linear(x), model(images.tensors[0]), atol=1e-5)
    with pytest.raises(TypeError, match="ResNet18"):
        classifier_inputs(nn.Linear(3, 3), images)


def test_a_make_model_that_returns_a_trained_model_again_is_refused():
    same = make_model()
    with pytest.raises(ValueError, match=r"make_model\(\) returned a model that an earlier run"):
        momentum_sweep(lambda: same, [("a", 0.9, 0.1), ("b", 0.0, 0.1)], dataset(), steps=2,
                       batch_size=8, progress=False)  # fmt: skip
