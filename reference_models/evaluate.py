"""Top-1/3/5 accuracy, the confusion matrix and the parameter count of a trained model.

Metrics follow scikit-learn's conventions (rows of the confusion matrix are
true classes; top-k counts a hit when the true class is among the k highest
scores) and are tested against it. Top-k is ``None`` when k is not smaller
than the number of classes, where it would be 1 by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_models.data import Dataset
from reference_models.errors import ModelError
from reference_models.predict import predict_scores, ranked

if TYPE_CHECKING:
    import torch

__all__ = ["Evaluation", "confusion_matrix", "count_parameters", "derivatives_at", "evaluate", "top_k_accuracy"]


def top_k_accuracy(y_true: np.ndarray, scores: np.ndarray, *, k: int) -> float | None:
    """Fraction of rows whose true class is among the ``k`` best scores; ``None`` if ``k >= classes``.

    >>> top_k_accuracy(np.array([0, 1]), np.array([[0.6, 0.3, 0.1], [0.5, 0.1, 0.4]]), k=2)
    0.5
    """
    if k >= scores.shape[1]:
        return None
    hits = (ranked(scores, k) == np.asarray(y_true)[:, None]).any(axis=1)
    return float(hits.mean())


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes); row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def count_parameters(model: torch.nn.Module) -> int:
    """``sum(p.numel())`` over the model's parameters (a shared tensor counted once; buffers excluded)."""
    return int(sum(p.numel() for p in model.parameters()))


@dataclass(frozen=True)
class Evaluation:
    """The numbers a TA reports. ``mse`` is set for regression, the class metrics otherwise.

    ``loss`` is the mean cross-entropy −log p(true class) (the training loss), ``notes``
    what the data loader said about the split (a split it made, images it did not find).
    """

    model: str
    n: int
    params: int
    top1: float | None = None
    top3: float | None = None
    top5: float | None = None
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None
    classes: tuple[str, ...] = ()
    mse: float | None = None
    loss: float | None = None
    notes: tuple[str, ...] = ()
    unit: str = "images"

    def to_text(self) -> str:
        """A few lines for the terminal."""
        notes = [f"note: {n}" for n in self.notes]
        if self.mse is not None:
            return "\n".join(
                [*notes, f"{self.model}: MSE {self.mse:.4f} on {self.n} pairs, {self.params:,} parameters"]
            )
        pct = lambda v: "n/a" if v is None else f"{v:.2%}"  # noqa: E731
        lines = [
            *notes,
            f"{self.model} on {self.n} {self.unit}: loss {self.loss:.4f}, top-1 {pct(self.top1)}, top-3 {pct(self.top3)}, top-5 {pct(self.top5)}",
            f"parameters {self.params:,}; top-1 / parameters = {(self.top1 or 0) / max(self.params, 1):.3e}",
            "confusion matrix (rows: true class, columns: predicted):",
        ]
        width = max(
            3, *(len(str(v)) for row in self.confusion_matrix or () for v in row), *(len(c) for c in self.classes)
        )
        lines.append(" " * (width + 1) + " ".join(f"{c:>{width}}" for c in self.classes))
        for name, row in zip(self.classes, self.confusion_matrix or (), strict=False):
            lines.append(f"{name:>{width}} " + " ".join(f"{v:>{width}}" for v in row))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``evaluate --json``: model, n, loss, top1, top3, top5, params, confusion_matrix, notes (or mse)."""
        if self.mse is not None:
            return {"model": self.model, "n": self.n, "mse": self.mse, "params": self.params, "notes": list(self.notes)}
        return {
            "model": self.model,
            "n": self.n,
            "loss": self.loss,
            "top1": self.top1,
            "top3": self.top3,
            "top5": self.top5,
            "params": self.params,
            "confusion_matrix": [list(row) for row in self.confusion_matrix or ()],
            "notes": list(self.notes),
        }


def evaluate(
    model: torch.nn.Module, data: Dataset, *, name: str, on_batch: Callable[[int, int], None] | None = None
) -> Evaluation:
    """Score ``model`` on a labeled split.

    Raises:
        ModelError: the split has no labels or is empty.
    """
    if data.y is None:
        raise ModelError("This data set has no labels, so it cannot be evaluated; use predict, or add labels.csv.")
    if len(data) == 0:
        raise ModelError("The data set is empty; there is nothing to evaluate.")
    scores = predict_scores(model, data, on_batch=on_batch)
    params = count_parameters(model)
    if not data.classes:
        return Evaluation(
            model=name, n=len(data), params=params, mse=float(np.mean((scores - data.y) ** 2)), notes=data.notes
        )
    if scores.shape[1] != len(data.classes):
        raise ModelError(f"Model {name!r} outputs {scores.shape[1]} classes but the data has {len(data.classes)}.")
    matrix = confusion_matrix(data.y, ranked(scores, 1)[:, 0], n_classes=len(data.classes))
    return Evaluation(
        model=name,
        n=len(data),
        params=params,
        top1=top_k_accuracy(data.y, scores, k=1),
        top3=top_k_accuracy(data.y, scores, k=3),
        top5=top_k_accuracy(data.y, scores, k=5),
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        classes=data.classes,
        loss=float(-np.mean(np.log(np.clip(scores[np.arange(len(data)), data.y], 1e-300, None)))),
        notes=data.notes,
        unit="points" if data.x.ndim == 2 else "images",
    )


def derivatives_at(model: torch.nn.Module, points: tuple[float, ...]) -> list[tuple[float, float]]:
    """f'(x) of a 1-input regression model at each point, by autograd: ``[(x, f'(x)), ...]``."""
    import torch

    x = torch.tensor(points, dtype=torch.float32).reshape(-1, 1).requires_grad_(True)
    model.eval()
    (grad,) = torch.autograd.grad(model(x).sum(), x)
    return [(p, float(g)) for p, g in zip(points, grad.ravel(), strict=True)]
