"""Training throughput of the hooked ResNet-18 on CIFAR-shaped synthetic batches.

Prints images per second for one SGD+Nesterov step (forward, backward, update) at the
widths the book uses, on whatever device is present: eager fp32, and on CUDA also
channels-last and bf16 autocast, and torch.compile where it works, plus the ratios to
eager fp32. No download: the batches are random.

``--epoch`` also times whole epochs of :func:`evalib.train.fit` (augmentation in the
loader's workers, host-to-device copies, the progress bookkeeping and the test pass)
on 50,000 random CIFAR-shaped images served as PIL images, as torchvision's CIFAR-10
serves them: the wall time of one epoch of the chapter's full profile.

    .venv/bin/python benchmarks/train_throughput.py [--widths 8 16 64] [--batch 128]
    .venv/bin/python benchmarks/train_throughput.py --widths 64 --epoch --workers 4

The chapter "Training it with momentum" sizes its quick profile with these figures
(taken on the slower CPU class too) and points readers here for their own machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from evalib.book.data import CIFAR10_MEAN, CIFAR10_STD, loaders, test_transform, train_transform
from evalib.book.runtime import device
from evalib.models import ResNet18
from evalib.train import fit, momentum_sgd


def images_per_second(
    width: int,
    batch: int,
    dev: torch.device,
    *,
    channels_last: bool,
    amp: bool,
    compile_: bool,
    steps: int,
    warmup: int,
) -> float:
    """Images per second over ``steps`` timed steps, after ``warmup`` untimed ones."""
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=width).to(dev)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    step_model = torch.compile(model) if compile_ else model

    def step() -> None:
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss = F.cross_entropy(step_model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


class RandomCIFAR(Dataset):
    """``n`` random 32x32 RGB images and labels, returned as (transformed) PIL images."""

    def __init__(self, n: int, transform, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.labels = rng.integers(0, 10, n)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def epoch_seconds(width: int, batch: int, workers: int, epochs: int = 2) -> list[float]:
    """Wall time of each of ``epochs`` epochs of ``fit`` on 50,000 training and 10,000
    test images, through :func:`evalib.book.data.loaders`, as the chapter's CIFAR-10 goes."""
    train, test = loaders(
        RandomCIFAR(50_000, train_transform(CIFAR10_MEAN, CIFAR10_STD)),
        RandomCIFAR(10_000, test_transform(CIFAR10_MEAN, CIFAR10_STD), seed=1),
        batch_size=batch,
        num_workers=workers,
    )
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=width)
    optimizer = momentum_sgd(
        model.parameters(), lr_eff=0.1, beta=0.9, nesterov=True, weight_decay=5e-4
    )
    history = fit(model, optimizer, train, test, epochs, progress=False)
    return list(np.diff([0.0] + history.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 16, 64])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--epoch", action="store_true", help="also time whole epochs of fit")
    parser.add_argument("--workers", type=int, default=4, help="loader workers for --epoch")
    args = parser.parse_args()
    dev = device()
    print(
        f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}"
    )
    variants = [("eager fp32", False, False)]
    # Channels-last on CUDA only: on CPUs oneDNN hangs, crashes or computes wrong weight
    # gradients for the narrow networks' strided 1x1 convolutions (uxlfoundation/oneDNN#6035).
    if dev.type == "cuda":
        variants += [
            ("eager fp32 channels-last", True, False),
            ("eager bf16 channels-last", True, True),
        ]
    for width in args.widths:
        base = None
        for name, cl, amp in variants + (
            [(n + " compiled", c, a) for n, c, a in variants] if args.compile else []
        ):
            try:
                rate = images_per_second(
                    width,
                    args.batch,
                    dev,
                    channels_last=cl,
                    amp=amp,
                    compile_=name.endswith("compiled"),
                    steps=args.steps,
                    warmup=2,
                )
            except Exception as err:  # torch.compile needs a compiler toolchain
                print(f"width {width:3d}  {name:34s}  failed: {type(err).__name__}")
                continue
            base = base or rate
            print(
                f"width {width:3d}  {name:34s}  {rate:8.0f} images/s  ({rate / base:.2f}x eager fp32)"
            )
        if args.epoch:
            seconds = epoch_seconds(width, args.batch, args.workers)
            print(
                f"width {width:3d}  fit, {args.workers} loader workers: epochs of 50,000 images took "
                + ", ".join(f"{t:.1f} s" for t in seconds)
                + f" ({50_000 / seconds[-1]:.0f} images/s in the last, test pass included)"
            )


if __name__ == "__main__":
    main()
