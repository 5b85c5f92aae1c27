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
- a batch of non-finite images or a non-finite loss stops training at once with the
  epoch and step where it happened, the history kept on the error;
- checkpoints after every epoch, from which an interrupted run resumes exactly
  (:mod:`evalib.book.checkpointing`, the book's machinery for Colab's short sessions);
- checks before anything changes: the device exists, the optimizer holds the model's
  parameters, some of them train, the checkpoint path is writable, a schedule is long
  enough for the run.

:func:`momentum_sgd` and :func:`one_cycle` build the optimizer and schedule the chapter
uses: SGD with momentum ``beta`` set by its *effective* learning rate (PyTorch's form and
the EWMA form of "SGD with momentum and Nesterov" at once), and a one-cycle learning
rate (warm-up, then annealing; after Smith and Topin 2019).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn
from torch.func import functional_call
from tqdm.auto import tqdm

from evalib._checks import (
    check_bool,
    check_callable,
    check_instance,
    check_int,
    check_params,
    check_path,
    check_real,
)
from evalib.book import runtime

if TYPE_CHECKING:
    from evalib.book.checkpointing import Checkpoints

__all__ = ["History", "Loader", "fit", "evaluate", "predict", "momentum_sgd", "one_cycle"]

Scheduler = torch.optim.lr_scheduler.LRScheduler
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


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

    def add_epoch(
        self,
        epoch: int,
        train_loss: float,
        train_acc: float,
        test_loss: float,
        test_acc: float,
        seconds: float,
    ) -> None:
        """Append one epoch's measurements to the per-epoch lists."""
        self.epoch.append(epoch)
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.test_loss.append(test_loss)
        self.test_acc.append(test_acc)
        self.seconds.append(seconds)

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
# Training
# ----------------------------------------------------------------------------------


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Scheduler | None,
    scaler: torch.amp.GradScaler,
    loader: Loader,
    loss_fn: LossFn,
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
    and loss to ``history``."""
    loss_sum, correct, seen = 0.0, 0, 0
    for step, batch in enumerate(loader, start=1):
        images, labels = _batch(batch, "train_loader")
        where = f"epoch {epoch}, step {step} of {len(loader)}"
        _check_images(images, where)  # before batch norm's running statistics see them
        x, y = _to_device(images, device, channels_last), _to_device(labels, device, False)
        with _autocast(device, dtype):
            out = model(x)
            _check_labels(labels, out, f"in {where}")
            loss = loss_fn(out, y)
        value = _loss_value(loss, where)
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


def fit(
    model: nn.Module, optimizer: torch.optim.Optimizer, train_loader: Loader,
    test_loader: Loader | None = None, epochs: int = 1,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, *,
    loss_fn: LossFn | None = None, device: torch.device | str | None = None, amp: bool | None = None,
    channels_last: bool | None = None, checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False, progress: bool = True, desc: str = "training",
) -> History:  # fmt: skip
    """Train ``model`` for ``epochs`` epochs; return the :class:`History`.

    Each step: ``loss = loss_fn(model(x), y)`` (cross-entropy by default), backward,
    optimizer step, then ``scheduler.step()`` (per batch, as one-cycle needs). After
    each epoch the model is evaluated on ``test_loader`` (if given) and, with
    ``checkpoint`` set, saved there; ``resume=True`` continues the run saved there
    (:class:`evalib.book.checkpointing.Checkpoints`). ``device`` defaults to
    :func:`evalib.book.runtime.device`, where the model moves and stays. ``amp``
    (default: on for CUDA) runs the forward pass under autocast, bf16 where supported,
    else fp16 with gradient scaling. ``channels_last`` (default: on for CUDA) is refused
    on a CPU, where oneDNN gets narrow strided convolutions wrong in that layout
    (uxlfoundation/oneDNN#6035; see ``benchmarks/train_throughput.py``).

    Checked before the model changes (``ValueError``): the device exists, the optimizer
    holds the model's own parameters and some require grad, the checkpoint path can be
    written, a schedule of known length covers ``epochs × len(train_loader)`` steps.
    A label outside ``[0, classes)`` or a non-scalar loss raises a ``ValueError``; NaN or
    infinite images (before batch norm sees them) or loss a ``FloatingPointError`` naming
    the epoch and step. Any error during training carries the steps' ``err.history``.
    """
    device, channels_last, run = _check_fit(
        model, optimizer, train_loader, test_loader, epochs, scheduler, loss_fn, device, amp,
        channels_last, checkpoint, resume, progress, desc)  # fmt: skip
    _move(model, device, channels_last)  # every check passed: from here on the model changes
    history = run.restore() if run is not None else History()  # a resumed run's own
    start, steps, dtype = len(history.epoch), len(train_loader), _amp_dtype(device, amp)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)  # fp16 only
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    clock = time.perf_counter() - (history.seconds[-1] if history.seconds else 0.0)
    bar = tqdm(total=epochs * steps, initial=start * steps, desc=desc, disable=not progress,
               unit="step", dynamic_ncols=True)  # fmt: skip
    model.train()
    try:
        for epoch in range(start + 1, epochs + 1):
            train_loss, train_acc = _train_epoch(
                model, optimizer, scheduler, scaler, train_loader, loss_fn, history, bar,
                epoch=epoch, device=device, dtype=dtype, channels_last=channels_last)  # fmt: skip
            test_loss, test_acc = (math.nan, math.nan) if test_loader is None else evaluate(
                model, test_loader, loss_fn=loss_fn, device=device, amp=amp,
                channels_last=channels_last)  # fmt: skip
            history.add_epoch(epoch, train_loss, train_acc, test_loss, test_acc,
                              time.perf_counter() - clock)  # fmt: skip
            bar.set_postfix(epoch=epoch, loss=f"{train_loss:.3f}", test_acc=f"{test_acc:.3f}")
            if run is not None:
                run.save(epoch, history)
    except BaseException as err:
        vars(err)["history"] = history  # the steps done are not lost with the run
        raise
    finally:
        bar.close()
    return history


def _check_fit(
    model: Any, optimizer: Any, train_loader: Any, test_loader: Any, epochs: Any, scheduler: Any,
    loss_fn: Any, device: Any, amp: Any, channels_last: Any, checkpoint: Any, resume: Any,
    progress: Any, desc: Any,
) -> tuple[torch.device, bool, Checkpoints | None]:  # fmt: skip
    """:func:`fit`'s checks of its arguments, before anything changes; return the device,
    the memory layout and the run's checkpoints (None without a checkpoint path)."""
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    _check_loader(train_loader, "train_loader")
    if test_loader is not None:
        _check_loader(test_loader, "test_loader")
    epochs = check_int("epochs", epochs, 1)
    check_instance("scheduler", scheduler, Scheduler, "a torch LRScheduler", optional=True)
    if loss_fn is not None:
        check_callable("loss_fn", loss_fn)
    resume, _ = check_bool("resume", resume), check_bool("progress", progress)
    check_instance("desc", desc, str, "a str")
    path = check_path("checkpoint", checkpoint) if checkpoint is not None else None
    if resume and path is None:
        raise ValueError("resume=True needs a checkpoint path")
    _check_trains(model, optimizer)
    device, channels_last = _settings(device, channels_last, amp)
    run = None
    if path is not None:
        from evalib.book.checkpointing import Checkpoints  # the book's machinery, when asked

        run = Checkpoints(path, resume, model, optimizer, scheduler, train_loader, epochs)
    _check_schedule_length(scheduler, run.steps_done if run else None, len(train_loader), epochs,
                           run.start if run else 0)  # fmt: skip
    return device, channels_last, run


def _check_trains(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """The optimizer holds parameters of this model only, and some of them train: an
    optimizer over another model's parameters, or frozen ones, would train nothing."""
    own = {id(p) for p in model.parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    foreign = sum(id(p) not in own for p in held)
    if foreign:
        raise ValueError(
            f"the optimizer holds {foreign} of its {len(held)} tensors that are not parameters of "
            "the model, which training would never change; build it from this model's "
            "parameters, e.g. momentum_sgd(model.parameters(), ...)"
        )
    if not any(p.requires_grad for p in held):
        raise ValueError(
            "none of the optimizer's tensors requires grad (every parameter is frozen), so "
            "training would change nothing; unfreeze some with p.requires_grad_(True)"
        )


def _check_schedule_length(
    scheduler: Scheduler | None, done: int | None, steps: int, epochs: int, start: int
) -> None:
    """A schedule of known length (one-cycle's ``total_steps``) must cover the steps
    still to take, ``(epochs - start) × steps``: it would otherwise fail in the middle of
    training. The steps ``done`` are the scheduler's own, or those of the checkpoint it
    resumes."""
    total = getattr(scheduler, "total_steps", None)
    if scheduler is None or not isinstance(total, int):
        return
    done = scheduler.last_epoch if done is None else done
    if done + (epochs - start) * steps > total:
        raise ValueError(
            f"the scheduler has {total} steps ({done} already taken), but this run takes "
            f"{(epochs - start) * steps} more (epochs × len(train_loader)); build it with "
            "total_steps=epochs * len(train_loader)"
        )


def _check_images(images: torch.Tensor, where: str) -> None:
    """A batch of finite images (NaN or inf would reach batch norm's running statistics)."""
    if images.is_floating_point() and not bool(torch.isfinite(images).all()):
        raise FloatingPointError(
            f"the images at {where} hold NaN or infinite values; check the data (the model "
            "is left as it was before this step)"
        )


def _loss_value(loss: Any, where: str) -> float:
    """The loss of one step as a float: a scalar tensor, finite, else an error naming the step."""
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(
            f"loss_fn must return a scalar tensor (reduce it, e.g. .mean()), got {shape} at {where}"
        )
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(
            f"the training loss became {value} at {where}; lower the learning rate or check the data"
        )
    return value


# ----------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------


def evaluate(
    model: nn.Module,
    loader: Loader,
    *,
    loss_fn: LossFn | None = None,
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
    if loss_fn is not None:
        check_callable("loss_fn", loss_fn)
    logits, labels = predict(model, loader, device=device, amp=amp, channels_last=channels_last)

    _check_labels(labels, logits, "in the loader")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    loss = float(loss_fn(logits, labels))
    accuracy = float((logits.argmax(dim=1) == labels).float().mean())
    return loss, accuracy


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
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    _check_loader(loader, "loader")
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
                x, y = _batch(batch, "loader (the test_loader, when fit evaluates)")
                with _autocast(device, dtype):
                    out = functional_call(model, weights, (_to_device(x, device, channels_last),))
                logits.append(out.float().cpu())
                labels.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(labels)


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
    lr_eff = check_real("lr_eff", lr_eff, above=0)
    weight_decay = check_real("weight_decay", weight_decay, at_least=0)
    beta = check_real("beta", beta, at_least=0, below=1)
    nesterov = check_bool("nesterov", nesterov)
    params = check_params("params", params)
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
    check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    start_div = check_real("start_div", start_div, at_least=1)  # divides the peak
    final_div = check_real("final_div", final_div, at_least=1)
    total_steps = check_int("total_steps", total_steps, 2)
    warmup = check_real("warmup", warmup, above=0, below=1)
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
# Devices, precision, memory layout, loaders
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
    if check_bool("channels_last", channels_last, optional=True) is None:
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
    check_bool("amp", amp, optional=True)
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


def _check_loader(loader: Any, name: str) -> None:
    """A :class:`Loader`: an object with ``__len__`` and ``__iter__`` (what it yields is
    checked batch by batch, by :func:`_batch`), with at least one batch."""
    if not isinstance(loader, Sized) or not isinstance(loader, Iterable):
        hint = ": wrap a Dataset in a torch DataLoader" if hasattr(loader, "__getitem__") else ""
        raise TypeError(
            f"{name} must be a torch DataLoader or another object with __len__ and __iter__ "
            f"that yields (x, y) batches, got {type(loader).__name__}{hint}"
        )
    if len(loader) == 0:
        raise ValueError(
            f"{name} yields no batches (dataset smaller than batch_size with drop_last?)"
        )


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
