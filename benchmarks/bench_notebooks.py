"""Benchmark a class of notebooks graded (with review pages when review.py is there) against nbconvert.

Run:  .venv/bin/python benchmarks/bench_notebooks.py [--students 100] [--mb 2]

Each notebook is one of examples/make_notebooks.py's, padded with figures to about ``--mb`` MB:
noisy PNGs (the default; photo-like, so written back as JPEG) or, with ``--figures plots``,
matplotlib decision-boundary plots (kept PNG). Ours: ``grade_notebook_class`` (read, locate, grade, figures re-encoded with Pillow,
results.json, gradebook, review pages). Baseline: ``nbconvert``'s HTMLExporter (``--to html``,
no execution) on the same notebooks in the same process. Peak memory is the process's maximum
resident size after our run (before the baseline runs).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import make_notebooks  # noqa: E402

from grading.notebook.classrun import grade_notebook_class  # noqa: E402


def noisy_png(side: int, seed: int) -> str:
    from PIL import Image

    rng = random.Random(seed)
    im = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def plot_png(seed: int) -> str:
    """A matplotlib decision-boundary plot (filled contours, 100 points, a title), about 60 kB of base64."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(seed)
    xx, yy = np.meshgrid(np.linspace(-3, 3, 200), np.linspace(-3, 3, 200))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.contourf(xx, yy, np.tanh(xx * yy + xx**2 - 1), levels=12, cmap="RdBu", alpha=0.6)
    pts = rng.normal(size=(100, 2))
    ax.scatter(pts[:, 0], pts[:, 1], c=(pts**2).sum(1) < 1, cmap="RdBu", edgecolors="k")
    ax.set_title("decision boundary")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def make_class(folder: Path, students: int, mb: float, figures: str = "noise") -> list[Path]:
    base = list(make_notebooks.students().values())[:4]
    figure = noisy_png(300, 1) if figures == "noise" else plot_png(1)  # about 360 kB / 60 kB of base64
    per = max(1, round(mb * 1e6 / len(figure)))
    paths = []
    for k in range(students):
        nb = json.loads(json.dumps(base[k % len(base)]))
        for _ in range(per):
            nb["cells"].append(
                make_notebooks.code(
                    "plt.show()",
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": figure, "text/plain": "<Figure>"},
                    },
                )
            )
        d = folder / f"Student {k}_{10000 + k}_assignsubmission_file_"
        d.mkdir(parents=True)
        path = d / "HW1.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument(
        "--figures",
        choices=("noise", "plots"),
        default="noise",
        help="noise: 300x300 noisy PNGs (photo-like, written back as JPEG); plots: matplotlib plots (kept PNG)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        paths = make_class(tmpdir / "class", args.students, args.mb, args.figures)
        total_mb = sum(p.stat().st_size for p in paths) / 1e6
        zip_path = tmpdir / "submissions.zip"
        with zipfile.ZipFile(zip_path, "w") as z:
            for p in paths:
                z.write(p, p.relative_to(tmpdir / "class").as_posix())
        problems = ROOT / "examples" / "hw1-2025.toml"
        grade_notebook_class(zip_path, problems, tmpdir / "warm")  # warm-up: imports, sympy caches
        start = time.perf_counter()
        result = grade_notebook_class(zip_path, problems, tmpdir / "out")
        ours = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        review = "with review pages" if "review" in result.files else "without review pages (review.py not merged)"

        import nbformat
        from nbconvert import HTMLExporter

        exporter = HTMLExporter()
        exporter.from_notebook_node(nbformat.read(paths[0], as_version=4))  # warm-up
        start = time.perf_counter()
        for p in paths:
            html, _ = exporter.from_notebook_node(nbformat.read(p, as_version=4))
            (p.parent / "HW1.html").write_text(html, encoding="utf-8")
        baseline = time.perf_counter() - start
    print(f"{args.students} notebooks, {total_mb:.0f} MB in all, figures: {args.figures}")
    print(f"ours (zip -> graded, figures, results.json, gradebook, {review}): {ours:.2f} s")
    print(f"nbconvert --to html (no execution), same notebooks: {baseline:.2f} s")
    print(f"ratio: {ours / baseline:.2f}; peak memory after ours: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
