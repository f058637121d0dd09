"""HW1 2023 (二): the CIFAR-10 CNN of the handout's table, plus a ReLU after fc1 and fc2.

The table lists no activation on its Dense rows; ``dense_relu=False`` (``--set
dense_relu=false``) is the literal table. The parameter count is the same.

=================  ==========  =======  ======  ========  ====================
layer              kernel      filters  stride  padding   output (C×H×W)
=================  ==========  =======  ======  ========  ====================
conv1 Conv2D       3×3         32       1×1     same      32×32×32
relu1, pool1       2×2         --       2×2     same      32×16×16
drop1 Dropout 25%
conv2 Conv2D       3×3         64       1×2     same      64×16×8
relu2, pool2       2×2         --       2×2     same      64×8×4
drop2, flatten                                            2048
fc1 Dense 1024, drop3                                     1024
fc2 Dense 1024, drop4                                     1024
fc3 Dense 10                                              10
=================  ==========  =======  ======  ========  ====================

'same' is TensorFlow's rule (the handout is written for Keras), reproduced by
:mod:`reference_models.layers`; stride "1×2" is Keras' ``strides=(1, 2)``:
1 along the height, 2 along the width. Parameters:
(3·3·3 + 1)·32 + (3·3·32 + 1)·64 + (2048 + 1)·1024 + (1024 + 1)·1024 + (1024 + 1)·10
= 896 + 18,496 + 2,098,176 + 1,049,600 + 10,250 = 3,177,418.

Keras flattens H×W×C and PyTorch C×H×W: the same count, a different order of
fc1's inputs, which matters only when porting weights.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from torch import nn

from reference_models.layers import Conv2dSame, MaxPool2dSame

__all__ = ["Config", "build"]


@dataclass(frozen=True)
class Config:
    """Hyper-parameters; the defaults are the handout's table."""

    in_channels: int = 3
    image_size: tuple[int, int] = (32, 32)
    channels: tuple[int, int] = (32, 64)
    hidden: tuple[int, int] = (1024, 1024)
    num_classes: int = 10
    dropout: float = 0.25
    #: The table lists no activation after its Dense rows (Keras' default is linear, which would
    #: collapse fc1·fc2 into one linear map); students and the TA solution put a ReLU there.
    #: False gives the literal reading. No parameters either way.
    dense_relu: bool = True


def build(config: Config | None = None) -> nn.Module:
    """The handout's CNN as an ``nn.Sequential`` with named layers (conv1, relu1, pool1, ...)."""
    c = config or Config()
    h, w = c.image_size
    h, w = math.ceil(h / 1), math.ceil(w / 1)  # conv1, stride 1×1, 'same'
    h, w = math.ceil(h / 2), math.ceil(w / 2)  # pool1, stride 2×2, 'same'
    h, w = math.ceil(h / 1), math.ceil(w / 2)  # conv2, stride 1×2, 'same'
    h, w = math.ceil(h / 2), math.ceil(w / 2)  # pool2, stride 2×2, 'same'
    flat = c.channels[1] * h * w  # 64·8·4 = 2048 for 32×32
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", Conv2dSame(c.in_channels, c.channels[0], 3, stride=1)),  # (N, 3, 32, 32) -> (N, 32, 32, 32)
                ("relu1", nn.ReLU()),
                ("pool1", MaxPool2dSame(2, stride=2)),  # -> (N, 32, 16, 16)
                ("drop1", nn.Dropout(c.dropout)),
                ("conv2", Conv2dSame(c.channels[0], c.channels[1], 3, stride=(1, 2))),  # -> (N, 64, 16, 8)
                ("relu2", nn.ReLU()),
                ("pool2", MaxPool2dSame(2, stride=2)),  # -> (N, 64, 8, 4)
                ("drop2", nn.Dropout(c.dropout)),
                ("flatten", nn.Flatten()),  # -> (N, 2048)
                ("fc1", nn.Linear(flat, c.hidden[0])),  # -> (N, 1024)
                ("relu3", nn.ReLU() if c.dense_relu else nn.Identity()),
                ("drop3", nn.Dropout(c.dropout)),
                ("fc2", nn.Linear(c.hidden[0], c.hidden[1])),  # -> (N, 1024)
                ("relu4", nn.ReLU() if c.dense_relu else nn.Identity()),
                ("drop4", nn.Dropout(c.dropout)),
                ("fc3", nn.Linear(c.hidden[1], c.num_classes)),  # -> (N, 10) logits
            ]
        )
    )
