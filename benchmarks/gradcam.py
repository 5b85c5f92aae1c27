"""What the layer4 hook and our GradCAM cost, printed as ratios.

1. Hook overhead: one forward + backward pass of ``evalib.models.ResNet18`` as it is
   (storing ``activations`` and hooking ``gradients``) against the same network run
   without the hook (``model.features`` + pooling + classifier). Goal: ≤ 5 % overhead.
2. ``evalib.cam.GradCAM`` against the ``GradCAM`` of the ``grad-cam`` package
   (jacobgil/pytorch-grad-cam) on the same model, batch and classes. Goal: ≤ 1.0×.
   The package is optional, for this comparison only::

       .venv/bin/pip install grad-cam

   Without it the comparison is skipped with a message.

Timings interleave the variants (alternating which goes first) and report the
ratio of the fastest runs and the median of the paired ratios, so a machine shared
with other work biases neither side. Run from the repository root::

    .venv/bin/python benchmarks/gradcam.py --width 16 --batch 16 --repeats 30
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from evalib.book.runtime import device
from evalib.cam import GradCAM
from evalib.models import ResNet18


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def interleaved_times(
    fns: dict[str, Callable[[], object]], repeats: int, dev: torch.device
) -> dict[str, list[float]]:
    """Seconds per call of each function, calling them in turn ``repeats`` times."""
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns.items())
    for _ in range(repeats):
        order.reverse()  # alternate who goes first: no variant profits from the order
        for name, fn in order:
            sync(dev)
            start = time.perf_counter()
            fn()
            sync(dev)
            times[name].append(time.perf_counter() - start)
    return times


def report(times: dict[str, list[float]], what: str) -> tuple[float, float]:
    """Print the timings; return (ratio of the fastest runs, median of paired ratios).

    Load from other processes only ever adds time, so the fastest of many runs is the
    steadiest estimate of a variant's own cost; the paired ratio (each repeat times
    the two variants back to back) is the second opinion.
    """
    (a, ta), (b, tb) = times.items()
    print(
        f"{what}, {len(ta)} runs each: {a} fastest {min(ta) * 1e3:.1f} ms / median "
        f"{statistics.median(ta) * 1e3:.1f} ms, {b} fastest {min(tb) * 1e3:.1f} ms / median "
        f"{statistics.median(tb) * 1e3:.1f} ms"
    )
    return min(ta) / min(tb), statistics.median(x / y for x, y in zip(ta, tb))


def hook_overhead(model: ResNet18, x: torch.Tensor, repeats: int, dev: torch.device) -> None:
    y = torch.randint(0, model.num_classes, (x.shape[0],), device=dev)

    def hooked() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        assert model.gradients is not None

    def unhooked() -> None:
        model.zero_grad(set_to_none=True)
        logits = model.linear(F.adaptive_max_pool2d(model.features(x), 1).flatten(1))
        F.cross_entropy(logits, y).backward()

    t = interleaved_times({"hooked": hooked, "unhooked": unhooked}, repeats, dev)
    fastest, paired = report(t, "forward+backward")
    print(
        f"hook overhead: {fastest:.3f}x fastest runs ({100 * (fastest - 1):+.1f} %), "
        f"{paired:.3f}x median paired ratio (goal <= 1.05x)"
    )

    # The hook's own work, timed alone: far below the timing noise of a shared machine.
    A = model.features(x)
    calls = 2000
    start = time.perf_counter()
    for _ in range(calls):
        model.activations = A.detach()
        A.register_hook(model._save_gradient)
        model._save_gradient(A)
    per_call = (time.perf_counter() - start) / calls
    print(
        f"the hook's own work: {per_call * 1e6:.1f} us per pass, "
        f"{100 * per_call / statistics.median(t['unhooked']):.4f} % of an unhooked forward+backward"
    )


def versus_pytorch_grad_cam(
    model: ResNet18, x: torch.Tensor, repeats: int, dev: torch.device
) -> None:
    try:
        import pytorch_grad_cam
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        print("grad-cam is not installed (.venv/bin/pip install grad-cam): comparison skipped")
        return
    from importlib.metadata import version

    targets = [i % model.num_classes for i in range(x.shape[0])]
    their_targets = [ClassifierOutputTarget(c) for c in targets]

    # Both are used the way their documentation shows: one context per batch, so
    # neither leaves hooks on the model that would slow the other down.
    def evalib_cam() -> np.ndarray:
        with GradCAM(model, model.layer4) as cam:
            return cam(x, targets).cpu().numpy()

    def package_cam() -> np.ndarray:
        with pytorch_grad_cam.GradCAM(model=model, target_layers=[model.layer4]) as cam:
            return cam(input_tensor=x, targets=their_targets)

    # Same maps? pytorch-grad-cam min-max scales its maps where we divide by the
    # maximum, and resizes with OpenCV: compare after the same min-max scaling.
    a, b = evalib_cam(), package_cam()
    a = a - a.min(axis=(1, 2), keepdims=True)
    a = a / (1e-7 + a.max(axis=(1, 2), keepdims=True))
    print(f"largest difference of the min-max scaled maps: {np.abs(a - b).max():.1e}")

    t = interleaved_times(
        {"evalib": evalib_cam, f"grad-cam {version('grad-cam')}": package_cam}, repeats, dev
    )
    fastest, paired = report(t, f"Grad-CAM of {x.shape[0]} images")
    print(
        f"evalib / grad-cam time: {fastest:.3f}x fastest runs, "
        f"{paired:.3f}x median paired ratio (goal <= 1.0x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--width", type=int, default=16, help="ResNet18 width (64 = the real network)"
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    dev = device()
    torch.manual_seed(0)
    model = ResNet18(num_classes=10, width=args.width).to(dev)
    x = torch.randn(args.batch, 3, args.size, args.size, device=dev)
    print(
        f"{dev}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"ResNet18(width={args.width}), batch {args.batch} of {args.size}x{args.size}"
    )
    model.train()
    hook_overhead(model, x, args.repeats, dev)
    model.eval()
    versus_pytorch_grad_cam(model, x, args.repeats, dev)


if __name__ == "__main__":
    main()
