"""Training and evaluation loops: the engine of "Training it with momentum".

:func:`fit` runs the classic loop (forward, loss, backward, optimizer step, scheduler
step) for a number of epochs and returns a :class:`History`; :func:`evaluate` measures
loss and accuracy on a loader. What the loop adds to the textbook version:

- one tidy progress bar per call (``tqdm.auto``: a widget in Jupyter, text elsewhere);
- any loader with ``__len__`` and ``__iter__`` (:class:`Loader`), a ``DataLoader`` or
  one that keeps the data on the GPU;
- training on the device from :func:`evalib.book.runtime.device`, evaluation on the model's
  own (the model is left where and as it was); on CUDA, mixed precision (bf16
  autocast where the GPU supports it, else fp16 with a gradient scaler), channels-last
  memory layout (CUDA only: see :func:`fit`) and non-blocking host-to-device copies;
- a non-finite loss stops training at once with the epoch and step where it happened;
- checkpoints after every epoch (model, optimizer, scheduler, history and every random
  generator), so an interrupted run resumes to exactly the result of an uninterrupted
  one on a CPU; they load with ``torch.load(weights_only=True)``, carry a SHA-256 of
  their bytes (a damaged file is refused, never loaded), are written atomically, and
  load completely or not at all;
- checks before anything changes: the device exists, the optimizer holds the model's
  parameters, the checkpoint folder is writable, a schedule is long enough for the run.

:func:`momentum_sgd` and :func:`one_cycle` build the optimizer and schedule the chapter
uses: SGD with momentum ``beta`` set by its *effective* learning rate (PyTorch's form and
the EWMA form of "SGD with momentum and Nesterov" at once), and a one-cycle learning
rate (warm-up, then annealing; after Smith and Topin 2019).
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from tqdm.auto import tqdm

from evalib._checks import (
    file_path,
    finite_real,
    flag,
    function,
    instance,
    integer,
    optional_flag,
    parameters,
    unit_interval,
)
from evalib.book import runtime

__all__ = [
    "History",
    "Loader",
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


class Loader(Protocol):
    """What :func:`fit`, :func:`evaluate` and :func:`predict` read batches from.

    A torch ``DataLoader``, or any object with ``__len__`` (batches per pass) and
    ``__iter__`` yielding ``(x, y)`` pairs of tensors: for instance a loader that keeps
    the whole data set on the GPU and shuffles it there, as airbench's does. A
    ``generator`` attribute (a ``torch.Generator``, as a ``DataLoader`` has), if there
    is one, is saved and restored with the checkpoints.
    """

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...


# ----------------------------------------------------------------------------------
# Optimizer and schedule
# ----------------------------------------------------------------------------------


def momentum_sgd(
    params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
    *,
    lr_eff: float,
    beta: float,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> torch.optim.SGD:
    """SGD with momentum ``beta`` at the *effective* learning rate ``lr_eff`` ("SGD with
    momentum and Nesterov").

    PyTorch's heavy ball ``z <- beta*z + g``, ``w <- w - alpha*z`` moves a steady
    gradient ``g`` by ``alpha*g/(1-beta)`` per step. This returns
    ``torch.optim.SGD(lr=alpha, momentum=beta)`` with ``alpha = lr_eff*(1-beta)``: the
    EWMA form ``V <- beta*V + (1-beta)*g``, ``w <- w - lr_eff*V``, whose steady step is
    ``lr_eff*g`` for every ``beta``. The two forms stay one method when a scheduler
    (:func:`one_cycle`) scales ``lr``: ``V = (1-beta)*z`` holds whatever the learning
    rates, so a schedule of ``lr`` is the same schedule of ``lr_eff``; only a schedule of
    ``beta`` would part them. A sweep over ``beta`` at one ``lr_eff`` keeps that
    step, which is how the heavy ball moves along flat directions of curvature ``lam``
    (``alpha*lam << (1 - sqrt(beta))**2``); it does not keep the rest. Along sharp
    directions the error shrinks by no better than ``sqrt(beta)`` per step, and the
    stability edge ``alpha*lam < 2 + 2*beta`` moves with ``beta`` ("Training it with
    momentum"). ``lr_eff`` and ``beta`` are keyword-only: ``lr`` means PyTorch's
    ``alpha`` everywhere else (``optimizer.param_groups[0]["lr"]``, :class:`History`'s
    ``lr``), which is not this rate. ``beta = 0`` is plain SGD; ``nesterov=True`` uses the look-ahead
    gradient (needs ``beta > 0``). ``weight_decay`` (the book's γ) adds ``weight_decay*w`` to ``g``.
    """
    lr_eff, weight_decay = finite_real("lr_eff", lr_eff), finite_real("weight_decay", weight_decay)
    if lr_eff <= 0:
        raise ValueError(f"lr_eff (the effective learning rate) must be positive, got {lr_eff}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    beta = unit_interval("beta", beta)
    nesterov = flag("nesterov", nesterov)
    params = parameters("params", params)
    if nesterov and beta == 0:
        raise ValueError("nesterov=True needs a momentum beta > 0")
    return torch.optim.SGD(
        params,
        lr=float(lr_eff) * (1.0 - float(beta)),
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

    The learning rate rises along a half-cosine from ``peak/start_div`` to the peak over
    the first ``warmup`` fraction of ``total_steps``, then anneals along a cosine to
    ``peak/(start_div*final_div)`` (PyTorch's ``OneCycleLR``; Smith and Topin warm up
    linearly). Momentum is *not* cycled (PyTorch's default
    would overwrite it), so a momentum sweep stays a momentum sweep. Step it after
    every optimizer step, as :func:`fit` does (which refuses a run longer than
    ``total_steps``). ``start_div`` and ``final_div`` must be finite and ``>= 1``: the
    warm-up starts at or below the peak and the annealing ends at or below the start.
    """
    instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    for name, value in (("start_div", start_div), ("final_div", final_div)):
        if finite_real(name, value) < 1:
            raise ValueError(
                f"{name} must be >= 1 (the learning rate is divided by it, so it stays at or "
                f"below the peak), got {value}"
            )
    total_steps = integer("total_steps", total_steps, 2)
    warmup = finite_real("warmup", warmup)
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


def _to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """Copy a tensor to ``device`` (asynchronously from pinned memory to a GPU; a copy
    to the CPU waits for its data), channels-last for 4-D tensors when asked."""
    non_blocking = device.type == "cuda"
    if channels_last and x.dim() == 4:
        return x.to(device, non_blocking=non_blocking, memory_format=torch.channels_last)
    return x.to(device, non_blocking=non_blocking)


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
    if optional_flag("channels_last", channels_last) is None:
        return device.type == "cuda"
    if channels_last and device.type != "cuda":
        raise ValueError(
            f"channels_last=True is supported on CUDA only, not on {device.type!r}: on CPUs "
            "oneDNN computes wrong or no gradients for narrow strided 1x1 convolutions in "
            "that layout (uxlfoundation/oneDNN#6035); pass channels_last=None or False"
        )
    return bool(channels_last)


def _settings(
    device: Any, channels_last: bool | None, amp: bool | None = None
) -> tuple[torch.device, bool]:
    """The checked device, memory layout (and ``amp`` flag); nothing is moved yet."""
    optional_flag("amp", amp)
    device = runtime.checked_device(device)
    return device, _use_channels_last(device, channels_last)


def _move(model: nn.Module, device: torch.device, channels_last: bool) -> None:
    # torch's stubs take memory_format only alone; Module.to accepts it beside a device.
    model.to(device, memory_format=torch.channels_last) if channels_last else model.to(device)  # type: ignore[call-overload]


def _model_device(model: nn.Module) -> torch.device:
    """Where the model lives: the device of its first parameter (or buffer); a model
    with neither runs on :func:`evalib.book.runtime.device`."""
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return runtime.device() if first is None else first.device


# ----------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------


def _check_loader(loader: Any, name: str, *, empty_ok: bool = False) -> None:
    """A :class:`Loader`: an object with ``__len__`` and ``__iter__`` (what it yields is
    checked batch by batch, by :func:`_batch`), with at least one batch."""
    if not isinstance(loader, Sized) or not isinstance(loader, Iterable):
        hint = ": wrap a Dataset in a torch DataLoader" if hasattr(loader, "__getitem__") else ""
        raise TypeError(
            f"{name} must be a torch DataLoader or another object with __len__ and __iter__ "
            f"that yields (x, y) batches, got {type(loader).__name__}{hint}"
        )
    if not empty_ok and len(loader) == 0:
        raise ValueError(
            f"{name} yields no batches (dataset smaller than batch_size with drop_last?)"
        )


def _check_model_loader(model: Any, loader: Any, name: str = "loader") -> None:
    instance("model", model, nn.Module, "a torch.nn.Module")
    _check_loader(loader, name)


def _batch(batch: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One item of a loader as ``(x, y)``, or a ``TypeError`` naming the loader."""
    if (
        isinstance(batch, (tuple, list))
        and len(batch) == 2
        and all(isinstance(t, torch.Tensor) for t in batch)
    ):
        return batch[0], batch[1]
    got = (
        f"a {type(batch).__name__} of {len(batch)}"
        if isinstance(batch, (tuple, list))
        else type(batch).__name__
    )
    raise TypeError(
        f"{name} must yield (x, y) pairs of tensors (a batch and its labels), got {got}"
    )


def _check_labels(labels: torch.Tensor, logits: torch.Tensor, where: str) -> None:
    """Class labels must lie in ``[0, classes)``: the loss would otherwise fail with an
    index error (a device-side assert on CUDA) that names neither."""
    if (
        logits.dim() != 2
        or labels.dim() != 1
        or labels.dtype == torch.bool
        or (labels.dtype.is_floating_point or labels.dtype.is_complex)
    ):
        return  # not class indices (soft labels, other targets): the loss function's business
    classes = logits.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bool(bad.any()):
        raise ValueError(
            f"label {int(labels[bad][0])} {where} is out of range for a model with {classes} "
            f"outputs: labels must lie in [0, {classes - 1}]"
        )


def predict(
    model: nn.Module,
    loader: Loader,
    *,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's logits for every batch of ``loader`` and the labels, on the CPU.

    Runs in eval mode (batch norm uses its running statistics, no dropout) without
    gradients, and puts the model back in the mode it was in. ``loader`` is any
    :class:`Loader`. ``device`` defaults to the model's own (that of its first
    parameter); another one must be one this machine has (``ValueError`` otherwise).
    ``amp`` and ``channels_last`` work as in :func:`fit`. The model itself is never
    moved: the batches run through copies of its weights placed on ``device`` in the
    asked layout (the weights themselves where nothing changes), so its parameters
    and buffers keep their device and memory format.
    """
    return _predict(model, loader, "loader", device=device, amp=amp, channels_last=channels_last)


def _predict(
    model: nn.Module, loader: Loader, name: str, *, device: Any, amp: Any, channels_last: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`predict`, naming the loader ``name`` in its errors (``"test_loader"`` in :func:`fit`)."""
    _check_model_loader(model, loader, name)
    device, channels_last = _settings(
        _model_device(model) if device is None else device, channels_last, amp
    )
    dtype = _amp_dtype(device, amp)
    weights = {
        key: _to_device(tensor, device, channels_last)
        for key, tensor in itertools.chain(model.named_parameters(), model.named_buffers())
    }
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        with torch.no_grad():
            for batch in loader:
                x, y = _batch(batch, name)
                with _autocast(device, dtype):
                    out = functional_call(model, weights, (_to_device(x, device, channels_last),))
                logits.append(out.float().cpu())
                labels.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


def evaluate(
    model: nn.Module,
    loader: Loader,
    *,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``loader``: ``(loss, fraction correct)``.

    The loss defaults to cross-entropy, averaged over images (not batches); accuracy
    is the fraction of images whose largest logit is the true class. Eval mode, no
    gradients, any :class:`Loader`, and the model's own device unless ``device`` is
    given, with the model left where and as it was: see :func:`predict`. A class label
    outside ``[0, classes)`` raises a ``ValueError`` naming it.
    """
    return _evaluate(
        model,
        loader,
        "loader",
        loss_fn=loss_fn,
        device=device,
        amp=amp,
        channels_last=channels_last,
    )


def _evaluate(
    model: nn.Module,
    loader: Loader,
    name: str,
    *,
    loss_fn: Any,
    device: Any,
    amp: Any,
    channels_last: Any,
) -> tuple[float, float]:
    """:func:`evaluate`, naming the loader ``name`` in its errors."""
    if loss_fn is not None:
        function("loss_fn", loss_fn)
    logits, labels = _predict(
        model, loader, name, device=device, amp=amp, channels_last=channels_last
    )
    _check_labels(labels, logits, f"in the {name}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    loss = float(loss_fn(logits, labels))
    accuracy = float((logits.argmax(dim=1) == labels).float().mean())
    return loss, accuracy


# ----------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------


def _rng_state(loader: Loader | None) -> dict[str, Any]:
    """Every random generator the loop touches, as tensors and plain Python values."""
    # The legacy global generator is always MT19937: its state is the 5-tuple.
    state_tuple = cast(tuple[str, np.ndarray, int, int, float], np.random.get_state())
    _, keys, pos, has_gauss, cached = state_tuple
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": None,
    }
    generator = getattr(loader, "generator", None)
    if generator is not None:
        state["loader"] = generator.get_state()
    return state


def _set_rng_state(state: dict[str, Any], loader: Loader | None) -> None:
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


_SEAL = b"evalib-sha256:"  # then 64 hex digits: the last bytes of every checkpoint
_KEYS = {"epoch", "model", "optimizer", "scheduler", "history", "rng"}


def _sealed(payload: dict[str, Any]) -> bytes:
    """``torch.save``'s bytes with a SHA-256 of every byte before it as the zip comment.

    The file stays a valid zip (``torch.load`` reads it as it is), and a change to any
    byte, even one that ``torch.load`` would not notice, no longer matches the digest.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    # The zip's end record (22 bytes) ends with the comment's length: 0 from torch.save.
    if data[-22:-18] != b"PK\x05\x06" or data[-2:] != b"\0\0":
        raise RuntimeError("torch.save wrote no plain zip end record; cannot seal the checkpoint")
    body = data[:-2] + (len(_SEAL) + 64).to_bytes(2, "little") + _SEAL
    return body + hashlib.sha256(body).hexdigest().encode()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file of its own next to ``path``, flush it to the
    disk, then rename it over ``path``: readers see the old file or the new one, never
    a part of one, two writers never share a temporary, and a failure leaves none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_writable(path: Path) -> None:
    """Fail before training, not after its first epoch, if ``path`` cannot be written."""
    if path.is_dir():
        raise ValueError(
            f"checkpoint path {path} is a folder; give a file path, e.g. {path / 'run.pt'}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as err:
        raise ValueError(
            f"checkpoint {path} cannot be written ({err.strerror or err}); choose a writable folder"
        ) from err


def _check_scheduler(scheduler: Any) -> None:
    """A torch learning-rate scheduler or None, or a TypeError naming ``scheduler``."""
    instance(
        "scheduler",
        scheduler,
        torch.optim.lr_scheduler.LRScheduler,
        "a torch LRScheduler",
        optional=True,
    )


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    epoch: int,
    history: History,
    train_loader: Loader | None = None,
) -> Path:
    """Save everything needed to resume after ``epoch`` (counted from 1) to ``path``.

    The file holds the model, optimizer and scheduler state dicts, the epoch, the
    history and the random generators' states (torch, CUDA, NumPy, Python, and the
    training loader's shuffling generator, if it has one: see :class:`Loader`). It is
    a ``torch.save`` zip whose comment holds a SHA-256 of the bytes before it, which
    :func:`load_checkpoint` checks. It is written to a temporary file of its own in the
    same folder, flushed to the disk and renamed over ``path``, so an interruption (or
    a second writer of the same path) never leaves a half-written checkpoint or a stray
    temporary file.
    """
    path = file_path("path", path)
    instance("model", model, nn.Module, "a torch.nn.Module")
    instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    _check_scheduler(scheduler)
    epoch = integer("epoch", epoch, 0)
    instance("history", history, History, "an evalib.train.History")
    if train_loader is not None:
        _check_loader(train_loader, "train_loader", empty_ok=True)
    _check_writable(path)
    payload = {
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.as_dict(),
        "rng": _rng_state(train_loader),
    }
    _write_atomically(path, _sealed(payload))
    return path


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """The payload of a :func:`save_checkpoint` file whose SHA-256 matches, or a
    ``ValueError`` naming the file."""
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    data = path.read_bytes()
    body, digest = data[:-64], data[-64:]
    if not body.endswith(_SEAL):
        raise ValueError(
            f"{path} is not a complete evalib checkpoint (it is empty, cut short, or another "
            "kind of file): it lacks the SHA-256 that save_checkpoint writes at its end; not loaded"
        )
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise ValueError(
            f"{path} is damaged: its bytes no longer match the SHA-256 stored when it was "
            "written; not loaded"
        )
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        lines = str(err).splitlines() or [""]
        reason = next(
            (line.strip() for line in lines if "WeightsUnpickler error" in line), lines[0]
        )
        raise ValueError(
            f"{path} passed its checksum but is no checkpoint torch can load safely "
            f"({type(err).__name__}: {reason}); not loaded: do not retry with "
            "weights_only=False, which would run whatever code the file holds"
        ) from err
    if not isinstance(payload, dict) or not _KEYS <= payload.keys():
        raise ValueError(f"{path} does not hold what save_checkpoint writes; not loaded")
    return payload


def _differences(here: dict[str, Any], saved: dict[str, Any], keys: set[str]) -> list[str]:
    """``"key <here> here, <saved> in the checkpoint"`` for each of ``keys`` that differs."""

    def plain(value: Any) -> Any:
        return value.tolist() if isinstance(value, torch.Tensor) else value

    def show(value: Any) -> str:
        return f"{value:.6g}" if isinstance(value, float) else repr(value)

    return [
        f"{key} {show(plain(here[key]))} here, {show(plain(saved[key]))} in the checkpoint"
        for key in sorted(keys & here.keys() & saved.keys())
        if plain(here[key]) != plain(saved[key])
    ]


def _check_fits(
    payload: dict[str, Any],
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
) -> None:
    """Refuse, before anything is loaded, a checkpoint that does not fit these objects."""
    _check_model_fits(payload["model"], path, model)
    saved = payload["scheduler"]
    if scheduler is not None and saved is None:
        raise ValueError(f"{path} was saved without a scheduler; pass scheduler=None")
    if optimizer is not None and scheduler is None and saved is not None:
        raise ValueError(
            f"{path} was saved with a scheduler; pass it too, so the learning rate continues its schedule"
        )
    changed: list[str] = []
    if scheduler is not None:
        own = scheduler.state_dict()
        if set(saved) != set(own):
            raise ValueError(
                f"{path} holds the state of another kind of scheduler than "
                f"{type(scheduler).__name__}; nothing was loaded"
            )
        # Its public settings (total_steps, ...), not its progress (last_epoch, _step_count).
        changed += _differences(
            own, saved, {k for k in own if not k.startswith("_")} - {"last_epoch"}
        )
    if optimizer is not None:
        groups, saved_groups = optimizer.param_groups, payload["optimizer"]["param_groups"]
        sizes, saved_sizes = ([len(g["params"]) for g in gs] for gs in (groups, saved_groups))
        if sizes != saved_sizes:
            raise ValueError(
                f"{path} holds an optimizer over other parameters (groups of {saved_sizes} "
                f"tensors there, {sizes} here); nothing was loaded"
            )
        # With a scheduler, its saved state decides the learning rate.
        skip = {"params", "lr"} if scheduler is not None else {"params"}
        for group, saved_group in zip(groups, saved_groups):
            changed += _differences(group, saved_group, group.keys() - skip)
    _refuse_changes(changed, path)


def _check_model_fits(saved: dict[str, Any], path: Path, model: nn.Module) -> None:
    """The same parameter and buffer names, each of the same shape."""
    own = model.state_dict()
    if own.keys() != saved.keys():
        names = sorted(own.keys() ^ saved.keys())
        raise ValueError(
            f"{path} holds another model (it differs in {names[:3]}); nothing was loaded"
        )
    for name, tensor in own.items():
        shape = getattr(saved[name], "shape", None)
        if shape != tensor.shape:
            raise ValueError(
                f"{path} holds a model of another shape: {name} is {tuple(shape or ())} there "
                f"and {tuple(tensor.shape)} here; nothing was loaded"
            )


def _refuse_changes(changed: list[str], path: Path) -> None:
    """A resume continues the saved run with its own settings: one that differs here is
    refused rather than silently replaced by the checkpoint's."""
    if changed:
        raise ValueError(
            f"the optimizer or scheduler is set up differently from the run saved in {path}: "
            f"{'; '.join(changed)}. Loading continues that run with its own settings: build "
            "them as they were built then (and change a setting in optimizer.param_groups "
            "after loading, if you mean to); nothing was loaded"
        )


def _load_all_or_nothing(
    payload: dict[str, Any],
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    train_loader: Loader | None,
    restore_rng: bool,
) -> None:
    """Load every part, or put back what was there when one part fails."""

    def load(model_state, optimizer_state, scheduler_state, rng) -> None:
        model.load_state_dict(model_state)
        if optimizer is not None:
            optimizer.load_state_dict(optimizer_state)
        if scheduler is not None:
            scheduler.load_state_dict(scheduler_state)
        if restore_rng:
            _set_rng_state(rng, train_loader)

    before = copy.deepcopy((
        model.state_dict(),
        optimizer.state_dict() if optimizer is not None else None,
        scheduler.state_dict() if scheduler is not None else None,
    )) + (_rng_state(train_loader),)  # fmt: skip
    try:
        load(payload["model"], payload["optimizer"], payload["scheduler"], payload["rng"])
    except Exception as err:
        load(*before)
        raise ValueError(
            f"{path} could not be loaded into these objects ({type(err).__name__}: {err}); "
            "nothing was changed"
        ) from err


def load_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    train_loader: Loader | None = None,
    *,
    restore_rng: bool = True,
) -> tuple[int, History]:
    """Load a :func:`save_checkpoint` file into the given objects; return ``(epoch, history)``.

    The file's SHA-256 is checked first: a damaged, cut-short or foreign file raises a
    ``ValueError`` naming it, and nothing is loaded. Then ``torch.load(weights_only=True)``
    reads it: only tensors and plain containers are unpickled, never arbitrary code.
    Before anything is loaded, the checkpoint must fit: the same parameter names and
    shapes, the same kind of scheduler (a checkpoint saved with one needs one when an
    optimizer is given), and an optimizer over as many tensors with the same settings
    (momentum, weight decay, ...; ``lr`` too when there is no scheduler): the saved
    run continues with its own settings, so a differing one is refused, not silently
    replaced. Then everything is loaded, or, if a part fails, nothing: the objects are
    put back as they were. ``restore_rng`` also puts the random generators back where
    they were, which a resumed run needs to match an uninterrupted one.
    """
    path = file_path("path", path)
    instance("model", model, nn.Module, "a torch.nn.Module")
    instance(
        "optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer", optional=True
    )
    _check_scheduler(scheduler)
    if train_loader is not None:
        _check_loader(train_loader, "train_loader", empty_ok=True)
    restore_rng = flag("restore_rng", restore_rng)
    payload = _read_checkpoint(path)
    _check_fits(payload, path, model, optimizer, scheduler)
    history = History(**payload["history"])
    _load_all_or_nothing(payload, path, model, optimizer, scheduler, train_loader, restore_rng)
    return int(payload["epoch"]), history


# ----------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------


def _check_owns(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """An optimizer over another model's parameters would train nothing, silently."""
    own = {id(p) for p in model.parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    foreign = sum(id(p) not in own for p in held)
    if foreign:
        raise ValueError(
            f"the optimizer holds {foreign} of its {len(held)} tensors that are not parameters of "
            "the model, which training would never change; build it from this model's "
            "parameters, e.g. momentum_sgd(model.parameters(), ...)"
        )


def _check_schedule_length(
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    payload: dict[str, Any] | None,
    steps: int,
) -> None:
    """A schedule of known length (one-cycle's ``total_steps``) must cover the ``steps``
    still to take: it would otherwise fail in the middle of training. The steps already
    taken are the scheduler's own, or those of the checkpoint ``payload`` it resumes."""
    total = getattr(scheduler, "total_steps", None)
    if scheduler is None or not isinstance(total, int):
        return
    done = payload["scheduler"]["last_epoch"] if payload is not None else scheduler.last_epoch
    if done + steps > total:
        raise ValueError(
            f"the scheduler has {total} steps ({done} already taken), but this run takes {steps} "
            "more (epochs × len(train_loader)); build it with total_steps=epochs * len(train_loader)"
        )


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    scaler: torch.amp.GradScaler,
    loader: Loader,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    history: History,
    bar: tqdm,
    *,
    epoch: int,
    device: torch.device,
    dtype: torch.dtype | None,
    channels_last: bool,
) -> tuple[float, float]:
    """One pass over ``loader``, one optimizer step per batch; return the epoch's
    training loss (mean over images) and accuracy. Each step appends its learning rate
    and loss to ``history``; a non-finite loss raises ``FloatingPointError``."""
    loss_sum, correct, seen = 0.0, 0, 0
    for step, batch in enumerate(loader, start=1):
        images, labels = _batch(batch, "train_loader")
        x, y = _to_device(images, device, channels_last), _to_device(labels, device, False)
        with _autocast(device, dtype):
            out = model(x)
            _check_labels(labels, out, f"in epoch {epoch}, step {step}")
            loss = loss_fn(out, y)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"the training loss became {value} at epoch {epoch}, step {step} of "
                f"{len(loader)}; lower the learning rate or check the data"
            )
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        history.step_loss.append(value)
        loss_sum += value * len(y)
        correct += int((out.argmax(dim=1) == y).sum())
        seen += len(y)
        bar.update(1)
    return loss_sum / seen, correct / seen


def _check_fit_args(
    model: Any, optimizer: Any, train_loader: Any, test_loader: Any, epochs: Any, scheduler: Any,
    *, loss_fn: Any, device: Any, amp: Any, channels_last: Any, checkpoint: Any, resume: Any,
    progress: Any, desc: Any,
) -> tuple[Path | None, int, torch.device, bool]:  # fmt: skip
    """:func:`fit`'s checks of its arguments, before anything changes; return the
    checkpoint path (or None), the number of epochs, the device and the memory layout."""
    _check_model_loader(model, train_loader, "train_loader")
    instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    epochs = integer("epochs", epochs, 1)
    _check_scheduler(scheduler)
    if loss_fn is not None:
        function("loss_fn", loss_fn)
    flag("resume", resume)
    flag("progress", progress)
    instance("desc", desc, str, "a str")
    path = file_path("checkpoint", checkpoint) if checkpoint is not None else None
    if resume and path is None:
        raise ValueError("resume=True needs a checkpoint path")
    if test_loader is not None:
        _check_model_loader(model, test_loader, "test_loader")
    _check_owns(model, optimizer)
    device, channels_last = _settings(device, channels_last, amp)
    if path is not None:
        _check_writable(path)
    return path, epochs, device, channels_last


def _resume(
    path: Path | None,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    epochs: int,
) -> tuple[dict[str, Any] | None, int]:
    """Where :func:`fit` starts: the checkpoint at ``path`` (``None`` when not resuming),
    checked to fit these objects but not yet loaded, and the epoch it continues after;
    ``(None, 0)`` for a new run.

    ``resume=True`` without a checkpoint starts a new run too: it refuses objects that
    have trained already (a run stopped before its first checkpoint), which would carry
    on from part-trained weights and a schedule already under way.
    """
    if path is None:
        return None, 0
    if path.is_file():
        payload = _read_checkpoint(path)
        _check_fits(payload, path, model, optimizer, scheduler)
        start = int(payload["epoch"])
        if start >= epochs:
            raise ValueError(
                f"the checkpoint is already at epoch {start} of the {epochs} asked for"
            )
        return payload, start
    if scheduler is not None and scheduler.last_epoch > 0:
        used = f"the scheduler has already stepped {scheduler.last_epoch} times"
    elif optimizer.state:
        used = "the optimizer already holds state (momentum buffers) from earlier steps"
    else:
        return None, 0
    raise ValueError(
        f"resume=True found no checkpoint at {path}, so this is a new run, but {used}: the "
        "previous run stopped before its first checkpoint. Start again with a new model, "
        "optimizer and scheduler, or pass resume=False to keep training these as they are"
    )


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Loader,
    test_loader: Loader | None = None,
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

    Each step: ``loss = loss_fn(model(x), y)``, ``scaler.scale(loss).backward()``,
    ``scaler.step(optimizer)``, ``scaler.update()``, then ``scheduler.step()`` (per
    batch, as one-cycle needs); the gradient scaler acts only under fp16 autocast (see
    ``amp``), and is otherwise plain ``loss.backward()``, ``optimizer.step()``. After
    each epoch the model is evaluated on ``test_loader`` (if given) and, with
    ``checkpoint`` set, saved there (see :func:`save_checkpoint`). Both loaders may be
    any :class:`Loader`, a ``DataLoader`` or, say, one that keeps the data on the GPU.

    ``resume=True`` continues the run saved at ``checkpoint``, after its epoch, with
    its history, random state and optimizer settings (:func:`load_checkpoint` refuses
    objects set up differently, and loads all or nothing). Where no checkpoint exists
    yet, it starts a new run, which needs new objects: a scheduler that has already
    stepped or an optimizer that holds state (momentum buffers) means a run stopped
    before its first checkpoint, and is refused rather than carried on from
    part-trained weights. (Plain SGD without momentum and a schedule keeps no state,
    so such a run cannot be told apart: pass new objects.)

    ``loss_fn`` defaults to cross-entropy. ``device`` defaults to
    :func:`evalib.book.runtime.device`; the model is moved there and stays there. ``amp``
    (default: on for CUDA) runs the forward pass under autocast, bf16 where supported,
    else fp16 with gradient scaling; it is ignored off CUDA. ``channels_last``
    (default: on for CUDA) stores images and weights channels-last, faster for
    convolutions on a GPU (see ``benchmarks/train_throughput.py``); it is refused on a
    CPU, where oneDNN gets narrow strided convolutions wrong in that layout
    (uxlfoundation/oneDNN#6035).

    Checked before the model is touched (``ValueError``): a device this machine has,
    an optimizer over the model's own parameters, a writable checkpoint path, and a
    schedule of known length (one-cycle's ``total_steps``) that covers
    ``epochs × len(train_loader)`` steps. A class label outside ``[0, classes)`` raises
    a ``ValueError`` naming it. A NaN or infinite loss raises ``FloatingPointError``
    naming the epoch and step. Any error during training (that one, Ctrl-C's
    ``KeyboardInterrupt``, a failed checkpoint write) carries the history of the steps
    done so far as its ``history`` attribute: ``err.history.step_loss``.
    """
    path, epochs, device, channels_last = _check_fit_args(
        model, optimizer, train_loader, test_loader, epochs, scheduler, loss_fn=loss_fn,
        device=device, amp=amp, channels_last=channels_last, checkpoint=checkpoint,
        resume=resume, progress=progress, desc=desc,
    )  # fmt: skip
    payload, start = _resume(path if resume else None, model, optimizer, scheduler, epochs)
    steps = len(train_loader)
    _check_schedule_length(scheduler, payload, (epochs - start) * steps)

    # Every check passed: from here on the model changes.
    _move(model, device, channels_last)
    dtype = _amp_dtype(device, amp)
    # fp16 gradients underflow without loss scaling; a disabled scaler passes the loss
    # and the optimizer step through unchanged (fp32, bf16).
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history = History()
    if payload is not None and path is not None:  # resume: load the checked checkpoint
        history = History(**payload["history"])
        _load_all_or_nothing(payload, path, model, optimizer, scheduler, train_loader, True)
    clock = time.perf_counter() - (history.seconds[-1] if history.seconds else 0.0)
    bar = tqdm(total=epochs * steps, initial=start * steps, desc=desc, disable=not progress,
               unit="step", dynamic_ncols=True)  # fmt: skip
    model.train()
    try:
        for epoch in range(start + 1, epochs + 1):
            train_loss, train_acc = _train_epoch(
                model, optimizer, scheduler, scaler, train_loader, loss_fn, history, bar,
                epoch=epoch, device=device, dtype=dtype, channels_last=channels_last,
            )  # fmt: skip
            test_loss, test_acc = (math.nan, math.nan) if test_loader is None else _evaluate(
                model, test_loader, "test_loader",
                loss_fn=loss_fn, device=device, amp=amp, channels_last=channels_last,
            )  # fmt: skip
            history.epoch.append(epoch)
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            history.seconds.append(time.perf_counter() - clock)
            bar.set_postfix(epoch=epoch, loss=f"{train_loss:.3f}", test_acc=f"{test_acc:.3f}")
            if path is not None:
                save_checkpoint(path, model, optimizer, scheduler, epoch, history, train_loader)
    except BaseException as err:
        # The steps done are not lost with the run (see the docstring); an exception's
        # attributes live in its __dict__, which typing does not know of.
        vars(err)["history"] = history
        raise
    finally:
        bar.close()
    return history
