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
    "hw2-digits-small": "hw2",
    "fer-cnn4": "fer",
    "fer-cnn3": "fer",
    "fer-wide-resnet50-2": "fer",
}

VAL_FRACTION = 0.1
REGRESSION_HELD_OUT = 0.25
"""The share of the (x, y) pairs ``train`` holds out to measure the fit on pairs it did not see."""


def _regression_part(pairs: Dataset, part: str, seed: int) -> Dataset:
    """All pairs for ``test``; for ``train``/``val`` the pairs without / with a held-out quarter (seeded).

    The pairs with the smallest and the largest x always stay in training: a
    held-out pair outside the fitted range would measure extrapolation, not the fit.
    """
    import numpy as np

    n = len(pairs)
    if part == "test":
        return pairs
    if n < 4:
        return pairs.noted(f"only {n} pairs, too few to hold any out: the validation loss is the training loss.")
    x = pairs.x[:, 0]
    inner = np.setdiff1d(np.arange(n), [int(np.argmin(x)), int(np.argmax(x))])
    k = min(len(inner), max(1, int(round(REGRESSION_HELD_OUT * n))))
    held = np.sort(np.random.default_rng(seed).choice(inner, size=k, replace=False))
    rest = np.setdiff1d(np.arange(n), held)
    note = (
        f"{k} of the {n} pairs (data rows {', '.join(str(i + 1) for i in held)}, chosen with seed {seed}, never the smallest "
        f"or largest x) are held out: the model is fitted on the other {len(rest)}, and the validation MSE is on pairs it never saw."
    )
    return pairs.subset(rest if part == "train" else held).noted(note)


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
    (``None``: the shipped sample); ``circles`` the CSV of ``make-data circles``
    or ``None`` (``seed`` makes the points). For ``hw2`` and ``cifar``, ``val`` is
    10 % of the training folder, held out by ``train`` as well; for
    ``regression`` it is a quarter of the pairs, and ``test`` is all of them.
    ``seed`` chooses every random split, so ``evaluate`` must pass the seed the
    weights were trained with (:func:`reference_models.train.seed_of`).

    Raises:
        ModelError: an unknown task or part, a missing ``data``, or a loader's complaint.
    """
    if part not in ("train", "val", "test"):
        raise ModelError(f"part must be 'train', 'val' or 'test', not {part!r}.")
    if task == "circles":
        from reference_models.data.circles import load_circles, load_circles_csv

        split = "test" if part in ("val", "test") else "train"
        return load_circles(split, seed=seed) if data is None else load_circles_csv(data, split, seed=seed)
    if task == "regression":
        from reference_models.data.regression import load_xy_csv

        return _regression_part(load_xy_csv(data), part, seed)
    if task not in TASKS:
        raise ModelError(f"Unknown task {task!r}; the tasks are: {', '.join(TASKS)}.")
    if data is None:
        raise ModelError(f"The {task} task reads local files: pass --data (nothing is downloaded).")
    data = Path(data)
    if task == "fer":
        from reference_models.data.fer import load_fer2013

        return load_fer2013(data, part, seed=seed)
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
