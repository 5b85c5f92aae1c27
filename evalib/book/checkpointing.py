"""Checkpoints of a training run: save after every epoch, resume exactly where it stopped.

The book's machinery, not its content: "Training it with momentum" trains with
:func:`evalib.train.fit`, and Colab readers pass ``fit(..., checkpoint=path,
resume=True)`` so that a disconnected session carries on. A checkpoint holds the model,
optimizer and scheduler state dicts, the epoch, the :class:`~evalib.train.History` and
every random generator's state, so a resumed run ends exactly as an uninterrupted one on
a CPU. The files:

- load with ``torch.load(weights_only=True)``: tensors and plain containers only,
  never arbitrary code;
- end with a SHA-256 of their bytes (a damaged or cut-short file is refused by name,
  never loaded);
- are written to a temporary file of their own, flushed and renamed over the old one,
  so an interruption or a second writer never leaves half a checkpoint;
- load completely or not at all, and only into objects built as they were when the
  run was saved (same parameters, same kind and settings of optimizer and scheduler).
"""

from __future__ import annotations

import copy
import errno
import hashlib
import io
import os
import pathlib
import random
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from evalib._checks import check_bool, check_instance, check_int, check_path
from evalib.train import History, Loader

__all__ = ["Checkpoints", "save_checkpoint", "load_checkpoint"]

_SEAL = b"evalib-sha256:"  # then 64 hex digits: the last bytes of every checkpoint
_KEYS = {"epoch", "model", "optimizer", "scheduler", "history", "rng"}
Scheduler = torch.optim.lr_scheduler.LRScheduler


