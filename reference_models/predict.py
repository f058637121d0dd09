"""Predictions of a trained model, written as the submission CSV that ``grade`` reads.

HW2's ``HW2_prob1.csv`` has the header ``image,class``; we add ``class_2`` and
``class_3`` (the next best classes, best first) so that ``grade`` can report
top-3 as well.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reference_models._files import check_output_file
from reference_models.data import Dataset
from reference_models.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["Predictions", "predict", "predict_scores", "ranked", "write_submission"]


def predict_scores(
    model: torch.nn.Module,
    data: Dataset,
    *,
    batch_size: int = 256,
    on_batch: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Class probabilities (softmax of the logits), float64 (N, classes); raw outputs for regression.

    Runs on the device the model is on (``--device``); the numbers come back to the CPU.
    """
    import torch

    from reference_models.batches import to_tensor

    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    chunks = []
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            out = model(to_tensor(data.x[start : start + batch_size]).to(device)).cpu().double()
            chunks.append((out.softmax(1) if data.classes else out).numpy())
            if on_batch:
                on_batch(min(start + batch_size, len(data)), len(data))
    if not chunks:
        raise ModelError("There is nothing to predict: the data set is empty.")
    return np.concatenate(chunks)


def ranked(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best classes per row, best first.

    Ties follow ``grade`` and scikit-learn's ``top_k_accuracy_score``
    (:data:`grading.TIE_RULE`): among equal scores the later class ranks
    higher. One rule, so ``evaluate``'s top-k equals what ``grade`` gives
    the CSV that ``predict`` writes.

    >>> ranked(np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]]), 2).tolist()
    [[1, 2], [2, 1]]
    """
    from grading.metrics import top_k_predictions

    return top_k_predictions(np.asarray(scores), k)


@dataclass(frozen=True)
class Predictions:
    """What a model says about each example: ids, classes best first, probabilities."""

    ids: tuple[str, ...]
    classes: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]


def predict(
    model: torch.nn.Module, data: Dataset, *, top: int = 3, on_batch: Callable[[int, int], None] | None = None
) -> Predictions:
    """Predict every example of ``data`` (labels, if any, are ignored).

    Raises:
        ModelError: the data set is empty or is a regression set.
    """
    if not data.classes:
        raise ModelError("predict writes class submissions; this data set is a regression set (use train or evaluate).")
    scores = predict_scores(model, data, on_batch=on_batch)
    return Predictions(
        ids=data.ids, classes=ranked(scores, min(top, scores.shape[1])), scores=scores, class_names=data.classes
    )


def write_submission(predictions: Predictions, path: Path | str, *, id_column: str = "image") -> Path:
    """Write ``id_column,class,class_2,class_3``: one row per example, class indices, best first."""
    path = check_output_file(path, example="HW2_prob1.csv")
    k = predictions.classes.shape[1]
    header = [id_column, "class", *(f"class_{i}" for i in range(2, k + 1))]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for name, row in zip(predictions.ids, predictions.classes, strict=True):
                writer.writerow([name, *(int(c) for c in row)])
    except OSError as exc:
        raise ModelError(
            f"{path}: the submission cannot be written ({exc.strerror or exc}); choose another --out."
        ) from None
    return path
