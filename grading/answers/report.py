"""What a TA reads and what goes back to the LMS: the summary, results.json, gradebook.csv, feedback per student.

Every string a student wrote is defused on the way out: rich markup escaped and
control characters dropped in the terminal, ``=``/``+``/``-``/``@`` cells prefixed
in the gradebook, plain UTF-8 text in the feedback files.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from grading.answers.mistakes import explain
from grading.answers.result import VERDICTS, AnswersResult, StudentResult
from grading.gradebook import write_atomic
from grading.safety import defuse_cell, strip_control

__all__ = [
    "lms_grades",
    "render_answers_gradebook",
    "render_answers_summary",
    "render_feedback_text",
    "write_answers_report",
]


def _safe(text: str | None, limit: int = 60) -> str:
    """A student's text for one line of a terminal or a spreadsheet: no control characters, bounded."""
    if text is None:
        return ""
    clean = " ".join(strip_control(text).split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _num(x: float) -> str:
    return f"{x:.6g}"


def _pts(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}".rstrip("0")


# ------------------------------------------------------------------ terminal


def render_answers_summary(result: AnswersResult) -> Any:
    """A rich renderable: per question the counts of each verdict, then the class's mistakes by count."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    if not result.ok:
        return Group(*(Text(f"✗ {e}") for e in result.errors), *(Text(f"! {w}") for w in result.warnings))
    n = len(result.students)
    head = Text(
        f"Derivation answers: {len(result.questions)} question(s), {n} student(s), "
        f"numbers within {result.rtol * 100:g} % (or {result.atol:g} near zero)."
    )
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("question")
    for v in VERDICTS:
        table.add_column(v, justify="right")
    for k, q in enumerate(result.questions):
        counts = Counter(s.items[k].verdict for s in result.students)
        table.add_row(escape(q), *(str(counts.get(v, 0)) for v in VERDICTS))
    parts: list[Any] = [head, table]
    mistakes = result.misconceptions
    if mistakes:
        parts.append(Text("Mistakes in the class (students who made each):"))
        parts.extend(Text(f"  {m}: {c} student{'s' if c != 1 else ''}") for m, c in mistakes.items())
    else:
        parts.append(Text("No known mistake was named."))
    total = sum(s.points for s in result.students)
    best = sum(s.max_points for s in result.students)
    parts.append(Text(f"Points: {_pts(total)} of {_pts(best)} over the class."))
    parts.extend(_lms_lines(result.lms))
    parts.extend(Text(f"! {_safe(w, 300)}") for w in result.warnings)
    return Group(*parts)


def _lms_lines(lms: dict[str, Any] | None, shown: int = 10) -> list[Any]:
    """What went into lms-import.csv: how many grades, and the students the template has no row for."""
    from rich.text import Text

    if not lms:
        return []
    lines = [
        Text(
            f"{lms['file']}: {lms['filled']} grades filled in {_safe(lms['column'])!r} "
            f"({lms['kind'].capitalize()}); upload it as the README says."
        )
    ]
    unmatched = lms["unmatched"]
    if unmatched:
        names = ", ".join(_safe(u) for u in unmatched[:shown]) + (", …" if len(unmatched) > shown else "")
        lines.append(Text(f"! {len(unmatched)} student(s) have no row in the LMS template (enter by hand): {names}"))
    lines.extend(Text(f"! {_safe(w, 300)}") for w in lms["warnings"][:shown])
    return lines


# ------------------------------------------------------------------ files


def _values_text(student: StudentResult) -> list[str]:
    seen: dict[str, str] = {}
    for q in student.variant.questions:
        if q.values is not None and q.item not in seen:
            seen[q.item] = json.dumps(q.values, ensure_ascii=False)
    return [f"  item {item}: {text}" for item, text in seen.items()]


def render_feedback_text(student: StudentResult) -> str:
    """One student's feedback: their numbers, each answer, the right value, and the mistake in one sentence."""
    who = _safe(f"{student.name} ({student.student})" if student.name else student.student, 200)
    lines = [f"Derivation feedback for {who}", f"Points: {_pts(student.points)} of {_pts(student.max_points)}", ""]
    numbers = _values_text(student)
    if numbers:
        lines += ["Your numbers:", *numbers, ""]
    if not student.submitted:
        lines += ["No answers were found for you in the responses file.", ""]
    for item in student.items:
        head = f"{item.question}: "
        if item.verdict == "missing":
            lines.append(f"{head}no answer. The right value is {_num(item.expected)}.")
            continue
        lines.append(f"{head}you answered {_safe(item.answer, 200)!s}")
        if item.verdict == "correct":
            lines.append(f"  correct ({_pts(item.points)} of {_pts(item.max_points)} points).")
            continue
        if item.verdict == "unreadable":
            lines.append(f"  could not be read: {item.why} The right value is {_num(item.expected)}.")
            continue
        lines.append(f"  wrong (0 of {_pts(item.max_points)} points). The right value is {_num(item.expected)}.")
        if item.misconception:
            lines.append(f"  Mistake ({item.misconception}): {explain(item.misconception, item.kind)}")
        elif item.why:
            lines.append(f"  Note: {item.why}")
    return "\n".join(lines) + "\n"


def _brief(student: StudentResult) -> str:
    """The feedback as one paragraph (for a gradebook cell or an LMS feedback comment)."""
    parts = []
    for item in student.items:
        text = f"{item.question}: {item.verdict}"
        if item.verdict != "correct":
            text += f" (right value {_num(item.expected)})"
        if item.misconception:
            text += f", mistake {item.misconception}: {explain(item.misconception, item.kind).rstrip('.')}"
        parts.append(text)
    return "; ".join(parts) + "."


def lms_grades(result: AnswersResult) -> dict[str, tuple[float, str]]:
    """``{student id: (points, feedback text)}`` for the class, as an LMS import needs.

    The ids are those of ``answers.json`` (the roster's); the caller maps them to the LMS's
    identities (Moodle participant number, Canvas user id).
    """
    return {s.student: (round(s.points, 6), _brief(s)) for s in result.students}


def render_answers_gradebook(result: AnswersResult) -> str:
    """gradebook.csv (without BOM): one row per student; per question the verdict and points; the mistakes."""
    header = ["student", "name", "submitted", "points", "max_points"]
    for q in result.questions:
        header += [f"{q}: verdict", f"{q}: points", f"{q}: mistake"]
    header.append("feedback")
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([defuse_cell(h) for h in header])
    for s in result.students:
        row = [s.student, s.name or "", "yes" if s.submitted else "no", _pts(s.points), _pts(s.max_points)]
        for item in s.items:
            row += [item.verdict, _pts(item.points), item.misconception or ""]
        row.append(_brief(s))
        writer.writerow([defuse_cell(_safe(c, 10_000)) for c in row])
    return buf.getvalue()


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return slug or "student"


def write_answers_report(result: AnswersResult, out: Path) -> list[Path]:
    """Write results.json, gradebook.csv (UTF-8 with BOM, for Excel) and feedback/<student>.txt into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    results = out / "results.json"
    write_atomic(results, json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    written.append(results)
    if not result.ok:
        return written
    gradebook = out / "gradebook.csv"
    write_atomic(gradebook, render_answers_gradebook(result), bom=True)
    written.append(gradebook)
    folder = out / "feedback"
    folder.mkdir(exist_ok=True)
    used: set[str] = set()
    for s in result.students:
        slug, k = _slug(s.student), 2
        while slug in used:
            slug, k = f"{_slug(s.student)}-{k}", k + 1
        used.add(slug)
        path = folder / f"{slug}.txt"
        write_atomic(path, render_feedback_text(s))
        written.append(path)
    return written
