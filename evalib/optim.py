"""Momentum optimisers written from their update rules, and a 2-D trajectory recorder.

Chapter "SGD with momentum and Nesterov" derives every class here; chapter "Why
momentum really works" races them on the 2-D landscapes of :mod:`evalib.landscapes`.
Each optimiser is a ``torch.optim.Optimizer`` whose ``step`` is the update rule and
nothing else, so it reads like the formula. ``g`` is the gradient plus weight decay,
``g = grad + weight_decay * w``, as in ``torch.optim.SGD``. ``beta`` in the formulas is
the ``momentum`` argument: the keyword (and ``param_groups`` key) keeps PyTorch's name,
so these classes swap with ``torch.optim.SGD`` and work with its schedulers.

- :class:`HeavyBall`: ``z <- beta*z + g``, ``w <- w - lr*z``; equals ``SGD(momentum=beta)``.
- :class:`Nesterov`: ``z <- beta*z + g``, ``w <- w - lr*(g + beta*z)``; equals
  ``SGD(momentum=beta, nesterov=True)``.
- :class:`EWMAMomentum`: ``V <- beta*V + (1-beta)*g``, ``w <- w - lr*V``; equals
  ``HeavyBall`` with the learning rate ``lr*(1-beta)``.
- :class:`SutskeverMomentum`: ``v <- beta*v + lr*g``, ``w <- w - v``; equals
  ``HeavyBall`` while ``lr`` stays constant.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import Tensor
from torch.optim import Optimizer

from evalib._checks import (
    check_array,
    check_bool,
    check_callable,
    check_instance,
    check_int,
    check_params,
    check_real,
)

__all__ = [
    "HeavyBall",
    "Nesterov",
    "EWMAMomentum",
    "SutskeverMomentum",
    "nesterov_lookahead",
    "trajectory",
    "steps_to_stay_within",
]


_MAX_VALUES = 2**27  # the most numbers a recorded run returns: 1 GiB of float64


def _check_hyper(lr: Any, momentum: Any, weight_decay: Any) -> dict[str, float]:
    """The shared hyper-parameters, checked: ``lr >= 0``, ``0 <= momentum < 1``, ``weight_decay >= 0``."""
    return {
        "lr": check_real("lr", lr, at_least=0),
        "momentum": check_real("momentum", momentum, at_least=0, below=1),
        "weight_decay": check_real("weight_decay", weight_decay, at_least=0),
    }


class _Momentum(Optimizer):
    """Shared plumbing: the constructor ``(params, lr, momentum=0.9, weight_decay=0.0)``
    with its checks, closures, one buffer per parameter."""

    def __init__(
        self, params: Iterable[Any], lr: float, momentum: float = 0.9, weight_decay: float = 0.0
    ):
        hyper = _check_hyper(lr, momentum, weight_decay)
        super().__init__(check_params("params", params), hyper)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its own ``lr``, ``momentum`` and ``weight_decay`` are checked as
        the constructor's are (the constructor adds its groups through here too)."""
        given = {**self.defaults, **param_group}
        param_group.update(_check_hyper(given["lr"], given["momentum"], given["weight_decay"]))
        super().add_param_group(param_group)

    def _update(self, w: Tensor, g: Tensor, buf: Tensor, group: dict[str, Any]) -> None:
        raise NotImplementedError  # each subclass is one update rule

    @torch.no_grad()
    # torch types the closure as returning a float; here it returns the loss tensor, as in SGD.
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:  # type: ignore[override]
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                if group["weight_decay"] != 0:
                    if g.is_sparse:  # as torch.optim.SGD: decay would make g dense
                        raise ValueError(
                            "weight_decay must be 0 for parameters with sparse gradients "
                            "(e.g. nn.Embedding(sparse=True)), as in torch.optim.SGD"
                        )
                    g = g.add(w, alpha=group["weight_decay"])
                state = self.state[w]
                if "momentum_buffer" not in state:
                    # Of g's layout: a sparse gradient gets a sparse buffer, as in torch.optim.SGD.
                    state["momentum_buffer"] = torch.zeros_like(g)
                self._update(w, g, state["momentum_buffer"], group)
        return loss


class HeavyBall(_Momentum):
    """Polyak's heavy ball, in PyTorch's form: ``z <- beta*z + g``, ``w <- w - lr*z``.

    ``z`` starts at 0, so the first step is a plain gradient step; ``momentum=0`` is
    gradient descent. Step for step this equals
    ``torch.optim.SGD(params, lr, momentum=beta, weight_decay=weight_decay)``.
    Chapter "Momentum: the heavy ball" analyses it; chapter "SGD with momentum and
    Nesterov" relates it to the other forms.
    """

    def _update(self, w: Tensor, g: Tensor, buf: Tensor, group: dict[str, Any]) -> None:
        buf.mul_(group["momentum"]).add_(g)  # z <- beta z + g
        w.add_(buf, alpha=-group["lr"])  # w <- w - lr z


