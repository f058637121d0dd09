"""Every course model: exact parameter counts worked out by hand, shapes, TF 'same', torchinfo."""

from __future__ import annotations

import pytest
import torch
import torchinfo
from torch import nn

from reference_models import registry
from reference_models.layers import Conv2dSame, MaxPool2dSame
from reference_models.summary import param_table

# name -> (total worked out by hand, the working)
EXPECTED = {
    "hw1-cifar": (
        (3 * 3 * 3 + 1) * 32 + (3 * 3 * 32 + 1) * 64 + (2048 + 1) * 1024 + (1024 + 1) * 1024 + (1024 + 1) * 10,
        "896 + 18,496 + 2,098,176 + 1,049,600 + 10,250",
    ),
    "hw1-cifar-improved": (
        (3 * 3 * 3 + 1) * 64
        + (3 * 3 * 64 + 1) * 64
        + (3 * 3 * 64 + 1) * 128
        + (3 * 3 * 128 + 1) * 128
        + (3 * 3 * 128 + 1) * 256
        + (3 * 3 * 256 + 1) * 256
        + 2 * (64 + 64 + 128 + 128 + 256 + 256)
        + (256 + 1) * 10,
        "six convs + six BatchNorm (γ, β) + head",
    ),
    "hw1-circles": ((2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 2, "48 + 272 + 34"),
    "hw1-regression": ((1 + 1) * 32 + (32 + 1) * 32 + (32 + 1) * 1, "64 + 1,056 + 33"),
    "fer-cnn4": (
        (3 * 3 * 1 + 1) * 32
        + (3 * 3 * 32 + 1) * 64
        + (3 * 3 * 64 + 1) * 128
        + (3 * 3 * 128 + 1) * 128
        + (1152 + 1) * 256
        + (256 + 1) * 7,
        "320 + 18,496 + 73,856 + 147,584 + 295,168 + 1,799",
    ),
    "fer-cnn3": (
        (3 * 3 * 1 + 1) * 64
        + 2 * 64
        + (3 * 3 * 64 + 1) * 128
        + 2 * 128
        + (3 * 3 * 128 + 1) * 512
        + 2 * 512
        + (6 * 6 * 512 + 1) * 7,
        "640 + 128 + 73,856 + 256 + 590,336 + 1,024 + 129,031",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_total_is_the_hand_count(name: str) -> None:
    expected, _working = EXPECTED[name]
    model = registry.build(name)
    assert sum(p.numel() for p in model.parameters()) == expected
    table = param_table(name)
    assert table.total == expected and table.checked


def test_hand_counts_in_words() -> None:
    assert EXPECTED["hw1-cifar"][0] == 3_177_418
    assert EXPECTED["fer-cnn4"][0] == 537_223
    assert EXPECTED["fer-cnn3"][0] == 795_271
    assert EXPECTED["hw1-cifar-improved"][0] == 1_149_770


def test_wide_resnet50_2_has_torchvisions_documented_count() -> None:
    with torch.device("meta"):  # no memory, no init: a count needs neither
        model = registry.build("wide-resnet50-2")
    # torchvision documents 68,883,240 for wide_resnet50_2 (1000 classes)
    assert sum(p.numel() for p in model.parameters()) == 68_883_240
    with torch.device("meta"):
        fer = registry.build("fer-wide-resnet50-2")
    # the same network with a 7-class head: 68,883,240 − (2048 + 1)·1000 + (2048 + 1)·7
    assert sum(p.numel() for p in fer.parameters()) == 68_883_240 - (2048 + 1) * 1000 + (2048 + 1) * 7


def test_wide_resnet_stage_by_stage() -> None:
    """Stage counts by hand: a bottleneck of width w, in c_in, out c_out (bias-free convs, BN 2·C)."""

    def bottleneck(c_in: int, w: int, c_out: int, down: bool) -> int:
        n = c_in * w + 2 * w + 3 * 3 * w * w + 2 * w + w * c_out + 2 * c_out
        return n + (c_in * c_out + 2 * c_out if down else 0)

    def stage(c_in: int, w: int, c_out: int, blocks: int) -> int:
        return bottleneck(c_in, w, c_out, True) + (blocks - 1) * bottleneck(c_out, w, c_out, False)

    stem = 7 * 7 * 3 * 64 + 2 * 64
    stages = stage(64, 128, 256, 3) + stage(256, 256, 512, 4) + stage(512, 512, 1024, 6) + stage(1024, 1024, 2048, 3)
    assert stem + stages + (2048 + 1) * 1000 == 68_883_240
    table = param_table("wide-resnet50-2")  # traced on the meta device
    assert table.total == 68_883_240 and table.checked
    assert table.layers[-1].output_shape == (1000,)
    # each BatchNorm2d of C channels: γ, β (2·C parameters) and running mean, var, count (2·C + 1 buffers)
    assert table.buffers == sum(r.params + 1 for r in table.layers if r.type == "BatchNorm2d")


@pytest.mark.parametrize("name", ["hw1-cifar", "hw1-cifar-improved", "fer-cnn4", "fer-cnn3", "hw1-circles"])
def test_torchinfo_agrees_where_nothing_is_shared(name: str) -> None:
    spec = registry.get(name)
    model = registry.build(name)
    stats = torchinfo.summary(model, input_size=(1, *spec.input_shape), verbose=0)
    table = param_table(model, spec.input_shape)
    assert stats.total_params == table.total
    assert stats.trainable_params == table.trainable


def test_hw1_cifar_shapes_follow_the_handout() -> None:
    table = param_table("hw1-cifar")
    shapes = {row.name: row.output_shape for row in table.layers}
    assert shapes["conv1"] == (32, 32, 32)  # ⌈32/1⌉
    assert shapes["pool1"] == (32, 16, 16)  # ⌈32/2⌉
    assert shapes["conv2"] == (64, 16, 8)  # H ⌈16/1⌉, W ⌈16/2⌉ (stride 1×2)
    assert shapes["pool2"] == (64, 8, 4)
    assert shapes["flatten"] == (64 * 8 * 4,)
    assert shapes["fc3"] == (10,)


def test_model_forward_shapes() -> None:
    for name in ["hw1-regression", "hw1-circles", "hw1-cifar", "hw1-cifar-improved", "fer-cnn4", "fer-cnn3"]:
        spec = registry.get(name)
        out = registry.build(name).eval()(torch.zeros(2, *spec.input_shape))
        assert out.shape[0] == 2 and out.ndim == 2


def test_polynomial_is_the_sum_of_powers_and_its_autograd_derivative() -> None:
    model = registry.build("hw1-regression", kind="polynomial", degree=3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([1.0, 1.0, -2.0, 0.5]))  # w0..w3 of 0.5x³ − 2x² + x + 1
    assert model.coefficients() == [0.5, -2.0, 1.0, 1.0]
    x = torch.tensor([3.0, 0.1, -0.5], requires_grad=True)
    y = model(x)
    assert torch.allclose(y.squeeze(1), 0.5 * x**3 - 2 * x**2 + x + 1)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert torch.allclose(grad, torch.tensor([2.5, 0.615, 3.375]))  # 1.5x² − 4x + 1
    assert sum(p.numel() for p in model.parameters()) == 3 + 1


def test_conv2d_same_by_hand() -> None:
    """4×4 input, 3×3 kernel of ones, stride 2, 'same': ⌈4/2⌉ = 2, pad total (2−1)·2 + 3 − 4 = 1, all bottom/right."""
    conv = Conv2dSame(1, 1, 3, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # rows 0-3 are [0 1 2 3], [4 5 6 7], [8 9 10 11], [12 13 14 15]; padded with a zero row and column
    expected = torch.tensor(
        [[0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10, 2 + 3 + 6 + 7 + 10 + 11], [8 + 9 + 10 + 12 + 13 + 14, 10 + 11 + 14 + 15]],
        dtype=torch.float32,
    )
    assert torch.equal(conv(x)[0, 0], expected)


def test_conv2d_same_matches_pytorch_same_at_stride_1() -> None:
    torch.manual_seed(0)
    ours = Conv2dSame(2, 3, 3)
    ref = nn.Conv2d(2, 3, 3, padding="same")
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(1, 2, 7, 5)
    assert torch.allclose(ours(x), ref(x), atol=1e-6)


def test_conv2d_same_stride_1x2_width() -> None:
    out = Conv2dSame(1, 1, 3, stride=(1, 2))(torch.zeros(1, 1, 16, 16))
    assert out.shape == (1, 1, 16, 8)  # ⌈16/1⌉ × ⌈16/2⌉


def test_maxpool_same_ignores_padding() -> None:
    x = -torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all negative: a zero pad would win
    out = MaxPool2dSame(2, 2)(x)  # ⌈3/2⌉ = 2, pad 1 bottom/right
    assert out.shape == (1, 1, 2, 2)
    assert torch.equal(out[0, 0], torch.tensor([[-1.0, -3.0], [-7.0, -9.0]]))
