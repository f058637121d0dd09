"""wide_resnet50_2 (Zagoruyko & Komodakis 2016) in plain PyTorch, as torchvision builds it.

torchvision has no CPU wheel matching our pinned torch, so this file rebuilds
``torchvision.models.wide_resnet50_2`` layer for layer, with the same module
names (``conv1``, ``bn1``, ``layer1.0.conv2``, ``fc``...) so a torchvision
state dict loads as is. With 1000 classes it has exactly 68,883,240
parameters, the number torchvision documents; the FER report uses 7 classes.

Structure (input 3×224×224 by default, any size ≥ 1×1 works thanks to the
adaptive pooling)::

    conv1 7×7/2, 64, pad 3, no bias -> bn1 -> relu -> maxpool 3×3/2 pad 1     # 64×56×56
    layer1: 3 Bottlenecks, width 128,  out 256                                # 256×56×56
    layer2: 4 Bottlenecks, width 256,  out 512,  first one stride 2           # 512×28×28
    layer3: 6 Bottlenecks, width 512,  out 1024, first one stride 2           # 1024×14×14
    layer4: 3 Bottlenecks, width 1024, out 2048, first one stride 2           # 2048×7×7
    avgpool (adaptive, 1×1) -> flatten -> fc 2048 -> num_classes

A Bottleneck is conv1 1×1 -> bn1 -> relu -> conv2 3×3 (stride here, as
torchvision's "ResNet v1.5") -> bn2 -> relu -> conv3 1×1 -> bn3, plus the
shortcut (``downsample`` = conv 1×1 with the stride + bn, on the first block of
each stage), then relu. "Wide" means width = planes·(width_per_group/64) =
planes·2 for width_per_group 128, while the block's output stays planes·4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Bottleneck", "Config", "WideResNet", "build"]


@dataclass(frozen=True)
class Config:
    """Hyper-parameters; the defaults are torchvision's ``wide_resnet50_2``."""

    num_classes: int = 1000
    in_channels: int = 3
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)
    width_per_group: int = 128
    zero_init_residual: bool = False


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (expansion 4, stride on the 3×3 conv)."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None, base_width: int = 64
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0))
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, inplanes, H, W) -> (N, 4·planes, ⌊(H − 1)/stride⌋ + 1, same for W)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, width, H/stride, W/stride)
        out = self.bn3(self.conv3(out))  # (N, 4·planes, H/stride, W/stride)
        identity = x if self.downsample is None else self.downsample(x)  # (N, 4·planes, H/stride, W/stride)
        return self.relu(out + identity)


class WideResNet(nn.Module):
    """torchvision's ResNet class restricted to Bottleneck blocks."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.inplanes = 64
        self.base_width = config.width_per_group
        self.conv1 = nn.Conv2d(config.in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, config.layers[0])
        self.layer2 = self._make_layer(128, config.layers[1], stride=2)
        self.layer3 = self._make_layer(256, config.layers[2], stride=2)
        self.layer4 = self._make_layer(512, config.layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * Bottleneck.expansion, config.num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)) and m.weight.is_meta:
                continue  # built on the meta device to count: nothing to initialise (and normal_ is slow there)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if config.zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and not m.bn3.weight.is_meta:
                    nn.init.constant_(m.bn3.weight, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, self.base_width)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes, base_width=self.base_width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, 3, 224, 224)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, 56, 56)
        x = self.layer1(x)  # (N, 256, 56, 56)
        x = self.layer2(x)  # (N, 512, 28, 28)
        x = self.layer3(x)  # (N, 1024, 14, 14)
        x = self.layer4(x)  # (N, 2048, 7, 7)
        x = torch.flatten(self.avgpool(x), 1)  # (N, 2048)
        return self.fc(x)  # (N, num_classes)


def build(config: Config | None = None) -> nn.Module:
    """A freshly initialised wide_resnet50_2 (no weights are downloaded, ever)."""
    return WideResNet(config or Config())
