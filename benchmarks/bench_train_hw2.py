"""HW2's two references side by side: accuracy, parameters, accuracy ÷ parameters and training time.

Run:  .venv/bin/python benchmarks/bench_train_hw2.py [--quick] [--shipped-only]

Both models are trained in this process with the project's own recipe, exactly what
``python -m reference_models train NAME --data DIR --epochs N --seed 0 --threads 1`` does
(``train_model`` on a folder written by ``make-data hw2 --n-train 9000 --n-test 2000 --seed 0``):
``hw2-digits`` (2,938 parameters) for 30 epochs and ``hw2-digits-small`` (1,438) for 90. Each
trained model, and each shipped weights file, is scored on three fresh generated test sets of
2,000 images (seeds 7001-7003, drawn on the test sources, never used in training or in the
tests); the table prints the mean and standard deviation of top-1 over the three.

``--quick`` trains on 1,000 images for 3 epochs (a smoke run: the accuracies mean nothing);
``--shipped-only`` scores the shipped weights without training (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reference_models.config import DEFAULTS  # noqa: E402
from reference_models.data.hw2 import generate_hw2, render  # noqa: E402
from reference_models.train import load_model, measure_top, shipped_weights, train_model  # noqa: E402

RECIPES = {"hw2-digits": 30, "hw2-digits-small": 90}
TEST_SEEDS = (7001, 7002, 7003)


def score(model: object, n: int) -> list[float]:
    return [measure_top(model, render(n, split="test", seed=seed))[1] for seed in TEST_SEEDS]


def row(name: str, what: str, top1s: list[float], params: int, seconds: float | None) -> str:
    mean = statistics.mean(top1s)
    spread = statistics.stdev(top1s) if len(top1s) > 1 else 0.0
    wall = "" if seconds is None else f"{seconds / 60:6.1f} min"
    return f"{name:<17} {what:<9} {mean:8.2%} ± {spread:5.2%} {params:>7,} {mean / params:11.3e}  {wall}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 images, 3 epochs: a smoke run")
    parser.add_argument("--shipped-only", action="store_true", help="score the shipped weights, train nothing")
    parser.add_argument("--n-test", type=int, default=2000, help="images per fresh test set (default 2000)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    print(f"{'model':<17} {'weights':<9} {'top-1 (3 fresh sets)':>19} {'params':>7} {'top-1/param':>11}  training")
    for name in RECIPES:
        if shipped_weights(name) is not None:
            model, _ = load_model(name)
            params = sum(p.numel() for p in model.parameters())
            print(row(name, "shipped", score(model, args.n_test), params, None), flush=True)
    if args.shipped_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        n_train, n_val = (1000, 200) if args.quick else (9000, 2000)
        generate_hw2(Path(tmp) / "data", n_train=n_train, n_test=n_val, seed=0)
        for name, epochs in RECIPES.items():
            config = replace(DEFAULTS["hw2"], epochs=3 if args.quick else epochs)
            start = time.perf_counter()
            run = train_model(name, Path(tmp) / "data", Path(tmp) / f"{name}.safetensors", config)
            seconds = time.perf_counter() - start
            params = sum(p.numel() for p in run.model.parameters())
            print(row(name, "trained", score(run.model, args.n_test), params, seconds), flush=True)


if __name__ == "__main__":
    main()
