"""Images to train on: CIFAR-10, and an offline dataset for machines without a network.

The chapter "Training it with momentum" trains the hooked ResNet-18 on CIFAR-10
{Krizhevsky 2009}: 50,000 training and 10,000 test images, 32x32 RGB, ten classes.
:func:`load` builds the train and test loaders with the usual augmentation (random crop
with 4 pixels of padding, horizontal flip, optionally cutout) and the per-channel
normalisation ``(x - mean) / std``.

CIFAR-10 is downloaded on first use (``download=True``, as in Colab). Where it is
neither on disk nor downloadable, :func:`load` says so in one visible warning and
returns :class:`OfflineDigits` instead: scikit-learn's 1,797 handwritten digits
(8x8, Alpaydin and Kaynak 1998), each upscaled and pasted at a random place on a 32x32
colour canvas with background clutter. Every image keeps its digit's box, so a
Grad-CAM heat map can be *scored* (the pointing game in :mod:`evalib.cam`), not just
looked at. The digits can also be asked for by name: ``load("digits")``.

Data lives under one absolute folder, never relative to the notebook: the ``root``
argument, else the environment variable ``EVALIB_DATA``, else ``~/.cache/evalib``.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms import v2

from evalib._checks import choice, finite_real, flag, function, integer, real_array, sized

if TYPE_CHECKING:
    from torchvision.datasets import CIFAR10

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DIGIT_CLASSES",
    "DATA_ENV",
    "Data",
    "OfflineDataWarning",
    "OfflineDigits",
    "data_root",
    "load",
    "loaders",
    "make_digits",
    "train_transform",
    "test_transform",
]

DATA_ENV = "EVALIB_DATA"

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
# Per-channel mean and standard deviation of the 50,000 training images (pixels in [0, 1]).
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))

# The digits' side lengths, as fractions of the canvas side: 12 to 16 pixels at 32.
# Small enough that most boxes miss the centre (a map that always points there
# scores about half), large enough that a narrow ResNet-18 reads them.
_SIDES = (12 / 32, 16 / 32)

# How long the reachability check of the CIFAR-10 server may take before we give up.
_PROBE_TIMEOUT_S = 3.0


class OfflineDataWarning(UserWarning):
    """CIFAR-10 could not be found or downloaded; the offline digits are used instead."""


# The data folders whose fallback has been announced in this session (process): the
# warning is our own state, not the warnings registry, which any filter change resets.
_offline_warned: set[str] = set()


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The absolute folder that holds the datasets.

    ``root`` if given, else ``$EVALIB_DATA``, else ``~/.cache/evalib``; ``~`` is
    expanded and the result made absolute, so a notebook finds the same data whatever
    its working directory. An empty ``root`` (``""``) is refused rather than read as
    the working directory.
    """
    if root is None:
        root = os.environ.get(DATA_ENV, "").strip() or Path.home() / ".cache" / "evalib"
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path or None, got {type(root).__name__}")
    if not os.fspath(root).strip():
        raise ValueError(
            f"root must not be empty, got {root!r}: give a folder, or None for ${DATA_ENV} "
            "or ~/.cache/evalib"
        )
    return Path(root).expanduser().resolve()


# ----------------------------------------------------------------------------------
# The offline dataset: handwritten digits on cluttered 32x32 canvases
# ----------------------------------------------------------------------------------


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
    seed, size = integer("seed", seed, 0), integer("size", size, 16, 256)
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
    pixel = (owner[stroke] * size + ys[inside].astype(np.int64)) * size + xs[inside].astype(np.int64)
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
        choice("split", split, ("train", "test"))
        if transform is not None:
            function("transform", transform)
        test_fraction = finite_real("test_fraction", test_fraction)
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


# ----------------------------------------------------------------------------------
# Transforms and loaders
# ----------------------------------------------------------------------------------


