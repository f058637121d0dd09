"""CIFAR-10 in its standard python-batches format, read without trusting pickle.

The official ``cifar-10-python.tar.gz`` unpacks to ``cifar-10-batches-py/``
holding ``data_batch_1`` … ``data_batch_5`` and ``test_batch``: pickled dicts
with ``b"data"`` (N×3072 uint8, channel-major) and ``b"labels"``. A pickle can
run arbitrary code, so the files are read by an Unpickler that refuses every
global except the few numpy needs to rebuild an array.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from reference_models._files import read_bytes
from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["CLASSES", "load_cifar10", "safe_unpickle"]

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FULL_SIZE = {"train": 50_000, "test": 10_000}

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("builtins", "bytes"),
    ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")


def safe_unpickle(data: bytes) -> Any:
    """Unpickle ``data`` allowing only plain containers and numpy arrays (no code can run).

    >>> safe_unpickle(pickle.dumps({b"labels": [1, 2]}))
    {b'labels': [1, 2]}
    """
    return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


def _root(path: Path) -> Path:
    if not path.is_dir():
        raise ModelError(f"{path}: no such folder; pass the folder cifar-10-batches-py (or the one that holds it).")
    if not (path / TEST_BATCH).exists() and (path / "cifar-10-batches-py").is_dir():
        return path / "cifar-10-batches-py"
    return path


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = safe_unpickle(read_bytes(path))
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ModelError(f"{path}: not a CIFAR-10 python batch ({exc}).") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ModelError(f"{path}: expected a dict with b'data' and b'labels', found {keys!r}.")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ModelError(
            f"{path}: b'data' is {data.shape}, expected (N, 3072) with N labels; got {len(labels)} labels."
        )
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise ModelError(f"{path}: labels must lie in 0..9, found {int(labels.min())}..{int(labels.max())}.")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(path: Path | str, split: str = "train") -> Dataset:
    """Read the ``train`` (``data_batch_*``) or ``test`` (``test_batch``) split.

    Returns:
        ``x`` uint8 (N, 3, 32, 32), ``y`` int64 class indices, ids the row numbers ``"0"``, ``"1"``…

    Raises:
        ModelError: the folder or a batch is missing, or a batch is not in the standard format.
    """
    root = _root(Path(path))
    names = TRAIN_BATCHES if split == "train" else (TEST_BATCH,) if split == "test" else None
    if names is None:
        raise ModelError(f"split must be 'train' or 'test', not {split!r}.")
    present = [root / n for n in names if (root / n).is_file()]
    if not present:
        raise ModelError(f"{root}: no {' / '.join(names)} found; expected the standard CIFAR-10 python batches.")
    parts = [_read_batch(p) for p in present]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    notes: tuple[str, ...] = ()
    expected = FULL_SIZE[split]
    if len(present) < len(names) or len(y) != expected:
        missing = [n for n in names if not (root / n).is_file()]
        notes = (
            f"{root}: found {len(y):,} of CIFAR-10's {expected:,} {split} images"
            + (f" (missing {', '.join(missing)})" if missing else "")
            + ".",
        )
    return Dataset(x=x, y=y, ids=tuple(str(i) for i in range(len(y))), classes=CLASSES, notes=notes)
