"""Each student's total in a CSV + notebook class: the two parts added once, for every output.

:func:`attach_totals` puts ``total`` into each row of a class whose assignment has a ``[key]`` and
a ``[notebook]``; ``gradebook.csv``, ``results.json`` and the LMS file all read that one number:

    {csv_points, csv_max_points, notebook_auto_points, notebook_points, notebook_max_points,
     auto_points, final_points, max_points, decided, undecided}

``csv_points`` is what a CSV-only class sends to the LMS (:func:`csv_points`); ``notebook_points``
counts the TA's decisions (:func:`grading.notebook.finalize.notebook_points`); ``auto_points`` is
the CSV part plus the notebook's automatic points, ``final_points`` the CSV part plus the notebook's
final ones; ``undecided`` names the manual items still waiting for the TA.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from grading.assignment import Assignment

__all__ = ["attach_totals", "csv_maximum", "csv_points"]


def csv_points(student: Mapping[str, Any], *, rubric: bool) -> float:
    """The CSV part's points: the rubric total; without a rubric, top-1 in percent (0 for an invalid file).

    >>> csv_points({"status": "ok", "report": {"top1": 0.8125}}, rubric=False)
    81.25
    """
    rub = student.get("rubric") or {}
    if rubric and rub:
        return float(rub["total"])
    r = student.get("report") or {}
    return round(100 * (r.get("top1") or 0.0), 2) if student.get("status") == "ok" else 0.0


def csv_maximum(a: Assignment) -> float:
    """What the CSV part is out of: the rubric's points, else 100 (top-1 in percent)."""
    return math.fsum(rule.points for rule in a.rubric) if a.rubric else 100.0


def attach_totals(
    rows: Sequence[dict[str, Any]], a: Assignment, *, notebook_max: float, manual: Sequence[Mapping[str, Any]]
) -> None:
    """Put ``total`` (see the module docstring) into each row; rows already carry ``rubric`` and ``notebook``."""
    from grading.notebook.finalize import notebook_points

    csv_max = csv_maximum(a)
    for row in rows:
        csv = csv_points(row, rubric=bool(a.rubric))
        nb = notebook_points(row["notebook"], manual)
        row["total"] = {
            "csv_points": csv,
            "csv_max_points": csv_max,
            "notebook_auto_points": round(nb.auto, 6),
            "notebook_points": round(nb.final, 6),
            "notebook_max_points": notebook_max,
            "auto_points": round(csv + nb.auto, 6),
            "final_points": round(csv + nb.final, 6),
            "max_points": csv_max + notebook_max,
            "decided": nb.decided,
            "undecided": list(nb.undecided),
        }
