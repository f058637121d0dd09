"""Benchmark `grade --variants`: a class's derivation answers, numbers and formulas, against `derive key` itself.

Run:  .venv/bin/python benchmarks/bench_answers.py [--students 100]

The baseline is solving the same variants (what `derive key --roster` does per student, in
the same process); grading numbers and grading formulas are reported as ratios to it.
A formula costs more than a number: it is checked at the student's values and at 4 other
points, each with every mistake.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derive.problemset import Student, load_problem_set  # noqa: E402
from derive.sheet import solve  # noqa: E402
from grading.answers.grade import grade_variants  # noqa: E402
from grading.answers.variants import parse_variants  # noqa: E402

FORMULAS = {
    "w00": "(p - y)*(v0*h00*(1-h00)*a00 + v1*h01*(1-h01)*a01 + v2*h10*(1-h10)*a10 + v3*h11*(1-h11)*a11)",
    "a21": r"\left(\hat{y}-y\right) v_{2} h_{10}(1-h_{10}) w_{11}",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    ps = load_problem_set(ROOT / "examples" / "hw1-2025.toml")
    roster = [Student(f"b{k:08d}") for k in range(args.students)]
    solve(ps, seed=1, student=roster[0])  # warm-up: sympy, the graph
    start = time.perf_counter()
    entries = [solve(ps, seed=1, student=s).to_dict() for s in roster]
    baseline = time.perf_counter() - start
    variants = parse_variants(entries)
    numbers = {e["student"]: {k: repr(-v) for k, v in e["answers"].items()} for e in entries}
    formulas = {e["student"]: dict(FORMULAS) for e in entries}
    timings = {}
    for label, answers in (("numbers", numbers), ("formulas", formulas)):
        start = time.perf_counter()
        graded = grade_variants(variants, answers)
        timings[label] = time.perf_counter() - start
        assert len(graded) == args.students
    print(f"{args.students} students x 2 questions (hw1-2025): derive key's solving {baseline:.2f} s (baseline)")
    for label, t in timings.items():
        print(
            f"  grading {label:8s} {t:.2f} s  = {t / baseline:.2f} x the baseline ({1000 * t / args.students:.1f} ms per student)"
        )


if __name__ == "__main__":
    main()
