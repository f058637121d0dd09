"""Training throughput of hw2-digits with 1 and 2 gloo processes (``torchrun``), on this machine's CPU.

Run it plainly: it starts ``torchrun --nproc-per-node N`` on itself for N = 1 and 2;
under torchrun each process trains its share of the same 256 generated images
for 1 epoch (global batch 64, 1 thread per process) and rank 0 prints the
samples per second. The script prints both rates and the ratio (2 processes /
1 process, above 1 is faster). On a 2-core machine two processes can at best
double the rate, and only when both cores are idle; on GPUs, the rate scales
with the number of GPUs as long as the data keeps up (not measured here: this
machine has none).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker() -> None:
    import torch

    from reference_models.config import TrainConfig
    from reference_models.data.hw2 import render
    from reference_models.device import distributed_from_env
    from reference_models.loop import fit
    from reference_models.registry import build

    data = render(256, split="train", seed=0)
    dist = distributed_from_env(torch.device("cpu"))
    config = TrainConfig(epochs=1, batch_size=64, lr=3e-3, augment=True, distort=0.2)
    torch.manual_seed(0)
    model = build("hw2-digits")
    start = time.perf_counter()
    fit(model, data, None, config, dist=dist)
    elapsed = time.perf_counter() - start
    if dist is None or dist.main:
        print(f"RATE {len(data) / elapsed:.1f}")
    if dist is not None:
        torch.distributed.destroy_process_group()


def run(processes: int) -> float:
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [str(torchrun), "--nproc-per-node", str(processes), __file__, "--worker"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(next(line for line in done.stdout.splitlines() if line.startswith("RATE")).split()[1])


def main() -> None:
    load = os.getloadavg()[0]
    one, two = run(1), run(2)
    print(f"1 gloo process:   {one:6.0f} samples/s")
    print(f"2 gloo processes: {two:6.0f} samples/s")
    print(f"cores {os.cpu_count()}, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"ratio 2 processes / 1 process: {two / one:.2f}x")


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
