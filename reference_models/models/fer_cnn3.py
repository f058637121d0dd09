"""FER: the "simple 3-layer CNN model [64, 128, 512]" both FER reports use for saliency maps.

Three blocks conv 3×3 (padding 1) → BatchNorm → ReLU → MaxPool 2, with 64,
128 and 512 channels, then a linear classifier::

    (1, 48, 48) → block1 (64, 24, 24) → block2 (128, 12, 12) → block3 (512, 6, 6)
    → flatten 6·6·512 = 18,432 → Dropout → Linear 7

The reports name only the widths; batch-norm, the kernel size and the single
linear head are our reading of the TA's sample code (saliency maps and filter
visualisation need only the convs). Parameters:
(3·3·1 + 1)·64 + 2·64 + (3·3·64 + 1)·128 + 2·128 + (3·3·128 + 1)·512 + 2·512
+ (18432 + 1)·7 = 640 + 128 + 73,856 + 256 + 590,336 + 1,024 + 129,031 = 795,271,
plus 2·(64 + 128 + 512) + 3 = 1,411 BatchNorm buffers (running mean, variance, count).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config:
    """Widths of the three conv blocks, classes, dropout before the head."""

    in_channels: int = 1
    image_size: int = 48
    channels: tuple[int, ...] = (64, 128, 512)
    num_classes: int = 7
    dropout: float = 0.5


def build(config: Config | None = None) -> nn.Module:
    """``nn.Sequential`` of blocks ``block1``… (each conv, bn, relu, pool) and the head."""
    c = config or Config()
    blocks: list[tuple[str, nn.Module]] = []
    width, size = c.in_channels, c.image_size
    for i, out in enumerate(c.channels, start=1):
        blocks.append(
            (
                f"block{i}",
                nn.Sequential(
                    OrderedDict(
                        [
                            ("conv", nn.Conv2d(width, out, 3, padding=1)),  # (N, width, s, s) -> (N, out, s, s)
                            ("bn", nn.BatchNorm2d(out)),
                            ("relu", nn.ReLU()),
                            ("pool", nn.MaxPool2d(2)),  # -> (N, out, ⌊s/2⌋, ⌊s/2⌋)
                        ]
                    )
                ),
            )
        )
        width, size = out, size // 2
    blocks += [
        ("flatten", nn.Flatten()),  # (N, 512, 6, 6) -> (N, 18432)
        ("dropout", nn.Dropout(c.dropout)),
        ("fc", nn.Linear(width * size * size, c.num_classes)),  # -> (N, 7) logits
    ]
    return nn.Sequential(OrderedDict(blocks))
