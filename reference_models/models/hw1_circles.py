"""HW1 2025: a fully connected classifier for ``make_circles(100, factor=0.1, noise=0.1)``.

2 inputs (x₁, x₂) → 16 → 16 → 2 logits (inner circle / outer ring), ReLU.
Parameters: (2 + 1)·16 + (16 + 1)·16 + (16 + 1)·2 = 48 + 272 + 34 = 354.
Fully connected only, as the handout requires; the circles are not linearly
separable, and one hidden ReLU layer already bends the boundary round them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config:
    """Layer widths; two output logits by default."""

    in_features: int = 2
    hidden: tuple[int, ...] = (16, 16)
    num_classes: int = 2


def build(config: Config | None = None) -> nn.Module:
    """``nn.Sequential`` of Linear + ReLU blocks and a Linear head (logits, no softmax)."""
    c = config or Config()
    layers: list[tuple[str, nn.Module]] = []
    width = c.in_features
    for i, h in enumerate(c.hidden, start=1):
        layers += [(f"fc{i}", nn.Linear(width, h)), (f"relu{i}", nn.ReLU())]  # (N, width) -> (N, h)
        width = h
    layers.append((f"fc{len(c.hidden) + 1}", nn.Linear(width, c.num_classes)))  # (N, width) -> (N, 2)
    return nn.Sequential(OrderedDict(layers))
