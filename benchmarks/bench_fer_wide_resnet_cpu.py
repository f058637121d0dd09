"""How long fer-wide-resnet50-2 (66.8 M parameters) takes per epoch of FER2013 on one CPU core: measured on a
few batches and extrapolated, so the README can say why the GPU path (``--device cuda``, ``torchrun``) is
the way to train it.

One warm-up step, then ``STEPS`` timed training steps (forward, backward, AdamW) on random 48×48 grey faces,
batch ``BATCH``, ``torch.set_num_threads(1)``; the script prints seconds per step, per image, and the
extrapolation to FER2013's 28,709 training faces (an estimate, labelled as one), with the load average.
"""

from __future__ import annotations

import os
import time

import torch

from reference_models.registry import build

BATCH, STEPS, FER_TRAIN = 32, 3, 28_709


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build("fer-wide-resnet50-2").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.rand(BATCH, 1, 48, 48), torch.randint(0, 7, (BATCH,))
    load = os.getloadavg()[0]
    times = []
    for step in range(STEPS + 1):
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:  # the first step is a warm-up
            times.append(time.perf_counter() - start)
    per_step = sorted(times)[len(times) // 2]
    per_image = per_step / BATCH
    print(f"fer-wide-resnet50-2, 1 CPU thread, batch {BATCH}: median {per_step:.1f} s per step of {STEPS}")
    print(f"= {per_image * 1000:.0f} ms per image; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(
        f"extrapolated (not measured): one epoch of FER2013's {FER_TRAIN:,} training faces "
        f"= {per_image * FER_TRAIN / 3600:.1f} h on one core"
    )


if __name__ == "__main__":
    main()
