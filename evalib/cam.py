"""Grad-CAM: where in the image did the network look for a class?

"The hooked ResNet-18" derives it step by step; "Training it with momentum" applies it to
the trained network. For a class ``c`` with score ``y_c`` (the logit) and the ``K``
feature maps ``A^k`` (each ``h × w``) of a convolutional layer, Grad-CAM
(Selvaraju et al. 2017) weighs each map by the spatial mean of its gradient and keeps
the positive part of the weighted sum::

    ω_k = 1/(h·w) · Σ_ij ∂y_c/∂A^k_ij
    M   = ReLU(Σ_k ω_k A^k)                      (h × w)

(the paper writes ``α_k`` and ``L``; the book keeps ``α`` for the step size and ``L``
for the loss). ``GradCAM.cam`` then upsamples ``M`` bilinearly to the input's
``H × W`` and divides each map by its maximum, so every map lies in [0, 1] (an all-zero
map stays zero). Grad-CAM++ (Chattopadhay et al. 2018) only changes the weights ``ω_k``.

The hooks follow pytorch-grad-cam's hygiene: a forward hook on the target layer keeps
a copy of its output ``A`` (a later in-place op, such as torchvision's
``out += identity``, may overwrite the tensor itself) and puts a *tensor* hook
(``A.register_hook``) on it to catch ``∂y/∂A`` during backward. Module-level full
backward hooks are not used: they fail when a later op modifies ``A`` in place, as
torchvision's ResNet does with ``ReLU(inplace=True)`` (pytorch#61519). Hooks live
only for the duration of one ``cam`` call, so a ``GradCAM`` object never leaves a hook
on the model, even when a call raises.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from evalib._checks import check_indices, check_instance, check_int, check_tensor

__all__ = ["GradCAM", "GradCAMPlusPlus", "PointingGame", "pointing_game"]

Targets = int | Sequence[int] | Tensor | None


class GradCAM:
    """Class activation maps from the gradients at ``target_layer`` of ``model``.

    :param model: any ``nn.Module`` mapping a batch ``(N, C, H, W)`` to logits
        ``(N, classes)``.
    :param target_layer: a submodule of ``model`` (or its dotted name, e.g.
        ``"layer4"``) whose output is a batch of feature maps ``(N, K, h, w)``.

    ``cam(x, targets)`` (or ``self(x, targets)``) runs the model in eval mode with its
    parameters frozen, so no ``.grad`` of the model is touched, and afterwards puts the
    model back as it was, also when the call raises: every submodule's train/eval mode,
    every parameter's ``requires_grad`` flag, and the tensors its forward pass keeps on
    its modules (:class:`evalib.models.ResNet18`'s ``activations`` and ``gradients``).
    ``close()`` drops the activations and gradients the object keeps from its last
    call, after which calls raise ``RuntimeError``; a
    ``with GradCAM(model, model.layer4) as cam:`` block calls it at its end.

    A call refuses, with a ``ValueError`` and before it changes anything: images that
    are not finite (or on the meta device, which holds no values), a model whose
    parameters or buffers were created under ``torch.inference_mode()`` (they cannot
    take part in a backward pass), and a target layer that runs more than once in one
    forward pass (its activations and gradients would come from different calls). A
    map that comes out NaN or infinite (the model produced non-finite values) raises a
    ``ValueError`` too, rather than reading as "no evidence".
    """

    def __init__(self, model: nn.Module, target_layer: nn.Module | str) -> None:
        check_instance("model", model, nn.Module, "a torch.nn.Module")
        self.model = model
        self.target_layer = _check_layer(model, target_layer)
        self.activations: Tensor | None = None
        self.gradients: Tensor | None = None
        self._runs = 0  # forward calls of target_layer in the current pass
        self._closed = False

    def __enter__(self) -> GradCAM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the stored activations and gradients and refuse further calls. Idempotent."""
        self.activations = None
        self.gradients = None
        self._closed = True

    def weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """Grad-CAM's channel weights ``ω_k``: the spatial mean of ``∂y_c/∂A^k``, ``(N, K)``."""
        return gradients.mean(dim=(2, 3))

    def cam(self, x: Tensor, targets: Targets = None) -> Tensor:
        """Maps ``(N, H, W)`` in [0, 1] for the batch ``x`` ``(N, C, H, W)``.

        ``targets``: ``None`` (each image's predicted class), one ``int`` for every
        image, or one class per image (a sequence of ints or an integer tensor).
        ``x`` is moved to the model's device, where the maps are returned.
        """
        x, chosen = self._check_call(x, targets)
        handle = self.target_layer.register_forward_hook(self._forward_hook)
        self.activations = self.gradients = None
        self._runs = 0
        try:
            with _untouched(self.model), torch.inference_mode(False), torch.enable_grad():
                # A fresh leaf: x may be an inference tensor, and backward must stop at it.
                x_in = x.detach().clone().requires_grad_(True)
                logits = self.model(x_in)
                chosen = _classes(chosen, logits)
                # In eval mode the images do not interact, so one backward of the sum
                # gives every image the gradient of its own score.
                score = logits.gather(1, chosen[:, None]).sum()
                torch.autograd.grad(score, x_in)
        finally:
            handle.remove()
        if self.activations is None or self.gradients is None:
            raise RuntimeError(
                "target_layer did not run in the model's forward pass, or no gradient reached "
                "it: does the output depend on it?"
            )
        return self._maps(self.activations, self.gradients, tuple(x.shape[-2:]))

    __call__ = cam

    def _check_call(self, x: Any, targets: Targets) -> tuple[Tensor, Tensor | None]:
        """``x`` checked and moved to the model's device (as pytorch-grad-cam moves it),
        ``targets`` as one class index per image (None: the predicted classes)."""
        if self._closed:
            raise RuntimeError("this GradCAM was closed; create a new one")
        check_tensor("x", x, dims="N, C, H, W", dtype="float")
        weight = next(self.model.parameters(), None)
        x = check_tensor("x", x if weight is None else x.to(weight.device), finite=True)
        if any(t.is_inference() for t in (*self.model.parameters(), *self.model.buffers())):
            raise ValueError(
                "the model's tensors were created under torch.inference_mode(), so no gradient "
                "can flow through them: build it outside (use torch.no_grad() there instead)"
            )
        return x, None if targets is None else check_indices("targets", targets, len(x))

    def _maps(self, A: Tensor, G: Tensor, size: tuple[int, ...]) -> Tensor:
        """The Grad-CAM formula, ``(N, *size)``: ``ReLU(Σ_k ω_k A^k)`` with ``ω`` from
        :meth:`weights`, upsampled bilinearly to ``size``, divided by its max (0 stays 0)."""
        omega = self.weights(A, G)  # (N, K)
        maps = F.relu((omega[:, :, None, None] * A).sum(dim=1, keepdim=True))  # (N, 1, h, w)
        check_tensor(
            "the map (from the activations and gradients at target_layer)", maps, finite=True
        )
        maps = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)
        peak = maps.amax(dim=(2, 3), keepdim=True)
        maps = torch.where(peak > 0, maps / peak.clamp_min(torch.finfo(maps.dtype).tiny), 0.0)
        return maps[:, 0].clamp_(0.0, 1.0)

    def _forward_hook(self, module: nn.Module, inputs: tuple, output: Tensor) -> None:
        """Keep the target layer's output ``A`` and hook its gradient."""
        check_tensor("target_layer's output (feature maps)", output, dims="N, K, h, w")
        self._runs += 1
        if self._runs > 1:
            raise ValueError(
                f"target_layer ran {self._runs} times in one forward pass; Grad-CAM pairs one "
                "output with its gradient, so choose a layer that runs once per forward pass"
            )
        # A copy: the output tensor may be overwritten in place later in the forward pass.
        self.activations = output.detach().clone()
        output.register_hook(self._save_gradient)

    def _save_gradient(self, grad: Tensor) -> None:
        self.gradients = grad.detach()