class Checkpoints:
    """The checkpoints of one :func:`evalib.train.fit` run at ``path``.

    Built before training, it checks and changes nothing: that ``path`` can be written
    (a folder, a missing permission or a name too long for the file system fails here,
    not after the first epoch), and, with ``resume=True``, that the checkpoint there fits
    the objects (:func:`load_checkpoint`'s checks). ``start`` is the epoch the run
    continues after (0 for a new run) and ``steps_done`` the scheduler steps already
    taken. ``resume=True`` without a checkpoint starts a new run, which needs new
    objects: a scheduler that has stepped or an optimizer that holds state (momentum
    buffers) means a run stopped before its first checkpoint, and is refused.
    """

    def __init__(
        self,
        path: pathlib.Path,
        resume: bool,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None,
        train_loader: Loader,
        epochs: int,
    ) -> None:
        _check_writable(path)
        self.path, self.model, self.optimizer = path, model, optimizer
        self.scheduler, self.train_loader = scheduler, train_loader
        self.payload: dict[str, Any] | None = None
        if resume and path.is_file():
            self.payload = _read_checkpoint(path)
            _check_fits(self.payload, path, model, optimizer, scheduler)
        elif resume:
            _check_new_run(path, optimizer, scheduler)
        self.start = 0 if self.payload is None else int(self.payload["epoch"])
        if self.start >= epochs:
            raise ValueError(
                f"the checkpoint is already at epoch {self.start} of the {epochs} asked for"
            )
        if self.payload is not None:
            self.steps_done = int((self.payload["scheduler"] or {}).get("last_epoch", 0))
        else:
            self.steps_done = scheduler.last_epoch if scheduler is not None else 0

    def restore(self) -> History:
        """Load the checkpoint checked at construction (all or nothing, random generators
        included) and return its history; a new run's history is empty. Call it after the
        model has moved to its device, so the optimizer's buffers follow it there."""
        if self.payload is None:
            return History()
        objects = (self.model, self.optimizer, self.scheduler, self.train_loader)
        _load_all_or_nothing(self.payload, self.path, *objects, restore_rng=True)
        return History(**self.payload["history"])

    def save(self, epoch: int, history: History) -> None:
        """Save the run after ``epoch``: see :func:`save_checkpoint`."""
        _save(
            self.path, self.model, self.optimizer, self.scheduler, epoch, history, self.train_loader
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
    training loader's shuffling generator, if it has one: see :class:`evalib.train.Loader`). It is
    a ``torch.save`` zip whose comment holds a SHA-256 of the bytes before it, which
    :func:`load_checkpoint` checks. It is written to a temporary file of its own in the
    same folder, flushed to the disk and renamed over ``path``, so an interruption (or
    a second writer of the same path) never leaves a half-written checkpoint or a stray
    temporary file.
    """
    path = check_path("path", path)
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    check_instance("scheduler", scheduler, Scheduler, "a torch LRScheduler", optional=True)
    epoch = check_int("epoch", epoch, 0)
    check_instance("history", history, History, "an evalib.train.History")
    check_instance(
        "train_loader", train_loader, Iterable, "a DataLoader or another Loader", optional=True
    )
    _check_writable(path)
    return _save(path, model, optimizer, scheduler, epoch, history, train_loader)


def _save(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Scheduler | None,
    epoch: int,
    history: History,
    train_loader: Loader | None,
) -> Path:
    payload = {
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "optimizer_class": _class_name(optimizer),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.as_dict(),
        "rng": _rng_state(train_loader),
    }
    _write_atomically(path, _sealed(payload))
    return path


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
    path = check_path("path", path)
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    check_instance(
        "optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer", optional=True
    )
    check_instance("scheduler", scheduler, Scheduler, "a torch LRScheduler", optional=True)
    check_instance(
        "train_loader", train_loader, Iterable, "a DataLoader or another Loader", optional=True
    )
    restore_rng = check_bool("restore_rng", restore_rng)
    payload = _read_checkpoint(path)
    _check_fits(payload, path, model, optimizer, scheduler)

    _load_all_or_nothing(
        payload, path, model, optimizer, scheduler, train_loader, restore_rng=restore_rng
    )
    return int(payload["epoch"]), History(**payload["history"])


def _check_new_run(
    path: Path, optimizer: torch.optim.Optimizer, scheduler: Scheduler | None
) -> None:
    """``resume=True`` found no checkpoint: refuse objects that have trained already
    (a run stopped before its first checkpoint), which would carry on from part-trained
    weights and a schedule already under way."""
    if scheduler is not None and scheduler.last_epoch > 0:
        used = f"the scheduler has already stepped {scheduler.last_epoch} times"
    elif optimizer.state:
        used = "the optimizer already holds state (momentum buffers) from earlier steps"
    else:
        return
    raise ValueError(
        f"resume=True found no checkpoint at {path}, so this is a new run, but {used}: the "
        "previous run stopped before its first checkpoint. Start again with a new model, "
        "optimizer and scheduler, or pass resume=False to keep training these as they are"
    )


def _check_writable(path: Path) -> None:
    """Fail before training, not after its first epoch, if ``path`` cannot be written:
    a folder, a folder without write permission, a name too long for the file system."""
    longest = _longest_name(path.parent) if path.parent.is_dir() else 255
    try:
        folder = path.is_dir()
        if not folder:
            path.parent.mkdir(parents=True, exist_ok=True)
            _temporary(path).unlink()  # where the bytes go first
            # The name itself, asked of the file system rather than tried on the path,
            # which another writer may be renaming its checkpoint onto.
            if len(os.fsencode(path.name)) > longest:
                raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
    except OSError as err:
        raise ValueError(
            f"checkpoint {path} cannot be written ({err.strerror or err}); choose a writable "
            f"folder and a file name of at most {longest} bytes"
        ) from err
    if folder:
        raise ValueError(
            f"checkpoint path {path} is a folder; give a file path, e.g. {path / 'run.pt'}"
        )


def _longest_name(folder: Path) -> int:
    """The longest file name, in bytes, that ``folder``'s file system accepts (255, the
    common limit, where the system does not say)."""
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer
        return 255
    return longest if longest > 0 else 255  # -1 or 0: no limit reported


def _temporary(path: Path) -> Path:
    """A new empty file of its own next to ``path``, for :func:`_write_atomically`."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file of its own next to ``path``, flush it to the
    disk, then rename it over ``path``: readers see the old file or the new one, never
    a part of one, two writers never share a temporary, and a failure leaves none."""
    tmp = _temporary(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
        changed += _optimizer_differences(payload, path, optimizer, skip_lr=scheduler is not None)
    _refuse_changes(changed, path)


def _optimizer_differences(
    payload: dict[str, Any], path: Path, optimizer: torch.optim.Optimizer, skip_lr: bool
) -> list[str]:
    """Refuse a checkpoint of another kind of optimizer or over other parameters; list
    the settings that differ (``lr`` left out where a scheduler's state decides it)."""
    groups, saved_groups = optimizer.param_groups, payload["optimizer"]["param_groups"]
    saved_class = payload.get("optimizer_class", _class_name(optimizer))  # older files: unknown
    saved_keys = {k for g in saved_groups for k in g}
    if saved_class != _class_name(optimizer) or saved_keys != {k for g in groups for k in g}:
        raise ValueError(
            f"{path} holds the state of another kind of optimizer ({saved_class.split('.')[-1]} "
            f"with the settings {sorted(saved_keys - {'params'})}) than "
            f"{type(optimizer).__name__}; nothing was loaded"
        )
    sizes, saved_sizes = ([len(g["params"]) for g in gs] for gs in (groups, saved_groups))
    if sizes != saved_sizes:
        raise ValueError(
            f"{path} holds an optimizer over other parameters (groups of {saved_sizes} "
            f"tensors there, {sizes} here); nothing was loaded"
        )
    skip = {"params", "lr"} if skip_lr else {"params"}
    return [
        d for g, saved in zip(groups, saved_groups) for d in _differences(g, saved, g.keys() - skip)
    ]


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


def _class_name(optimizer: torch.optim.Optimizer) -> str:
    return f"{type(optimizer).__module__}.{type(optimizer).__qualname__}"


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
