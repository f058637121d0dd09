"""Training throughput of hw2-digits against a plain baseline CNN, in the same process.

The baseline is what a student writes first: three 3×3 conv + max-pool stages
on the full 128×128 image (8/16/32 channels), global max pool, linear head.
Both train on the same 512 generated images for 2 epochs; the script prints
images per second for each and the ratio (ours / baseline, higher is better).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from reference_models.data.hw2 import render
from reference_models.registry import build
from reference_models.train import TrainConfig, fit


def baseline() -> nn.Module:
    layers: list[nn.Module] = []
    c_in = 1
    for c_out in (8, 16, 32):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def throughput(model: nn.Module, data, epochs: int = 2) -> float:
    config = TrainConfig(epochs=epochs, batch_size=64, lr=3e-3, augment=True, distort=0.2)
    start = time.perf_counter()
    fit(model, data, None, config)
    return len(data) * epochs / (time.perf_counter() - start)


def main() -> None:
    data = render(512, split="train", seed=0)
    torch.manual_seed(0)
    ours, base = build("hw2-digits"), baseline()
    throughput(build("hw2-digits"), data.subset(torch.arange(64).numpy()), epochs=1)  # warm-up
    a, b = throughput(ours, data), throughput(base, data)
    n_ours, n_base = (sum(p.numel() for p in m.parameters()) for m in (ours, base))
    print(f"hw2-digits ({n_ours:,} params): {a:8.0f} images/s")
    print(f"baseline   ({n_base:,} params): {b:8.0f} images/s")
    print(f"ratio ours/baseline: {a / b:.2f}x")


if __name__ == "__main__":
    main()
