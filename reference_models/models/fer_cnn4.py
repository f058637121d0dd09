"""FER (7 facial expressions, 48×48 grey): the 4-conv CNN of student-report-fer-cnn.md.

The report ("TA 手把手 code") gives four Conv2d + MaxPool2d(2) blocks and two
Linear layers::

    conv1 1→32    (32, 48, 48)  pool → (32, 24, 24)
    conv2 32→64   (64, 24, 24)  pool → (64, 12, 12)
    conv3 64→128  (128, 12, 12) pool → (128, 6, 6)
    conv4 128→128 (128, 6, 6)   pool → (128, 3, 3)
    flatten 3·3·128 = 1152 → Linear 256 → ReLU → Linear 7

The report writes "Conv2d(input channels=64, output channels=128)" for the 4th
conv: a typo, since conv3 outputs 128 channels, which is what conv4 must take.
Its shapes keep the size through each conv, so the kernel is 3×3 with padding
1 (⌊(W + 2·1 − 3)/1⌋ + 1 = W); a ReLU follows each conv (the report leaves
activations out; none of this changes a parameter). Parameters:
(3·3·1 + 1)·32 + (3·3·32 + 1)·64 + (3·3·64 + 1)·128 + (3·3·128 + 1)·128
+ (1152 + 1)·256 + (256 + 1)·7 = 320 + 18,496 + 73,856 + 147,584 + 295,168 + 1,799
= 537,223.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config:
    """The report's numbers."""

    in_channels: int = 1
    image_size: int = 48
    channels: tuple[int, int, int, int] = (32, 64, 128, 128)
    hidden: int = 256
    num_classes: int = 7


def build(config: Config | None = None) -> nn.Module:
    """``nn.Sequential`` named conv1, relu1, pool1, …, flatten, fc1, relu5, fc2."""
    c = config or Config()
    layers: list[tuple[str, nn.Module]] = []
    width, size = c.in_channels, c.image_size
    for i, out in enumerate(c.channels, start=1):
        layers += [
            (f"conv{i}", nn.Conv2d(width, out, 3, padding=1)),  # (N, width, s, s) -> (N, out, s, s)
            (f"relu{i}", nn.ReLU()),
            (f"pool{i}", nn.MaxPool2d(2)),  # -> (N, out, ⌊s/2⌋, ⌊s/2⌋)
        ]
        width, size = out, size // 2
    layers += [
        ("flatten", nn.Flatten()),  # (N, 128, 3, 3) -> (N, 1152)
        ("fc1", nn.Linear(width * size * size, c.hidden)),  # -> (N, 256)
        (f"relu{len(c.channels) + 1}", nn.ReLU()),
        ("fc2", nn.Linear(c.hidden, c.num_classes)),  # -> (N, 7) logits
    ]
    return nn.Sequential(OrderedDict(layers))
