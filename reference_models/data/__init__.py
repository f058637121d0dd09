"""Datasets of the course, read from local files or generated; nothing is downloaded.

:func:`load_for` picks the loader of a model's task and the part asked for:
``train`` (what ``train`` fits), ``val`` (what it measures each epoch) and
``test`` (what ``evaluate`` and ``predict`` read).
"""

from __future__ import annotations

from pathlib import Path

from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = ["Dataset", "MODEL_TASKS", "TASKS", "load_for", "task_of"]

TASKS = ("circles", "cifar", "fer", "hw2", "regression")

MODEL_TASKS = {
    "hw1-regression": "regression",
    "hw1-cifar": "cifar",
    "hw1-cifar-improved": "cifar",
    "hw1-circles": "circles",
    "hw2-digits": "hw2",
    "fer-cnn4": "fer",
    "fer-cnn3": "fer",
    "fer-wide-resnet50-2": "fer",
}

VAL_FRACTION = 0.1


def task_of(model: str) -> str:
    """The data task of a registered model (``hw2-digits`` → ``hw2``)."""
    try:
        return MODEL_TASKS[model]
    except KeyError:
        known = ", ".join(sorted(MODEL_TASKS))
        raise ModelError(f"Model {model!r} has no data set; the models with one are: {known}.") from None


def _hw2_dir(data: Path, part: str) -> Path:
    sub = data / ("train" if part in ("train", "val") else "test")
    return sub if sub.is_dir() else data


def load_for(task: str, data: Path | str | None, part: str, *, seed: int = 0) -> Dataset:
    """Load ``part`` (``train``, ``val`` or ``test``) of ``task`` from ``data``.

    ``data`` is, per task: ``hw2`` a folder with ``train/`` and ``test/`` (as
    ``make-data hw2`` writes) or one split folder or zip; ``cifar`` the folder of
    python batches; ``fer`` the FER2013 CSV; ``regression`` a CSV of x,y pairs
    (``None``: the shipped sample); ``circles`` nothing (``seed`` makes the points).
    For ``hw2`` and ``cifar``, ``val`` is 10 % of the training folder, held out
    by ``train`` as well.

    Raises:
        ModelError: an unknown task or part, a missing ``data``, or a loader's complaint.
    """
    if part not in ("train", "val", "test"):
        raise ModelError(f"part must be 'train', 'val' or 'test', not {part!r}.")
    if task == "circles":
        from reference_models.data.circles import load_circles

        return load_circles("test" if part in ("val", "test") else "train", seed=seed)
    if task == "regression":
        from reference_models.data.regression import load_xy_csv

        return load_xy_csv(data)
    if task not in TASKS:
        raise ModelError(f"Unknown task {task!r}; the tasks are: {', '.join(TASKS)}.")
    if data is None:
        raise ModelError(f"The {task} task reads local files: pass --data (nothing is downloaded).")
    data = Path(data)
    if task == "fer":
        from reference_models.data.fer import load_fer2013

        return load_fer2013(data, part)
    if task == "hw2":
        from reference_models.data.hw2 import load_hw2

        dataset = load_hw2(_hw2_dir(data, part))
    else:
        from reference_models.data.cifar import load_cifar10

        dataset = load_cifar10(data, "test" if part == "test" else "train")
    if part == "test":
        return dataset
    rest, held_out = dataset.split(VAL_FRACTION, seed=seed)
    return rest if part == "train" else held_out
