"""The TA's decisions and the LMS file for a class of notebooks.

:func:`apply_decisions` applies ``overrides.csv`` with :mod:`grading.notebook.overrides` (the one
place that module is called); :func:`notebook_lms_grades` turns each student's result into the
grade and comment that go back to Moodle or Canvas: the final points once every manual item of
theirs is decided, else nothing (the LMS cell is left as it is) unless ``allow_partial``, which
writes the automatic part and says so in the comment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grading.lms import LmsGrade
from grading.safety import strip_control

__all__ = ["apply_decisions", "notebook_lms_grades"]


def apply_decisions(rows: list[dict[str, Any]], overrides: Path, manual: Sequence[Mapping[str, Any]]) -> None:
    """Apply ``overrides.csv`` to each row's ``notebook`` result in place.

    Raises:
        GradingError (OverridesError, a UsageError): the file is wrong.
    """
    from grading.notebook.overrides import apply_overrides, read_overrides

    students = {r["student"] for r in rows}
    questions = {q["question"] for r in rows for q in r["notebook"]["questions"]} | {m["name"] for m in manual}
    decisions = read_overrides(overrides, students, questions)
    for r in rows:
        r["notebook"] = apply_overrides(r["notebook"], decisions, [dict(m) for m in manual])


def _automatic(result: Mapping[str, Any]) -> float:
    return math.fsum(q["points"] for q in result["questions"])


def notebook_lms_grades(
    rows: Sequence[Mapping[str, Any]], manual: Sequence[Mapping[str, Any]], *, allow_partial: bool
) -> dict[str, LmsGrade]:
    """Student → the LMS grade and a one-line comment (see the module docstring)."""
    out = {}
    for r in rows:
        nb = r["notebook"]
        if nb["status"] != "graded":
            text = f"Notebook not graded: {nb['errors'][0] if nb['errors'] else 'no notebook.'}"
            out[r["student"]] = LmsGrade(0.0, " ".join(strip_control(text).split()))
            continue
        decided = bool(nb.get("decided", not manual))
        final = float(nb.get("final_points", _automatic(nb)))
        parts = [
            f"{q['question']}: {q['verdict']}" + (f" ({q['misconception']})" if q.get("misconception") else "")
            for q in nb["questions"]
        ]
        comments = [str(q["comment"]) for q in nb["questions"] if q.get("comment")]
        text = "Notebook: " + "; ".join(parts) + f". {final:g} points."
        if comments:
            text += " TA: " + " / ".join(comments)
        grade: float | None = final
        if not decided:
            undecided = nb.get("undecided") or [m["name"] for m in manual]
            if allow_partial:
                text += f" Partial grade: {', '.join(map(str, undecided))} not graded yet."
            else:
                grade = None
                text += f" Grade withheld until {', '.join(map(str, undecided))} is graded."
        out[r["student"]] = LmsGrade(grade, " ".join(strip_control(text).split()))
    return out
