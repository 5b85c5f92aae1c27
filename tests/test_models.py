"""Tests of evalib.models: the CIFAR ResNet-18 with its layer4 gradient hook."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from evalib.models import BasicBlock, ResNet18


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def small() -> ResNet18:
    torch.manual_seed(0)
    return ResNet18(num_classes=10, width=4)


def test_resnet18_has_11173962_parameters_at_width_64():
    assert count_parameters(ResNet18()) == 11_173_962


def test_parameter_count_matches_the_stage_formula_at_any_width():
    # Stem 3·9·w + 2w (BN); per stage s of width c (input c_in): convs 9·c_in·c + 9·c·c
    # + 2·9·c·c, 3 BNs of 2c, plus a 1×1 shortcut c_in·c + 2c when c_in != c; head 8w·k + k.
    def formula(w: int, k: int) -> int:
        total = 27 * w + 2 * w
        c_in = w
        for c in (w, 2 * w, 4 * w, 8 * w):
            total += 9 * c_in * c + 27 * c * c + 4 * 2 * c
            if c_in != c:
                total += c_in * c + 2 * c
            c_in = c
        return total + 8 * w * k + k

    assert formula(64, 10) == 11_173_962
    for width, classes in [(4, 10), (16, 3), (32, 100)]:
        assert count_parameters(ResNet18(classes, width)) == formula(width, classes)


def test_stages_have_1x_2x_4x_8x_width_channels():
    model = ResNet18(width=6)
    outs = [
        stage[-1].conv2.out_channels
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4)
    ]
    assert outs == [6, 12, 24, 48]
    assert model.linear.in_features == 48
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())


@pytest.mark.parametrize(
    ("size", "feature"),
    [((32, 32), (4, 4)), ((64, 64), (8, 8)), ((40, 24), (5, 3)), ((33, 17), (5, 3))],
)
def test_activations_and_gradients_are_layer4_shaped_at_any_input_size(small, size, feature):
    x = torch.randn(2, 3, *size)
    out = small(x)
    assert out.shape == (2, 10)
    assert small.activations.shape == (2, 32, *feature)
    assert small.gradients is None  # not before backward
    out[:, 0].sum().backward()
    assert small.gradients.shape == (2, 32, *feature)


def test_hooked_tensors_equal_layer4_output_and_its_autograd_gradient(small):
    captured = {}
    handle = small.layer4.register_forward_hook(lambda m, i, o: captured.update(A=o))
    x = torch.randn(3, 3, 32, 32)
    out = small(x)
    handle.remove()
    loss = (out * torch.randn_like(out)).sum()
    (expected,) = torch.autograd.grad(loss, captured["A"], retain_graph=True)
    loss.backward()
    torch.testing.assert_close(small.activations, captured["A"].detach(), rtol=0, atol=0)
    torch.testing.assert_close(small.gradients, expected, rtol=0, atol=0)
    assert not small.activations.requires_grad and not small.gradients.requires_grad


def test_classifier_sees_the_global_max_of_each_layer4_map(small):
    small.eval()
    x = torch.randn(2, 3, 48, 32)
    out = small(x)
    pooled = small.activations.amax(dim=(2, 3))
    torch.testing.assert_close(out, small.linear(pooled))
    assert not torch.allclose(out, small.linear(small.activations.mean(dim=(2, 3))))


def test_nothing_is_recorded_without_autograd(small):
    x = torch.randn(1, 3, 32, 32)
    small(x)[:, 1].sum().backward()
    assert small.activations is not None and small.gradients is not None
    with torch.no_grad():
        out = small(x)
    assert out.grad_fn is None
    assert small.activations is None and small.gradients is None
    small(x)
    with torch.inference_mode():
        small(x)
    assert small.activations is None and small.gradients is None


def test_a_new_forward_clears_the_previous_gradients(small):
    x = torch.randn(1, 3, 32, 32)
    small(x)[:, 0].sum().backward()
    assert small.gradients is not None
    small(x)
    assert small.gradients is None


def test_forward_registers_no_module_hooks(small):
    for _ in range(5):
        small(torch.randn(1, 3, 32, 32))[:, 0].sum().backward()
    for module in small.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert not module._backward_hooks and not module._backward_pre_hooks


def test_torch_compile_traces_the_hook_and_records_the_same_tensors(small):
    torch._dynamo.reset()
    compiled = torch.compile(small, backend="eager")
    x = torch.randn(2, 3, 32, 32)
    compiled(x)[:, 2].sum().backward()
    got_a, got_g = small.activations, small.gradients
    small(x)[:, 2].sum().backward()
    torch.testing.assert_close(got_a, small.activations)
    torch.testing.assert_close(got_g, small.gradients)


def test_basic_block_shortcut_projects_only_when_shape_changes():
    assert isinstance(BasicBlock(8, 8, 1).shortcut, torch.nn.Identity)
    block = BasicBlock(8, 16, 2)
    assert isinstance(block.shortcut, torch.nn.Sequential)
    assert block(torch.randn(1, 8, 10, 10)).shape == (1, 16, 5, 5)
    block.eval()
    x = torch.randn(1, 8, 6, 6)
    same = BasicBlock(8, 8, 1).eval()
    expected = F.relu(same.bn2(same.conv2(F.relu(same.bn1(same.conv1(x))))) + x)
    torch.testing.assert_close(same(x), expected)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"width": 0}, ValueError),
        ({"width": 2.5}, TypeError),
        ({"num_classes": 0}, ValueError),
        ({"num_classes": True}, TypeError),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        ResNet18(**kwargs)


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 1, 32, 32), (1, 3, 32)])
def test_input_that_is_not_an_rgb_batch_raises(small, shape):
    with pytest.raises(ValueError, match="N, 3, H, W"):
        small(torch.randn(*shape))


def test_input_of_another_dtype_than_the_weights_raises_naming_both(small):
    with pytest.raises(TypeError, match=r"x has dtype torch\.float64.*weights.*torch\.float32"):
        small(torch.randn(1, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"x has dtype torch\.uint8"):
        small(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="x must be a torch tensor"):
        small([[0.0]])


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((0, 4), ValueError, "in_channels"),
        ((4, 0), ValueError, "channels"),
        ((4, 4, 0), ValueError, "stride"),
        ((4, 4, 1.0), TypeError, "stride"),
        ((True, 4), TypeError, "in_channels"),
    ],
)
def test_basic_block_refuses_empty_layers_and_zero_strides(args, error, name):
    with pytest.raises(error, match=name):
        BasicBlock(*args)


def test_numpy_integers_are_accepted_as_sizes():
    import numpy as np

    model = ResNet18(num_classes=np.int64(3), width=np.int32(2))
    assert model.num_classes == 3 and model.width == 2 and type(model.width) is int
    block = BasicBlock(np.int64(2), np.int64(4), np.int64(2))
    assert block(torch.randn(1, 2, 8, 8)).shape == (1, 4, 4, 4)


def test_a_backward_through_an_earlier_forward_pairs_that_passs_activations(small):
    small.eval()
    first = small(torch.randn(2, 3, 16, 16))
    small(torch.randn(3, 3, 16, 16))
    assert small.activations.shape[0] == 3 and small.gradients is None
    first.sum().backward()
    assert small.activations.shape == small.gradients.shape
    assert small.activations.shape[0] == 2


def test_nothing_is_kept_from_a_forward_pass_inside_a_torch_func_transform(small):
    small.eval()
    small(torch.randn(1, 3, 8, 8)).sum().backward()
    before = small.activations, small.gradients
    params = {n: p.detach() for n, p in small.named_parameters()}
    x = torch.randn(2, 3, 8, 8)
    torch.func.vmap(lambda xi: torch.func.functional_call(small, params, (xi[None],)))(x)
    assert small.activations is before[0] and small.gradients is before[1]


def test_a_width_beyond_512_is_refused_before_any_memory_is_taken():
    with pytest.raises(ValueError, match=r"width must be between 1 and 512, got 1000000"):
        ResNet18(width=10**6)
