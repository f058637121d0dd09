"""FER2013 in its standard CSV: ``emotion,pixels,Usage`` with 48×48 space-separated pixels.

``Usage`` is ``Training``, ``PublicTest`` or ``PrivateTest``; the split
``train`` reads Training, ``val`` PublicTest and ``test`` PrivateTest (or
PublicTest when a file has no private rows). A labeled file without ``Usage``
(Kaggle's ``train.csv``) is split 80/10/10 at random with the seed, and the
dataset's notes say so: training, validation and test never share a row. A
file without ``emotion`` (a Kaggle test file) loads unlabeled, every row in
every split.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from reference_models._files import read_text
from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["CLASSES", "load_fer2013"]

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SIDE = 48
_USAGE = {"train": ("training",), "val": ("publictest",), "test": ("privatetest", "publictest")}
VAL_FRACTION = TEST_FRACTION = 0.1


def _csv_path(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.csv"))
        if len(found) != 1:
            raise ModelError(
                f"{path}: expected one FER2013 CSV in the folder, found {len(found)}; pass the file itself."
            )
        return found[0]
    if not path.is_file():
        raise ModelError(f"{path}: no such file; pass fer2013.csv (columns emotion,pixels,Usage).")
    return path


def _random_split(n: int, split: str, seed: int, file: Path) -> tuple[np.ndarray, str]:
    """Row numbers of ``split`` when the file has no Usage column, and the note that says how they were chosen."""
    if n < 3:
        raise ModelError(
            f"{file}: no Usage column and only {n} row(s); a train/validation/test split needs 3 or more (or add Usage)."
        )
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = max(1, round(VAL_FRACTION * n)), max(1, round(TEST_FRACTION * n))
    parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    note = (
        f"{file} has no Usage column: its {n:,} rows were split at random with seed {seed} into "
        f"{len(parts['train']):,} train, {len(parts['val']):,} validation and {len(parts['test']):,} test rows (80/10/10); "
        "add a Usage column (Training, PublicTest, PrivateTest) to choose the split."
    )
    return np.sort(parts[split]), note


def load_fer2013(path: Path | str, split: str = "train", *, seed: int = 0) -> Dataset:
    """Read one split of a FER2013 CSV (``seed`` splits a labeled file that has no Usage column).

    Returns:
        ``x`` uint8 (N, 1, 48, 48), ``y`` int64 emotions 0..6 (``None`` without the column),
        ids the data row numbers of the file (``"0"`` is the first row after the header).

    Raises:
        ModelError: a missing column, a row with the wrong number of pixels or a bad emotion.
    """
    if split not in _USAGE:
        raise ModelError(f"split must be one of {', '.join(_USAGE)}, not {split!r}.")
    file = _csv_path(Path(path))
    reader = csv.DictReader(io.StringIO(read_text(file), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if "pixels" not in header:
        raise ModelError(f"{file}: the header is {header!r}; expected the columns emotion,pixels,Usage.")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    has_usage, labeled = "Usage" in header, "emotion" in header
    wanted: Any = ()
    notes: tuple[str, ...] = ()
    chosen: Any = range(len(rows))
    if has_usage:
        usages = {r["Usage"].lower() for r in rows}
        wanted = next((u for u in _USAGE[split] if u in usages), _USAGE[split][0])
    elif labeled:
        index, note = _random_split(len(rows), split, seed, file)
        chosen, notes = index.tolist(), (note,)
    images, labels, ids = [], [], []
    for i in chosen:
        row = rows[i]
        if has_usage and row["Usage"].lower() != wanted:
            continue
        line = i + 2
        try:
            pixels = np.array(row["pixels"].split(), dtype=np.int64)
        except (ValueError, OverflowError):
            raise ModelError(
                f"{file}, line {line}: pixels must be integers from 0 to 255 separated by spaces."
            ) from None
        if pixels.size != SIDE * SIDE or pixels.min(initial=0) < 0 or pixels.max(initial=0) > 255:
            raise ModelError(
                f"{file}, line {line}: expected {SIDE * SIDE} pixels from 0 to 255, got {pixels.size} values."
            )
        if labeled:
            if row["emotion"] not in {str(c) for c in range(7)}:
                raise ModelError(f"{file}, line {line}: emotion {row['emotion']!r} is not a number from 0 to 6.")
            labels.append(int(row["emotion"]))
        images.append(pixels.astype(np.uint8).reshape(1, SIDE, SIDE))
        ids.append(str(i))
    if not images:
        raise ModelError(f"{file}: no rows for the {split!r} split (Usage {wanted!r}).")
    return Dataset(
        x=np.stack(images),
        y=np.array(labels, dtype=np.int64) if labeled else None,
        ids=tuple(ids),
        classes=CLASSES,
        notes=notes,
    )