class Nesterov(_Momentum):
    """Nesterov's accelerated gradient in PyTorch's form.

    ``z <- beta*z + g``, ``w <- w - lr*(g + beta*z)``: the step uses the gradient
    twice, once through the new buffer and once on its own. It is the look-ahead
    method (gradient taken at ``w - lr*beta*z``, see :func:`nesterov_lookahead`)
    written in the look-ahead point itself. Equals
    ``torch.optim.SGD(params, lr, momentum=beta, nesterov=True, weight_decay=...)``;
    ``momentum=0`` is gradient descent.
    """

    def _update(self, w: Tensor, g: Tensor, buf: Tensor, group: dict[str, Any]) -> None:
        buf.mul_(group["momentum"]).add_(g)  # z <- beta z + g
        w.add_(g.add(buf, alpha=group["momentum"]), alpha=-group["lr"])  # w <- w - lr (g + beta z)


class EWMAMomentum(_Momentum):
    """Momentum as an exponential moving average of gradients.

    ``V <- beta*V + (1-beta)*g``, ``w <- w - lr*V``, with ``V`` starting at 0.
    ``V`` is ``(1-beta)`` times the heavy-ball buffer, so this traces exactly the
    path of ``HeavyBall(lr=lr*(1-beta), momentum=beta)``: the same method with the
    learning rate rescaled.

    ``torch.optim.SGD(momentum=beta, dampening=beta)`` is *almost* this: its first step
    sets the buffer to ``g`` rather than ``(1-beta)*g``, after which it runs the same
    recursion. Its buffer is therefore ``V_t + beta**t * g_1`` for the same gradients.
    ``torch_first_step=True`` copies that special case and then equals
    ``SGD(momentum=beta, dampening=beta)`` step for step.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        torch_first_step: bool = False,
    ):
        torch_first_step = check_bool("torch_first_step", torch_first_step)
        super().__init__(params, lr, momentum, weight_decay)
        for group in self.param_groups:
            group["torch_first_step"] = torch_first_step

    def _update(self, w: Tensor, g: Tensor, buf: Tensor, group: dict[str, Any]) -> None:
        state = self.state[w]
        first = state.get("steps", 0) == 0
        state["steps"] = state.get("steps", 0) + 1
        if first and group["torch_first_step"]:
            buf.copy_(g)  # torch: the buffer starts as the first gradient, undamped
        else:
            beta = group["momentum"]
            buf.mul_(beta).add_(g, alpha=1 - beta)  # V <- beta V + (1-beta) g
        w.add_(buf, alpha=-group["lr"])  # w <- w - lr V


class SutskeverMomentum(_Momentum):
    """Momentum with the learning rate inside the buffer (Sutskever et al., 2013).

    ``v <- beta*v + lr*g``, ``w <- w - v``. While ``lr`` is constant, ``v = lr*z``
    for the heavy-ball buffer ``z`` and the iterates equal :class:`HeavyBall`'s. When
    ``lr`` changes (a schedule), the two part: here old gradients keep the
    learning rate they were taken with, while the heavy ball rescales its whole
    buffer with the new one.
    """

    def _update(self, w: Tensor, g: Tensor, buf: Tensor, group: dict[str, Any]) -> None:
        buf.mul_(group["momentum"]).add_(g, alpha=group["lr"])  # v <- beta v + lr g
        w.sub_(buf)  # w <- w - v


def nesterov_lookahead(
    grad: Callable[[NDArray[np.float64]], ArrayLike],
    w0: ArrayLike,
    lr: float,
    momentum: float,
    steps: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nesterov's method as first written, with the gradient taken at a look-ahead point.

    ``z <- beta*z + grad(w - lr*beta*z)``, ``w <- w - lr*z``, from ``w = w0``, ``z = 0``.
    Returns ``(w, z)``, two ``(steps+1, d)`` arrays of iterates. The look-ahead points
    ``w - lr*beta*z`` are exactly the iterates of :class:`Nesterov` (PyTorch's form),
    which is how chapter "SGD with momentum and Nesterov" proves the rewrite.
    """
    hyper = _check_hyper(lr, momentum, 0.0)
    lr, beta = hyper["lr"], hyper["momentum"]
    check_callable("grad", grad)
    w = check_array("w0", w0, nonempty=True).reshape(-1)
    steps = check_int("steps", steps, 0, _MAX_VALUES // w.size - 1)

    path, buffers = np.empty((steps + 1, w.size)), np.zeros((steps + 1, w.size))
    path[0] = w
    z = buffers[0]
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run becomes inf/nan
        for k in range(1, steps + 1):
            z = beta * z + _gradient(grad, w - lr * beta * z)  # z <- beta z + grad(w - lr beta z)
            w = w - lr * z  # w <- w - lr z
            path[k], buffers[k] = w, z
    return path, buffers


def _gradient(grad: Callable[[NDArray[np.float64]], ArrayLike], p: NDArray[np.float64]) -> Any:
    """``grad(p)`` as a float array of ``p``'s shape (checked: it is the caller's function)."""
    g = check_array("grad(w)", grad(p), finite=False)
    if g.size != p.size:
        raise ValueError(
            f"grad(w) must hold one number per entry of w0 ({p.size}), got shape {g.shape}"
        )
    return g.reshape(p.shape)


def trajectory(
    fn: Callable[[Tensor], Tensor],
    w0: ArrayLike,
    make_optimizer: Callable[[list[Tensor]], Optimizer],
    steps: int,
    *,
    warn: bool = True,
) -> NDArray[np.float64]:
    """The iterates of an optimiser minimising a 2-D function, as a ``(steps+1, 2)`` array.

    ``fn`` maps a float64 tensor of shape ``(2,)`` to a scalar tensor (e.g. a
    :mod:`evalib.landscapes` function); ``make_optimizer([w])`` builds any torch
    optimiser for the single parameter ``w``, e.g.
    ``lambda p: torch.optim.Adam(p, lr=0.1)``. Row 0 is ``w0``, row ``k`` the point
    after ``k`` steps. A run that diverges (a non-finite loss, gradient or iterate)
    stops there: the remaining rows are NaN, so plots simply end, and a
    ``RuntimeWarning`` names the step (``warn=False`` silences it).
    """
    check_callable("fn", fn)
    check_callable("make_optimizer", make_optimizer)
    steps = check_int("steps", steps, 0, _MAX_VALUES // 2 - 1)
    warn = check_bool("warn", warn)
    start = check_array("w0", w0)
    if start.shape != (2,):
        raise ValueError(f"w0 must be two finite numbers, got {w0!r}")
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    _check_objective(fn, w)
    optimizer = make_optimizer([w])
    check_instance("make_optimizer([w])", optimizer, Optimizer, "a torch.optim.Optimizer")

    def closure() -> Tensor:  # the loss at w and its gradient, as every optimiser asks
        optimizer.zero_grad()
        loss = fn(w)
        loss.backward()
        if not (torch.isfinite(loss) and torch.isfinite(cast(Tensor, w.grad)).all()):
            raise _Diverged
        return loss

    path = np.full((steps + 1, 2), np.nan)
    path[0] = start
    for k in range(1, steps + 1):
        try:
            # torch types the closure as returning a float; every optimiser takes the tensor.
            optimizer.step(closure)  # type: ignore[arg-type]  # L-BFGS calls it several times
        except _Diverged:
            _diverged(warn, k - 1, "loss or gradient")
            break
        path[k] = w.detach().numpy()
        if not np.all(np.isfinite(path[k])):
            path[k] = np.nan
            _diverged(warn, k, "iterate")
            break
    return path


class _Diverged(Exception):
    """The loss or the gradient at the current point is not finite: the run stops."""


def _check_objective(fn: Callable[[Tensor], Tensor], w: Tensor) -> None:
    """``fn(w)`` must be a scalar tensor whose gradient reaches ``w`` (checked once, at ``w0``)."""
    loss = fn(w)
    if not torch.is_tensor(loss) or loss.numel() != 1:
        raise TypeError("fn must return a scalar tensor")
    if not loss.requires_grad:
        raise ValueError("fn must return a tensor computed from w (autograd finds no path to w)")
    if torch.autograd.grad(loss, w, allow_unused=True)[0] is None:
        raise ValueError("fn must return a tensor computed from w (no gradient reached w)")


def _diverged(warn: bool, step: int, what: str) -> None:
    if warn:
        warnings.warn(
            f"the run diverged: non-finite {what} at step {step}; later rows are NaN",
            RuntimeWarning,
            stacklevel=3,
        )


def steps_to_stay_within(path: ArrayLike, minimum: ArrayLike, tol: float) -> int | None:
    """The first step ``k`` from which ``||w_k - minimum|| <= tol`` holds for good.

    ``None`` when the run never settles within ``tol`` (or diverged). "For good"
    means every later iterate stays within ``tol`` too, so an oscillating run that
    passes through the ball once is not counted as converged; the first visit alone
    is :func:`evalib.theory.iterations_to_tolerance`.
    """
    pts = check_array("path", path, ndim=2, finite=False)  # a diverged run's rows are NaN
    target = check_array("minimum", minimum)
    if pts.shape[1] != target.size or pts.shape[0] == 0:
        raise ValueError(
            f"path must have shape (steps+1, {target.size}) with at least one row, got {pts.shape}"
        )
    tol = check_real("tol", tol, above=0)
    with np.errstate(over="ignore", invalid="ignore"):  # runs on their way to overflow
        dist = np.linalg.norm(pts - target.reshape(1, -1), axis=1)
    inside = dist <= tol  # NaN compares False: a diverged run is never inside
    if not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return 0 if outside.size == 0 else int(outside[-1] + 1)
