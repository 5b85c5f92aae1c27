"""Training and evaluation loops: the engine of "Training it with momentum".

:func:`fit` runs the classic loop (forward, loss, backward, optimizer step, scheduler
step) for a number of epochs and returns a :class:`History`; :func:`evaluate` measures
loss and accuracy on a loader. What the loop adds to the textbook version:

- one tidy progress bar per call (``tqdm.auto``: a widget in Jupyter, text elsewhere);
- the device from :func:`evalib.runtime.device`; on CUDA, mixed precision (bf16
  autocast where the GPU supports it, else fp16 with a gradient scaler), channels-last
  memory layout (CUDA only: see :func:`fit`) and non-blocking host-to-device copies;
- a non-finite loss stops training at once with the epoch and step where it happened;
- checkpoints after every epoch (model, optimizer, scheduler, history and every random
  generator), so an interrupted run resumes to exactly the result of an uninterrupted
  one on a CPU; they load with ``torch.load(weights_only=True)``.

:func:`momentum_sgd` and :func:`one_cycle` build the optimizer and schedule the chapter
uses: SGD with momentum ``beta`` at a fixed *effective* learning rate (chapter 4's EWMA
form), and a one-cycle learning rate (warm-up, then annealing; Smith and Topin 2019).
"""

from __future__ import annotations

import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from evalib import runtime

__all__ = [
    "History",
    "evaluate",
    "fit",
    "load_checkpoint",
    "momentum_sgd",
    "one_cycle",
    "predict",
    "save_checkpoint",
]


