"""The GPU path of evalib: what the full profile relies on. Skipped without CUDA.

On a CUDA machine: ``pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import math

import pytest
import torch

from evalib.book.checkpointing import load_checkpoint
from evalib.book.data import load
from evalib.cam import GradCAM
from evalib.models import ResNet18
from evalib.train import evaluate, fit, momentum_sgd
from tiny_net import TinyNet

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def digits():
    return load("digits", batch_size=32, train_size=512, test_size=64, seed=0, num_workers=2)


def test_fit_on_cuda_lowers_the_loss_in_mixed_precision_channels_last(digits, tmp_path):
    torch.manual_seed(0)
    model = TinyNet()
    optimizer = momentum_sgd(model.parameters(), lr_eff=0.2, beta=0.0)
    before, _ = evaluate(model, digits.train)
    history = fit(model, optimizer, digits.train, digits.test, 1, checkpoint=tmp_path / "run.pt",
                  progress=False)  # fmt: skip
    after, _ = evaluate(model, digits.train)
    assert next(model.parameters()).device.type == "cuda"
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert all(map(math.isfinite, history.step_loss))
    assert after < before
    # A checkpoint written on the GPU loads into a model on the CPU.
    on_cpu = TinyNet()
    epoch, saved = load_checkpoint(tmp_path / "run.pt", on_cpu, restore_rng=False)
    assert epoch == 1 and saved.test_acc == history.test_acc
    for (name, a), b in zip(model.state_dict().items(), on_cpu.state_dict().values()):
        assert torch.equal(a.cpu(), b), name


def test_gradcam_on_cuda_matches_the_cpu(digits, monkeypatch):
    # Full fp32 convolutions on the GPU too (no TF32), so the two can be compared closely.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=16).eval()
    x = next(iter(digits.test))[0][:8]
    with GradCAM(model, model.layer4) as cam:
        on_cpu = cam.cam(x, targets=3)
    model.to("cuda")
    with GradCAM(model, model.layer4) as cam:
        on_gpu = cam.cam(x.to("cuda"), targets=3)
    assert on_gpu.device.type == "cuda" and on_gpu.shape == (8, 32, 32)
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=1e-3, rtol=0)
