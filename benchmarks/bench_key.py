"""Benchmark `derive key --roster` for a class with Chinese names: the batched path vs 60 one-student runs.

Run:  .venv/bin/python benchmarks/bench_key.py [--students 60] [--problems examples/hw1-2025.toml]

First the time to solve and render 100 variants to .tex (no LaTeX). Then issue 19's case:
HW1 2025 with a bilingual title (進階機器學習 Advanced Machine Learning) and a roster of Chinese names, so every sheet is a LuaLaTeX document with the CJK font. In one
process it times (1) one student alone, `write_keys` with a one-line roster, the baseline,
multiplied by the class size; (2) the whole class in one call (questions and answers in a
few LaTeX runs, split with pypdf); (3) the same call again (nothing changed: no LaTeX). It
prints the times, the ratio (target ≥ 10x), the absolute time (target ≤ 60 s) and the peak
memory of this process and of the LaTeX runs (target < 1 GB).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derive.key import render_tex, solve, write_keys  # noqa: E402
from derive.pdf import cjk_font, have_tex  # noqa: E402
from derive.problemset import Student, load_problem_set  # noqa: E402

TITLE = "進階機器學習 Advanced Machine Learning"
FAMILY = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴徐"
GIVEN = "雅婷怡君欣宜家豪志明冠宇承恩詩涵宗翰柏翰品妤子晴俊傑"


def roster(n: int) -> tuple[Student, ...]:
    """``n`` students with three-character Chinese names (deterministic)."""
    return tuple(
        Student(
            f"b1190{k:04d}", FAMILY[k % len(FAMILY)] + GIVEN[(3 * k) % len(GIVEN)] + GIVEN[(7 * k + 1) % len(GIVEN)]
        )
        for k in range(n)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--problems", default=str(ROOT / "examples" / "hw1-2025.toml"))
    args = parser.parse_args()
    problem_set = load_problem_set(args.problems)
    solve(problem_set, seed=1)  # warm-up: imports sympy, builds the graph once
    start = time.perf_counter()
    texts = [
        render_tex(solve(problem_set, seed=1, student=Student(f"b{k:08d}", f"Student {k}")), answers=answers)
        for k in range(100)
        for answers in (False, True)
    ]
    print(f"100 variants solved and rendered to {len(texts)} .tex: {time.perf_counter() - start:.2f} s")
    if not have_tex() or cjk_font() is None:
        print("LuaLaTeX or a CJK font is not installed: no PDFs to measure")
        return

    text = Path(args.problems).read_text(encoding="utf-8")
    source = Path(tempfile.mkdtemp()) / "set.toml"
    source.write_text(
        f"title = {TITLE!r}\n" + "\n".join(line for line in text.splitlines() if not line.startswith("title =")),
        encoding="utf-8",
    )
    problem_set = load_problem_set(source)
    students = roster(args.students)
    solve(problem_set, seed=11, student=students[0])  # warm-up: imports sympy, builds the graph once

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_keys(problem_set, Path(tmp) / "one", seed=11, roster=students[:1])
        one = time.perf_counter() - start
        baseline = one * len(students)
        print(f"one student alone: {one:.2f} s; x {len(students)} = {baseline:.1f} s (the baseline)")

        start = time.perf_counter()
        files = write_keys(problem_set, Path(tmp) / "class", seed=11, roster=students)
        batched = time.perf_counter() - start
        print(
            f"{len(students)} students with Chinese names, batched: {batched:.1f} s for {len(files.pdfs)} PDFs "
            f"(+ class-questions.pdf, class-answers.pdf); target <= 60 s: {'met' if batched <= 60 else 'MISSED'}"
        )
        print(f"speed-up: {baseline / batched:.1f}x (target >= 10x: {'met' if baseline / batched >= 10 else 'MISSED'})")

        start = time.perf_counter()
        again = write_keys(problem_set, Path(tmp) / "class", seed=11, roster=students)
        rerun = time.perf_counter() - start
        print(f"second run, nothing changed: {rerun:.1f} s, {again.reused} of {len(again.pdfs)} PDFs kept, no LaTeX")

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latex = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {own:.0f} MB, largest LaTeX run {latex:.0f} MB (target < 1024 MB)")


if __name__ == "__main__":
    main()
