"""Whole-process time of `derive grad --wrt w11 --loss mse` against `python -c "import sympy"`.

The contract is 0.6 s for the whole process. The baseline is the floor any sympy-based
answer costs (starting Python and importing sympy); the ratio says what we add to it.
Prints the medians and the ratio; asserts nothing.

    .venv/bin/python benchmarks/bench_derive_cli.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONTRACT = 0.6


def timed(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    bindir = Path(sys.executable).parent
    derive = str(bindir / "derive") if (bindir / "derive").exists() else None
    ours_cmd = [derive] if derive else [sys.executable, "-m", "derive"]
    ours_cmd += ["grad", "--wrt", "w11", "--loss", "mse"]
    base_cmd = [sys.executable, "-c", "import sympy"]
    timed(ours_cmd, 1)  # warm the file cache
    ours = timed(ours_cmd, runs)
    base = timed(base_cmd, runs)
    print(f"load average {os.getloadavg()[0]:.2f}, {runs} runs each, medians:")
    print(f"  derive grad --wrt w11 --loss mse : {ours:.3f} s  (contract {CONTRACT} s: {'met' if ours <= CONTRACT else 'NOT met'})")
    print(f"  python -c 'import sympy'         : {base:.3f} s")
    print(f"  ratio derive/import-sympy        : {ours / base:.2f}x  (what we add: {ours - base:.3f} s)")


if __name__ == "__main__":
    main()
