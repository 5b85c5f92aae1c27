"""Where code runs and how much work it does: the device and the run profile.

Every chapter asks this module, and nothing else, which device to use, how big its
experiments may be and how many CPU threads torch may use, so the same notebook runs
unchanged on a laptop CPU (``"quick"``) and on a Colab GPU (``"full"``). See the
preface, "CPU and GPU profiles".
"""

from __future__ import annotations

import os
from typing import Any, Literal

import torch

from evalib._checks import check_int

Profile = Literal["quick", "full"]
PROFILES: tuple[str, ...] = ("quick", "full")
PROFILE_ENV = "EVALIB_PROFILE"


def device() -> torch.device:
    """The fastest available device: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


_DEVICES = "'cpu', 'cuda', 'cuda:N' or 'mps' (or None: evalib.book.runtime.device())"


def checked_device(requested: Any = None) -> torch.device:
    """``requested`` as a ``torch.device`` this machine can compute on; None gives :func:`device`.

    Checked before any model moves there: moving to a device that cannot compute
    (``"meta"`` keeps shapes, not values) destroys weights. A wrong type raises a
    ``TypeError``; an unknown name, or a CUDA or MPS device this machine lacks, a
    ``ValueError`` that says which devices are allowed.
    """
    if requested is None:
        return device()
    if not isinstance(requested, (str, torch.device)):
        raise TypeError(
            f"device must be a str, a torch.device or None, got {type(requested).__name__}"
        )
    try:
        parsed = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"device {requested!r} is not a device name; use {_DEVICES}") from None
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {requested!r} cannot train or evaluate a model; use {_DEVICES}")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {requested!r}: torch finds no CUDA GPU on this machine; use 'cpu' or None"
        )
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device {requested!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
            "numbered from 0"
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device {requested!r}: Apple's MPS is not available here; use 'cpu' or None"
        )
    return parsed


def profile() -> Profile:
    """The run profile: ``"full"`` where CUDA is available, ``"quick"`` elsewhere.

    The environment variable ``EVALIB_PROFILE`` (``quick`` or ``full``) overrides the
    choice, e.g. to run the quick profile on a GPU or to force the full one on a CPU.
    """
    chosen = os.environ.get(PROFILE_ENV, "").strip().lower()
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(
                f"{PROFILE_ENV}={os.environ[PROFILE_ENV]!r} is not a profile; "
                f"use one of {', '.join(PROFILES)} or leave it unset"
            )
        return chosen  # type: ignore[return-value]
    return "full" if torch.cuda.is_available() else "quick"


def cpu_threads() -> int:
    """The number of torch CPU threads :func:`set_threads` picks: half the cores this
    process may run on, rounded down, and at least one.

    Torch's CPU kernels split work over OpenMP threads that spin while they wait for
    each other, so a thread that shares its core with another busy process stalls all
    the others. Measured on a 2-core machine (torch 2.14.1, ResNet-18 width 16, batch
    32, one forward and backward pass): 2 threads took 41 ms quiet but 203 ms next to
    one busy process (5×), and 112 ms with ``OMP_WAIT_POLICY=PASSIVE``; 1 thread took
    66 ms either way. Leaving half the cores free trades some speed on a quiet machine
    for a run time that holds when the machine is shared, as CI runners and laptops are.
    """
    return max(1, _cores() // 2)


def _cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def set_threads(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (default :func:`cpu_threads`); return it.

    Every chapter that uses torch calls it in its imports cell, so the policy holds
    however the chapter runs: Jupyter, Colab, ``pytest --nbmake`` or the book build.
    More threads than the cores this process may run on are refused (ValueError):
    they only wait for each other (a matmul ran 244× slower with 10,000 threads on 2
    cores).
    """
    if threads is None:
        threads = cpu_threads()
    else:
        threads = check_int("threads", threads, 1, _cores())
    torch.set_num_threads(threads)
    return threads


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (all devices) with ``seed``."""
    import random

    import numpy as np

    seed = check_int("seed", seed, 0, 2**64 - 1)  # torch's generators take 64 bits
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
