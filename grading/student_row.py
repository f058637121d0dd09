"""One student's row of a class run: their file graded, never raising, and the baseline's row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from grading.assignment import Assignment
from grading.collect import Submission
from grading.errors import GradingError, UsageError
from grading.safety import strip_control


def row_metrics(report: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if report is None or report.get("status") != "ok":
        return None
    return {m: report.get(m) for m in ("top1", "top3", "top1_per_param")}


def split_top1(report: Any) -> tuple[float | None, float | None]:
    if getattr(report, "usage", None) is None or not report.ok:
        return None, None
    return report.subset(usage="Public").top1, report.subset(usage="Private").top1


def per_class(report: Any) -> dict[str, Any]:
    """Precision, recall and class sizes from the report, when the grader provides them."""
    try:
        import numpy as np

        support = np.bincount(np.asarray(report.y_true), minlength=len(report.labels)).tolist()
        return {
            "precision": [float(x) for x in report.precision],
            "recall": [float(x) for x in report.recall],
            "support": support,
        }
    except (AttributeError, TypeError, ValueError):
        return {}


def student_view(report: Any) -> dict[str, Any] | None:
    """What a student may see of the per-row truth: with a Public/Private split, the confusion
    matrix and per-class figures of the Public rows only (a matrix shows the true class of every
    row answered, so a one-row file would reveal its truth). None without a split."""
    if getattr(report, "usage", None) is None or not report.ok:
        return None
    public = report.subset(usage="Public")
    cm = public.confusion_matrix
    return {
        "scope": "public",
        "n_rows": public.n_key,
        "confusion_matrix": None if cm is None else cm.tolist(),
        **per_class(public),
    }


def grade_one(
    sub: Submission, key: Any, a: Assignment, params: int | None, grader: Callable[..., Any]
) -> tuple[dict[str, Any], str | None]:
    row: dict[str, Any] = {
        "student": sub.student,
        "name": " ".join(strip_control(sub.name).split()),
        "source": sub.source,
        "late": sub.late,
        "status": "invalid",
        "reason": sub.problem,
        "notes": list(sub.notes),
        "k": a.k,
        "report": None,
        "public_top1": None,
        "private_top1": None,
    }
    if sub.problem or sub.path is None:
        return row, None
    try:
        report = grader(sub.path, key, k=a.k, params=params, max_bytes=a.max_bytes)
    except GradingError as exc:
        row["reason"] = f"{sub.source}: {exc}"
        return row, None
    except Exception as exc:  # noqa: BLE001 - one student's file must not stop a class
        row["reason"] = (
            f"{sub.source}: gradkit failed on this file ({type(exc).__name__}: {exc}); "
            "grade it by hand and please report the bug."
        )
        return row, sub.student
    d = report.to_dict()
    row["report"] = d
    row["status"] = d["status"]
    if d["status"] == "ok":
        row["public_top1"], row["private_top1"] = split_top1(report)
        row.update(per_class(report))
        row["student_view"] = student_view(report)
    else:
        row["reason"] = " ".join(e["message"] for e in d["errors"]) or "the file cannot be scored."
    return row, None


def baseline_row(a: Assignment, key: Any, grader: Callable[..., Any]) -> dict[str, Any] | None:
    b = a.baseline
    if b is None:
        return None
    if b.predictions is not None:
        report = grader(b.predictions, key, k=a.k, params=b.params, max_bytes=None)
        d = report.to_dict()
        if d["status"] != "ok":
            problems = " ".join(e["message"] for e in d["errors"])
            raise UsageError(f"the baseline's predictions {b.predictions.name!r} cannot be scored: {problems}")
        public, private = split_top1(report)
    else:
        top1_pp = b.top1 / b.params if b.top1 is not None and b.params else None
        d = {"status": "ok", "top1": b.top1, "top3": b.top3, "params": b.params, "top1_per_param": top1_pp}
        public = private = None
    return {
        "student": b.name,
        "name": b.name,
        "status": "ok",
        "report": d,
        "public_top1": public,
        "private_top1": private,
        "baseline": True,
    }