def _stats(mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``mean`` and ``std`` checked: 1 or 3 finite numbers each (one per channel), ``std > 0``."""
    out = []
    for name, value in (("mean", mean), ("std", std)):
        arr = real_array(name, value)
        if arr.ndim != 1 or arr.size not in (1, 3):
            raise ValueError(f"{name} must hold 1 or 3 numbers (one per channel), got shape {arr.shape}")
        out.append(tuple(arr.tolist()))
    if min(out[1]) <= 0:
        raise ValueError(f"std must be > 0 (images are divided by it), got {tuple(out[1])}")
    return out[0], out[1]


def train_transform(
    mean: tuple[float, ...], std: tuple[float, ...], *, flip: bool = True, cutout: int = 0
) -> v2.Compose:
    """Training augmentation: random crop (pad 4), optional flip and cutout, normalise.

    The crop pads the image by 4 black pixels on every side and cuts a random
    32x32 window back out: a shift of up to 4 pixels. ``flip`` mirrors half the images
    left-right (right for CIFAR-10; not for digits, whose mirror images are not
    digits). ``cutout > 0`` blanks one random ``cutout x cutout`` square (DeVries and
    Taylor 2017) after normalisation, i.e. sets it to the mean colour. Then
    ``x -> (x - mean) / std`` per channel.
    """
    cutout = integer("cutout", cutout, 0, 32)
    mean, std = _stats(mean, std)
    steps: list[Callable] = [v2.ToImage(), v2.RandomCrop(32, padding=4)]
    if flag("flip", flip):
        steps.append(v2.RandomHorizontalFlip())
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    if cutout:
        area = cutout * cutout / (32 * 32)
        steps.append(v2.RandomErasing(p=1.0, scale=(area, area), ratio=(1.0, 1.0), value=0.0))
    return v2.Compose(steps)


def test_transform(mean: tuple[float, ...], std: tuple[float, ...]) -> v2.Compose:
    """Test-time transform: no augmentation, only ``x -> (x - mean) / std``."""
    mean, std = _stats(mean, std)
    return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])


@dataclass
class Data:
    """A dataset ready to train on: loaders, class names and the normalisation used.

    ``name`` is ``"cifar10"`` or ``"digits"`` (what was actually loaded: after a failed
    download it is ``"digits"``). ``boxes`` holds the test images' object boxes
    ``(x0, y0, x1, y1)`` in the order of ``test``'s batches, for the digits only
    (CIFAR-10 has none: ``None``).
    """

    name: str
    train: DataLoader
    test: DataLoader
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    boxes: torch.Tensor | None = None

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Undo the normalisation: ``x * std + mean``, clipped to [0, 1], for display.

        ``x`` is a floating-point batch ``(..., C, H, W)`` as the loaders give; uint8
        (not normalised) images are refused with a TypeError.
        """
        if not torch.is_tensor(x) or not x.is_floating_point():
            got = x.dtype if torch.is_tensor(x) else type(x).__name__
            raise TypeError(
                f"x must be a floating-point tensor of normalised images, got {got}; "
                "uint8 images are not normalised (x.float() / 255 shows them as they are)"
            )
        if x.dim() < 3 or x.shape[-3] != len(self.mean):
            raise ValueError(f"x must be images (..., {len(self.mean)}, H, W), got shape {tuple(x.shape)}")
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        return (x * std + mean).clamp(0.0, 1.0)


def _reachable(url: str, timeout: float = _PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds.

    Runs in a daemon thread, so a DNS lookup that hangs cannot hold the caller longer
    than ``timeout`` either.
    """
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    outcome: list[str] = []

    def probe() -> None:
        try:
            with socket.create_connection((parsed.hostname, port), timeout=timeout):
                outcome.append("")
        except OSError as err:
            outcome.append(f"{type(err).__name__}: {err}")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return False, f"no answer from {parsed.hostname} within {timeout:g} s"
    return outcome[0] == "", outcome[0]


def _cifar10(root: Path, download: bool) -> tuple[CIFAR10, CIFAR10] | str:
    """CIFAR-10's train and test sets (untransformed), or why they are unavailable."""
    from torchvision.datasets import CIFAR10

    try:  # already on disk (torchvision checks every file's MD5)?
        return CIFAR10(root, train=True), CIFAR10(root, train=False)
    except (RuntimeError, OSError) as err:
        folder = root / CIFAR10.base_folder
        if folder.exists():  # torchvision raises RuntimeError for a failed checksum
            why = (
                "corrupted or incomplete: torchvision's checksum test failed"
                if isinstance(err, RuntimeError)
                else f"{type(err).__name__}: {err}"
            )
            problem = f"CIFAR-10's files in {folder} are there but unreadable ({why})"
        else:
            problem = f"CIFAR-10 is not in {root}"
    if not download:
        return f"{problem} and download=False"
    ok, why = _reachable(CIFAR10.url)
    if not ok:
        return f"{problem} and its server cannot be reached ({why})"
    try:
        return CIFAR10(root, train=True, download=True), CIFAR10(root, train=False, download=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        return f"{problem} and its download failed ({type(err).__name__}: {err})"


class _Transformed(Dataset):
    """A dataset seen through a transform (so train and test can share the images)."""

    def __init__(self, base: Dataset, transform: Callable) -> None:
        self.base, self.transform = base, transform

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index]
        return self.transform(image), int(label)


def _count(name: str, value: int | None) -> int | None:
    """``value`` as a positive int, or None."""
    return None if value is None else integer(name, value, 1)


def _loader_settings(
    batch_size: int, test_batch_size: int | None, seed: int, num_workers: int
) -> tuple[int, int, int, int]:
    """The loader arguments, checked; ``test_batch_size`` defaults to ``2 * batch_size``."""
    batch_size = integer("batch_size", batch_size, 1)
    test_batch_size = _count("test_batch_size", test_batch_size) or 2 * batch_size
    return batch_size, test_batch_size, integer("seed", seed, 0), integer("num_workers", num_workers, 0)


def loaders(
    train_set: Dataset,
    test_set: Dataset,
    *,
    batch_size: int = 128,
    test_batch_size: int | None = None,
    seed: int = 0,
    num_workers: int = 0,
) -> tuple[DataLoader, DataLoader]:
    """The training and test loaders that :func:`load` builds, for any two datasets.

    The training loader shuffles with its own generator seeded by ``seed`` and drops the
    last incomplete batch; the test loader keeps the order, in batches of
    ``test_batch_size`` (default ``2 * batch_size``). With CUDA present, batches come in
    pinned memory (for asynchronous copies to the GPU); ``num_workers > 0`` keeps the
    worker processes alive between epochs.
    """
    batch_size, test_batch_size, seed, num_workers = _loader_settings(
        batch_size, test_batch_size, seed, num_workers
    )
    n_train, n_test = sized("train_set", train_set), sized("test_set", test_set)
    if n_train == 0:
        raise ValueError("train_set is empty: there would be nothing to train on")
    if n_train < batch_size:
        raise ValueError(
            f"batch_size={batch_size} exceeds the {n_train} training images; "
            "use a smaller batch or more training images (load's train_size)"
        )
    if n_test == 0:
        raise ValueError("test_set is empty: there would be nothing to evaluate on")
    pin = torch.cuda.is_available()
    common: dict[str, Any] = dict(
        num_workers=num_workers, pin_memory=pin, persistent_workers=num_workers > 0
    )
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=True,
                              generator=torch.Generator().manual_seed(seed), **common)  # fmt: skip
    test_loader = DataLoader(test_set, batch_size=test_batch_size, shuffle=False, **common)
    return train_loader, test_loader


def _at_most(name: str, size: int | None, available: int, split: str, fallback: bool) -> int | None:
    """``size`` if the split has that many images; else a ValueError, or (after the
    offline fallback) a warning and None (all images)."""
    if size is None or size <= available:
        return size
    if not fallback:
        raise ValueError(
            f"{name}={size} is more than the {available:,} {split} images available; "
            f"use at most {available:,}, or None for all"
        )
    warnings.warn(
        f"{name}={size} is more than the {available:,} {split} images of the offline digits "
        f"(CIFAR-10's fallback): using all {available:,}",
        UserWarning,
        stacklevel=3,
    )
    return None


def load(
    dataset: str = "cifar10",
    *,
    root: str | os.PathLike[str] | None = None,
    batch_size: int = 128,
    test_batch_size: int | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    augment: bool = True,
    cutout: int = 0,
    seed: int = 0,
    num_workers: int = 0,
    download: bool = True,
) -> Data:
    """Train and test loaders for ``"cifar10"`` (the default) or ``"digits"``.

    ``"cifar10"`` looks in :func:`data_root` ``(root)``, downloads the dataset there
    if it is missing (``download=True``), and where neither works warns
    (:class:`OfflineDataWarning`, once per session and data folder) and loads the
    offline digits instead: the result's ``name`` says which. ``train_size`` /
    ``test_size`` keep a seeded random subset (the quick profile's budget); asking for
    more images than the dataset has is a ValueError that says how many there are
    (after the offline fallback: a warning, and all the digits). The loaders come from :func:`loaders`: the training
    loader shuffles with its own generator seeded by ``seed`` and drops the last
    incomplete batch; the test loader keeps the order. Augmentation (``augment=True``):
    random crop with padding 4, plus horizontal flip for CIFAR-10 and optional
    ``cutout``; see :func:`train_transform`.
    """
    choice("dataset", dataset, ("cifar10", "digits"))
    folder = data_root(root)  # checked for the digits too, which do not use it
    batch_size, test_batch_size, seed, num_workers = _loader_settings(
        batch_size, test_batch_size, seed, num_workers
    )
    train_size, test_size = _count("train_size", train_size), _count("test_size", test_size)

    augment, download = flag("augment", augment), flag("download", download)

    name, boxes = dataset, None
    if dataset == "cifar10":
        found = _cifar10(folder, download)
        if isinstance(found, str):
            if str(folder) not in _offline_warned:
                _offline_warned.add(str(folder))
                warnings.warn(
                    f"{found}. Falling back to the offline digits dataset "
                    "(evalib.data.OfflineDigits: 1,797 handwritten digits on cluttered 32x32 "
                    "canvases): the results below are NOT CIFAR-10 results.",
                    OfflineDataWarning,
                    stacklevel=2,
                )
            name = "digits"
        else:
            train_base, test_base = found
            classes, mean, std, flip = CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, True
    if name == "digits":
        train_base, test_base = OfflineDigits("train", seed=0), OfflineDigits("test", seed=0)
        classes, mean, std, flip = DIGIT_CLASSES, train_base.mean, train_base.std, False
        boxes = test_base.boxes

    # More images than the dataset has: the caller's mistake for the dataset it named,
    # the fallback's smaller size (said in a warning, never a crash) after a fallback.
    fallback = name != dataset
    train_size = _at_most("train_size", train_size, len(train_base), "training", fallback)
    test_size = _at_most("test_size", test_size, len(test_base), "test", fallback)

    generator = torch.Generator().manual_seed(int(seed))
    if train_size is not None and train_size < len(train_base):
        keep = torch.randperm(len(train_base), generator=generator)[:train_size]
        train_base = Subset(train_base, keep.tolist())
    if test_size is not None and test_size < len(test_base):
        keep = torch.randperm(len(test_base), generator=generator)[:test_size].sort().values
        test_base = Subset(test_base, keep.tolist())
        boxes = boxes[keep] if boxes is not None else None
    # Both splits hold untransformed images; the transforms are applied on access.
    train_tf = train_transform(mean, std, flip=flip, cutout=cutout) if augment else test_transform(mean, std)
    train_loader, test_loader = loaders(
        _Transformed(train_base, train_tf), _Transformed(test_base, test_transform(mean, std)),
        batch_size=batch_size, test_batch_size=test_batch_size, seed=seed, num_workers=num_workers,
    )
    return Data(name, train_loader, test_loader, classes, tuple(mean), tuple(std), boxes)
