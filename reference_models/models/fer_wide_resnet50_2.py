"""FER with wide_resnet50_2 (student-report-fer-wide-resnet.md): 7 classes.

The same network as :mod:`reference_models.models.wide_resnet50_2` with a
2048 → 7 head: 68,883,240 − (2048 + 1)·1000 + (2048 + 1)·7 = 66,848,583
parameters. The 48×48 grey faces are repeated to 3 channels (``in_channels`` 3),
as the report's model, which starts with Conv2d(3, 64, 7, stride 2), implies;
the adaptive average pool lets 48×48 through (the last stage is 2×2).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reference_models.models import wide_resnet50_2

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config(wide_resnet50_2.Config):
    """wide_resnet50_2's settings with 7 classes."""

    num_classes: int = 7


def build(config: Config | None = None) -> nn.Module:
    """A freshly initialised wide_resnet50_2 with a 7-class head."""
    return wide_resnet50_2.build(config or Config())
