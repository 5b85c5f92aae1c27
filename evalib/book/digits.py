"""The offline dataset: handwritten digits on cluttered 32x32 colour canvases, with boxes.

No machine that builds this book reaches the internet, so CIFAR-10 may be missing.
:func:`evalib.book.data.load` then falls back to the images made here (and ``load("digits")``
asks for them by name): scikit-learn's 1,797 handwritten digits (8x8, Alpaydin and
Kaynak 1998), each upscaled to 12 to 16 pixels and pasted at a random place on a 32x32
canvas with a dark, smooth background and thin strokes of clutter. Every image keeps
its digit's box and ink mask, so a Grad-CAM heat map can be *scored* (the pointing game
in :mod:`evalib.cam`), not just looked at. :func:`make_digits` renders them;
:class:`OfflineDigits` is the seeded train/test split as a dataset.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from evalib._checks import check_callable, check_choice, check_int, check_real

__all__ = ["DIGIT_CLASSES", "OfflineDigits", "make_digits"]

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))

# The digits' side lengths, as fractions of the canvas side: 12 to 16 pixels at 32.
# Small enough that most boxes miss the centre (a map that always points there
# scores about half), large enough that a narrow ResNet-18 reads them.
_SIDES = (12 / 32, 16 / 32)


def make_digits(
    seed: int = 0, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render all 1,797 scikit-learn digits onto cluttered colour canvases.

    Each 8x8 digit is upscaled (bilinear) to a random side between ``3/8`` and ``1/2``
    of ``size`` (12 to 16 pixels on a 32x32 canvas) and alpha-blended at a random
    position of the ``size x size`` canvas. The background is a dark, smooth random
    colour field with 3 to 5 thin strokes of random colour (clutter that a classifier
    must learn to ignore); the digit is bright, in a random hue. The same ``seed`` gives
    the same images.

    Returns ``(images, labels, boxes, masks)``: ``images`` uint8 ``(N, 3, size, size)``,
    ``labels`` int64 ``(N,)``, ``boxes`` int64 ``(N, 4)`` as ``(x0, y0, x1, y1)`` with
    ``x1, y1`` exclusive (the tight box of the digit's ink), and ``masks`` bool
    ``(N, size, size)``, True where the digit's ink lies.
    """
    seed, size = check_int("seed", seed, 0), check_int("size", size, 16, 256)
    # Rendered once per (seed, size) and process; callers get their own copies.
    return tuple(t.clone() for t in _render_digits(seed, size))  # type: ignore[return-value]


