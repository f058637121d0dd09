"""Layers PyTorch lacks: TensorFlow's ``padding='same'`` for any stride.

PyTorch's ``nn.Conv2d(padding='same')`` refuses a stride above 1, and its
pooling layers have no 'same' at all. TensorFlow (and so the handouts written
for Keras) define it as: output = ⌈in/stride⌉, and the input is padded by
``total = max((⌈in/s⌉ − 1)·s + k_eff − in, 0)`` pixels, ``total // 2`` before
and the rest after (one more at the bottom/right when total is odd). The two
layers here pad exactly so (``F.pad``, asymmetric), then run the ordinary
PyTorch operation with no padding. Max pooling pads with −∞, as TensorFlow
ignores padded cells; the pixel count of the output shape is the same either way.

The padding arithmetic is :func:`reference_models.shapes.same_padding`, so the tables of
:mod:`reference_models.summary` and the layers cannot disagree.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.shapes import same_padding

__all__ = ["Conv2dSame", "MaxPool2dSame", "depthwise_separable", "tf_same_pad"]


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def tf_same_pad(
    x: torch.Tensor,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    value: float = 0.0,
) -> torch.Tensor:
    """Pad ``x`` (N, C, H, W) as TensorFlow's 'same' does, the extra pixel bottom/right.

    >>> tf_same_pad(torch.zeros(1, 1, 16, 16), (3, 3), (1, 2)).shape
    torch.Size([1, 1, 18, 17])
    """
    top, bottom = same_padding(x.shape[-2], kernel[0], stride[0], dilation[0])
    left, right = same_padding(x.shape[-1], kernel[1], stride[1], dilation[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)  # F.pad takes the last dim first


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's 'same' padding for any stride: output ⌈H/s_h⌉ × ⌈W/s_w⌉.

    Its parameters are exactly those of ``nn.Conv2d`` (weight C_out × C_in × k_h × k_w, bias C_out).
    """

    padding_mode_tf = "same"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=0,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, C_in, H, W) -> (N, C_out, ⌈H/s_h⌉, ⌈W/s_w⌉)
        x = tf_same_pad(x, self.kernel_size, self.stride, self.dilation)  # type: ignore[arg-type]
        return super().forward(x)

    def extra_repr(self) -> str:
        return super().extra_repr() + ", padding='same' (TensorFlow)"


class MaxPool2dSame(nn.MaxPool2d):
    """``nn.MaxPool2d`` with TensorFlow's 'same' padding: output ⌈H/s_h⌉ × ⌈W/s_w⌉."""

    padding_mode_tf = "same"

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None) -> None:
        super().__init__(_pair(kernel_size), stride=_pair(stride if stride is not None else kernel_size), padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, C, H, W) -> (N, C, ⌈H/s_h⌉, ⌈W/s_w⌉); padded cells are -inf so they never win
        x = tf_same_pad(x, self.kernel_size, self.stride, value=float("-inf"))  # type: ignore[arg-type]
        return super().forward(x)

    def extra_repr(self) -> str:
        return super().extra_repr() + ", padding='same' (TensorFlow)"


def depthwise_separable(c_in: int, c_out: int) -> list[nn.Module]:
    """A depthwise-separable 3×3 stage as the HW2 references build it: depthwise 3×3 (one filter per
    channel), pointwise 1×1 ``c_in``→``c_out``, both without bias (BatchNorm's β is the bias), BatchNorm, ReLU.

    Its parameters: 3·3·``c_in`` + ``c_in``·``c_out`` + 2·``c_out``.

    >>> sum(p.numel() for m in depthwise_separable(8, 12) for p in m.parameters())
    192
    """
    return [
        nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    ]