def _check_layer(model: nn.Module, layer: Any) -> nn.Module:
    """``layer`` (a module or a dotted name) as a submodule of ``model``."""
    named = dict(model.named_modules())
    if isinstance(layer, str) and layer not in named:
        raise ValueError(
            f"model has no submodule named {layer!r}: use one of model.named_modules()"
        )
    layer = named.get(layer, layer) if isinstance(layer, str) else layer
    check_instance("target_layer", layer, nn.Module, "an nn.Module or a submodule name")
    if not any(m is layer for m in named.values()):
        raise ValueError("target_layer is not a submodule of the model: pass e.g. model.layer4")
    return layer


def _classes(chosen: Tensor | None, logits: Any) -> Tensor:
    """The class of each image, ``(N,)``: ``chosen`` (checked against the logits' width)
    or, for None, each image's predicted class."""
    check_tensor("the model's output (logits)", logits, dims="N, classes")
    if chosen is None:
        return logits.argmax(dim=1)
    classes = logits.shape[1]
    if not bool(((chosen >= 0) & (chosen < classes)).all()):
        raise ValueError(f"targets must lie in [0, {classes - 1}], got {chosen.tolist()}")
    return chosen.to(logits.device).clone()  # a clone: chosen may be an inference tensor


@contextmanager
def _untouched(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode with every parameter frozen; on exit, also after an error,
    every submodule's train/eval mode, every parameter's ``requires_grad`` and every
    tensor a module keeps as an attribute (a forward pass may store some) as before."""
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    kept = [(m, {k: v for k, v in vars(m).items() if v is None or torch.is_tensor(v)})
            for m in model.modules()]  # fmt: skip
    try:
        model.eval()  # no dropout, no batch-norm statistics updated by a map
        for p, _ in flags:
            p.requires_grad_(False)  # gradients flow to the input only: .grad stays untouched
        yield
    finally:
        for m, training in modes:
            m.training = training
        for p, requires_grad in flags:
            p.requires_grad_(requires_grad)
        for m, tensors in kept:
            vars(m).update(tensors)


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++ (Chattopadhay et al. 2018): the same hooks, pixel-weighted gradients.

    With ``g = ∂y_c/∂A^k`` (the exponential-score closed form of the paper)::

        a_ij = g_ij² / (2 g_ij² + Σ_ab A_ab · g_ij³)      (0 where the denominator is 0)
        ω_k  = Σ_ij a_ij · ReLU(g_ij)
    """

    def weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        g2 = gradients.pow(2)
        g3 = gradients.pow(3)
        denom = 2 * g2 + activations.sum(dim=(2, 3), keepdim=True) * g3
        a = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, 1.0), 0.0)
        return (a * F.relu(gradients)).sum(dim=(2, 3))


