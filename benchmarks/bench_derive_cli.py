"""Whole-process time of `derive grad --wrt w11 --loss mse --format latex` against the naive script.

The baseline is what a TA would write without derive, run in the same benchmark: start
Python, `import sympy`, build the default problem's loss (4x4 input, 3x3 kernel, sigmoid,
4 dense weights, MSE), expand it, differentiate by w11 and print the LaTeX. The ratio
derive/naive must stay below 1. The start-up is also broken down (Python alone,
`import typer`, `import derive.cli`, `import sympy`, `derive --help`), so a regression
says where it comes from. Prints medians and ratios; asserts nothing.

    .venv/bin/python benchmarks/bench_derive_cli.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONTRACT = 0.6  # the old contract for `derive grad --wrt w11 --loss mse` (text), in seconds

NAIVE = """
import sympy
a = sympy.Matrix(4, 4, lambda i, j: sympy.Symbol(f"a{i}{j}"))
w = sympy.Matrix(3, 3, lambda i, j: sympy.Symbol(f"w{i}{j}"))
v = sympy.symbols("v0:4")
y = sympy.Symbol("y")
z = [sum(w[m, n] * a[i + m, j + n] for m in range(3) for n in range(3)) for i in range(2) for j in range(2)]
yhat = sum(vk / (1 + sympy.exp(-zk)) for vk, zk in zip(v, z))
loss = sympy.expand((yhat - y) ** 2)
print(sympy.latex(sympy.diff(loss, w[1, 1])))
"""


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
    derive = [str(bindir / "derive")] if (bindir / "derive").exists() else [sys.executable, "-m", "derive"]
    py = sys.executable
    ours_cmd = [*derive, "grad", "--wrt", "w11", "--loss", "mse", "--format", "latex"]
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import typer'", [py, "-c", "import typer"]),
        ("python -c 'import derive.cli'", [py, "-c", "import derive.cli"]),
        ("python -c 'import sympy'", [py, "-c", "import sympy"]),
        ("derive --help", [*derive, "--help"]),
        ("derive grad --wrt w11 --loss mse", [*derive, "grad", "--wrt", "w11", "--loss", "mse"]),
        ("derive grad ... --format latex", ours_cmd),
        ("naive sympy script (expand, diff, latex)", [py, "-c", NAIVE]),
    ]
    timed(ours_cmd, 1)  # warm the file cache
    got = {}
    print(f"load average {os.getloadavg()[0]:.2f}, {runs} runs each, medians:")
    for label, cmd in rows:
        got[label] = timed(cmd, runs)
        print(f"  {label:<42} {got[label]:.3f} s")
    ours, naive = got["derive grad ... --format latex"], got["naive sympy script (expand, diff, latex)"]
    text = got["derive grad --wrt w11 --loss mse"]
    sym = got["python -c 'import sympy'"]
    print(
        f"  ratio derive grad --format latex / naive script : {ours / naive:.2f}x  (below 1: {'yes' if ours < naive else 'NO'})"
    )
    print(
        f"  ratio derive grad / import sympy               : {text / sym:.2f}x  (what we add: {text - sym:.3f} s; "
        f"contract {CONTRACT} s {'met' if text <= CONTRACT else 'not met on this machine'})"
    )


if __name__ == "__main__":
    main()