@functools.lru_cache(maxsize=2)
def _render_digits(
    seed: int, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The work behind :func:`make_digits` (arguments already checked)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    ink = torch.as_tensor(digits.images, dtype=torch.float32) / 16.0  # (N, 8, 8) in [0, 1]
    labels = torch.as_tensor(digits.target, dtype=torch.int64)
    n = ink.shape[0]
    rng = np.random.default_rng(seed)

    # A smooth background: a coarse 4x4 colour grid, bilinearly upscaled.
    coarse = torch.as_tensor(rng.uniform(0.0, 1.0, (n, 3, 4, 4)), dtype=torch.float32)
    canvas = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True)
    canvas = 0.45 * canvas  # a dark background, so a bright digit always stands out
    _strokes(canvas, rng)  # clutter: thin straight strokes in random colours

    # Each digit's ink as an alpha map on the full canvas, rendered one side length at
    # a time (a handful of batched resizes instead of one per image).
    lo, hi = _SIDES
    sides = rng.integers(round(lo * size), round(hi * size) + 1, n)
    corners = rng.integers(0, size - sides[:, None] + 1, (n, 2))  # (x0, y0)
    alpha = torch.zeros(n, size, size)
    for side in np.unique(sides):
        idx = np.flatnonzero(sides == side)
        side = int(side)
        scaled = F.interpolate(ink[idx][:, None], size=(side, side), mode="bilinear",
                               align_corners=False)[:, 0].clamp(0.0, 1.0)  # fmt: skip
        for k, i in enumerate(idx):
            x0, y0 = int(corners[i, 0]), int(corners[i, 1])
            alpha[i, y0 : y0 + side, x0 : x0 + side] = scaled[k]
    masks = alpha > 0.02
    # The tight box of the ink: first and last rows/columns that hold any of it.
    rows, cols = masks.any(dim=2), masks.any(dim=1)
    first = lambda m: m.float().argmax(dim=1)  # noqa: E731
    last = lambda m: size - m.flip(1).float().argmax(dim=1)  # noqa: E731
    boxes = torch.stack([first(cols), first(rows), last(cols), last(rows)], dim=1)
    # The digit's colour: bright (every channel in [0.6, 1]) in a random hue, so it
    # stands out from the dark background; the strokes' colours span the whole range.
    colour = torch.as_tensor(rng.uniform(0.6, 1.0, (n, 3)), dtype=torch.float32)
    canvas = (1 - alpha[:, None]) * canvas + alpha[:, None] * colour[:, :, None, None]
    images = (canvas.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return images, labels, boxes, masks


def _strokes(canvas: torch.Tensor, rng: np.random.Generator) -> None:
    """Draw 3 to 5 thin straight strokes of random colour, length and angle per image.

    Each stroke is 1 pixel wide, ``size/6`` to ``size/2`` long, centred anywhere on the
    canvas (so it may run off the edge, where it is cut). Drawn in place, all at once.
    """
    n, size = canvas.shape[0], canvas.shape[-1]
    per_image = rng.integers(3, 6, n)
    owner = np.repeat(np.arange(n), per_image)  # which image each stroke belongs to
    count = owner.size
    length = rng.uniform(size / 6, size / 2, count)[:, None]
    angle = rng.uniform(0, np.pi, count)[:, None]
    cx, cy = rng.uniform(0, size, (2, count, 1))
    colour = torch.as_tensor(rng.uniform(0.0, 1.0, (count, 3)), dtype=torch.float32)
    t = np.linspace(-0.5, 0.5, size + 2)[None, :]  # sample points along every stroke
    xs = np.round(cx + t * length * np.cos(angle))
    ys = np.round(cy + t * length * np.sin(angle))
    inside = (xs >= 0) & (xs < size) & (ys >= 0) & (ys < size)
    stroke = np.broadcast_to(np.arange(count)[:, None], xs.shape)[inside]
    pixel = (owner[stroke] * size + ys[inside].astype(np.int64)) * size + xs[inside].astype(
        np.int64
    )
    # Where strokes cross, the later stroke wins: keep each pixel's last write only, so
    # the result never depends on the order a parallel scatter happens to use.
    pixel, last = np.unique(pixel[::-1], return_index=True)
    stroke = stroke[::-1][last]
    flat = canvas.permute(0, 2, 3, 1).reshape(-1, 3)  # a copy: canvas is channels-first
    flat[torch.as_tensor(pixel)] = colour[torch.as_tensor(stroke)]
    canvas.copy_(flat.view(n, size, size, 3).permute(0, 3, 1, 2))


class OfflineDigits(Dataset):
    """The offline stand-in for CIFAR-10: digits on cluttered canvases, with boxes.

    ``split="train"`` or ``"test"`` picks a fixed, seeded part of the 1,797 images
    (``test_fraction`` of them, 20 % by default, are the test split). Items are
    ``(transform(image), label)`` with ``image`` a uint8 ``(3, 32, 32)`` tensor;
    ``boxes[i]`` is image ``i``'s digit box ``(x0, y0, x1, y1)``, ``x1, y1`` exclusive.
    ``mean`` and ``std`` are the training split's per-channel statistics in [0, 1].
    A ``test_fraction`` that leaves either split empty is refused with a ValueError.
    """

    classes = DIGIT_CLASSES

    def __init__(
        self,
        split: str = "train",
        seed: int = 0,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        test_fraction: float = 0.2,
    ) -> None:
        check_choice("split", split, ("train", "test"))
        if transform is not None:
            check_callable("transform", transform)
        test_fraction = check_real("test_fraction", test_fraction)
        images, labels, boxes, masks = make_digits(seed)
        n = len(labels)
        n_test = int(round(test_fraction * n))  # noqa: RUF046 (a NumPy float's round)
        if not 0 < n_test < n:
            raise ValueError(
                f"test_fraction={test_fraction!r} leaves {'no test' if n_test <= 0 else 'no training'} "
                f"images of the {n:,} digits; use a value between {0.5 / n:.5f} and {(n - 0.5) / n:.5f}"
            )
        order = torch.as_tensor(np.random.default_rng(seed + 1).permutation(n))
        train_idx, test_idx = order[n_test:], order[:n_test]
        keep = train_idx if split == "train" else test_idx
        self.split = split
        self.images = images[keep]
        self.targets = labels[keep]
        self.boxes = boxes[keep]
        self.masks = masks[keep]
        self.transform = transform
        train_pixels = images[train_idx].float() / 255.0
        self.mean = tuple(train_pixels.mean(dim=(0, 2, 3)).tolist())
        self.std = tuple(train_pixels.std(dim=(0, 2, 3)).tolist())

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])
