"""Where code runs and how much work it does: the device and the run profile.

Every chapter asks this module, and nothing else, which device to use and how big its
experiments may be, so the same notebook runs unchanged on a laptop CPU (``"quick"``)
and on a Colab GPU (``"full"``). See the preface, "CPU and GPU profiles".
"""

from __future__ import annotations

import os
from typing import Literal

import torch

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


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (all devices) with ``seed``."""
    import random

    import numpy as np

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
