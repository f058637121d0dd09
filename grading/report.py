"""The result of grading one file: :class:`GradeReport`, its JSON form and its text summary.

A report keeps the per-row data (key id, true class, predicted class, top-k
hit) so that the class tools can split it (Kaggle-style public/private) and
draw feedback without grading twice. :meth:`GradeReport.to_dict` returns
exactly the JSON fields of the ``grade --json`` contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grading.metrics import TIE_RULE, confusion_matrix_from_indices, precision_recall_from_indices

__all__ = ["JSON_FIELDS", "GradeReport", "Issue", "render_summary"]

JSON_FIELDS = (
    "status", "n_key", "n_scored", "n_correct", "n_missing", "n_unknown", "n_duplicate", "top1", "top3",
    "labels", "confusion_matrix", "params", "top1_per_param", "warnings", "errors",
)  # fmt: skip


@dataclass(frozen=True)
class Issue:
    """One warning or error about a submission.

    Attributes:
        code: a short stable identifier (``"missing_rows"``, ``"invalid_label"``, ...).
        message: one sentence for a TA or a student; never names a key label.
        line: the (first) line of the file concerned, or None for the whole file.
    """

    code: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "message", "line"}``."""
        return {"code": self.code, "message": self.message, "line": self.line}


@dataclass(frozen=True, eq=False)
class GradeReport:
    """Everything known about one graded file.

    Per-row arrays follow the order of the answer key.

    Attributes:
        status: ``"ok"`` when scored, ``"invalid"`` when the file cannot be scored.
        name: the submission's file name.
        labels: the ordered class list.
        ids: the key's ids.
        y_true: the true class index of each key row.
        y_pred: the predicted class index of each key row; -1 when missing or not a class.
        answered: whether the file has a row for each key id.
        topk_hit: whether each key row's true class is in the top-k, or None when unavailable.
        k: the k of top-k.
        topk_source: ``"ranked"`` (``class_2``, ...), ``"scores"`` (``p0``, ...) or None.
        usage: the key's Public/Private value of each row, or None.
        params: the model's parameter count, or None.
        n_unknown: rows whose id is not in the key (ignored).
        n_duplicate: rows repeating an earlier row (ignored).
        warnings: problems that did not stop scoring.
        errors: problems that made the file invalid.
    """

    status: str
    name: str
    labels: list[Any]
    ids: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    answered: np.ndarray
    topk_hit: np.ndarray | None = None
    k: int = 3
    topk_source: str | None = None
    usage: list[str] | None = None
    params: int | None = None
    n_unknown: int = 0
    n_duplicate: int = 0
    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was scored."""
        return self.status == "ok"

    @property
    def n_key(self) -> int:
        """Rows of the answer key."""
        return len(self.ids)

    @property
    def n_scored(self) -> int:
        """Key rows that the file answers (with a class or not); 0 when invalid."""
        return int(self.answered.sum()) if self.ok else 0

    @property
    def n_missing(self) -> int:
        """Key rows without an answer; they count as wrong. 0 when invalid."""
        return self.n_key - self.n_scored if self.ok else 0

    @property
    def n_correct(self) -> int:
        """Key rows predicted right; 0 when invalid."""
        return int((self.y_pred == self.y_true).sum()) if self.ok else 0

    @property
    def top1(self) -> float | None:
        """Top-1 accuracy over all key rows (missing rows are wrong); None when invalid."""
        return self.n_correct / self.n_key if self.ok and self.n_key else None

    @property
    def top3(self) -> float | None:
        """Top-k accuracy (k = :attr:`k`); None when invalid or unavailable."""
        if not self.ok or self.topk_hit is None or not self.n_key:
            return None
        return float(self.topk_hit.mean())

    @property
    def top1_per_param(self) -> float | None:
        """Top-1 accuracy divided by the parameter count, or None."""
        return self.top1 / self.params if self.top1 is not None and self.params else None

    @property
    def confusion_matrix(self) -> np.ndarray | None:
        """Counts with rows = true class, columns = predicted; rows without a valid class are left out."""
        if not self.ok:
            return None
        return confusion_matrix_from_indices(self.y_true, self.y_pred, len(self.labels))

    @property
    def precision(self) -> np.ndarray | None:
        """Per-class precision (0 for a class never predicted); None when invalid."""
        return precision_recall_from_indices(self.y_true, self.y_pred, len(self.labels))[0] if self.ok else None

    @property
    def recall(self) -> np.ndarray | None:
        """Per-class recall over all key rows of the class (missing rows are misses); None when invalid."""
        return precision_recall_from_indices(self.y_true, self.y_pred, len(self.labels))[1] if self.ok else None

    @property
    def true_labels(self) -> list[Any]:
        """The true class of each key row (label values)."""
        return [self.labels[i] for i in self.y_true.tolist()]

    @property
    def predicted_labels(self) -> list[Any]:
        """The predicted class of each key row, None where missing or not a class."""
        return [self.labels[i] if i >= 0 else None for i in self.y_pred.tolist()]

    def subset(self, ids: Iterable[str] | None = None, *, usage: str | None = None) -> GradeReport:
        """The same report restricted to some key rows (e.g. Kaggle's public part).

        Args:
            ids: key ids to keep (as written in the key).
            usage: keep the rows whose ``Usage`` equals this, case-insensitive (``"Public"``).

        Returns:
            a new :class:`GradeReport` whose counts and metrics cover those rows
            only; file-level counts, warnings and errors are kept.

        Raises:
            ValueError: neither or both selectors given, or no usage column in the key.
        """
        if (ids is None) == (usage is None):
            raise ValueError("give exactly one of ids or usage")
        if usage is not None:
            if self.usage is None:
                raise ValueError("the answer key has no Usage column")
            mask = np.array([u.lower() == usage.lower() for u in self.usage], dtype=bool)
        else:
            wanted = set(ids or ())
            mask = np.array([i in wanted for i in self.ids], dtype=bool)
        take = np.flatnonzero(mask)
        return dataclasses.replace(
            self,
            ids=[self.ids[i] for i in take],
            y_true=self.y_true[take],
            y_pred=self.y_pred[take],
            answered=self.answered[take],
            topk_hit=None if self.topk_hit is None else self.topk_hit[take],
            usage=None if self.usage is None else [self.usage[i] for i in take],
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``grade --json`` contract: exactly :data:`JSON_FIELDS`, JSON-ready."""
        cm = self.confusion_matrix
        return {
            "status": self.status,
            "n_key": self.n_key,
            "n_scored": self.n_scored,
            "n_correct": self.n_correct,
            "n_missing": self.n_missing,
            "n_unknown": self.n_unknown,
            "n_duplicate": self.n_duplicate,
            "top1": self.top1,
            "top3": self.top3,
            "labels": list(self.labels),
            "confusion_matrix": None if cm is None else cm.tolist(),
            "params": self.params,
            "top1_per_param": self.top1_per_param,
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
        }

    def write_json(self, folder: str | Path) -> Path:
        """Write :meth:`to_dict` to ``folder/<file stem>.json`` (the folder is created) and return its path.

        Raises:
            UsageError: the folder cannot be created or written.
        """
        import json

        from grading.errors import UsageError

        folder = Path(folder)
        target = folder / f"{Path(self.name).stem}.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report into {str(folder)!r} ({exc.strerror}).") from None
        return target


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def render_summary(report: GradeReport) -> Any:
    """A rich renderable summarising a report for the terminal.

    Args:
        report: the graded file.

    Returns:
        a :class:`rich.console.Group` (print it with a rich ``Console``).
    """
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    if not report.ok:
        parts.append(Text.assemble((f"{report.name}: ", "bold"), ("invalid, not scored", "bold red")))
        parts.extend(Text(f"  ✗ {e.message}", style="red") for e in report.errors)
        parts.extend(Text(f"  ! {w.message}", style="yellow") for w in report.warnings)
        return Group(*parts)
    head = f"{report.name}: scored {report.n_scored} of {report.n_key} rows of the key"
    parts.append(Text(head, style="bold"))
    lines = [f"  top-1  {_fmt(report.top1)}  ({report.n_correct} of {report.n_key} correct)"]
    if report.top3 is None:
        lines.append(f"  top-{report.k}  unavailable (see the warning below)")
    else:
        source = {"scores": "the score columns", "ranked": "the ranked columns", "class": "the class column"}
        lines.append(
            f"  top-{report.k}  {_fmt(report.top3)}  (from {source.get(report.topk_source or '', 'the file')})"
        )
    if report.params:
        lines.append(f"  params {report.params:,}   top-1 / params = {report.top1_per_param:.3e}")
    parts.append(Text("\n".join(lines)))
    table = Table(
        title="Confusion matrix (rows = true class, columns = predicted class)",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1),
    )  # fmt: skip
    table.add_column("true", justify="right", style="bold")
    for label in report.labels:
        table.add_column(escape(str(label)), justify="right")
    table.add_column("recall", justify="right", style="cyan")
    table.add_column("precision", justify="right", style="cyan")
    cm, precision, recall = report.confusion_matrix, report.precision, report.recall
    assert cm is not None and precision is not None and recall is not None
    for i, label in enumerate(report.labels):
        cells = [f"[green]{v}[/]" if i == j and v else ("·" if v == 0 else str(v)) for j, v in enumerate(cm[i])]
        table.add_row(escape(str(label)), *cells, f"{recall[i]:.3f}", f"{precision[i]:.3f}")
    parts.append(table)
    left_out = report.n_key - int(cm.sum())
    if left_out:
        rows = "1 row is" if left_out == 1 else f"{left_out} rows are"
        parts.append(Text(f"  {rows} left out of the matrix: no valid class (missing, or not a class)."))
    if report.warnings:
        parts.append(Text(f"{len(report.warnings)} warning(s):", style="bold yellow"))
        parts.extend(Text(f"  ! {w.message}", style="yellow") for w in report.warnings)
    parts.append(Text(f"Note: {TIE_RULE}", style="dim"))
    return Group(*parts)
