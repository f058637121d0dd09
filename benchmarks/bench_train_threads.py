"""What ``train --threads 2`` buys: hw2-digits images/s with 1 and 2 torch threads, in the same process.

Both train the same 512 generated images for 1 epoch, alternating 1 and 2 threads
three times so a change in the machine's load hits both alike; the script prints
each rate, the best of each, the ratio (2 threads / 1 thread, above 1 is faster),
the number of cores and the load average, which decide the answer: a second
thread helps only when a second core is idle.
"""

from __future__ import annotations

import os
import time

import torch

from reference_models.data import Dataset
from reference_models.data.hw2 import render
from reference_models.registry import build
from reference_models.train import TrainConfig, fit


def rate(data: Dataset, threads: int) -> float:
    config = TrainConfig(epochs=1, batch_size=64, lr=3e-3, augment=True, distort=0.2, threads=threads)
    torch.manual_seed(0)
    model = build("hw2-digits")
    start = time.perf_counter()
    fit(model, data, None, config)
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    data = render(512, split="train", seed=0)
    rate(data.subset(torch.arange(64).numpy()), 1)  # warm-up
    load = os.getloadavg()[0]
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(3):
        for threads in (1, 2):
            runs[threads].append(rate(data, threads))
    for threads, values in runs.items():
        print(f"--threads {threads}: " + ", ".join(f"{v:.0f}" for v in values) + " images/s")
    print(f"cores {os.cpu_count()}, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"ratio --threads 2 / --threads 1 (best of 3 each): {max(runs[2]) / max(runs[1]):.2f}x")


if __name__ == "__main__":
    main()
