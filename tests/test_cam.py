"""Tests of evalib.cam: Grad-CAM and Grad-CAM++ on our ResNet-18 and on torchvision's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from evalib.cam import GradCAM, GradCAMPlusPlus
from evalib.models import ResNet18


@pytest.fixture
def model() -> ResNet18:
    torch.manual_seed(0)
    return ResNet18(num_classes=10, width=4)


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def hook_count(model: nn.Module) -> int:
    """Every module-level hook the model holds (forward, pre-forward, backward)."""
    return sum(
        len(m._forward_hooks)
        + len(m._forward_pre_hooks)
        + len(m._backward_hooks)
        + len(m._backward_pre_hooks)
        for m in model.modules()
    )


def cam_by_hand(A: torch.Tensor, G: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Grad-CAM written out: α_k = mean_ij G, ReLU(Σ_k α_k A^k), upsample, divide by max."""
    alpha = G.mean(dim=(2, 3))
    maps = F.relu(torch.einsum("nk,nkhw->nhw", alpha, A))[:, None]
    maps = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)[:, 0]
    return torch.nan_to_num(maps / maps.amax(dim=(1, 2), keepdim=True), nan=0.0)  # 0/0: no evidence


def test_maps_are_input_sized_and_span_0_to_1(model):
    for size in [(32, 32), (64, 64), (40, 24)]:
        with GradCAM(model, model.layer4) as cam:
            maps = cam(torch.randn(2, 3, *size))
        assert maps.shape == (2, *size)
        assert maps.min() >= 0 and torch.allclose(maps.amax(dim=(1, 2)), torch.ones(2))


def test_gradcam_equals_the_map_computed_by_hand_from_the_models_hook(model, x):
    targets = [3, 7, 0]
    model.eval()
    out = model(x)
    out.gather(1, torch.tensor(targets)[:, None]).sum().backward()
    expected = cam_by_hand(model.activations, model.gradients, (32, 32))
    # Two maps with evidence, and one whose weighted sum is negative everywhere.
    assert expected.amax(dim=(1, 2)).tolist() == [1.0, 1.0, 0.0]
    with GradCAM(model, model.layer4) as cam:
        torch.testing.assert_close(cam(x, targets), expected)
        torch.testing.assert_close(cam.cam(x, torch.tensor(targets)), expected)


def test_closed_form_on_a_linear_head():
    # conv -> ReLU (target) -> global mean -> linear: ∂y_c/∂A^k_ij = W[c, k]/(h·w), so
    # the map for a class with weights (1, ..., 1) is ΣA^k / max, and for weights
    # (-1, ..., -1) it is ReLU of a non-positive sum: all zeros, not NaN.
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    with torch.no_grad():
        net[4].weight.copy_(torch.tensor([[1.0] * 4, [-1.0] * 4]))
    x = torch.randn(2, 3, 8, 8)
    with GradCAM(net, net[1]) as cam:
        positive, negative = cam(x, 0), cam(x, 1)
    total = net[1](net[0](x)).sum(dim=1)
    torch.testing.assert_close(positive, total / total.amax(dim=(1, 2), keepdim=True))
    assert torch.equal(negative, torch.zeros_like(negative))


def test_no_targets_means_the_predicted_class(model, x):
    with GradCAM(model, model.layer4) as cam:
        predicted = model.eval()(x).argmax(dim=1).tolist()
        torch.testing.assert_close(cam(x), cam(x, predicted))


def test_one_int_target_applies_to_every_image(model, x):
    with GradCAM(model, "layer4") as cam:
        torch.testing.assert_close(cam(x, 5), cam(x, [5, 5, 5]))


def test_each_image_gets_its_own_map_in_a_batch(model, x):
    with GradCAM(model, model.layer4) as cam:
        batch = cam(x, [1, 2, 3])
        single = torch.cat([cam(x[i : i + 1], [t]) for i, t in enumerate([1, 2, 3])])
    torch.testing.assert_close(batch, single)


def test_no_hooks_left_after_100_calls_or_a_failed_call(model):
    before = hook_count(model)
    cam = GradCAM(model, model.layer4)
    x = torch.randn(1, 3, 16, 16)
    for _ in range(100):
        cam(x)
    assert hook_count(model) == before == 0
    with pytest.raises(ValueError):
        cam(x, 99)
    assert hook_count(model) == 0


def test_modes_flags_and_grads_are_restored(model, x):
    model.train()
    model.layer2.eval()  # a mixed state must come back as it was
    model.conv1.weight.requires_grad_(False)
    modes = {name: m.training for name, m in model.named_modules()}
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    running = model.bn1.running_mean.clone()
    with GradCAM(model, model.layer4) as cam:
        cam(x)
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert {name: p.requires_grad for name, p in model.named_parameters()} == flags
    assert all(p.grad is None for p in model.parameters())  # the model's .grad untouched
    assert torch.equal(model.bn1.running_mean, running)  # eval mode: no BN statistics update


def test_modes_are_restored_when_a_call_fails(model, x):
    model.train()
    with GradCAM(model, model.layer4) as cam, pytest.raises(ValueError):
        cam(x, [0, 1])  # 2 targets for 3 images
    assert all(m.training for m in model.modules())
    assert all(p.requires_grad for p in model.parameters())


