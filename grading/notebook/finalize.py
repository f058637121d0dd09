"""The TA's decisions and what goes back to the LMS for the notebook part of a class.

:func:`apply_decisions` applies ``overrides.csv`` with :mod:`grading.notebook.overrides` (the one
place that module is called); :func:`notebook_points` is the one computation of a student's
notebook points (automatic, final, the manual items still undecided) and :func:`notebook_comment`
the notebook part of their LMS comment, for a notebook-only class and for a CSV + notebook one.
:func:`notebook_lms_grades` turns each student's result into the grade and comment of a
notebook-only class: the final points once every manual item of theirs is decided, else nothing
(the LMS cell is left as it is) unless ``allow_partial``, which writes the automatic part and says
so in the comment (:func:`hold_back`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.lms import LmsGrade
from grading.safety import strip_control

OverrideSources = str | Path | Sequence[str | Path] | None
"""What ``--overrides`` names: a file, a folder of them, several of either, or None."""

__all__ = [
    "NotebookPoints",
    "OverrideSources",
    "apply_decisions",
    "hold_back",
    "notebook_comment",
    "notebook_lms_grades",
    "notebook_points",
]


def apply_decisions(
    rows: list[dict[str, Any]], overrides: OverrideSources, manual: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Apply the TA's ``overrides.csv`` files to each row's ``notebook`` result in place; the warnings
    (one line each: decisions a later file replaced).

    ``overrides`` is a file, a folder of them, several of either (:func:`grading.notebook.overrides.
    read_override_sources`), or None: no decision, but each question still gets its automatic and final
    points and each manual item is undecided, so every result has the same fields. Points the TA gives
    to a question of a notebook that could not be read count (the question is added, ``not-found``).

    Raises:
        GradingError (OverridesError, a UsageError): a file is wrong.
    """
    from grading.notebook.overrides import Overrides, apply_overrides, read_override_sources

    decisions = Overrides("")
    if overrides is not None:
        sources = [overrides] if isinstance(overrides, (str, Path)) else list(overrides)
        students = {r["student"] for r in rows}
        questions = {q["question"] for r in rows for q in r["notebook"]["questions"]} | {m["name"] for m in manual}
        decisions = read_override_sources(sources, students, questions)
    max_points: dict[str, float] = {}
    for r in rows:
        for q in r["notebook"]["questions"] if r["notebook"]["status"] == "graded" else ():
            max_points.setdefault(q["question"], float(q["max_points"]))
    for r in rows:
        r["notebook"] = apply_overrides(r["notebook"], decisions, [dict(m) for m in manual], max_points)
    return list(decisions.warnings)


@dataclass(frozen=True)
class NotebookPoints:
    """A student's notebook part: ``auto`` the questions' automatic points, ``final`` what counts
    (the TA's points where set, decided manual items included), ``undecided`` the manual items
    still waiting for the TA (none for a notebook that could not be graded: there is nothing to judge)."""

    auto: float
    final: float
    undecided: tuple[str, ...] = ()

    @property
    def decided(self) -> bool:
        return not self.undecided


def notebook_points(result: Mapping[str, Any], manual: Sequence[Mapping[str, Any]]) -> NotebookPoints:
    """The points of one student's notebook result, with or without the TA's decisions applied.

    >>> r = {"status": "graded", "questions": [{"points": 2.5}, {"points": 0.0}]}
    >>> notebook_points(r, [{"name": "figure", "points": 5}])
    NotebookPoints(auto=2.5, final=2.5, undecided=('figure',))
    """
    if result["status"] != "graded":  # only what the TA set by hand counts, on questions and manual items
        items = [*result.get("questions", []), *(result.get("manual") or [])]
        return NotebookPoints(0.0, math.fsum(x["final_points"] for x in items if x.get("final_points") is not None))
    auto = math.fsum(q["points"] for q in result["questions"])
    final = float(result.get("final_points", auto))
    undecided = result["undecided"] if "undecided" in result else [m["name"] for m in manual]
    return NotebookPoints(auto, final, tuple(str(u) for u in undecided))


def notebook_comment(result: Mapping[str, Any], points: NotebookPoints, maximum: float | None = None) -> str:
    """The notebook part of a student's LMS comment: each question's verdict and named mistake
    (never the key's answer), the points, the TA's comments."""
    out_of = f" of {maximum:g}" if maximum is not None else ""
    if result["status"] != "graded":
        why = result["errors"][0] if result["errors"] else "no notebook."
        text = f"Notebook not graded: {why}"
        if points.final:
            text += f" {points.final:g}{out_of} points set by the TA."
        elif maximum is not None:
            text += f" 0{out_of} points."
    else:
        parts = [
            f"{q['question']}: {q['verdict']}" + (f" ({q['misconception']})" if q.get("misconception") else "")
            for q in result["questions"]
        ]
        text = "Notebook: " + "; ".join(parts) + f". {points.final:g}{out_of} points."
    comments = [str(x["comment"]) for x in [*result["questions"], *(result.get("manual") or [])] if x.get("comment")]
    if comments:
        said = " / ".join(comments)
        text += " TA: " + said + ("" if said.rstrip().endswith((".", "!", "?", "。", "！", "？")) else ".")
    return text


def hold_back(points: NotebookPoints, *, allow_partial: bool) -> tuple[bool, str]:
    """Whether the LMS grade is withheld, and the sentence the comment gets (empty when decided)."""
    if points.decided:
        return False, ""
    undecided = ", ".join(points.undecided)
    if allow_partial:
        return False, f" Partial grade: {undecided} not graded yet."
    return True, f" Grade withheld until {undecided} is graded."


def notebook_lms_grades(
    rows: Sequence[Mapping[str, Any]], manual: Sequence[Mapping[str, Any]], *, allow_partial: bool
) -> dict[str, LmsGrade]:
    """Student → the LMS grade and a one-line comment of a notebook-only class (see the module docstring)."""
    out = {}
    for r in rows:
        nb = r["notebook"]
        points = notebook_points(nb, manual)
        withheld, why = hold_back(points, allow_partial=allow_partial)
        text = notebook_comment(nb, points) + why
        out[r["student"]] = LmsGrade(None if withheld else points.final, " ".join(strip_control(text).split()))
    return out
