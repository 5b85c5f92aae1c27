"""Input checks shared by evalib's modules (private: the public functions call them).

One rule for every function that takes numbers: a number may be a Python or NumPy
int or float (or a 0-d array or tensor), an array of numbers may be a sequence, a NumPy
array or a torch tensor (detached and copied to the CPU, so ``requires_grad`` does not
matter). Booleans, complex numbers, strings and other objects are refused with a
``TypeError`` naming the argument; NaN, infinities and numbers beyond the float range
with a ``ValueError``.
"""

from __future__ import annotations

import math
import os
import sys
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

_KINDS = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes"}


def _plain(value: Any) -> Any:
    """A tensor as a NumPy array (detached, on the CPU), a 0-d array as its number."""
    torch = sys.modules.get("torch")  # no tensor can exist before torch is imported
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.double()  # NumPy has no bfloat16
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]  # a 0-d array is its one number
    return value


def finite_real(name: str, value: Any) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``name``."""
    value = _plain(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number (int or float), got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got an int beyond the float range") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    return out


def unit_interval(name: str, value: Any) -> float:
    """``value`` as a float in ``[0, 1)`` (a momentum or averaging coefficient)."""
    out = finite_real(name, value)
    if not 0.0 <= out < 1.0:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1, got {out}")
    return out


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int (Python or NumPy integer, not bool) in ``[low, high]``."""
    value = _plain(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        if high is None:
            allowed = f">= {low}"
        elif low is None:
            allowed = f"<= {high}"
        else:
            allowed = f"between {low} and {high}"
        raise ValueError(f"{name} must be {allowed}, got {out}")
    return out


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool (Python or NumPy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def real_array(name: str, value: Any, *, finite: bool = True) -> NDArray[np.float64]:
    """``value`` as a new float64 array (any shape), or a TypeError/ValueError naming ``name``.

    With ``finite=True`` every entry must be finite; the error names the first that is not.
    """
    value = _plain(value)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got a string")
    try:
        arr = np.asarray(value)
        if arr.dtype.kind == "O":  # e.g. Python ints beyond int64, Fractions, None
            odd = [
                v for v in arr.flat if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real)
            ]
            if odd:  # NumPy would read None as NaN and True as 1
                raise TypeError(f"it holds {type(odd[0]).__name__}")
            arr = arr.astype(np.float64)
    except OverflowError:
        raise ValueError(
            f"{name} must be finite, but it holds a number beyond the float range"
        ) from None
    except (TypeError, ValueError) as err:  # ragged nesting, objects that are no numbers
        raise TypeError(f"{name} must be an array of real numbers: {err}") from None
    if arr.dtype.kind not in "iuf":
        what = _KINDS.get(arr.dtype.kind, f"values of dtype {arr.dtype}")
        raise TypeError(f"{name} must be an array of real numbers (int or float), got {what}")
    with np.errstate(over="ignore"):  # float128 beyond the float64 range: inf, refused below
        arr = arr.astype(np.float64)
    if finite and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        where = f"{name}[{', '.join(map(str, bad))}]" if bad else name
        raise ValueError(f"{name} must be finite, but {where} = {arr[bad]}")
    return arr


def optional_flag(name: str, value: Any) -> bool | None:
    """``value`` as None or a bool (a setting whose None means "the default")."""
    return None if value is None else flag(name, value)


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """``value`` as one of the strings ``options``: TypeError for a non-str, else ValueError."""
    allowed = " or ".join(repr(o) for o in options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, {allowed}, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def function(name: str, value: Any) -> Any:
    """``value`` if it is callable, else a TypeError naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def instance(
    name: str, value: Any, kind: type | tuple[type, ...], what: str, *, optional: bool = False
) -> Any:
    """``value`` if it is an instance of ``kind`` (or None when ``optional``), else a TypeError."""
    if (optional and value is None) or isinstance(value, kind):
        return value
    allowed = f"{what} or None" if optional else what
    raise TypeError(f"{name} must be {allowed}, got {type(value).__name__}")


def file_path(name: str, value: Any) -> Path:
    """``value`` (a str or os.PathLike, not empty) as a ``pathlib.Path``."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    if not os.fspath(value).strip():
        raise ValueError(f"{name} must not be empty, got {value!r}")
    return Path(value)


def sized(name: str, value: Any) -> int:
    """``len(value)`` of a dataset-like object (with ``__len__`` and ``__getitem__``)."""
    if isinstance(value, (str, bytes)) or not (
        hasattr(value, "__len__") and hasattr(value, "__getitem__")
    ):
        raise TypeError(
            f"{name} must be a dataset (with __len__ and __getitem__, e.g. a torch Dataset), "
            f"got {type(value).__name__}"
        )
    return len(value)


def parameters(name: str, value: Any) -> list[Any]:
    """Optimizer parameters: an iterable of tensors (leaves) or of param-group dicts, as a
    non-empty list; a bare tensor, a non-iterable or an odd entry is a TypeError."""
    torch = sys.modules["torch"]  # only optimizers call this, and they import torch
    if isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be an iterable of tensors, got a single tensor: wrap it in a list"
        )
    try:
        items = list(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an iterable of tensors or dicts, got {type(value).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{name} must hold at least one tensor, got an empty iterable")
    for i, item in enumerate(items):
        if isinstance(item, dict):
            continue
        if not isinstance(item, torch.Tensor):
            raise TypeError(
                f"{name}[{i}] must be a tensor or a dict of options, got {type(item).__name__}"
            )
        if not item.is_leaf:
            raise ValueError(
                f"{name}[{i}] is not a leaf tensor (it is computed from others), so an optimizer "
                "cannot update it; pass the tensors that require grad themselves"
            )
    return items