@dataclass
class History:
    """What :func:`fit` measured. Per-epoch lists are indexed like ``epoch``.

    ``train_loss`` / ``train_acc`` average over the epoch's batches, as the weights
    changed during the epoch; ``test_loss`` / ``test_acc`` are measured after it
    (NaN when no test loader was given). ``seconds`` is the wall time since the start
    of training at the end of each epoch (evaluation included). ``lr`` and
    ``step_loss`` have one entry per optimizer step: the learning rate used for the
    step and the loss of its batch.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        """The history as a plain dict of lists (what a checkpoint stores)."""
        return asdict(self)


# ----------------------------------------------------------------------------------
# Optimizer and schedule
# ----------------------------------------------------------------------------------


def momentum_sgd(
    params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> torch.optim.SGD:
    """SGD with momentum ``beta`` at the *effective* learning rate ``lr`` (chapter 4).

    PyTorch's heavy ball ``v <- beta*v + g``, ``w <- w - alpha*v`` moves a steady
    gradient ``g`` by ``alpha*g/(1-beta)`` per step. This returns
    ``torch.optim.SGD(lr=alpha, momentum=beta)`` with ``alpha = lr*(1-beta)``: the EWMA
    form ``V <- beta*V + (1-beta)*g``, ``w <- w - lr*V``, whose steady step is
    ``lr*g`` for every ``beta``, so a sweep over ``beta`` changes the averaging and
    nothing else. ``beta = 0`` is plain SGD; ``nesterov=True`` uses the look-ahead
    gradient (needs ``beta > 0``). ``weight_decay`` adds ``weight_decay*w`` to ``g``.
    """
    for name, value in (("lr", lr), ("weight_decay", weight_decay)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise TypeError(f"{name} must be a finite real number, got {value!r}")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if isinstance(beta, bool) or not isinstance(beta, Real) or not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be a real number with 0 <= beta < 1, got {beta!r}")
    if nesterov and beta == 0:
        raise ValueError("nesterov=True needs a momentum beta > 0")
    return torch.optim.SGD(
        params,
        lr=float(lr) * (1.0 - float(beta)),
        momentum=float(beta),
        nesterov=bool(nesterov),
        weight_decay=float(weight_decay),
    )


def one_cycle(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    *,
    warmup: float = 0.25,
    start_div: float = 25.0,
    final_div: float = 1e4,
) -> torch.optim.lr_scheduler.OneCycleLR:
    """A one-cycle schedule (Smith and Topin 2019) that peaks at the optimizer's lr.

    The learning rate rises from ``peak/start_div`` to the peak over the first
    ``warmup`` fraction of ``total_steps``, then anneals (cosine) to
    ``peak/(start_div*final_div)``. Momentum is *not* cycled (PyTorch's default
    would overwrite it), so a momentum sweep stays a momentum sweep. Step it after
    every optimizer step, as :func:`fit` does.
    """
    if isinstance(total_steps, bool) or not isinstance(total_steps, Integral) or total_steps < 2:
        raise ValueError(f"total_steps must be an int >= 2, got {total_steps!r}")
    if not 0.0 < warmup < 1.0:
        raise ValueError(f"warmup must be a fraction in (0, 1), got {warmup!r}")
    if warmup * total_steps <= 1 or (1 - warmup) * total_steps <= 1:
        raise ValueError(
            f"warmup={warmup} of {total_steps} steps leaves a phase of one step or less; "
            "train for more steps or move warmup towards 0.5"
        )
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=[group["lr"] for group in optimizer.param_groups],
        total_steps=int(total_steps),
        pct_start=float(warmup),
        div_factor=float(start_div),
        final_div_factor=float(final_div),
        cycle_momentum=False,
    )


# ----------------------------------------------------------------------------------
# Devices, precision, memory layout
# ----------------------------------------------------------------------------------


def _amp_dtype(device: torch.device, amp: bool | None) -> torch.dtype | None:
    """The autocast dtype: None (fp32) off CUDA or when ``amp`` is False; bf16 where the
    GPU computes it natively, else fp16 (which needs a gradient scaler)."""
    if device.type != "cuda" or amp is False:
        return None
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.bfloat16
    return torch.float16


def _to_device(
    x: torch.Tensor, device: torch.device, channels_last: bool
) -> torch.Tensor:
    """Copy a batch to ``device`` (asynchronously from pinned memory), channels-last
    for 4-D image batches when asked."""
    if channels_last and x.dim() == 4:
        return x.to(device, non_blocking=True, memory_format=torch.channels_last)
    return x.to(device, non_blocking=True)


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()


def _use_channels_last(device: torch.device, channels_last: bool | None) -> bool:
    """Channels-last memory layout on CUDA only (the default there), never on a CPU.

    On CPUs, oneDNN's backward-weights pass of a 1×1 stride-2 convolution in NHWC with
    fewer input channels than its vector block (8 on AVX2, 16 on AVX-512) hangs,
    crashes, or returns wrong weight gradients without an error
    (uxlfoundation/oneDNN#6035). The narrow ResNet-18s of the quick profile have
    exactly such shortcut convolutions, so the layout is refused there rather than
    risked; ``tests/test_train_reference.py`` checks the CPU step against float64.
    """
    if channels_last is None:
        return device.type == "cuda"
    if channels_last and device.type != "cuda":
        raise ValueError(
            f"channels_last=True is supported on CUDA only, not on {device.type!r}: on CPUs "
            "oneDNN computes wrong or no gradients for narrow strided 1x1 convolutions in "
            "that layout (uxlfoundation/oneDNN#6035); pass channels_last=None or False"
        )
    return bool(channels_last)


def _resolve(model: nn.Module, device: torch.device | str | None, channels_last: bool | None):
    device = torch.device(device) if device is not None else runtime.device()
    channels_last = _use_channels_last(device, channels_last)
    model.to(device, memory_format=torch.channels_last) if channels_last else model.to(device)
    return device, channels_last


# ----------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------


def _check_model_loader(model: Any, loader: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(loader, DataLoader):
        raise TypeError(f"loader must be a torch DataLoader, got {type(loader).__name__}")
    if len(loader) == 0:
        raise ValueError("loader yields no batches (dataset smaller than batch_size with drop_last?)")


def predict(
    model: nn.Module,
    loader: DataLoader,
    *,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's logits for every batch of ``loader`` and the labels, on the CPU.

    Runs in eval mode (batch norm uses its running statistics, no dropout) without
    gradients, and puts the model back in the mode it was in.
    """
    _check_model_loader(model, loader)
    device, channels_last = _resolve(model, device, channels_last)
    dtype = _amp_dtype(device, amp)
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        with torch.no_grad():
            for x, y in loader:
                with _autocast(device, dtype):
                    out = model(_to_device(x, device, channels_last))
                logits.append(out.float().cpu())
                labels.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


def evaluate(
    model: nn.Module,
    loader: DataLoader,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader``: ``(loss, fraction correct)``.

    The loss defaults to cross-entropy, averaged over images (not batches); accuracy
    is the fraction of images whose largest logit is the true class. Eval mode and no
    gradients, as in :func:`predict`.
    """
    logits, labels = predict(model, loader, device=device, amp=amp, channels_last=channels_last)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    loss = float(loss_fn(logits, labels))
    accuracy = float((logits.argmax(dim=1) == labels).float().mean())
    return loss, accuracy


# ----------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------


def _rng_state(loader: DataLoader | None) -> dict[str, Any]:
    """Every random generator the loop touches, as tensors and plain Python values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},  # fmt: skip
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": None,
    }
    generator = getattr(loader, "generator", None)
    if generator is not None:
        state["loader"] = generator.get_state()
    return state