# ----------------------------------------------------------------------------------
# Scoring a map: the pointing game ("Training it with momentum")
# ----------------------------------------------------------------------------------


class PointingGame(NamedTuple):
    """The result of :func:`pointing_game`.

    ``hits``: one bool per image, True where the map's peak lies in the object box;
    ``score``: the fraction of hits; ``chance``: the score of a map whose peak falls in
    any of its cells with equal probability (for a map at the image's resolution, the
    mean fraction of the image the boxes cover).
    """

    hits: Tensor
    score: float
    chance: float


def pointing_game(
    maps: Tensor, boxes: Tensor, image_size: tuple[int, int] | None = None
) -> PointingGame:
    """Does each map's peak fall inside its image's object box? (Zhang et al. 2016)

    ``maps``: ``(N, h, w)``, one map per image; ``boxes``: ``(N, 4)`` integer
    ``(x0, y0, x1, y1)`` in the image's pixels, ``x1, y1`` exclusive, as
    :class:`evalib.book.data.OfflineDigits` keeps them; ``image_size``: the image's
    ``(H, W)`` in pixels when the maps are coarser than the image (e.g. Grad-CAM's
    ``4 × 4`` grid at ``layer4`` before upsampling), else ``None`` (maps at the image's
    resolution, ``H, W = h, w``).

    The map's ``h × w`` cells tile the image. The peak of map ``i`` is its largest cell
    ``(r, c)`` (the first in row-major order on ties), and it points at that cell's
    centre, the image point ``(p_x, p_y) = ((c + ½)·W/w, (r + ½)·H/h)`` in pixel
    units. Image ``i`` is a hit when that point lies in its box: the box holds the pixels
    ``x0 … x1 − 1``, the interval ``[x0, x1)``, so ``x0 <= p_x < x1`` and
    ``y0 <= p_y < y1`` (a point on a pixel boundary belongs to the pixel after it, as
    a pixel's index is the floor of its coordinates). For a map at the image's
    resolution the point is a pixel's centre, and this is the pixel test
    ``x0 <= c < x1``, ``y0 <= r < y1``. A map with no positive value points nowhere and counts as a miss.

    Score a coarse map on its own grid, not after upsampling it: bilinear upsampling
    (``align_corners=False``) copies a border cell's value to every pixel between the
    cell's centre and the image's edge, so the first of those tied pixels is on the
    edge, half a cell away from where the map peaks ("Training it with momentum").

    The chance level is ``mean_i n_i / (h·w)``, with ``n_i`` the number of cell centres
    inside box ``i``: what a peak placed in a uniformly random cell scores on average,
    the bar a map must clear to show that it localises anything. At the image's
    resolution it is the mean of ``area(box_i) / (H·W)``.
    """
    n, rows, cols, (height, width), (x0, y0, x1, y1) = _check_game(maps, boxes, image_size)
    peak_value, peak = maps.reshape(n, -1).max(dim=1)
    # Cell centres in integers, doubled and scaled: p_x = (2c + 1)·W / (2w), so
    # x0 <= p_x < x1 reads 2w·x0 <= (2c + 1)·W < 2w·x1, exactly.
    centre_x = (2 * torch.arange(cols, device=maps.device) + 1) * width  # (w,)
    centre_y = (2 * torch.arange(rows, device=maps.device) + 1) * height  # (h,)
    inside_x = (2 * cols * x0[:, None] <= centre_x) & (centre_x < 2 * cols * x1[:, None])
    inside_y = (2 * rows * y0[:, None] <= centre_y) & (centre_y < 2 * rows * y1[:, None])
    index = torch.arange(n, device=maps.device)
    hits = inside_x[index, peak % cols] & inside_y[index, peak // cols] & (peak_value > 0)
    cells = inside_x.sum(dim=1) * inside_y.sum(dim=1)  # cell centres in each box
    chance = cells.double() / (rows * cols)
    return PointingGame(hits.cpu(), float(hits.double().mean()), float(chance.mean()))


def _check_game(
    maps: Any, boxes: Any, image_size: Any
) -> tuple[int, int, int, tuple[int, int], list[Tensor]]:
    """``maps`` finite ``(N, h, w)`` floats with ``N >= 1``; ``image_size`` None or two
    ints ``(H, W)`` at least ``(h, w)``; ``boxes`` integer ``(N, 4)`` inside the image.
    Returns ``N, h, w``, ``(H, W)`` and the boxes' four columns on ``maps``' device."""
    n, rows, cols = check_tensor("maps", maps, dims="N, h, w", dtype="float", finite=True,
                                 nonempty=True).shape  # fmt: skip
    if image_size is None:
        height, width = rows, cols
    elif (
        isinstance(image_size, Sequence)
        and not isinstance(image_size, str)
        and len(image_size) == 2
    ):
        hint = " (the image is at least as fine as its map)"
        height = check_int("image_size[0]", image_size[0], low=rows, hint=hint)
        width = check_int("image_size[1]", image_size[1], low=cols, hint=hint)
    else:
        raise TypeError(f"image_size must be None or two ints (H, W), got {image_size!r}")
    check_tensor("boxes", boxes, dims=(n, 4), dtype="integer")
    x0, y0, x1, y1 = boxes.to(device=maps.device, dtype=torch.long).unbind(dim=1)
    if not bool(
        ((0 <= x0) & (x0 < x1) & (x1 <= width) & (0 <= y0) & (y0 < y1) & (y1 <= height)).all()
    ):
        raise ValueError(
            f"every box in boxes needs 0 <= x0 < x1 <= {width} and 0 <= y0 < y1 <= {height} "
            "(pixels, x1 and y1 exclusive)"
        )
    return n, rows, cols, (height, width), [x0, y0, x1, y1]
