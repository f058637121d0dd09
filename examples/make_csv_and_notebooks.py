"""Make a class that hands in a prediction CSV and a notebook each, as a Moodle "download all" zip.

    python examples/make_notebooks.py nb/                       # the notebooks (nb/submissions.zip)
    python examples/make_csv_and_notebooks.py nb/submissions.zip PREDICTIONS.csv KEY.csv OUT/

Writes OUT/submissions.zip and OUT/assignment.toml (the key's [key], a top-1 rubric, and HW1
2025's [notebook] with a manual item). Every student of the notebook class gets
``HW2_prob1.csv`` made from PREDICTIONS with a few answers changed, except 林志明 (a notebook
only); "Csv Only" hands in a CSV only and "Nobody" a PDF only. Grace Hopper's notebook prints a
parameter count (used for top-1 / parameters: there is no params file) and a top-1 far from her
CSV's (flagged). Nothing here is random: the class is the same every time.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import zipfile
from pathlib import Path

WRONG = {"10001": 0.02, "10002": 0.10, "10004": 0.15, "10005": 0.40, "10006": 0.05, "10007": 0.20}
NOTEBOOK_ONLY = "10003"


def _predictions(header: list[str], rows: list[list[str]], fraction: float, seed: int) -> bytes:
    rng = random.Random(seed)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header[:2])
    for row in rows:
        label = int(row[1])
        writer.writerow([row[0], (label + 1) % 10 if rng.random() < fraction else label])
    return buf.getvalue().encode()


def write_class(notebooks_zip: Path, predictions: Path, key: Path, out: Path) -> Path:
    """Write ``out/submissions.zip`` and ``out/assignment.toml``; return the zip's path."""
    with predictions.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / "submissions.zip"
    with zipfile.ZipFile(notebooks_zip) as src, zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        folders = sorted({name.split("/", 1)[0] for name in src.namelist()})
        for name in src.namelist():
            z.writestr(name, src.read(name))
        folders.append("Csv Only_10007_assignsubmission_file_")
        for folder in folders:
            student = folder.split("_")[1]
            if student != NOTEBOOK_ONLY:
                data = _predictions(header, rows, WRONG[student], int(student))
                z.writestr(f"{folder}/HW2_prob1.csv", data)
        z.writestr("Nobody_10008_assignsubmission_file_/report.pdf", b"%PDF-1.4\n")
    problems = (Path(__file__).resolve().parent / "hw1-2025.toml").as_posix()
    (out / "assignment.toml").write_text(
        f"""# A CSV part (HW2's predictions) and a notebook part (HW1 2025's derivation) in one assignment.
title = "HW2 predictions + HW1 notebook"

[key]
path = "{key.resolve().as_posix()}"

[submission]
filename = "HW2_prob1.csv"

[[rubric]]
name = "Test accuracy"
rule = "linear"
metric = "top1"
floor = 0.50
target = 0.95
points = 70

[notebook]
problems = "{problems}"
points = 20

[[notebook.manual]]
name = "decision boundary"
points = 10
""",
        encoding="utf-8",
    )
    return zip_path


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: python examples/make_csv_and_notebooks.py NOTEBOOKS.zip PREDICTIONS.csv KEY.csv OUT_FOLDER")
    print(write_class(*(Path(a) for a in sys.argv[1:])))
