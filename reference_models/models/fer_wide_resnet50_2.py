"""FER with wide_resnet50_2 (student-report-fer-wide-resnet.md): 7 classes.

The same network as :mod:`reference_models.models.wide_resnet50_2` with a
2048 → 7 head: 68,883,240 − (2048 + 1)·1000 + (2048 + 1)·7 = 66,848,583
parameters. The report's model starts with Conv2d(3, 64, 7, stride 2), so it
keeps 3 input channels (conv1 is 64×3×7×7) and repeats a 48×48 grey face to
them in ``forward``: ``derive params``, ``train`` and ``evaluate`` all count and
run this one model (``REPEATS_GREY`` tells ``train`` not to refit the channels).
The adaptive average pool lets 48×48 through (the last stage is 2×2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reference_models.models import wide_resnet50_2

__all__ = ["Config", "GreyWideResNet", "REPEATS_GREY", "build"]

REPEATS_GREY = True
"""A 1-channel input is repeated to the 3 channels of conv1 (train keeps ``in_channels`` 3)."""


@dataclass(frozen=True)
class Config(wide_resnet50_2.Config):
    """wide_resnet50_2's settings with 7 classes."""

    num_classes: int = 7


class GreyWideResNet(wide_resnet50_2.WideResNet):
    """wide_resnet50_2 that takes grey images too: (N, 1, H, W) is repeated to (N, 3, H, W) first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1 and self.conv1.in_channels != 1:
            x = x.expand(-1, self.conv1.in_channels, -1, -1)  # (N, 1, H, W) -> (N, 3, H, W), grey repeated
        return super().forward(x)


def build(config: Config | None = None) -> nn.Module:
    """A freshly initialised wide_resnet50_2 with a 7-class head, taking grey or RGB faces."""
    return GreyWideResNet(config or Config())
