"""Images to train on: CIFAR-10, and an offline dataset for machines without a network.

The chapter "Training it with momentum" trains the hooked ResNet-18 on CIFAR-10
{Krizhevsky 2009}: 50,000 training and 10,000 test images, 32x32 RGB, ten classes.
:func:`load` builds the train and test loaders with the usual augmentation (random crop
with 4 pixels of padding, horizontal flip, optionally cutout) and the per-channel
normalisation ``(x - mean) / std``.

CIFAR-10 is downloaded on first use (``download=True``, as in Colab). Where it is
neither on disk nor downloadable, :func:`load` says so in one visible warning and
returns the offline digits of :mod:`evalib.book.digits` instead (1,797 handwritten digits on
cluttered 32x32 canvases, each with its box, so that a Grad-CAM heat map can be scored).
The digits can also be asked for by name: ``load("digits")``. :func:`make_digits`,
:class:`OfflineDigits` and ``DIGIT_CLASSES`` are importable from here too.

Data lives under one absolute folder, never relative to the notebook: the ``root``
argument, else the environment variable ``EVALIB_DATA``, else ``~/.cache/evalib``.
"""

from __future__ import annotations

import os
import socket
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlparse

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from evalib._checks import check_array, check_bool, check_choice, check_dataset, check_int
from evalib.book.digits import DIGIT_CLASSES, OfflineDigits, make_digits

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
# Transforms and loaders
# ----------------------------------------------------------------------------------


