"""A momentum sweep: one short run per setting, from the same start on the same batches.

"Training it with momentum" compares momentum coefficients on the trained network.
For the comparison to say something about β and nothing else, every run must start
from the same weights, see the same batches in the same order with the same random
augmentation, and differ only in its optimizer. :func:`momentum_sweep` arranges that;
each run is plain :func:`evalib.train.fit` with ``torch.optim.SGD``, so a setting is
PyTorch's own ``(momentum β, lr α)`` and its effective rate ``α/(1 − β)`` is the step
that a steady gradient settles to (the chapter on SGD with momentum and Nesterov).
:func:`largest_curvature` measures the sharpest direction of a loss, which decides
which settings are stable: the heavy ball needs ``αλ < 2 + 2β`` along every
direction of curvature ``λ`` (the heavy-ball chapter).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from evalib._checks import (
    check_bool,
    check_callable,
    check_dataset,
    check_instance,
    check_int,
    check_real,
)
from evalib.book.runtime import checked_device
from evalib.curvature import top_eigen
from evalib.models import ResNet18
from evalib.train import History, fit

__all__ = ["classifier_inputs", "largest_curvature", "momentum_sweep"]

_MAX_IMAGES = 2**27  # the most images a sweep's fixed order may hold (1 GiB of indices)


def momentum_sweep(
    make_model: Callable[[], nn.Module],
    settings: Sequence[tuple[str, float, float]],
    train_set: Dataset,
    *,
    steps: int,
    batch_size: int,
    test_loader: DataLoader | None = None,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, History]:
    """Train ``make_model()`` once per ``(name, beta, lr)`` of ``settings``; return the
    histories by name.

    Each run takes ``steps`` steps of ``torch.optim.SGD(lr=lr, momentum=beta,
    weight_decay=weight_decay)`` on batches of ``batch_size`` drawn from ``train_set``
    in one order fixed by ``seed``; the global torch generator is reseeded with
    ``seed`` before every run, so random augmentation repeats too. The learning rate
    is constant: the runs differ in their optimizer and nothing else, as long as
    ``make_model`` returns the same weights on every call. ``test_loader`` (optional)
    measures test accuracy at the end of each run.

    :raises TypeError: for a ``make_model`` that is not callable or a setting that is
        not a ``(str, number, number)`` triple.
    :raises ValueError: for empty ``settings`` or a repeated name, a ``beta`` outside
        ``[0, 1)``, a non-positive ``lr``, or an empty ``train_set``.
    """
    check_callable("make_model", make_model)
    runs = _check_settings(settings)
    n = check_dataset("train_set", train_set, nonempty=True)
    batch_size = check_int("batch_size", batch_size, 1)
    steps = check_int("steps", steps, 1, _MAX_IMAGES // batch_size)
    weight_decay = check_real("weight_decay", weight_decay, at_least=0)
    seed = check_int("seed", seed, 0, 2**64 - 1)  # what torch.Generator takes
    progress = check_bool("progress", progress)

    # One fixed sequence of steps × batch_size images: whole shuffles, then a part of one.
    generator = torch.Generator().manual_seed(seed)
    needed = steps * batch_size
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(-(-needed // n))])
    batches = DataLoader(Subset(train_set, order[:needed].tolist()), batch_size=batch_size)

    histories: dict[str, History] = {}
    trained: weakref.WeakSet[nn.Module] = weakref.WeakSet()
    for name, beta, lr in runs:
        model = _check_new_model(make_model(), trained)
        optimizer = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=beta, weight_decay=weight_decay
        )
        torch.manual_seed(seed)  # the same augmentation in every run
        histories[name] = fit(model, optimizer, batches, test_loader, epochs=1,
                              progress=progress, desc=name)  # fmt: skip
        trained.add(model)
    return histories


def _check_new_model(model: Any, trained: weakref.WeakSet[nn.Module]) -> nn.Module:
    """``make_model()``'s result: a module that no earlier run of the sweep has trained."""
    check_instance("make_model()", model, nn.Module, "a torch.nn.Module")
    if model in trained:
        raise ValueError(
            "make_model() returned a model that an earlier run of this sweep has trained; "
            "every run must start from a new model (build it inside make_model)"
        )
    return model


def _check_settings(settings: Any) -> list[tuple[str, float, float]]:
    """``settings`` as a non-empty list of ``(name, beta, lr)`` with distinct names."""
    if isinstance(settings, (str, bytes)) or not isinstance(settings, Sequence):
        raise TypeError(f"settings must be a sequence of (name, beta, lr), got {settings!r}")
    if not settings:
        raise ValueError("settings is empty: give at least one (name, beta, lr)")
    runs = []
    for i, setting in enumerate(settings):
        if (
            not isinstance(setting, (tuple, list))
            or len(setting) != 3
            or not isinstance(setting[0], str)
        ):
            raise TypeError(f"settings[{i}] must be a (name, beta, lr) triple, got {setting!r}")
        beta = check_real(f"settings[{i}] beta", setting[1], at_least=0, below=1)
        runs.append((setting[0], beta, check_real(f"settings[{i}] lr", setting[2], above=0)))
    names = [name for name, _, _ in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"settings repeat a name: {names}; every run needs its own")
    return runs


def largest_curvature(
    loss: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], iterations: int = 50
) -> float:
    """The largest eigenvalue λ_max of the Hessian of ``loss()`` at ``params``.

    :func:`evalib.curvature.top_eigen` computes it: the Lanczos method on
    Hessian-vector products ``Hv`` (the gradient of ``∇loss·v``; the Hessian itself is
    never formed), from a seeded random start, so the answer repeats. It is the
    algebraically largest eigenvalue, which bounds a stable step (``αλ < 2 + 2β``),
    also where the Hessian has larger negative eigenvalues: ``1`` for ``½(x² − 3y²)``,
    not ``−3``. ``iterations`` bounds the work (the number of products).

    :raises TypeError: for a ``loss`` that is not callable or ``params`` that are not
        tensors.
    :raises ValueError: for ``params`` without ``requires_grad`` or a loss that is not
        a finite scalar.
    """
    return top_eigen(loss, params, iterations=iterations, tol=1e-6).value


def classifier_inputs(
    model: ResNet18, dataset: Dataset, *, device: torch.device | str = "cpu", batch_size: int = 256
) -> TensorDataset:
    """What ``model``'s classifier sees for every image of ``dataset``, with its label.

    For the ResNet-18 of :mod:`evalib.models` that is the ``layer4`` output, max-pooled
    per channel: ``model.linear`` applied to these vectors gives ``model(x)``. The model
    runs in eval mode without gradients (and is left in eval mode); the features come
    back on the CPU as a ``TensorDataset(features, labels)``, so a sweep can train a
    fresh classifier on them without running the network again.
    """
    check_instance("model", model, ResNet18, "an evalib.models.ResNet18")
    batch_size = check_int("batch_size", batch_size, 1)
    device = checked_device(device)
    check_dataset("dataset", dataset, nonempty=True)
    model.eval()
    features, labels = [], []
    with torch.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            if x.dtype != model.conv1.weight.dtype:
                raise TypeError(
                    f"dataset's images have dtype {x.dtype} but the model's weights are "
                    f"{model.conv1.weight.dtype}: convert and normalise them first"
                )
            out = model.features(x.to(device))
            features.append(F.adaptive_max_pool2d(out, 1).flatten(1).cpu())
            labels.append(torch.as_tensor(y))
    return TensorDataset(torch.cat(features), torch.cat(labels))
