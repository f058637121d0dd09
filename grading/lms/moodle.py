"""Without a template: the smallest worksheet Moodle's "Upload grading worksheet" accepts."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from grading.lms.fill import LmsGrade, format_grade, plain

__all__ = [
    "MOODLE_DEFAULT_MAXIMUM",
    "MOODLE_WORKSHEET_FILENAME",
    "moodle_date",
    "worksheet_warnings",
    "write_moodle_worksheet",
]

MOODLE_WORKSHEET_FILENAME = "moodle-grading-worksheet.csv"
MOODLE_DEFAULT_MAXIMUM = 100.0
"""The maximum grade of a new Moodle assignment; the upload skips a grade above the assignment's own."""


def worksheet_warnings(grades: Mapping[str, LmsGrade], *, maximum: float) -> list[str]:
    """What a worksheet written without a template should say: grades above Moodle's default maximum.

    Moodle's upload ignores the worksheet's ``Maximum Grade`` column and skips every grade above the
    assignment's maximum, which is 100 unless the TA changed it.

    >>> worksheet_warnings({"7": LmsGrade(105.0), "8": LmsGrade(99.0)}, maximum=105)[0][:62]
    '1 grade is above 100, the maximum grade of a new Moodle assign'
    """
    over = sorted(k for k, g in grades.items() if g.grade is not None and g.grade > MOODLE_DEFAULT_MAXIMUM + 1e-9)
    if not over or maximum <= MOODLE_DEFAULT_MAXIMUM:
        return []
    n = len(over)
    shown = ", ".join(f"Participant {k}: {grades[k].grade:g}" for k in over[:3]) + (", …" if n > 3 else "")
    return [
        f"{n} grade{'s are' if n > 1 else ' is'} above 100, the maximum grade of a new Moodle assignment "
        f"(the grades are out of {maximum:g}; {shown}): Moodle skips such a row. Set the assignment's "
        f"maximum grade to {maximum:g} in Moodle, or add `[lms] scale_to = 100` to assignment.toml to rescale "
        "the grades."
    ]


def moodle_date(when: float | None = None) -> str:
    """A time as Moodle writes it in a worksheet: ``Wednesday, 20 March 2024, 10:41 PM`` (local time)."""
    t = time.localtime(time.time() if when is None else when)
    hour = t.tm_hour % 12 or 12
    return (
        f"{time.strftime('%A', t)}, {t.tm_mday} {time.strftime('%B %Y', t)}, "
        f"{hour}:{t.tm_min:02d} {'AM' if t.tm_hour < 12 else 'PM'}"
    )


def write_moodle_worksheet(
    out_dir: str | Path,
    students: Sequence[tuple[str, str]],
    grades: Mapping[str, LmsGrade],
    *,
    maximum: float = 100.0,
    when: float | None = None,
) -> Path:
    """Write ``out_dir/moodle-grading-worksheet.csv`` without a template.

    Columns ``Identifier, Full name, Grade, Maximum Grade, Last modified (grade), Feedback
    comments``: the smallest file Moodle's "Upload grading worksheet" accepts. ``Last
    modified (grade)`` is the time of this run, so Moodle takes the grades unless one was
    changed in Moodle afterwards.

    Args:
        out_dir: the output folder.
        students: ``(participant number, full name)`` of each student, in order.
        grades: participant number -> :class:`LmsGrade`; a student without one gets an empty grade.
        maximum: the assignment's maximum grade.
        when: the time to write (default: now).

    Returns:
        the path written.
    """
    from grading.gradebook import write_atomic
    from grading.safety import defuse_cell, strip_control

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"])
    stamp = moodle_date(when)
    for pid, name in students:
        g = grades.get(pid)
        grade = "" if g is None or g.grade is None else format_grade(g.grade)
        writer.writerow(
            [
                f"Participant {pid}",
                defuse_cell(" ".join(strip_control(name).split())),
                grade,
                f"{maximum:.2f}",
                stamp if grade else "-",
                plain(g.feedback) if g else "",
            ]
        )
    path = Path(out_dir) / MOODLE_WORKSHEET_FILENAME
    write_atomic(path, buf.getvalue())
    return path