def _stats(
    mean: tuple[float, ...], std: tuple[float, ...]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``mean`` and ``std`` checked: 1 or 3 finite numbers each (one per channel), ``std > 0``."""
    out = []
    for name, value in (("mean", mean), ("std", std)):
        arr = check_array(name, value)
        if arr.ndim != 1 or arr.size not in (1, 3):
            raise ValueError(
                f"{name} must hold 1 or 3 numbers (one per channel), got shape {arr.shape}"
            )
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
    cutout = check_int("cutout", cutout, 0, 32)
    mean, std = _stats(mean, std)
    steps: list[Callable] = [v2.ToImage(), _CheckImage(len(mean)), v2.RandomCrop(32, padding=4)]
    if check_bool("flip", flip):
        steps.append(v2.RandomHorizontalFlip())
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    if cutout:
        area = cutout * cutout / (32 * 32)
        steps.append(v2.RandomErasing(p=1.0, scale=(area, area), ratio=(1.0, 1.0), value=0.0))
    return v2.Compose(steps)


def test_transform(mean: tuple[float, ...], std: tuple[float, ...]) -> v2.Compose:
    """Test-time transform: no augmentation, only ``x -> (x - mean) / std``."""
    mean, std = _stats(mean, std)
    return v2.Compose(
        [
            v2.ToImage(),
            _CheckImage(len(mean)),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )


class _CheckImage:
    """The transforms' first step after ``ToImage``: refuse what the next steps would get
    wrong without a word. ``ToDtype(scale=True)`` rescales integer images to [0, 1] but
    leaves float images as they are, so a float image must already lie in [0, 1];
    ``Normalize`` broadcasts one channel to three, so an image must have as many
    channels as ``mean`` has values (or ``mean`` one value)."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if self.channels > 1 and image.shape[-3] != self.channels:
            raise ValueError(
                f"the image has {image.shape[-3]} channel(s) but mean and std give "
                f"{self.channels}: convert it first (e.g. PIL's image.convert('RGB'))"
            )
        if image.is_floating_point() and (image.min() < 0 or image.max() > 1):
            raise ValueError(
                f"a float image must lie in [0, 1] (ToDtype rescales only integer images), got "
                f"values in [{float(image.min()):g}, {float(image.max()):g}]: pass uint8 "
                "pixels or divide by 255"
            )
        return image


@dataclass
class Data:
    """A dataset ready to train on: loaders, class names and the normalisation used.

    ``name`` is ``"cifar10"`` or ``"digits"`` (what was actually loaded: after a failed
    download it is ``"digits"``). ``boxes`` holds the test images' object boxes
    ``(x0, y0, x1, y1)``, for the digits only (CIFAR-10 has none: ``None``): the same
    tensor as ``test.dataset.boxes``, row ``i`` the box of ``test.dataset[i]``, so
    also in the order of ``test``'s batches (the test loader does not shuffle).
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
            raise ValueError(
                f"x must be images (..., {len(self.mean)}, H, W), got shape {tuple(x.shape)}"
            )
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


class _Source(NamedTuple):
    """What :func:`load` builds its loaders from: both splits (untransformed images), the
    class names, the normalisation, whether a mirror image keeps its class (``flip``),
    and the test images' object boxes (the digits only; None for CIFAR-10)."""

    name: str
    train: OfflineDigits | CIFAR10
    test: OfflineDigits | CIFAR10
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    flip: bool
    boxes: torch.Tensor | None


def _digits() -> _Source:
    """The offline digits' fixed split (seed 0), normalised by the training split's statistics."""
    train, test = OfflineDigits("train", seed=0), OfflineDigits("test", seed=0)
    return _Source("digits", train, test, DIGIT_CLASSES, train.mean, train.std, False, test.boxes)


class _Unavailable(Exception):
    """CIFAR-10 is neither on disk nor downloadable; the message says why."""


def _cifar10(root: Path, download: bool) -> _Source:
    """CIFAR-10 from ``root`` (downloaded there when missing and ``download``); where it
    cannot be had, the offline digits, announced by an :class:`OfflineDataWarning`
    (once per session and data folder)."""
    try:
        train, test = _cifar10_sets(root, download)
    except _Unavailable as why:
        if str(root) not in _offline_warned:
            _offline_warned.add(str(root))
            warnings.warn(
                f"{why}. Falling back to the offline digits dataset "
                "(evalib.book.data.OfflineDigits: 1,797 handwritten digits on cluttered 32x32 "
                "canvases): the results below are NOT CIFAR-10 results.",
                OfflineDataWarning,
                stacklevel=3,
            )
        return _digits()
    return _Source("cifar10", train, test, CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, True, None)


def _cifar10_sets(root: Path, download: bool) -> tuple[CIFAR10, CIFAR10]:
    """CIFAR-10's train and test sets (untransformed); :class:`_Unavailable` says why not."""
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
        raise _Unavailable(f"{problem} and download=False")
    ok, why = _reachable(CIFAR10.url)
    if not ok:
        raise _Unavailable(f"{problem} and its server cannot be reached ({why})")
    try:
        return CIFAR10(root, train=True, download=True), CIFAR10(root, train=False, download=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        raise _Unavailable(
            f"{problem} and its download failed ({type(err).__name__}: {err})"
        ) from err


class _Split(Dataset):
    """Items ``indices`` of ``base`` (all of them for None), in that order, seen through
    ``transform``, so that train and test can share the images. ``boxes`` holds each
    item's object box ``(x0, y0, x1, y1)``, given ``base``'s boxes (else None)."""

    def __init__(
        self,
        base: Dataset,
        transform: Callable,
        indices: list[int] | None = None,
        boxes: torch.Tensor | None = None,
    ) -> None:
        self.base, self.transform, self.indices = base, transform, indices
        if boxes is not None and indices is not None:
            boxes = boxes[torch.as_tensor(indices, dtype=torch.int64)]
        self.boxes = boxes

    def __len__(self) -> int:
        return len(self.base) if self.indices is None else len(self.indices)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.base[index if self.indices is None else self.indices[index]]
        return self.transform(image), int(label)


def _count(name: str, value: int | None) -> int | None:
    """``value`` as a positive int, or None."""
    return None if value is None else check_int(name, value, 1)


def _loader_settings(
    batch_size: int, test_batch_size: int | None, seed: int, num_workers: int
) -> tuple[int, int, int, int]:
    """The loader arguments, checked; ``test_batch_size`` defaults to ``2 * batch_size``."""
    batch_size = check_int("batch_size", batch_size, 1)
    test_batch_size = _count("test_batch_size", test_batch_size) or 2 * batch_size
    return (
        batch_size,
        test_batch_size,
        check_int("seed", seed, 0, 2**64 - 1),  # what torch.Generator takes
        check_int("num_workers", num_workers, 0),
    )


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
    settings = _loader_settings(batch_size, test_batch_size, seed, num_workers)
    return _loaders(train_set, test_set, *settings)


def _loaders(
    train_set: Dataset,
    test_set: Dataset,
    batch_size: int,
    test_batch_size: int,
    seed: int,
    num_workers: int,
) -> tuple[DataLoader, DataLoader]:
    """:func:`loaders` with its settings already checked (by :func:`_loader_settings`)."""
    n_train, n_test = check_dataset("train_set", train_set), check_dataset("test_set", test_set)
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
    check_choice("dataset", dataset, ("cifar10", "digits"))
    folder = data_root(root)  # checked for the digits too, which do not use it
    batch_size, test_batch_size, seed, num_workers = _loader_settings(
        batch_size, test_batch_size, seed, num_workers
    )
    train_size, test_size = _count("train_size", train_size), _count("test_size", test_size)

    augment, download = check_bool("augment", augment), check_bool("download", download)

    source = _cifar10(folder, download) if dataset == "cifar10" else _digits()

    # More images than the dataset has: the caller's mistake for the dataset it named,
    # the fallback's smaller size (said in a warning, never a crash) after a fallback.
    fallback = source.name != dataset
    train_size = _at_most("train_size", train_size, len(source.train), "training", fallback)
    test_size = _at_most("test_size", test_size, len(source.test), "test", fallback)

    generator = torch.Generator().manual_seed(int(seed))
    train_keep = test_keep = None
    if train_size is not None and train_size < len(source.train):
        train_keep = torch.randperm(len(source.train), generator=generator)[:train_size].tolist()
    if test_size is not None and test_size < len(source.test):
        test_keep = (
            torch.randperm(len(source.test), generator=generator)[:test_size].sort().values.tolist()
        )
    # Both splits hold untransformed images; the transforms are applied on access.
    mean, std = source.mean, source.std
    train_tf = (
        train_transform(mean, std, flip=source.flip, cutout=cutout)
        if augment
        else test_transform(mean, std)
    )
    train_set = _Split(source.train, train_tf, train_keep)
    test_set = _Split(source.test, test_transform(mean, std), test_keep, source.boxes)
    train_loader, test_loader = _loaders(
        train_set, test_set, batch_size, test_batch_size, seed, num_workers
    )
    return Data(
        source.name,
        train_loader,
        test_loader,
        source.classes,
        tuple(mean),
        tuple(std),
        test_set.boxes,
    )