def test_works_under_no_grad_and_inference_mode(model, x):
    with GradCAM(model, model.layer4) as cam:
        expected = cam(x, 4)
        with torch.no_grad():
            torch.testing.assert_close(cam(x, 4), expected)
        with torch.inference_mode():
            torch.testing.assert_close(cam(x, 4), expected)


@pytest.mark.parametrize("layer", ["layer4", "layer4.1.bn2"])
def test_torchvision_resnet18_with_inplace_relu_matches_out_of_place_copy(layer):
    # bn2's output is changed in place afterwards (out += identity; relu_(out)): a
    # tensor hook still sees the gradient of the value bn2 returned.
    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None, num_classes=10)
    assert any(isinstance(m, nn.ReLU) and m.inplace for m in tv.modules())
    plain = copy.deepcopy(tv)
    for m in plain.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    x = torch.randn(2, 3, 32, 32)
    with GradCAM(tv, layer) as cam, GradCAM(plain, layer) as reference:
        torch.testing.assert_close(cam(x, [1, 2]), reference(x, [1, 2]))
    assert hook_count(tv) == 0


def test_gradcam_plus_plus_weights_follow_the_closed_form(model, x):
    with GradCAMPlusPlus(model, model.layer4) as cam:
        maps = cam(x, [0, 1, 2])
        A, G = cam.activations, cam.gradients
    a = G**2 / (2 * G**2 + A.sum(dim=(2, 3), keepdim=True) * G**3)
    a = torch.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    alpha = (a * F.relu(G)).sum(dim=(2, 3))
    expected = F.relu(torch.einsum("nk,nkhw->nhw", alpha, A))[:, None]
    expected = F.interpolate(expected, size=(32, 32), mode="bilinear", align_corners=False)[:, 0]
    torch.testing.assert_close(
        maps, torch.nan_to_num(expected / expected.amax(dim=(1, 2), keepdim=True), nan=0.0)
    )


@pytest.mark.parametrize("method", ["GradCAM", "GradCAMPlusPlus"])
def test_agrees_with_pytorch_grad_cam(model, x, method):
    # pytorch-grad-cam min-max scales the low-resolution map, resizes it with OpenCV,
    # then min-max scales again; apply the same scaling to our low-resolution map.
    pgc = pytest.importorskip("pytorch_grad_cam")
    cv2 = pytest.importorskip("cv2")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    ours_cls = {"GradCAM": GradCAM, "GradCAMPlusPlus": GradCAMPlusPlus}[method]
    model.eval()
    with ours_cls(model, model.layer4) as ours:
        ours(x, [1, 2, 3])
        A, G = ours.activations, ours.gradients
        low = F.relu(torch.einsum("nk,nkhw->nhw", ours.weights(A, G), A)).numpy()
    with getattr(pgc, method)(model=model, target_layers=[model.layer4]) as theirs:
        maps = theirs(input_tensor=x, targets=[ClassifierOutputTarget(c) for c in [1, 2, 3]])

    def scale(m):
        m = m - m.min()
        return m / (1e-7 + m.max())

    expected = np.stack([scale(cv2.resize(scale(m), (32, 32))) for m in low])
    np.testing.assert_allclose(maps, expected, rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    "make, error, match",
    [
        pytest.param(lambda m, x: GradCAM("resnet", m.layer4), TypeError, "model", id="model-is-a-string"),
        pytest.param(lambda m, x: GradCAM(m, ResNet18(width=4).layer4), ValueError, "not a submodule",
                     id="layer-of-another-model"),
        pytest.param(lambda m, x: GradCAM(m, "layer5"), ValueError, "no submodule named 'layer5'",
                     id="unknown-layer-name"),
        pytest.param(lambda m, x: GradCAM(m, 4), TypeError, "target_layer", id="layer-is-an-int"),
        pytest.param(lambda m, x: GradCAM(m, m.linear)(x), ValueError, "feature maps",
                     id="layer-without-feature-maps"),
    ],
)  # fmt: skip
def test_bad_models_and_layers_are_refused(model, x, make, error, match):
    with pytest.raises(error, match=match):
        make(model, x)


@pytest.mark.parametrize(
    "call, error, match",
    [
        pytest.param(lambda cam, x: cam(x[0]), ValueError, r"\(N, C, H, W\)", id="one-image-not-a-batch"),
        pytest.param(lambda cam, x: cam(x.to(torch.uint8)), TypeError, "floating-point", id="uint8-images"),
        pytest.param(lambda cam, x: cam(x, 10), ValueError, r"\[0, 9\]", id="class-beyond-the-last"),
        pytest.param(lambda cam, x: cam(x, [0, -1, 2]), ValueError, r"\[0, 9\]", id="negative-class"),
        pytest.param(lambda cam, x: cam(x, [1, 2]), ValueError, "one entry per item",
                     id="fewer-classes-than-images"),
        pytest.param(lambda cam, x: cam(x, 1.5), TypeError, "targets", id="float-class"),
        pytest.param(lambda cam, x: cam(x, torch.tensor([0.0, 1.0, 2.0])), TypeError, "targets",
                     id="float-class-tensor"),
    ],
)  # fmt: skip
def test_bad_images_and_targets_are_refused(model, x, call, error, match):
    with GradCAM(model, model.layer4) as cam, pytest.raises(error, match=match):
        call(cam, x)


