"""What goes back to the LMS from a class run: each grade and comment, and the filled upload file.

A CSV + notebook class sends each student's ``total`` (:mod:`grading.class_total`): the CSV part
plus the notebook's final points, with a comment on both parts; while a manual item of theirs is
undecided the grade is withheld (the LMS cell is left as it is) unless ``allow_partial``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grading.assignment import Assignment
from grading.class_result import ClassResult
from grading.class_total import csv_maximum, csv_points
from grading.lms import LmsGrade, LmsTemplate, worksheet_warnings, write_lms_import, write_moodle_worksheet
from grading.safety import strip_control


def lms_grade(student: Mapping[str, Any], *, rubric: bool) -> LmsGrade:
    """The grade and the plain-text comment that go back to the LMS for one student's row.

    The grade is the rubric total; without a rubric, top-1 accuracy in percent (0 for an
    invalid file). The comment says top-1, top-k, points, the main warning, or why the
    file was invalid.
    """
    r = student.get("report") or {}
    rub = student.get("rubric") or {}
    ok = student.get("status") == "ok"
    grade = csv_points(student, rubric=rubric)
    if rubric and rub:
        points = f" {rub['total']:g} of {rub['max_total']:g} points."
    else:
        points = f" {grade:g} points." if not rubric else ""
    k = student.get("k", 3)
    if ok:
        top3 = "unavailable" if r.get("top3") is None else f"{100 * r['top3']:.2f}%"
        text = f"Top-1 {100 * (r.get('top1') or 0):.2f}%, top-{k} {top3}.{points}"
        warnings = [w["message"] for w in r.get("warnings", []) if w.get("code") != "top_k_unavailable"]
        if warnings:
            text += f" Check: {warnings[0]}" + (
                f" (and {len(warnings) - 1} more in the feedback page)" if len(warnings) > 1 else ""
            )
    else:
        text = f"Not graded: {student.get('reason') or 'the file cannot be scored.'}{points}"
    if student.get("late"):
        text += " Submitted late."
    return LmsGrade(grade, " ".join(strip_control(text).split()))


def lms_grade_with_notebook(student: Mapping[str, Any], *, rubric: bool, allow_partial: bool) -> LmsGrade:
    """A CSV + notebook student's grade (both parts, the TA's decisions in) and a comment on both parts.

    None while a manual item is undecided, unless ``allow_partial`` (the comment says which, either way).
    """
    from grading.notebook.finalize import NotebookPoints, hold_back, notebook_comment

    t = student["total"]
    csv = lms_grade(student, rubric=rubric)
    points = NotebookPoints(t["notebook_auto_points"], t["notebook_points"], tuple(t["undecided"]))
    withheld, why = hold_back(points, allow_partial=allow_partial)
    text = (
        f"Predictions: {csv.feedback} {notebook_comment(student['notebook'], points, t['notebook_max_points'])} "
        + (f"Total {t['final_points']:g}" if points.decided else f"So far {t['final_points']:g}")
        + f" of {t['max_points']:g} points.{why}"
    )
    return LmsGrade(None if withheld else float(t["final_points"]), " ".join(strip_control(text).split()))


def lms_grades(result: ClassResult, a: Assignment, *, allow_partial: bool = False) -> tuple[dict[str, LmsGrade], float]:
    """Each student's grade for the LMS, rescaled by ``[lms] scale_to``, and the maximum it is out of.

    With a ``[notebook]`` part: each student's combined total (:func:`lms_grade_with_notebook`), and
    ``result.withheld`` lists the students whose grade waits for a manual item.
    """
    maximum = csv_maximum(a)
    if a.notebook is not None and result.students:
        maximum = float(result.students[0]["total"]["max_points"])
        grades = {
            r["student"]: lms_grade_with_notebook(r, rubric=bool(a.rubric), allow_partial=allow_partial)
            for r in result.students
        }
        result.withheld = [sid for sid, g in grades.items() if g.grade is None]
    else:
        grades = {r["student"]: lms_grade(r, rubric=bool(a.rubric)) for r in result.students}
    if a.lms_scale_to is None or maximum <= 0:
        return grades, maximum
    factor = a.lms_scale_to / maximum
    scaled = {
        sid: LmsGrade(None if g.grade is None else round(g.grade * factor, 2), g.feedback) for sid, g in grades.items()
    }
    return scaled, a.lms_scale_to


def write_lms(
    out: Path, result: ClassResult, a: Assignment, template: LmsTemplate | None, *, allow_partial: bool = False
) -> dict[str, Path]:
    grades, maximum = lms_grades(result, a, allow_partial=allow_partial)
    if template is not None:
        filled = write_lms_import(out, template, grades)
        result.lms = {**filled.to_dict(), "file": "lms-import.csv", "template": str(template.path)}
        return {"lms-import.csv": out / "lms-import.csv"}
    moodle = [(r["student"], r.get("name") or "") for r in result.students if r.get("lms") == "moodle"]
    if not moodle:
        return {}
    path = write_moodle_worksheet(out, moodle, grades, maximum=maximum)
    result.lms = {
        "kind": "moodle",
        "column": "Grade",
        "filled": sum(grades[m[0]].grade is not None for m in moodle),
        "unmatched": [],
        "warnings": worksheet_warnings({m[0]: grades[m[0]] for m in moodle}, maximum=maximum),
        "file": path.name,
        "template": None,
    }
    return {path.name: path}
