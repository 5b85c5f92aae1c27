"""The CPU training step against a float64 reference: wrong gradients fail here, not in
a reader's experiment.

oneDNN, which computes torch's convolutions on CPUs, has returned wrong weight
gradients without an error for some layouts and shapes (uxlfoundation/oneDNN#6035:
1×1 stride-2 convolutions in channels-last with few input channels, exactly the
shortcuts of the narrow ResNet-18s the quick profile trains). So a few steps of
:func:`evalib.train.fit`, with the widths and options the chapters use on a CPU, must
move every weight as plain SGD written out by hand in float64 on contiguous tensors
does. The last test runs this file again on oneDNN's and ATen's AVX2 code paths, so a
machine with AVX-512 also checks what an AVX2 laptop computes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from evalib.models import ResNet18
from evalib.train import fit, momentum_sgd, one_cycle

WEIGHT_DECAY, BETA = 5e-4, 0.9
WIDTHS = (4, 8, 16)


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_fit_step_moves_the_weights_as_float64_sgd_does(width, nesterov):
    """Each step of fit, from the weights fit had before it, against the same step in
    float64: g = ∇L(w) + λw; b ← βb + g (b = g at first); w ← w − α(g + βb) with
    Nesterov, w ← w − αb without.

    Step by step, from fit's own weights, so float32 rounding cannot grow along the run.
    It still flips the odd ReLU or max-pool decision whose input is within rounding of
    a tie, which moves a batch-norm gradient (a sum with much cancellation) by up to 5 %
    (measured over 150 random batches; convolution weights by under 0.3 %). A wrong
    kernel is off by the whole gradient, so 10 % per tensor separates the two.
    """
    torch.manual_seed(width)
    images, labels = torch.randn(24, 3, 32, 32), torch.randint(0, 10, (24,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=6)  # 4 steps
    model = ResNet18(num_classes=10, width=width)
    before_step = []  # the state before each training forward pass, in float64
    model.register_forward_pre_hook(
        lambda module, args: before_step.append(
            {k: v.detach().double().clone() for k, v in module.state_dict().items()}
        )
    )
    optimizer = momentum_sgd(
        model.parameters(), lr_eff=0.2, beta=BETA, nesterov=nesterov, weight_decay=WEIGHT_DECAY
    )
    history = fit(
        model,
        optimizer,
        loader,
        epochs=1,
        scheduler=one_cycle(optimizer, len(loader), warmup=0.5),
        device="cpu",
        progress=False,
    )
    after_step = before_step[1:] + [{k: v.detach().double() for k, v in model.state_dict().items()}]

    reference = ResNet18(num_classes=10, width=width).double().train()
    names = [name for name, _ in reference.named_parameters()]
    momentum: dict[str, torch.Tensor] = {}
    for k, ((x, y), lr) in enumerate(zip(loader, history.lr, strict=True)):
        reference.load_state_dict(before_step[k])
        grads = torch.autograd.grad(
            F.cross_entropy(reference(x.double()), y), list(reference.parameters())
        )
        for name, grad in zip(names, grads):
            w = before_step[k][name]
            g = grad + WEIGHT_DECAY * w
            b = momentum[name] = g if k == 0 else BETA * momentum[name] + g
            expected = -lr * (g + BETA * b if nesterov else b)
            moved = after_step[k][name] - w
            # fit stores float32 weights: a move below their rounding cannot show.
            rounding = 2 * torch.finfo(torch.float32).eps * w.norm()
            error = (moved - expected).norm()
            assert error <= 0.1 * expected.norm() + rounding, (
                f"step {k + 1}, {name}: fit moved the weights {error:.3g} away from the "
                f"float64 step of size {expected.norm():.3g}"
            )


@pytest.mark.skipif(
    os.environ.get("ONEDNN_MAX_CPU_ISA") == "AVX2", reason="already on the AVX2 path"
)
def test_fit_matches_the_reference_on_the_avx2_code_path():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                __file__,
                "-k",
                "float64_sgd",
            ],
            env=env,
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the training step hung on the AVX2 code path (no result in {hung.timeout} s)")
    assert result.returncode == 0, (
        f"on the AVX2 code path:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    )
