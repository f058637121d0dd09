"""HW1 2025: ``make_circles(n_samples=100, factor=0.1, noise=0.1)`` split 70/30, seeded."""

from __future__ import annotations

import numpy as np

from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["CLASSES", "load_circles", "make_circles_split"]

CLASSES = ("outer", "inner")
N_SAMPLES, FACTOR, NOISE, TEST_SIZE = 100, 0.1, 0.1, 0.3


def make_circles_split(seed: int = 0) -> tuple[Dataset, Dataset]:
    """The handout's 100 points (label 1 = inner circle) split 70/30, stratified; ids are the point numbers 0..99."""
    from sklearn.datasets import make_circles
    from sklearn.model_selection import train_test_split

    x, y = make_circles(n_samples=N_SAMPLES, factor=FACTOR, noise=NOISE, random_state=seed)
    index = np.arange(N_SAMPLES)
    train, test = train_test_split(index, test_size=TEST_SIZE, random_state=seed, stratify=y)
    full = Dataset(x=x.astype(np.float32), y=y.astype(np.int64), ids=tuple(str(i) for i in index), classes=CLASSES)
    return full.subset(np.sort(train)), full.subset(np.sort(test))


def load_circles(split: str = "train", *, seed: int = 0) -> Dataset:
    """One split (``train``, ``test`` or ``all``) of :func:`make_circles_split`."""
    train, test = make_circles_split(seed)
    if split == "all":
        index = np.argsort(np.array([int(i) for i in train.ids + test.ids]))
        both = Dataset(np.concatenate([train.x, test.x]), np.concatenate([train.y, test.y]), train.ids + test.ids, CLASSES)
        return both.subset(index)
    if split not in ("train", "test"):
        raise ModelError(f"split must be 'train', 'test' or 'all', not {split!r}.")
    return train if split == "train" else test
