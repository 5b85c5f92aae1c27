"""Minibatch gradient noise, and what momentum's moving average does to it.

Chapter "Why momentum really works" measures all of this on a small network and real
data (scikit-learn's handwritten digits). The loss of a dataset of ``N`` examples is
the mean of per-example losses, so its gradient is the mean ``ḡ`` of the per-example
gradients ``g_i``, and a minibatch gradient ``g_B`` is the mean over ``B`` of them:

- unbiased: ``E[g_B] = ḡ``;
- noisy: ``E||g_B − ḡ||² = tr(Σ)/B · (N−B)/(N−1)`` for a batch drawn without
  replacement, where ``tr(Σ) = mean_i ||g_i − ḡ||²`` (:func:`minibatch_variance`);
- averaged by momentum: the EWMA ``V_t = β V_{t−1} + (1−β) g_t`` of independent
  minibatch gradients at fixed weights has, once its start is forgotten, the variance
  ``(1−β)/(1+β)`` times that of one minibatch gradient (:func:`ewma_variance_factor`).

:func:`heavy_ball_noise_floor` gives the other side: with noisy gradients the heavy
ball does not converge but jitters around the minimum of a quadratic, and that jitter
grows with ``β`` at a fixed learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from evalib._checks import check_callable, check_instance, check_int, check_real, check_tensor
from evalib.averages import ewma_recursion

__all__ = [
    "per_example_gradients",
    "sample_minibatch_gradients",
    "minibatch_variance",
    "ewma_rows",
    "ewma_variance_factor",
    "gradient_noise",
    "heavy_ball_noise_floor",
]


# The most values sample_minibatch_gradients builds (or permutes) at once: 2**27 float64
# numbers are 1 GiB, and take seconds to draw.
_MAX_SAMPLED = 2**27
_TOO_MANY = f" (at most {_MAX_SAMPLED:,} values at once: draw fewer batches, or several draws)"


def _check_matrix(name: str, grads: Any) -> Tensor:
    """``grads``: a finite 2-D floating-point tensor with at least one row (gradient)."""
    return check_tensor(name, grads, dims="rows, P", dtype="float", finite=True, nonempty=True)


def per_example_gradients(
    model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor
) -> Tensor:
    """The gradient of ``loss_fn`` for each example alone: an ``(N, P)`` tensor.

    Row ``i`` is ``∇_θ loss_fn(model(x[i:i+1]), y[i:i+1])`` flattened over all ``P``
    trainable parameters (in ``model.parameters()`` order). Their mean is the
    full-batch gradient of the mean loss. Computed in one pass with ``torch.func``
    (``vmap`` over ``grad``), which leaves the model's weights and buffers as they were.
    Batch norm in train mode (which updates running statistics) is refused with a
    ValueError: call ``model.eval()`` first.
    """
    check_instance("model", model, nn.Module, "a torch.nn.Module")
    check_callable("loss_fn", loss_fn)
    _check_examples(model, x, y)

    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    buffers = {n: b.detach() for n, b in model.named_buffers()}

    def loss_one(p: dict[str, Tensor], xi: Tensor, yi: Tensor) -> Tensor:
        out = torch.func.functional_call(model, (p, buffers), (xi.unsqueeze(0),))
        return loss_fn(out, yi.unsqueeze(0))

    try:
        grads = torch.func.vmap(torch.func.grad(loss_one), in_dims=(None, 0, 0))(params, x, y)
    except RuntimeError as err:  # shapes or dtypes of x and y that the model cannot take
        raise ValueError(
            f"model and loss_fn fail on one example of x (shape {tuple(x.shape[1:])}, {x.dtype}) and "
            f"y (shape {tuple(y.shape[1:])}, {y.dtype}): {str(err).splitlines()[0]}"
        ) from err
    return torch.cat([grads[n].reshape(len(x), -1) for n in names], dim=1)


def _check_examples(model: nn.Module, x: Any, y: Any) -> None:
    """``x`` and ``y``: tensors of as many rows, at least one; no batch norm that would
    update its running statistics (which has no per-example meaning)."""
    check_tensor("x", x, nonempty=True)
    check_tensor("y", y, nonempty=True)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of rows, got {len(x)} and {len(y)}")
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._NormBase) and m.training and m.track_running_stats:
            raise ValueError(
                f"per_example_gradients needs model.eval(): {name or 'the model'} "
                f"({type(m).__name__}) is in train mode, where it updates its running "
                "statistics with each batch, which has no per-example meaning"
            )


def sample_minibatch_gradients(
    per_example: Tensor, batch_size: int, n_batches: int, generator: torch.Generator | None = None
) -> Tensor:
    """``n_batches`` independent minibatch gradients at fixed weights: ``(n_batches, P)``.

    Each row is the mean of ``batch_size`` rows of ``per_example`` drawn without
    replacement (different rows of the output are drawn independently), i.e. the
    gradient a training step with that batch would see. ``n_batches`` times
    ``max(P, N)`` may be at most ``2**27`` (1 GiB of float64): a larger request raises
    a ValueError instead of running for minutes.
    """
    grads = _check_matrix("per_example", per_example)
    n = grads.shape[0]
    b = check_int("batch_size", batch_size, 1, n)
    check_instance("generator", generator, torch.Generator, "a torch.Generator", optional=True)
    width = max(grads.shape[1], n)  # values per batch: the result's row and its permutation
    t = check_int("n_batches", n_batches, 1, _MAX_SAMPLED // width, hint=_TOO_MANY)
    out = torch.empty(t, grads.shape[1], dtype=grads.dtype)
    gather = 4 * b < n  # small batches: average the B chosen rows; large: a matrix product
    chunk = max(1, 2**22 // (b * grads.shape[1] if gather else n))  # bounds memory per chunk
    for start in range(0, t, chunk):
        rows = min(chunk, t - start)
        # argsort of uniform noise: a random permutation per row, of which we take B.
        idx = torch.rand(rows, n, generator=generator).argsort(dim=1)[:, :b]
        if gather:
            out[start : start + rows] = grads[idx].mean(dim=1)
        else:  # averaging B rows = multiplying by weights 1/B on the chosen ones
            select = torch.zeros(rows, n, dtype=grads.dtype).scatter_(1, idx, 1.0 / b)
            out[start : start + rows] = select @ grads
    return out


def minibatch_variance(per_example: Tensor, batch_size: int) -> float:
    """``E||g_B − ḡ||² = tr(Σ)/B · (N−B)/(N−1)``, exactly, for batches without replacement.

    ``tr(Σ) = (1/N) Σ_i ||g_i − ḡ||²`` is the total variance of one example's
    gradient; ``(N−B)/(N−1)`` is the finite-population correction (0 for ``B = N``:
    the full batch has no noise).
    """
    grads = _check_matrix("per_example", per_example)
    n = grads.shape[0]
    b = check_int("batch_size", batch_size, 1, n)
    if n == 1:
        return 0.0
    spread = (grads - grads.mean(dim=0)).pow(2).sum(dim=1).mean().item()
    return spread / b * (n - b) / (n - 1)


def ewma_rows(grads: Tensor, beta: float) -> Tensor:
    """The EWMA of a sequence of gradients, row by row: ``V_t = β V_{t−1} + (1−β) g_t``.

    ``V`` starts at 0, as momentum's buffer does; row ``t`` of the result is ``V_t``
    after seeing rows ``0..t`` of ``grads``: the recursion of
    :func:`evalib.averages.ewma_recursion`, computed in float64 and returned in
    ``grads``' dtype and device. ``(1−β) ×`` PyTorch's momentum buffer.
    """
    grads = _check_matrix("grads", grads)
    beta = check_real("beta", beta, at_least=0, below=1)
    v = ewma_recursion(grads.detach().cpu().double().numpy(), beta)
    return torch.from_numpy(v).to(dtype=grads.dtype, device=grads.device)


def ewma_variance_factor(beta: float) -> float:
    """Steady-state variance of an EWMA of independent noise, per unit input variance.

    ``V_t = Σ_k (1−β) β^k g_{t−k}`` with independent ``g`` of variance ``σ²`` has
    variance ``(1−β)² Σ_k β^{2k} σ² → (1−β)²/(1−β²) σ² = (1−β)/(1+β) σ²``; about
    ``(1−β)/2`` for ``β`` near 1, the noise of a plain average over ``2/(1−β)`` steps.
    """
    beta = check_real("beta", beta, at_least=0, below=1)
    return (1.0 - beta) / (1.0 + beta)


def gradient_noise(grads: Tensor, full: Tensor) -> dict[str, float]:
    """How far gradient estimates (rows of ``grads``) are from the full gradient ``full``.

    Returns ``variance``: ``mean_t ||g_t − full||²``; ``relative``: that divided by
    ``||full||²`` (above 1, the noise outweighs the signal; ``inf`` for noise around a
    zero ``full``); ``cosine``: the mean cosine similarity between ``g_t`` and
    ``full`` (1 = same direction; 0 where a vector is zero).
    """
    grads = _check_matrix("grads", grads)
    check_tensor("full", full, finite=True)
    if full.shape != grads.shape[1:]:
        raise ValueError(f"full must have shape {tuple(grads.shape[1:])}, got {tuple(full.shape)}")
    variance = (grads - full).pow(2).sum(dim=1).mean().item()
    cosine = nn.functional.cosine_similarity(grads, full.unsqueeze(0), dim=1).mean().item()
    signal = full.pow(2).sum().item()
    if signal > 0:
        relative = variance / signal
    else:
        relative = math.inf if variance > 0 else 0.0
    return {"variance": variance, "relative": relative, "cosine": cosine}


def heavy_ball_noise_floor(lr: float, beta: float, eigval: float, noise_var: float) -> float:
    """Stationary variance of ``w`` for the heavy ball with noisy gradients on ``½ λ w²``.

    Gradients are ``λ w + ε`` with independent noise of variance ``σ²``; the iteration
    ``z ← β z + λ w + ε``, ``w ← w − α z`` is the linear system
    ``s ← R s + c ε`` for ``s = (z, w)``, with ``R = [[β, λ], [−αβ, 1−αλ]]`` the
    heavy ball's iteration matrix (:func:`evalib.theory.momentum_matrix`) and
    ``c = (1, −α)``. When it is stable (``0 < αλ < 2+2β``), its stationary covariance
    ``P`` solves the Lyapunov equation ``P = R P Rᵀ + σ² c cᵀ``; this returns its
    solution's ``P_ww = α σ² (1+β) / (λ (1−β) (2+2β−αλ))``. The expected loss in that
    steady state is ``½ λ P_ww``. For ``β = 0`` it is ``α σ² / (λ (2 − αλ))``.
    A ValueError says when the variance is beyond the float range.
    """
    alpha = check_real("lr", lr, above=0)
    beta = check_real("beta", beta, at_least=0, below=1)
    lam = check_real("eigval", eigval, above=0)
    sigma2 = check_real("noise_var", noise_var, at_least=0)
    check_real("lr*eigval", alpha * lam, below=2 + 2 * beta, hint=": the heavy ball diverges")

    # α σ² first: a step near 0 and a large noise meet before anything over- or underflows.
    p_ww = alpha * sigma2 / lam * (1 + beta) / ((1 - beta) * (2 + 2 * beta - alpha * lam))
    check_real(
        "the stationary variance", p_ww, hint=": lr*noise_var/eigval is beyond the float range"
    )
    return p_ww
