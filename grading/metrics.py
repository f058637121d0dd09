"""Classification metrics named and behaving as scikit-learn's, in plain numpy.

The grader must not import scikit-learn (it costs a second at start-up), so
the few metrics it needs are written here as arithmetic on index arrays and
tested against scikit-learn. The public functions take label values like
scikit-learn's; the ``*_from_indices`` helpers take class indices and are
what :func:`grading.grade_file` calls.

Ties between equal scores are broken as in
:func:`sklearn.metrics.top_k_accuracy_score` (a stable ascending sort, then
reversed): among classes with equal scores, the one that comes **later** in the
class list ranks higher. :data:`TIE_RULE` says so in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "TIE_RULE",
    "accuracy_score",
    "confusion_matrix",
    "confusion_matrix_from_indices",
    "precision_recall_from_indices",
    "precision_recall_scores",
    "top_k_accuracy_score",
    "top_k_hits_from_indices",
    "top_k_predictions",
]

TIE_RULE = (
    "Ties between equal scores go to the class that comes later in the class list "
    "(the rule of scikit-learn's top_k_accuracy_score)."
)


def _encode(values: Any, labels: Sequence[Any]) -> np.ndarray:
    """Indices of ``values`` in ``labels``; -1 for a value not in ``labels``."""
    position = {label: j for j, label in enumerate(np.asarray(labels).tolist())}
    return np.fromiter((position.get(v, -1) for v in np.asarray(values).tolist()), dtype=np.int64)


def _labels_of(*arrays: Any) -> list[Any]:
    return np.unique(np.concatenate([np.asarray(a).ravel() for a in arrays])).tolist()


def accuracy_score(y_true: Any, y_pred: Any) -> float:
    """Fraction of predictions equal to the truth.

    >>> accuracy_score([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of one length, got {y_true.shape} and {y_pred.shape}.")
    return float(np.mean(y_true == y_pred)) if y_true.size else 0.0


def confusion_matrix_from_indices(t: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``cm[i, j]`` of rows with true class ``i`` predicted ``j``; rows with ``p < 0`` are left out."""
    keep = (p >= 0) & (t >= 0)
    return np.bincount(t[keep] * n_classes + p[keep], minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Sequence[Any] | None = None) -> np.ndarray:
    """Confusion matrix with rows = true classes and columns = predicted classes.

    Samples whose true or predicted class is not in ``labels`` are left out, as
    scikit-learn does.

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        labels: the ordered class list; default: the sorted labels present in either.

    Returns:
        an ``(n_classes, n_classes)`` int64 array.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1]).tolist()
    [[1, 0], [1, 1]]
    """
    labels = _labels_of(y_true, y_pred) if labels is None else list(labels)
    return confusion_matrix_from_indices(_encode(y_true, labels), _encode(y_pred, labels), len(labels))


def top_k_hits_from_indices(t: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Whether each row's true class index ``t`` is among its ``k`` best-scored classes.

    A class ranks above the true class when its score is higher, or equal and
    it comes later in the class list (:data:`TIE_RULE`). Rows with ``t < 0``
    are misses.
    """
    rows = np.arange(len(t))
    own = scores[rows, np.maximum(t, 0)][:, None]
    later = np.arange(scores.shape[1])[None, :] > t[:, None]
    above = (scores > own) | ((scores == own) & later)
    return (above.sum(axis=1) < k) & (t >= 0)


def top_k_predictions(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best class indices of each row, best first, ties as :data:`TIE_RULE`."""
    return np.argsort(scores, axis=1, kind="stable")[:, ::-1][:, :k]


def top_k_accuracy_score(y_true: Any, y_score: Any, *, k: int = 3, labels: Sequence[Any] | None = None) -> float:
    """Fraction of rows whose true class is among the ``k`` highest scores.

    Args:
        y_true: true labels, shape ``(n,)``.
        y_score: scores, shape ``(n, n_classes)``; column ``j`` scores ``labels[j]``.
        k: how many of the best-scored classes count as a hit.
        labels: the ordered class list; default: the sorted labels of ``y_true``.

    Returns:
        the top-k accuracy, from 0 to 1.

    Raises:
        ValueError: shapes disagree, a score is not finite, or a true label is not in ``labels``.

    >>> top_k_accuracy_score([0, 1, 2, 2], [[.5, .2, .2], [.3, .4, .2], [.2, .4, .3], [.7, .2, .1]], k=2)
    0.75
    """
    scores = np.asarray(y_score, dtype=np.float64)
    labels = _labels_of(y_true) if labels is None else list(labels)
    if scores.ndim != 2 or scores.shape != (len(np.asarray(y_true)), len(labels)):
        raise ValueError(f"y_score must have shape (n_samples, {len(labels)}), got {scores.shape}.")
    if not np.isfinite(scores).all():
        raise ValueError("y_score contains NaN or infinite values.")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}.")
    t = _encode(y_true, labels)
    if (t < 0).any():
        raise ValueError("y_true contains labels not in labels.")
    return float(np.mean(top_k_hits_from_indices(t, scores, k))) if len(t) else 0.0


def precision_recall_from_indices(t: np.ndarray, p: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall (0 where undefined), from class indices.

    A row predicted ``p < 0`` (missing or invalid) lowers the recall of its
    true class and the precision of no class.
    """
    correct = np.bincount(t[(p == t) & (t >= 0)], minlength=n_classes).astype(np.float64)
    predicted = np.bincount(p[p >= 0], minlength=n_classes)
    actual = np.bincount(t[t >= 0], minlength=n_classes)
    precision = np.divide(correct, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros(n_classes), where=actual > 0)
    return precision, recall


def precision_recall_scores(
    y_true: Any, y_pred: Any, *, labels: Sequence[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall, as scikit-learn's with ``average=None, zero_division=0``.

    >>> [a.tolist() for a in precision_recall_scores([0, 1, 1], [0, 0, 1])]
    [[0.5, 1.0], [1.0, 0.5]]
    """
    labels = _labels_of(y_true, y_pred) if labels is None else list(labels)
    return precision_recall_from_indices(_encode(y_true, labels), _encode(y_pred, labels), len(labels))
