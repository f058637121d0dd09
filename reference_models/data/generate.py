"""``make-data``: write a task's data set to a folder."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from reference_models._files import check_output_folder
from reference_models.errors import ModelError

__all__ = ["make_data"]


def make_data(task: str, out: Path | str, *, n_train: int = 10000, n_test: int = 2000, seed: int = 0) -> list[Path]:
    """Write ``task``'s data under ``out`` and return the files that matter.

    * ``hw2``: ``out/train/`` and ``out/test/`` (PNGs + labels.csv; ``out/test/labels.csv`` is the grading key).
    * ``circles``: ``out/circles.csv`` with ``x1,x2,label,split`` (the 70/30 split of ``seed``).
    * ``regression``: ``out/hw1_regression.csv``, the shipped 20 (x, y) pairs.
    """
    out = check_output_folder(out)
    if task == "hw2":
        from reference_models.data.hw2 import generate_hw2

        written = generate_hw2(out, n_train=n_train, n_test=n_test, seed=seed)
        return [written["train"], written["test"]]
    out.mkdir(parents=True, exist_ok=True)
    if task == "circles":
        from reference_models.data.circles import make_circles_split

        path = out / "circles.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["x1", "x2", "label", "split"])
            for split, data in zip(("train", "test"), make_circles_split(seed), strict=True):
                for (a, b), label in zip(data.x, data.y, strict=True):  # type: ignore[arg-type]
                    writer.writerow([f"{a:.6f}", f"{b:.6f}", int(label), split])
        return [path]
    if task == "regression":
        from reference_models.data.regression import SAMPLE_CSV

        return [Path(shutil.copyfile(SAMPLE_CSV, out / "hw1_regression.csv"))]
    raise ModelError(f"make-data knows hw2, circles and regression, not {task!r}.")
