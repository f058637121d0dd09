"""HW1 2025: ``make_circles(n_samples=100, factor=0.1, noise=0.1)`` split 70/30, seeded.

Without ``--data`` the points are made from the seed (:func:`make_circles_split`);
with it, the CSV that ``make-data circles`` writes (``x1,x2,label,split``) is
read by :func:`load_circles_csv`, so a TA can train on exactly the points the
students were given.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from reference_models._files import read_text
from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["CLASSES", "load_circles", "load_circles_csv", "make_circles_split"]

CLASSES = ("outer", "inner")
N_SAMPLES, FACTOR, NOISE, TEST_SIZE = 100, 0.1, 0.1, 0.3
COLUMNS = ("x1", "x2", "label", "split")


def make_circles_split(seed: int = 0) -> tuple[Dataset, Dataset]:
    """The handout's 100 points (label 1 = inner circle) split 70/30, stratified; ids are the point numbers 0..99."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=N_SAMPLES, factor=FACTOR, noise=NOISE, random_state=seed)
    full = Dataset(
        x=x.astype(np.float32), y=y.astype(np.int64), ids=tuple(str(i) for i in range(N_SAMPLES)), classes=CLASSES
    )
    return _split(full, seed)


def _split(full: Dataset, seed: int) -> tuple[Dataset, Dataset]:
    from sklearn.model_selection import train_test_split

    index = np.arange(len(full))
    train, test = train_test_split(index, test_size=TEST_SIZE, random_state=seed, stratify=full.y)
    return full.subset(np.sort(train)), full.subset(np.sort(test))


def _part(train: Dataset, test: Dataset, split: str) -> Dataset:
    if split == "all":
        index = np.argsort(np.array([int(i) for i in train.ids + test.ids]))
        both = Dataset(
            np.concatenate([train.x, test.x]),
            np.concatenate([train.y, test.y]),
            train.ids + test.ids,
            CLASSES,
            notes=train.notes,
        )
        return both.subset(index)
    if split not in ("train", "test"):
        raise ModelError(f"split must be 'train', 'test' or 'all', not {split!r}.")
    return train if split == "train" else test


def load_circles(split: str = "train", *, seed: int = 0) -> Dataset:
    """One split (``train``, ``test`` or ``all``) of :func:`make_circles_split`."""
    return _part(*make_circles_split(seed), split)


def load_circles_csv(path: Path | str, split: str = "train", *, seed: int = 0) -> Dataset:
    """One split of a circles CSV: ``x1,x2,label`` and optionally ``split`` (``train``/``test``).

    Without a ``split`` column the points are split 70/30 (stratified) with ``seed``,
    and the dataset's notes say so.

    Raises:
        ModelError: the file is a folder or missing, a column is missing, a cell is
            not a number, a label is not 0 or 1, or a split is empty.
    """
    file = Path(path)
    if file.is_dir():
        found = sorted(file.glob("*.csv"))
        if len(found) != 1:
            raise ModelError(
                f"{file}: is a folder with {len(found)} CSV files; pass the circles CSV itself (make-data circles writes circles.csv)."
            )
        file = found[0]
    reader = csv.reader(io.StringIO(read_text(file)))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise ModelError(
            f"{file}, line 1: the header is {header!r}; expected the columns x1,x2,label[,split] as make-data circles writes."
        )
    col = {c: header.index(c) for c in COLUMNS if c in header}
    xs, ys, parts = [], [], []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: row[i].strip() if i < len(row) else "" for c, i in col.items()}
        try:
            point = (float(cells["x1"]), float(cells["x2"]))
        except ValueError:
            raise ModelError(
                f"{file}, line {line}: x1 and x2 must be numbers, got {cells['x1']!r} and {cells['x2']!r}."
            ) from None
        if not np.isfinite(point).all():
            raise ModelError(
                f"{file}, line {line}: x1 and x2 must be finite numbers, got {cells['x1']!r} and {cells['x2']!r}."
            )
        if cells["label"] not in ("0", "1"):
            raise ModelError(f"{file}, line {line}: label must be 0 (outer) or 1 (inner), got {cells['label']!r}.")
        if "split" in cells and cells["split"].lower() not in ("train", "test"):
            raise ModelError(f"{file}, line {line}: split must be 'train' or 'test', got {cells['split']!r}.")
        xs.append(point)
        ys.append(int(cells["label"]))
        parts.append(cells.get("split", "").lower())
    if len(xs) < 2:
        raise ModelError(f"{file}: found {len(xs)} point(s); a classifier needs points of both classes.")
    full = Dataset(
        x=np.array(xs, dtype=np.float32),
        y=np.array(ys, dtype=np.int64),
        ids=tuple(str(i) for i in range(len(xs))),
        classes=CLASSES,
    )
    if "split" in col:
        marks = np.array(parts)
        train, test = full.subset(np.flatnonzero(marks == "train")), full.subset(np.flatnonzero(marks == "test"))
        for name, data in (("train", train), ("test", test)):
            if len(data) == 0:
                raise ModelError(
                    f"{file}: no row has split {name!r}; mark 70 % of the points 'train' and the rest 'test'."
                )
        return _part(train, test, split)
    assert full.y is not None
    if min(np.bincount(full.y, minlength=2)) < 2:
        raise ModelError(f"{file}: a 70/30 split needs at least 2 points of each class; add points or a split column.")
    train, test = _split(full, seed)
    note = f"{file} has no split column: its {len(full)} points were split 70/30 (stratified) with seed {seed}: {len(train)} train, {len(test)} test."
    return _part(train.noted(note), test.noted(note), split)
