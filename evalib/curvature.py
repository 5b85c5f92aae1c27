"""The curvature of a loss: its Hessian's top eigenpair and its curvature along a direction.

Chapter "At the edge of stability" tracks the *sharpness* of a network's training loss,
the largest eigenvalue ``λ_max`` of its Hessian ``H``, while gradient descent and the
heavy ball train it; the quadratic theory of the first chapters says a step size ``α``
is stable along a direction of curvature ``λ`` while ``αλ < 2`` (gradient descent) or
``αλ < 2 + 2β`` (the heavy ball).

The Hessian of a network has as many rows as the network has weights, so it is never
formed. Everything here is built on Hessian-vector products ``Hv``, which autograd
computes for about the cost of two gradients (Pearlmutter's trick: ``Hv`` is the
gradient of ``∇L·v``):

- :func:`hessian_vector_product`: ``Hv`` itself;
- :func:`top_eigen`: the algebraically largest eigenvalue of ``H`` and its unit
  eigenvector, by the Lanczos method, with a warm start for tracking along training;
- :func:`directional_curvature`: ``vᵀHv / vᵀv``, the curvature along one direction
  (by default the loss's own gradient, the ingredient of *batch sharpness*).

Vectors are flat: one 1-D tensor over all of ``params`` in order, as
``torch.nn.utils.parameters_to_vector`` lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from evalib._checks import check_callable, check_int, check_real

__all__ = ["Eigen", "hessian_vector_product", "top_eigen", "directional_curvature"]

Loss = Callable[[], Tensor]


@dataclass(frozen=True)
class Eigen:
    """An eigenpair of a Hessian, as :func:`top_eigen` found it.

    ``value`` is the eigenvalue, ``vector`` the unit eigenvector (flat, on the
    parameters' device and dtype), ``residual`` the norm ``‖Hv − λv‖`` of the pair
    (zero for an exact one) and ``iterations`` the number of Hessian-vector products
    it took.
    """

    value: float
    vector: Tensor
    residual: float
    iterations: int


class _Hessian:
    """The Hessian of ``loss()`` at ``params`` as an operator on flat vectors.

    The gradient's graph is built once; every product then costs one backward pass
    through it. Tensors the loss does not use, or uses only linearly, have zero rows.
    """

    def __init__(self, loss: Loss, params: list[Tensor]) -> None:
        value = loss()
        _check_loss_value(value)
        raw = torch.autograd.grad(value, params, create_graph=True, allow_unused=True)
        if all(g is None for g in raw):
            raise ValueError("loss() does not depend on any tensor in params")
        self.params = params
        self.shapes = [p.shape for p in params]
        self.sizes = [p.numel() for p in params]
        self.gradient = torch.cat(
            [
                (torch.zeros_like(p) if g is None else g).detach().flatten()
                for g, p in zip(raw, params)
            ]
        )
        # Only gradients that depend on params carry curvature.
        self.curved = [i for i, g in enumerate(raw) if g is not None and g.requires_grad]
        self.grads = [raw[i] for i in self.curved]

    def __matmul__(self, v: Tensor) -> Tensor:
        if not self.curved:
            return torch.zeros_like(v)  # a loss linear in params has a zero Hessian
        pieces = v.split(self.sizes)
        hv = torch.autograd.grad(
            self.grads,
            self.params,
            [pieces[i].view(self.shapes[i]) for i in self.curved],
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )
        return torch.cat([h.flatten() for h in hv])


def hessian_vector_product(loss: Loss, params: Sequence[Tensor], vector: Tensor) -> Tensor:
    """The product ``Hv`` of the Hessian ``H = ∇²loss()`` at ``params`` with ``vector``.

    ``Hv = ∇(∇loss · v)``: the gradient of the directional derivative, which autograd
    computes without forming ``H`` (Pearlmutter 1994). ``vector`` is flat, over all of
    ``params`` in order; so is the result.

    :raises TypeError: for a ``loss`` that is not callable, ``params`` that are not
        tensors or a ``vector`` that is not a tensor.
    :raises ValueError: for ``params`` without ``requires_grad``, a ``vector`` of the
        wrong length or not finite, or a loss that is not a finite scalar of ``params``.
    """
    check_callable("loss", loss)
    params = _check_params(params)
    vector = _check_vector("vector", vector, params)
    return _Hessian(loss, params) @ vector


def top_eigen(
    loss: Loss,
    params: Sequence[Tensor],
    *,
    iterations: int = 20,
    start: Tensor | None = None,
    tol: float = 1e-4,
    seed: int = 0,
) -> Eigen:
    """The algebraically largest eigenvalue ``λ_max`` of the Hessian of ``loss()`` at
    ``params``, with its unit eigenvector: the loss's *sharpness* and sharpest direction.

    The Lanczos method on Hessian-vector products: from a unit vector ``q₁`` (``start``
    if given, else a seeded random one) it builds an orthonormal basis ``q₁ … q_k`` of
    the Krylov space ``span(q₁, Hq₁, …, H^{k−1}q₁)`` in which ``H`` is the tridiagonal
    ``T_k = QᵀHQ`` (diagonal ``a_j``, off-diagonal ``b_j``),

    ``Hq_j = b_{j−1} q_{j−1} + a_j q_j + b_j q_{j+1}``,  ``a_j = q_jᵀHq_j``,

    re-orthogonalising every new vector against all earlier ones. The largest eigenvalue
    ``θ`` of ``T_k`` (a Ritz value) with its eigenvector ``s`` gives the pair
    ``(θ, Qs)``; ``θ ≤ λ_max`` always, and the residual ``‖HQs − θQs‖ = |b_k s_k|`` is
    known for free. Iterations stop when it falls below ``tol · |θ|`` or after
    ``iterations`` products. Unlike power iteration, which finds the eigenvalue of
    largest *magnitude* (``−3`` for ``½(x² − 3y²)``), this is the largest eigenvalue
    (``1`` there), the one that bounds a stable step.

    Along training the sharpest direction changes slowly: pass the previous
    ``Eigen.vector`` as ``start`` and a few products suffice. An eigenvector's sign is
    arbitrary; the one returned leans towards ``start`` (positive inner product), so a
    tracked direction does not flip from one measurement to the next.

    :raises TypeError: for a ``loss`` that is not callable, ``params`` that are not
        tensors or a ``start`` that is not a tensor.
    :raises ValueError: for ``params`` without ``requires_grad``, ``iterations < 1``,
        a negative ``tol``, a zero or wrongly sized ``start``, or a loss that is not a
        finite scalar computed from ``params``.
    """
    check_callable("loss", loss)
    params = _check_params(params)
    iterations = check_int("iterations", iterations, 1)
    tol = check_real("tol", tol)
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    seed = check_int("seed", seed, 0)
    if start is not None:
        start = _check_vector("start", start, params)
        if not bool(start.any()):
            raise ValueError("start must not be the zero vector: it is the first direction")
    return _lanczos(_Hessian(loss, params), start, iterations, tol, seed)


def _lanczos(
    hessian: _Hessian, start: Tensor | None, iterations: int, tol: float, seed: int
) -> Eigen:
    """Lanczos with full re-orthogonalisation; see :func:`top_eigen`."""
    like = hessian.gradient
    if start is None:
        generator = torch.Generator().manual_seed(seed)
        start = torch.randn(like.numel(), generator=generator, dtype=torch.float64)
    eps = torch.finfo(like.dtype).eps
    q = start.to(like).clone()
    q /= q.norm()
    basis, a, b = [q], [], []  # T's diagonal a_j and off-diagonal b_j
    for _ in range(iterations):
        w = hessian @ basis[-1]
        a.append(float(basis[-1] @ w))
        Q = torch.stack(basis, dim=1)
        for _ in range(2):  # once loses digits where w nearly lies in the span; twice not
            w = w - Q @ (Q.T @ w)
        b.append(float(w.norm()))
        theta, s = _top_ritz(a, b[:-1])
        residual = abs(b[-1] * s[-1])
        scale = max(abs(x) for x in a) + max(b)
        invariant = b[-1] <= 10 * eps * scale or len(basis) == like.numel()
        if residual <= tol * abs(theta) or invariant:
            break  # converged, or the Krylov space holds an exact eigenvector
        basis.append(w / b[-1])
    Q = torch.stack(basis[: len(a)], dim=1)
    vector = Q @ torch.as_tensor(s, dtype=Q.dtype, device=Q.device)
    vector /= vector.norm()
    if float(vector @ basis[0]) < 0:
        vector = -vector  # the sign that leans towards the start: tracked vectors stay aligned
    return Eigen(value=theta, vector=vector, residual=float(residual), iterations=len(a))


def _top_ritz(a: list[float], b: list[float]) -> tuple[float, np.ndarray]:
    """The largest eigenvalue of the tridiagonal ``T`` (diagonal ``a``, off-diagonal
    ``b``) and its unit eigenvector."""
    T = np.diag(a)
    if len(a) > 1:
        T += np.diag(b, 1) + np.diag(b, -1)
    values, vectors = np.linalg.eigh(T)
    return float(values[-1]), vectors[:, -1]


def directional_curvature(
    loss: Loss, params: Sequence[Tensor], direction: Tensor | None = None
) -> float:
    """The curvature of ``loss()`` along ``direction``: ``vᵀHv / vᵀv``.

    It lies between the Hessian's smallest and largest eigenvalues, and equals
    ``λ_max`` along the top eigenvector. With ``direction=None`` it is taken along the
    loss's own gradient ``g``, ``gᵀHg / gᵀg``: for a mini-batch loss ``L_B`` that is the
    curvature the step ``−α∇L_B`` meets, and its mean over batches is the *batch
    sharpness* of Andreyev and Beneventano (chapter "At the edge of stability"). One
    gradient and one Hessian-vector product; ``0.0`` where the gradient is zero.

    :raises TypeError: for a ``loss`` that is not callable, ``params`` that are not
        tensors or a ``direction`` that is not a tensor.
    :raises ValueError: for ``params`` without ``requires_grad``, a zero, wrongly sized
        or non-finite ``direction``, or a loss that is not a finite scalar of ``params``.
    """
    check_callable("loss", loss)
    params = _check_params(params)
    if direction is not None:
        direction = _check_vector("direction", direction, params)
        if not bool(direction.any()):
            raise ValueError("direction must not be the zero vector")
    hessian = _Hessian(loss, params)
    v = hessian.gradient if direction is None else direction.to(hessian.gradient)
    norm2 = float(v @ v)
    if norm2 == 0.0:
        return 0.0  # a stationary point: the gradient points nowhere
    return float(v @ (hessian @ v)) / norm2


# -- input checks --------------------------------------------------------------------


def _check_params(params: Sequence[Tensor]) -> list[Tensor]:
    """``params`` as a non-empty list of tensors that require grad."""
    if isinstance(params, Tensor):
        raise TypeError(
            "params must be a sequence of tensors, got a single tensor: wrap it in a list"
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"params must be a sequence of tensors, got {type(params).__name__}"
        ) from None
    if not all(isinstance(p, Tensor) for p in params):
        raise TypeError("params must be a sequence of tensors")
    if not params:
        raise ValueError("params must hold at least one tensor, got none")
    if not all(p.requires_grad for p in params):
        raise ValueError("every tensor in params must have requires_grad=True")
    return params


def _check_vector(name: str, vector: Tensor, params: list[Tensor]) -> Tensor:
    """``vector`` as a finite flat tensor with one entry per parameter."""
    if not isinstance(vector, Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(vector).__name__}")
    n = sum(p.numel() for p in params)
    if vector.ndim != 1 or vector.numel() != n:
        raise ValueError(
            f"{name} must be a flat tensor of {n} entries (one per parameter, as "
            f"parameters_to_vector lays them out), got shape {tuple(vector.shape)}"
        )
    if not vector.is_floating_point() or not bool(torch.isfinite(vector).all()):
        raise ValueError(f"{name} must hold finite floating-point numbers")
    return vector.detach()


def _check_loss_value(value: object) -> None:
    """``loss()``'s result: a finite scalar tensor with a path to the parameters."""
    if not isinstance(value, Tensor) or value.numel() != 1 or not bool(torch.isfinite(value)):
        raise ValueError(f"loss() must return a finite scalar tensor, got {value!r}")
    if not value.requires_grad:
        raise ValueError(
            "loss() must return a tensor computed from params (autograd finds no path to them)"
        )
