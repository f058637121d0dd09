"""Benchmark: grade 200 submissions of 10,000 rows vs the script a TA writes.

The baseline is what a TA writes with pandas + scikit-learn: for each file,
read the key and the submission, merge on the id, then ``accuracy_score`` and
``confusion_matrix``. gradkit reads the key once and grades every file with
:func:`grading.grade_file` (all checks, warnings and metrics included). Both
run in this process on the same files; the ratio is printed, and the two
top-1 values are checked to agree on every file. Then the whole class is graded
as ``grade FOLDER`` does by default (feedback pages and heatmaps on) and with
``--no-feedback``, each against the same baseline; the Pillow heatmaps are timed
alone; then ``grade FILE`` is timed as a whole process, on a 10,000-row file and
on a 50 MB file (time and peak memory).

Usage: ``.venv/bin/python benchmarks/bench_grade.py [--students 200] [--rows 10000]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_files(folder: Path, students: int, rows: int, seed: int = 0) -> tuple[Path, list[Path]]:
    """A key and ``students`` realistic submissions (shuffled, CRLF, BOM, 8.0, a few missing rows)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"{i:07d}.png" for i in range(rows)])
    y = rng.integers(0, 10, rows)
    key = folder / "key.csv"
    key.write_text("image,class,x,y,w,h\n" + "".join(f"{i},{c},3,4,28,28\n" for i, c in zip(ids, y)))
    paths = []
    for s in range(students):
        accuracy = rng.uniform(0.6, 0.99)
        pred = np.where(rng.random(rows) < accuracy, y, rng.integers(0, 10, rows))
        keep = rng.random(rows) > (0.002 if s % 5 == 0 else 0.0)
        order = rng.permutation(rows) if s % 2 else np.arange(rows)
        fmt = "{}.0" if s % 7 == 0 else "{}"
        lines = ["image,class", *(f"{ids[i]},{fmt.format(pred[i])}" for i in order if keep[i])]
        text = ("\r\n" if s % 3 == 0 else "\n").join(lines) + "\n"
        path = folder / f"student{s:03d}.csv"
        path.write_bytes(("\ufeff" if s % 4 == 0 else "").encode() + text.encode())
        paths.append(path)
    return key, paths


def baseline(key: Path, paths: list[Path]) -> list[float]:
    """The script a TA writes: pandas read both files, merge on id, sklearn metrics."""
    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix

    scores = []
    for path in paths:
        truth = pd.read_csv(key)
        sub = pd.read_csv(path)
        merged = truth.merge(sub, on="image", how="left", suffixes=("", "_pred"))
        y_pred = merged["class_pred"].fillna(-1).astype(int)
        scores.append(accuracy_score(merged["class"], y_pred))
        confusion_matrix(merged["class"], y_pred, labels=list(range(10)))
    return scores


def ours(key: Path, paths: list[Path]) -> list[float]:
    """gradkit: the key once, then grade_file per submission."""
    from grading import grade_file, load_key

    answer = load_key(key)
    scores = []
    for path in paths:
        report = grade_file(path, answer)
        report.confusion_matrix  # noqa: B018 - computed like the baseline's
        scores.append(report.top1)
    return scores


def heatmaps_ours(cms: list[list[list[int]]], folder: Path) -> None:
    """gradkit's feedback heatmaps: Pillow only, frame and digits rendered once and pasted."""
    from grading.feedback import draw_confusion_png

    labels = [str(i) for i in range(10)]
    for i, cm in enumerate(cms):
        draw_confusion_png(cm, labels, folder / f"fast{i}.png")


