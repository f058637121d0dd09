"""`derive grad --net` on the board network against the naive way (sympy: expand the loss, differentiate, print).

The board network (examples/board-net.toml): a 2×6×6 input, two 3×3 kernels, ReLU, a 2×2 max-pool,
a dense layer of 3 and softmax + cross-entropy. The issue's targets: one gradient with numbers and
the autograd check under 2 s as a whole process, ``--all`` under 10 s. Every time is a whole
process, measured here in the same run:

* ours: ``derive grad --net ... --wrt "conv1.w[0,0,1,1]" --random 3`` (and ``--all``);
* the floor: ``python -c "import torch"`` (the oracle's import, which ours pays too);
* the naive way: build L as one sympy expression (ReLU and max-pool as ``Max``), ``diff`` it by
  one weight, substitute the numbers, print the derivative and its value (no autograd check).
  It takes minutes, so it runs once. For ``--all`` it would differentiate each of the 132
  variables the same way; that is estimated as 132 times one (building L is the cheap part).

Prints medians and ratios; asserts nothing.

    .venv/bin/python benchmarks/bench_derive_net.py [RUNS] [--quick]   # --quick: without the naive way
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "examples" / "board-net.toml"
WRT = "conv1.w[0,0,1,1]"


def naive(wrt: list[str] | None, seed: int = 3) -> None:
    """The naive way, in this process: one sympy expression for L, ``diff``, numbers, print."""
    import sympy as sp

    from derive.network import check_values, load_network, random_values

    net = load_network(BOARD)
    v = check_values(net, random_values(net, seed))
    x = [[[sp.Symbol(f"x_{c}{i}{j}") for j in range(6)] for i in range(6)] for c in range(2)]
    w = [[[[sp.Symbol(f"w_{o}{c}{m}{n}") for n in range(3)] for m in range(3)] for c in range(2)] for o in range(2)]
    dw = [[sp.Symbol(f"v_{k}{u}") for u in range(8)] for k in range(3)]
    z = [
        [
            [
                sum(w[o][c][m][n] * x[c][i + m][j + n] for c in range(2) for m in range(3) for n in range(3))
                for j in range(4)
            ]
            for i in range(4)
        ]
        for o in range(2)
    ]
    h = [[[sp.Max(0, z[o][i][j]) for j in range(4)] for i in range(4)] for o in range(2)]
    q = [
        sp.Max(*[h[c][2 * i + a][2 * j + b] for a in range(2) for b in range(2)])
        for c in range(2)
        for i in range(2)
        for j in range(2)
    ]
    yhat = [sum(dw[k][u] * q[u] for u in range(8)) for k in range(3)]
    loss = sp.log(sum(sp.exp(t) for t in yhat)) - yhat[int(v["y"])]
    numbers = {x[c][i][j]: v["x"][c, i, j] for c in range(2) for i in range(6) for j in range(6)}
    numbers |= {
        w[o][c][m][n]: v["conv1.w"][o, c, m, n] for o in range(2) for c in range(2) for m in range(3) for n in range(3)
    }
    numbers |= {dw[k][u]: v["dense1.w"][k, u] for k in range(3) for u in range(8)}
    targets = [w[0][0][1][1]] if wrt is None else [sp.Symbol(s) for s in wrt]
    for t in targets:
        d = sp.diff(loss, t)
        print(d)
        print(sp.N(d.subs(numbers)))


def once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed(cmds: list[list[str]], runs: int) -> list[float]:
    """Median time of each command, the commands interleaved run by run (a shared machine's load drifts)."""
    times: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for k, cmd in enumerate(cmds):
            times[k].append(once(cmd))
    return [statistics.median(t) for t in times]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--naive":
        naive(sys.argv[2:] or None)
        return
    quick = "--quick" in sys.argv  # skip the naive way (minutes)
    args = [a for a in sys.argv[1:] if a != "--quick"]
    runs = int(args[0]) if args else 3
    bindir = Path(sys.executable).parent
    derive = [str(bindir / "derive")] if (bindir / "derive").exists() else [sys.executable, "-m", "derive"]
    one = [*derive, "grad", "--net", str(BOARD), "--wrt", WRT, "--random", "3"]
    every = [*derive, "grad", "--net", str(BOARD), "--all", "--random", "3"]
    once(one)  # warm the file cache
    t_one, t_all, t_nocheck, t_torch = timed(
        [one, every, [*one, "--no-check"], [sys.executable, "-c", "import torch"]], runs
    )
    t_naive = float("nan") if quick else once([sys.executable, __file__, "--naive"])
    t_naive_all = 132 * t_naive
    print(f"load average {os.getloadavg()[0]:.2f}, {runs} runs each, medians, whole processes:")
    print(
        f"  derive grad --net board --wrt {WRT} --random 3 : {t_one:.2f} s  (target 2 s: {'met' if t_one <= 2 else 'NOT met'})"
    )
    print(f"    the same with --no-check (no torch)              : {t_nocheck:.2f} s")
    print(
        f"    python -c 'import torch' (the oracle's floor)   : {t_torch:.2f} s  -> ours adds {t_one - t_torch:.2f} s to it"
    )
    print(
        f"  naive sympy: expand L, diff, print (no check)      : {t_naive:.2f} s  -> ratio naive/ours {t_naive / t_one:.1f}x"
    )
    print(
        f"  derive grad --net board --all --random 3           : {t_all:.2f} s  (target 10 s: {'met' if t_all <= 10 else 'NOT met'})"
    )
    print(
        f"  naive sympy for all 132 gradients (estimated, 132 x one): {t_naive_all:.0f} s  -> ratio {t_naive_all / t_all:.0f}x"
    )


if __name__ == "__main__":
    main()
