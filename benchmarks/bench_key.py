"""Benchmark `derive key`: 100 student variants rendered to .tex, and PDFs compiled in parallel vs serially.

Run:  .venv/bin/python benchmarks/bench_key.py [--students 100] [--pdfs 8]

Prints the time to solve and render 100 variants (questions + answers, the issue's
target is under 2 s), and the wall time of compiling the same .tex files one at a
time (the baseline) and on all cores, with the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derive.key import render_tex, solve  # noqa: E402
from derive.pdf import compile_many, have_tex  # noqa: E402
from derive.problemset import Student, load_problem_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--pdfs", type=int, default=8, help="how many .tex files to compile each way")
    parser.add_argument("--problems", default=str(ROOT / "examples" / "hw1-2025.toml"))
    args = parser.parse_args()

    problem_set = load_problem_set(args.problems)
    roster = [Student(f"b{k:08d}", f"Student {k}") for k in range(args.students)]
    solve(problem_set, seed=1, student=roster[0])  # warm-up: imports sympy, builds the graph once
    start = time.perf_counter()
    sheets = [solve(problem_set, seed=1, student=s) for s in roster]
    solved = time.perf_counter() - start
    texts = [render_tex(sheet, answers=answers) for sheet in sheets for answers in (False, True)]
    total = time.perf_counter() - start
    print(
        f"{args.problems}: {args.students} variants solved in {solved:.2f} s, "
        f"solved + rendered to {len(texts)} .tex in {total:.2f} s "
        f"({1000 * total / args.students:.1f} ms per student; target < 2 s: {'met' if total < 2 else 'MISSED'}, "
        f"{2 / total:.1f}x under)"
    )

    if not have_tex():
        print("pdflatex not installed: PDF compilation skipped")
        return
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        timings = {}
        for label, jobs in (("serial", 1), (f"parallel ({cores} jobs)", cores)):
            folder = Path(tmp) / str(jobs)
            folder.mkdir()
            paths = []
            for k, text in enumerate(texts[: args.pdfs]):
                path = folder / f"sheet{k}.tex"
                path.write_text(text, encoding="utf-8")
                paths.append(path)
            start = time.perf_counter()
            compile_many(paths, jobs=jobs)
            timings[label] = time.perf_counter() - start
            print(f"{args.pdfs} PDFs, {label}: {timings[label]:.2f} s ({timings[label] / args.pdfs:.2f} s per PDF)")
            shutil.rmtree(folder)
        serial, parallel = timings["serial"], timings[f"parallel ({cores} jobs)"]
        print(f"parallel / serial speed-up: {serial / parallel:.2f}x on {cores} cores")


if __name__ == "__main__":
    main()
