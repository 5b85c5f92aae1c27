"""Input checks shared by evalib's modules (private: the public functions call them).

Each ``check_…`` takes the argument's name and value and returns the value, converted
(a float, an int, a float64 array, a ``Path``...), or raises an error that names the
argument and says what is allowed. A public function opens with one short block of
these calls; the code after it trusts what they return.

One rule for every function that takes numbers: a number may be a Python or NumPy
int or float (or a 0-d array or tensor), an array of numbers may be a sequence, a NumPy
array or a torch tensor (detached and copied to the CPU, so ``requires_grad`` does not
matter). Booleans, complex numbers, strings and other objects are refused with a
``TypeError`` naming the argument; NaN, infinities, numbers beyond the float range and
numbers outside the allowed range with a ``ValueError``.
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
        if value.device.type == "meta":
            return value  # no values to read: refused as "not a number" by the caller
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.double()  # NumPy has no bfloat16
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]  # a 0-d array is its one number
    return value


def check_real(
    name: str,
    value: Any,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    hint: str = "",
) -> float:
    """``value`` as a finite float within the bounds given: ``above`` and ``below`` are
    exclusive, ``at_least`` and ``at_most`` inclusive (``lr > 0`` is ``above=0``);
    ``hint`` ends the message of a value out of bounds or not finite (why, what to do)."""
    value = _plain(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number (int or float), got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got an int beyond the float range") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}{hint}")
    inside = (
        (above is None or out > above)
        and (at_least is None or out >= at_least)
        and (below is None or out < below)
        and (at_most is None or out <= at_most)
    )
    if not inside:
        rule = _interval(name, above, at_least, below, at_most)
        raise ValueError(f"{name} must {rule}, got {out}{hint}")
    return out


def _interval(
    name: str,
    above: float | None,
    at_least: float | None,
    below: float | None,
    at_most: float | None,
) -> str:
    """The allowed range as the reader writes it: ``be > 0``, ``satisfy 0 <= beta < 1``."""
    low = f"{_num(above)} < " if above is not None else ""
    low = f"{_num(at_least)} <= " if at_least is not None else low
    high = f" < {_num(below)}" if below is not None else ""
    high = f" <= {_num(at_most)}" if at_most is not None else high
    if low and high:
        return f"satisfy {low}{name}{high}"
    if low:  # "be > 0" rather than "satisfy 0 < lr"
        bound, sign = low.split()
        return f"be {'>' if sign == '<' else '>='} {bound}"
    return f"be{high}"


def _num(x: float) -> str:
    """``x`` short (``0``, ``1e-06``) where that is exact, else in full."""
    return f"{x:g}" if float(f"{x:g}") == x else repr(float(x))


def check_int(
    name: str, value: Any, low: int | None = None, high: int | None = None, hint: str = ""
) -> int:
    """``value`` as an int (Python or NumPy integer, not bool) in ``[low, high]``;
    ``hint`` ends the message of a value out of bounds."""
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
        raise ValueError(f"{name} must be {allowed}, got {out}{hint}")
    return out


def check_bool(name: str, value: Any, *, optional: bool = False) -> Any:
    """``value`` as a bool (Python or NumPy bool), or None when ``optional`` allows it
    (a setting whose None means "the default")."""
    if optional and value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        allowed = "a bool or None" if optional else "a bool"
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__}")
    return bool(value)


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int, ...] | None = None,
    nonempty: bool = False,
    finite: bool = True,
    above: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    hint: str = "",
) -> NDArray[np.float64]:
    """``value`` as a new float64 array with ``ndim`` dimensions or the exact ``shape``
    if given, at least one entry if ``nonempty``, finite entries if ``finite``, and
    entries within the bounds given (``> above``, ``>= at_least``, ``<= at_most``; an
    error names the first entry that is not); ``hint`` ends the message of a value out
    of bounds."""
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
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got an array of shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty array")
    for bad, rule in (
        (~np.isfinite(arr) if finite else None, "be finite"),
        (~(arr > above) if above is not None else None, f"all be > {_num(above or 0)}"),
        (~(arr >= at_least) if at_least is not None else None, f"all be >= {_num(at_least or 0)}"),
        (~(arr <= at_most) if at_most is not None else None, f"all be <= {_num(at_most or 0)}"),
    ):
        if bad is not None and bad.any():  # NaN fails every bound
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            entry = f"{name}[{', '.join(map(str, where))}]" if where else name
            raise ValueError(f"{name} must {rule}, but {entry} = {arr[where]}{hint}")
    return arr


def check_broadcast(**arrays: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """The arrays broadcast to one shape, or a ValueError naming them and their shapes."""
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = " and ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(
            f"{' and '.join(arrays)} must broadcast to one shape, got {shapes}"
        ) from None


_DTYPES = {"float": "floating-point", "integer": "integer", "real": "real (int or float)"}


def check_tensor(
    name: str,
    value: Any,
    *,
    dims: str | tuple[int | str, ...] | None = None,
    dtype: str = "real",
    finite: bool = False,
    nonempty: bool = False,
) -> Any:
    """``value`` if it is a torch tensor holding values (not on the meta device) of the
    kind ``dtype`` ("float", "integer" or "real": never bool or complex), with one
    dimension per entry of ``dims`` (names such as ``"N, C, H, W"``, or a tuple in which
    an int is an exact size), at least one row if ``nonempty``, and finite entries if
    ``finite``."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
    floating = value.is_floating_point()
    integral = not (floating or value.is_complex() or value.dtype == torch.bool)
    if not {"float": floating, "integer": integral, "real": floating or integral}[dtype]:
        raise TypeError(f"{name} must be a {_DTYPES[dtype]} tensor, got dtype {value.dtype}")
    if dims is not None:
        sizes = [d.strip() for d in dims.split(",")] if isinstance(dims, str) else list(dims)
        if value.dim() != len(sizes) or any(
            isinstance(d, int) and d != n for d, n in zip(sizes, value.shape)
        ):
            wanted = ", ".join(map(str, sizes))
            raise ValueError(f"{name} must have shape ({wanted}), got {tuple(value.shape)}")
    if nonempty and (value.dim() == 0 or len(value) == 0):
        raise ValueError(f"{name} must hold at least one row, got shape {tuple(value.shape)}")
    if value.device.type == "meta":
        raise ValueError(
            f"{name} is on the meta device, which keeps shapes but no values: create it on "
            "'cpu' or a GPU"
        )
    if finite and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite, but it holds NaN or infinite values")
    return value


