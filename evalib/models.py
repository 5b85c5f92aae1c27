"""The CIFAR ResNet-18 of the book, with a gradient hook on its last conv stage.

"The hooked ResNet-18" explains every part; "Training it with momentum" trains it. The
network is the CIFAR variant of He et al. (2016) as written in kuangliu/pytorch-cifar:
a 3×3 stride-1 stem without max-pooling, four stages of two ``BasicBlock``s each
(widths ``w, 2w, 4w, 8w`` with ``w = width``, stride 2 at the start of stages 2-4),
then a global **max** pool and one linear classifier. With ``width=64`` and 10 classes
it has 11,173,962 parameters.

Two changes to the usual model:

- the forward pass keeps the output ``A`` of ``layer4`` (shape ``(N, 8w, H/8, W/8)``)
  in ``model.activations`` and registers a gradient hook on it, so that after
  ``out[...].sum().backward()`` ``model.gradients`` holds ``∂ out / ∂ A`` (same
  shape). These two tensors are what Grad-CAM needs (:mod:`evalib.cam`);
- global max pooling (``adaptive_max_pool2d(A, 1)``) replaces the fixed 4×4 average
  pool, so the classifier sees ``8w`` numbers whatever the input size (32×32, 64×64,
  non-square).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from evalib._checks import check_int, check_tensor

__all__ = ["BasicBlock", "ResNet18"]


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a residual connection.

    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, where the
    shortcut is the identity, or a strided 1×1 convolution with batch norm when the
    block changes the resolution or the number of channels (He et al. 2016, option B).

    :param in_channels: channels of the input (an int >= 1).
    :param channels: channels of both convolutions and of the output (an int >= 1).
    :param stride: stride of the first convolution and of the shortcut (an int >= 1;
        2 halves the resolution).
    """

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, 1)
        channels = check_int("channels", channels, 1)
        stride = check_int("stride", stride, 1)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False),
                nn.BatchNorm2d(channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` for ``x`` of shape ``(N, in_channels, H, W)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        # Out of place on purpose: no in-place op touches a tensor a hook may hold.
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18 that records its ``layer4`` output and that output's gradient.

    :param num_classes: outputs of the classifier (10 for CIFAR-10).
    :param width: channels of the first stage; the stages have ``width × (1, 2, 4, 8)``
        channels. 64 is the real ResNet-18 (11,173,962 parameters for 10 classes);
        the CPU ("quick") profile uses a narrower network with the same depth and the
        same hook.

    After ``out = model(x)`` with autograd on, ``model.activations`` is the ``layer4``
    output ``A`` (detached), shape ``(N, 8·width, ⌈H/8⌉, ⌈W/8⌉)``; after a backward
    pass from ``out``, ``model.gradients`` is ``∂(backpropagated scalar)/∂A``, same
    shape, and ``model.activations`` the ``A`` of that same forward pass (after two
    forward passes, a backward pass through the first pairs the first's tensors).
    Under ``torch.no_grad()`` or ``torch.inference_mode()`` no hook is registered and
    both attributes are ``None``: there is nothing to differentiate; inside a
    ``torch.func`` transform (``vmap``, ``grad``) nothing is kept either.
    """

    def __init__(self, num_classes: int = 10, width: int = 64) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, 1, 10**6)
        self.width = check_int("width", width, 1, 512)  # 512: 715 M parameters, 2.9 GB
        w = self.width
        self.conv1 = nn.Conv2d(3, w, 3, 1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.layer1 = self._stage(w, w, stride=1)
        self.layer2 = self._stage(w, 2 * w, stride=2)
        self.layer3 = self._stage(2 * w, 4 * w, stride=2)
        self.layer4 = self._stage(4 * w, 8 * w, stride=2)
        self.linear = nn.Linear(8 * w, self.num_classes)
        self.activations: Tensor | None = None
        self.gradients: Tensor | None = None

    @staticmethod
    def _stage(in_channels: int, channels: int, stride: int) -> nn.Sequential:
        """Two BasicBlocks; the first one may halve the resolution."""
        return nn.Sequential(
            BasicBlock(in_channels, channels, stride), BasicBlock(channels, channels, 1)
        )

    def features(self, x: Tensor) -> Tensor:
        """The ``layer4`` output ``A`` for a batch ``x`` of shape ``(N, 3, H, W)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        return self.layer4(out)

    def forward(self, x: Tensor) -> Tensor:
        """Class scores ``(N, num_classes)`` for a batch ``x`` of shape ``(N, 3, H, W)``.

        ``x`` must have the weights' dtype and device (under ``torch.autocast`` the
        autocast rules decide the dtype); a TypeError or ValueError names both otherwise.
        """
        self._check_input(x)
        out = self.features(x)
        if not _transformed(out):  # a torch.func transform's tensors die with it: keep none
            self._record(out)
        out = F.adaptive_max_pool2d(out, 1).flatten(1)  # (N, 8w): any H, W
        return self.linear(out)

    def _check_input(self, x: Tensor) -> None:
        """A batch of RGB images with the weights' dtype and device, large enough for
        train-mode batch norm (two values per channel, also after layer4's H/8 × W/8)."""
        check_tensor("x", x, dims=("N", 3, "H", "W"))
        weight = self.conv1.weight
        if x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type):
            raise TypeError(
                f"x has dtype {x.dtype} but the model's weights are {weight.dtype}: convert one "
                "(x.to(...) or model.to(...); images: x.float() / 255, then normalise)"
            )
        if x.device != weight.device:
            raise ValueError(
                f"x is on {x.device}, the model's weights on {weight.device}: move one"
            )
        if self.training and len(x) * -(-x.shape[2] // 8) * -(-x.shape[3] // 8) < 2:
            raise ValueError(
                f"x of shape {tuple(x.shape)} leaves one value per channel after layer4, which "
                "train-mode batch norm cannot normalise: use more or larger images, or model.eval()"
            )

    def _record(self, out: Tensor) -> None:
        """Keep the layer4 output ``A`` and hook its gradient (with autograd on only)."""
        self.activations = self.gradients = None
        if torch.is_grad_enabled() and out.requires_grad:
            self.activations = out.detach()
            out.register_hook(partial(self._save_gradient, self.activations))

    def _save_gradient(self, activations: Tensor, grad: Tensor) -> None:
        """Tensor hook on one forward pass's layer4 output: runs during its backward pass
        and keeps ``∂L/∂A`` together with that pass's ``A`` (so a backward through an
        earlier forward pass never pairs its gradients with later activations)."""
        self.activations, self.gradients = activations, grad.detach()


def _transformed(t: Tensor) -> bool:
    """Whether ``t`` lives inside a ``torch.func`` transform (``vmap``, ``grad``): its
    values are the transform's own and dead once it returns, so none is kept. Under
    ``torch.compile`` (which cannot trace the query) the answer is no."""
    if torch.compiler.is_compiling():
        return False
    return bool(torch._C._functorch.is_functorch_wrapped_tensor(t))