def whole_class(key: Path, folder: Path, out: Path, feedback: bool = False) -> None:
    """What ``grade FOLDER`` does (``feedback=True``: the default run, feedback pages with coloured tables;
    ``False``: ``--no-feedback``): every file graded, every class output written."""
    from grading import grade_class

    result = grade_class(folder, key, out, feedback=feedback)
    assert result.n_ok == len(result.students), (result.n_ok, len(result.students))


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs of each")
    args = parser.parse_args()
    import pandas  # noqa: F401  - import costs are not part of either side's loop
    import sklearn.metrics  # noqa: F401

    import grading  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        key, paths = make_files(Path(tmp), args.students, args.rows)
        t_base = min(timed(baseline, key, paths)[0] for _ in range(args.repeat))
        t_ours = min(timed(ours, key, paths)[0] for _ in range(args.repeat))
        agree = np.allclose(baseline(key, paths), ours(key, paths))
        print(f"{args.students} submissions x {args.rows} rows (best of {args.repeat})")
        print(f"  baseline (pandas read+merge, sklearn accuracy+confusion): {t_base:.3f} s")
        print(f"  gradkit grade_file:                                       {t_ours:.3f} s")
        print(f"  ratio gradkit / baseline: {t_ours / t_base:.2f}  (target <= 0.50, stretch <= 0.33)")
        print(f"  top-1 agrees on every file: {agree}")
        subs = Path(tmp) / "class"  # the submissions alone (the key sits beside them in tmp)
        subs.mkdir()
        for p in paths:
            os.link(p, subs / p.name)
        t_class = min(timed(whole_class, key, subs, Path(tmp) / f"out{i}")[0] for i in range(args.repeat))
        print(
            f"  gradkit grade_class --no-feedback (gradebook, results.json, leaderboard): {t_class:.3f} s, "
            f"ratio {t_class / t_base:.2f}"
        )
        t_full = min(timed(whole_class, key, subs, Path(tmp) / f"full{i}", True)[0] for i in range(args.repeat))
        print(
            f"  gradkit grade_class, default run (+ feedback .md/.html per student): {t_full:.3f} s, "
            f"ratio {t_full / t_base:.2f}  (target <= 0.50)"
        )

        from grading import grade_file, load_key

        answer = load_key(key)
        cms = [grade_file(p, answer).confusion_matrix.tolist() for p in paths]
        heatmaps_ours(cms[:2], Path(tmp))  # Pillow's import and the frame are paid once
        t_fast = timed(heatmaps_ours, cms, Path(tmp))[0]
        print(
            f"{len(cms)} confusion-matrix heatmaps (Pillow PNGs, --heatmaps): {t_fast:.2f} s, "
            f"{1e3 * t_fast / len(cms):.1f} ms each"
        )

        messy = Path(tmp) / "messy.csv"  # quotes, spaces, a blank line: the row-by-row path
        text = paths[1].read_text(encoding="utf-8-sig").splitlines()
        messy.write_text(
            '"image" , "class"\n'
            + "\n".join(f' "{line.replace(",", chr(34) + " , " + chr(34))}" ' for line in text[1:])
            + "\n\n"
        )
        from grading import grade_file, load_key

        answer = load_key(key)
        assert grade_file(messy, answer).top1 == grade_file(paths[1], answer).top1
        t_clean = min(timed(grade_file, paths[1], answer)[0] for _ in range(10))
        t_messy = min(timed(grade_file, messy, answer)[0] for _ in range(10))
        print(
            f"one file of {args.rows} rows: clean {t_clean * 1e3:.1f} ms, messy (quotes, spaces) {t_messy * 1e3:.1f} ms"
        )

        cmd = [str(Path(sys.executable).with_name("grade")), str(paths[1]), "--key", str(key)]
        runs = []
        for _ in range(7):
            runs.append(timed(lambda: subprocess.run(cmd, capture_output=True, check=True))[0])
        bare = min(timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))[0] for _ in range(5))
        print(
            f"grade FILE ({args.rows} rows), whole process: median {statistics.median(runs):.3f} s, "
            f"best {min(runs):.3f} s (target <= 0.5 s; bare python start {bare:.3f} s)"
        )

        big = Path(tmp) / "big.csv"  # 50 MB: the class's rows, then junk rows with unknown ids
        lines = paths[1].read_bytes()
        filler = b"".join(b"9%09d.png,3\n" % i for i in range(60_000))
        with big.open("wb") as f:
            f.write(lines)
            while f.tell() < 50_000_000:
                f.write(filler)
        cmd = [
            "/usr/bin/time",
            "-f",
            "%e s %M kB",
            str(Path(sys.executable).with_name("grade")),
            str(big),
            "--key",
            str(key),
            "--max-size",
            "60 MB",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        print(
            f"grade FILE of {big.stat().st_size / 1e6:.0f} MB, whole process (elapsed, peak memory): "
            f"{done.stderr.strip().splitlines()[-1]} (exit {done.returncode})"
        )


if __name__ == "__main__":
    main()