def check_indices(name: str, value: Any, count: int) -> Any:
    """``value`` as a ``(count,)`` int64 tensor: one int for all ``count`` entries, or
    ``count`` ints (a sequence or an integer tensor); the caller checks their range."""
    torch = sys.modules["torch"]
    if isinstance(value, torch.Tensor):
        out = check_tensor(name, value, dtype="integer").reshape(-1).long()
    elif _is_int(value) or (
        isinstance(value, (list, tuple, range)) and all(_is_int(v) for v in value)
    ):
        ints = [int(value)] * count if _is_int(value) else [int(v) for v in value]
        if any(not -(2**63) <= v < 2**63 for v in ints):
            raise ValueError(f"{name} must lie within the int64 range, got {value}")
        out = torch.tensor(ints, dtype=torch.long)
    else:
        raise TypeError(
            f"{name} must be an int, a sequence of ints or an integer tensor, "
            f"got {type(value).__name__}"
        )
    if out.numel() != count:
        raise ValueError(f"{name} must hold one entry per item: {out.numel()} for {count}")
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def check_choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """``value`` as one of the strings ``options``: TypeError for a non-str, else ValueError."""
    allowed = " or ".join(repr(o) for o in options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, {allowed}, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Any:
    """``value`` if it is callable, else a TypeError naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_instance(
    name: str, value: Any, kind: type | tuple[type, ...], what: str, *, optional: bool = False
) -> Any:
    """``value`` if it is an instance of ``kind`` (or None when ``optional``), else a TypeError."""
    if (optional and value is None) or isinstance(value, kind):
        return value
    allowed = f"{what} or None" if optional else what
    raise TypeError(f"{name} must be {allowed}, got {type(value).__name__}")


def check_path(name: str, value: Any) -> Path:
    """``value`` (a str or os.PathLike, not empty) as a ``pathlib.Path``."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    if not os.fspath(value).strip():
        raise ValueError(f"{name} must not be empty, got {value!r}")
    return Path(value)


def check_dataset(name: str, value: Any, *, nonempty: bool = False) -> int:
    """``len(value)`` of a dataset-like object (with ``__len__`` and ``__getitem__``), at
    least 1 if ``nonempty``."""
    if isinstance(value, (str, bytes)) or not (
        hasattr(value, "__len__") and hasattr(value, "__getitem__")
    ):
        raise TypeError(
            f"{name} must be a dataset (with __len__ and __getitem__, e.g. a torch Dataset), "
            f"got {type(value).__name__}"
        )
    if nonempty and len(value) == 0:
        raise ValueError(f"{name} is empty: it must hold at least one item")
    return len(value)


def check_params(name: str, value: Any) -> list[Any]:
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
