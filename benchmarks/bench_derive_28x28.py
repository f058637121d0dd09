"""28x28 input, 5x5 kernel: closed form + values of all 25 kernel gradients, vs the naive way.

Ours: walk the graph (``all_gradients(..., wrt=<the 25 kernel weights>)``), closed form in
index form, term-by-term form and the value of each. Target: under 1 s.

Naive: build the fully expanded loss as one sympy expression, ``diff`` it with respect to
one weight, and print the LaTeX. Timed at 12x12 (5x5 kernel) for one gradient; at 28x28
only with ``--full`` (tens of seconds), otherwise extrapolated from 12x12 and 20x20 by the
number of conv-output terms, and labelled as such. Prints times and ratios; asserts nothing.

    .venv/bin/python benchmarks/bench_derive_28x28.py [--full]
"""

from __future__ import annotations

import os
import sys
import time

import sympy

from derive import Problem, all_gradients, random_values
from derive.engine import _graph


def ours(side: int, check: bool) -> tuple[float, int]:
    problem = Problem(input=(side, side), kernel=(5, 5))
    values = random_values(problem, 0)
    names = [problem.name("w", m, n) for m in range(5) for n in range(5)]
    _graph.cache_clear()
    start = time.perf_counter()
    grads = all_gradients(problem, values=values, check=check, wrt=names)
    elapsed = time.perf_counter() - start
    assert len(grads) == 25 and all(g.value is not None for g in grads)
    if check:
        worst = max(g.difference for g in grads)
        print(f"    largest |ours - torch autograd| over the 25: {worst:.1e}")
    return elapsed, sum(len(g.closed_form_latex) for g in grads)


def naive(side: int) -> tuple[float, int]:
    """What a TA would type in sympy: the whole loss as one expression, diff, print."""
    k, out = 5, side - 5 + 1
    start = time.perf_counter()
    a = sympy.Matrix(side, side, lambda i, j: sympy.Symbol(f"a{i}_{j}"))
    w = sympy.Matrix(k, k, lambda i, j: sympy.Symbol(f"w{i}_{j}"))
    v = sympy.symbols(f"v0:{out * out}")
    y = sympy.Symbol("y")
    yhat = 0
    for i in range(out):
        for j in range(out):
            z = sum(w[m, n] * a[i + m, j + n] for m in range(k) for n in range(k))
            yhat += v[i * out + j] / (1 + sympy.exp(-z))
    loss = (yhat - y) ** 2
    tex = sympy.latex(sympy.diff(loss, w[1, 1]))
    return time.perf_counter() - start, len(tex)


def main() -> None:
    full = "--full" in sys.argv
    print(f"load average {os.getloadavg()[0]:.2f}")
    t_ours, n_chars = ours(28, check=False)
    print(
        f"ours, 28x28 / 5x5, all 25 kernel gradients (closed form + values): {t_ours:.3f} s "
        f"(target < 1 s; {n_chars / 25:.0f} LaTeX characters per index form)"
    )
    t_check, _ = ours(28, check=True)
    print(f"ours, same with the torch autograd check (incl. torch import on first use): {t_check:.3f} s")
    t12, c12 = naive(12)
    print(f"naive, 12x12 / 5x5, ONE gradient: {t12:.3f} s, {c12:,} LaTeX characters")
    print(f"  ratio naive(1 gradient at 12x12) / ours(25 gradients at 28x28): {t12 / t_ours:.1f}x")
    if full:
        t28, c28 = naive(28)
        label = "measured"
    else:
        t20, _ = naive(20)
        # cost grows with the number of conv outputs (16^2 at 20x20, 8^2 at 12x12): fit t = a * n^k
        import math

        k = math.log(t20 / t12) / math.log((16 * 16) / (8 * 8))
        t28 = t20 * ((24 * 24) / (16 * 16)) ** k
        c28 = None
        label = f"extrapolated from 12x12 and 20x20 (t ~ outputs^{k:.2f}; run with --full to measure)"
    print(f"naive, 28x28 / 5x5, ONE gradient: {t28:.2f} s ({label})" + (f", {c28:,} LaTeX characters" if c28 else ""))
    print(
        f"  ratio naive(1 gradient) / ours(25 gradients) at 28x28: {t28 / t_ours:.0f}x; per gradient: {25 * t28 / t_ours:.0f}x"
    )


if __name__ == "__main__":
    main()