def _set_rng_state(state: dict[str, Any], loader: DataLoader | None) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    generator = getattr(loader, "generator", None)
    if state["loader"] is not None and generator is not None:
        generator.set_state(state["loader"])


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    epoch: int,
    history: History,
    train_loader: DataLoader | None = None,
) -> Path:
    """Save everything needed to resume after ``epoch`` (counted from 1) to ``path``.

    The file holds the model, optimizer and scheduler state dicts, the epoch, the
    history and the random generators' states (torch, CUDA, NumPy, Python, and the
    training loader's shuffling generator). It is written to a temporary file first
    and then renamed, so an interruption never leaves a half-written checkpoint.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.as_dict(),
        "rng": _rng_state(train_loader),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    train_loader: DataLoader | None = None,
    *,
    restore_rng: bool = True,
) -> tuple[int, History]:
    """Load a :func:`save_checkpoint` file into the given objects; return ``(epoch, history)``.

    Uses ``torch.load(weights_only=True)``: only tensors and plain containers are
    unpickled, never arbitrary code. ``restore_rng`` also puts the random generators
    back where they were, which a resumed run needs to match an uninterrupted one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(payload["model"])
    if optimizer is not None:
        optimizer.load_state_dict(payload["optimizer"])
    if scheduler is not None:
        if payload["scheduler"] is None:
            raise ValueError(f"{path} was saved without a scheduler; pass scheduler=None")
        scheduler.load_state_dict(payload["scheduler"])
    if restore_rng:
        _set_rng_state(payload["rng"], train_loader)
    return int(payload["epoch"]), History(**payload["history"])


# ----------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: DataLoader,
    test_loader: DataLoader | None = None,
    epochs: int = 1,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` for ``epochs`` epochs; return the :class:`History`.

    Each step: ``loss = loss_fn(model(x), y)``, ``loss.backward()``,
    ``optimizer.step()``, then ``scheduler.step()`` (per batch, as one-cycle needs).
    After each epoch the model is evaluated on ``test_loader`` (if given) and, with
    ``checkpoint`` set, saved there. ``resume=True`` continues from that checkpoint
    when it exists (after its epoch, with its history and random state) and starts
    afresh otherwise.

    ``loss_fn`` defaults to cross-entropy. ``device`` defaults to
    :func:`evalib.runtime.device`. ``amp`` (default: on for CUDA) runs the forward
    pass under autocast, bf16 where supported, else fp16 with gradient scaling; it is
    ignored off CUDA. ``channels_last`` (default: on for CUDA) stores images and
    weights channels-last, faster for convolutions on a GPU (see
    ``benchmarks/train_throughput.py``); it is refused on a CPU, where oneDNN gets
    narrow strided convolutions wrong in that layout (uxlfoundation/oneDNN#6035). A NaN or infinite loss raises
    ``FloatingPointError`` naming the epoch and step.
    """
    _check_model_loader(model, train_loader)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    if test_loader is not None:
        _check_model_loader(model, test_loader)
    device, channels_last = _resolve(model, device, channels_last)
    dtype = _amp_dtype(device, amp)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    history, start = History(), 0
    if resume and Path(checkpoint).is_file():  # type: ignore[arg-type]
        start, history = load_checkpoint(checkpoint, model, optimizer, scheduler, train_loader)  # type: ignore[arg-type]
        if start >= epochs:
            raise ValueError(f"the checkpoint is already at epoch {start} of the {epochs} asked for")
    steps = len(train_loader)
    clock = time.perf_counter() - (history.seconds[-1] if history.seconds else 0.0)
    bar = tqdm(total=epochs * steps, initial=start * steps, desc=desc, disable=not progress,
               unit="step", dynamic_ncols=True)  # fmt: skip
    model.train()
    try:
        for epoch in range(start + 1, epochs + 1):
            loss_sum, correct, seen = 0.0, 0, 0
            for step, (x, y) in enumerate(train_loader, start=1):
                x, y = _to_device(x, device, channels_last), y.to(device, non_blocking=True)
                with _autocast(device, dtype):
                    out = model(x)
                    loss = loss_fn(out, y)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"the training loss became {value} at epoch {epoch}, step {step} of "
                        f"{steps}; lower the learning rate or check the data"
                    )
                history.lr.append(float(optimizer.param_groups[0]["lr"]))
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                history.step_loss.append(value)
                loss_sum += value * len(y)
                correct += int((out.argmax(dim=1) == y).sum())
                seen += len(y)
                bar.update(1)
            test_loss, test_acc = (
                evaluate(model, test_loader, loss_fn=loss_fn, device=device, amp=amp,
                         channels_last=channels_last)  # fmt: skip
                if test_loader is not None
                else (math.nan, math.nan)
            )
            history.epoch.append(epoch)
            history.train_loss.append(loss_sum / seen)
            history.train_acc.append(correct / seen)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            history.seconds.append(time.perf_counter() - clock)
            bar.set_postfix(epoch=epoch, loss=f"{loss_sum / seen:.3f}", test_acc=f"{test_acc:.3f}")
            if checkpoint is not None:
                save_checkpoint(checkpoint, model, optimizer, scheduler, epoch, history, train_loader)
    finally:
        bar.close()
    return history