def test_a_closed_cam_refuses_to_run(model, x):
    cam = GradCAM(model, model.layer4)
    cam.close()
    with pytest.raises(RuntimeError, match="closed"):
        cam(x)


def test_cam_overlay_draws_the_map_over_the_image_with_a_colour_bar(model, x):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from evalib.book.plots import cam_overlay

    with GradCAM(model, model.layer4) as cam:
        maps = cam(x)
    image = (x[0] - x[0].min()) / (x[0].max() - x[0].min())  # (3, H, W) in [0, 1]
    fig, ax = plt.subplots()
    shown = cam_overlay(ax, image, maps[0], title="predicted class")
    assert len(ax.images) == 2 and ax.images[0].get_array().shape == (32, 32, 3)
    np.testing.assert_array_equal(shown.get_array(), maps[0].numpy())
    assert shown.get_clim() == (0.0, 1.0) and len(fig.axes) == 2  # the colour bar's axes
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cam_overlay(ax, x[0], maps[0])  # normalised, not un-normalised
    with pytest.raises(ValueError, match="cam must be"):
        cam_overlay(ax, image, maps[0, :16])
    with pytest.raises(ValueError, match="image must be"):
        cam_overlay(ax, image[0], maps[0])
    plt.close(fig)


def without_in_place_ops(tv: nn.Module) -> nn.Module:
    """A copy of a torchvision ResNet whose ReLUs and residual sums make new tensors."""
    from torchvision.models.resnet import BasicBlock

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + identity)  # torchvision: out += identity; relu(out) in place

    plain = copy.deepcopy(tv)
    for m in plain.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
        if isinstance(m, BasicBlock):
            m.forward = forward.__get__(m)
    return plain


def test_activations_overwritten_in_place_later_do_not_change_the_map():
    # At 128x128 layer4 is 4x4, so the map has a shape to get wrong. bn2's output is
    # overwritten by `out += identity` and ReLU(inplace=True) after the hook ran.
    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    plain = without_in_place_ops(tv)
    x = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(tv(x), plain(x))  # the same function
    with GradCAM(tv, "layer4.1.bn2") as cam, GradCAM(plain, "layer4.1.bn2") as reference:
        maps, expected = cam(x, [1, 3]), reference(x, [1, 3])
        torch.testing.assert_close(cam.activations, reference.activations)
    assert (expected.amax(dim=(1, 2)) - expected.amin(dim=(1, 2))).min() > 0.5  # not constant
    torch.testing.assert_close(maps, expected)


def test_a_target_layer_that_runs_twice_in_one_forward_is_refused():
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), block, block, nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(4, 2))  # fmt: skip
    with GradCAM(net, block) as cam, pytest.raises(ValueError, match="ran 2 times"):
        cam(torch.randn(1, 3, 8, 8))
    assert hook_count(net) == 0 and all(p.requires_grad for p in net.parameters())


def test_a_model_built_under_inference_mode_is_refused_and_left_as_it_was(x):
    torch.manual_seed(0)
    with torch.inference_mode():
        frozen = ResNet18(num_classes=10, width=4).train()
    with GradCAM(frozen, frozen.layer4) as cam, pytest.raises(ValueError, match="inference_mode"):
        cam(x)
    assert all(p.requires_grad for p in frozen.parameters())
    assert all(m.training for m in frozen.modules()) and hook_count(frozen) == 0


def test_non_finite_images_and_maps_are_refused(model, x):
    with GradCAM(model, model.layer4) as cam:
        for bad in (float("nan"), float("inf")):
            image = x.clone()
            image[1, 0, 5, 5] = bad
            with pytest.raises(ValueError, match="x must be finite"):
                cam(image)
        with torch.no_grad():
            model.linear.weight[0, 0] = float("nan")  # the model itself produces NaN
        with pytest.raises(ValueError, match=r"the map .* must be finite"):
            cam(x, 0)


def test_a_map_leaves_the_models_own_activations_and_gradients_as_they_were(model, x):
    model.eval()
    model(x[:1]).sum().backward()
    before = model.activations, model.gradients
    with GradCAM(model, model.layer4) as cam:
        cam(x)
    assert model.activations is before[0] and model.gradients is before[1]


@pytest.mark.parametrize(
    "call, error, match",
    [
        pytest.param(lambda cam, x: cam(x, 10**20), ValueError, "int64 range", id="huge-class"),
        pytest.param(lambda cam, x: cam(x.to("meta")), ValueError, r"x is on the meta device",
                     id="meta-images"),
    ],
)  # fmt: skip
def test_classes_beyond_int64_and_images_without_values_are_refused(model, x, call, error, match):
    with GradCAM(model, model.layer4) as cam, pytest.raises(error, match=match):
        call(cam, x)
