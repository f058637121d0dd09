"""The terminal summary of a class run."""

from __future__ import annotations

from typing import Any

from grading.class_result import ClassResult
from grading.safety import strip_control


def render_class_summary(result: ClassResult, *, max_listed: int = 20) -> Any:
    """A rich renderable for the terminal: counts, who is invalid and why, what was written.

    Args:
        result: what :func:`grade_class` returned.
        max_listed: at most this many invalid students are listed (the gradebook has them all).
    """
    from rich.console import Group
    from rich.text import Text as _Text

    def Text(text: str, **style: Any) -> Any:  # noqa: N802 - what reaches the terminal has no escape codes
        return _Text(strip_control(text), **style)

    n_late = sum(bool(s.get("late")) for s in result.students)
    head = f"{len(result.students)} submissions: {result.n_ok} scored, {result.n_invalid} invalid."
    parts: list[Any] = [Text(head + (f" {n_late} late." if n_late else ""), style="bold")]
    invalid = [s for s in result.students if s["status"] != "ok"]
    if invalid:
        parts.append(Text("Invalid (0 points; the reason is also in the gradebook and the feedback):", style="red"))
        for s in invalid[:max_listed]:
            who = f"{s['student']} ({s['name']})" if s.get("name") else s["student"]
            parts.append(Text(f"  ✗ {who}: {s['reason']}"))
        if len(invalid) > max_listed:
            parts.append(Text(f"  … and {len(invalid) - max_listed} more; see the gradebook's reason column."))
    parts.extend(Text(f"  ! {w}", style="yellow") for w in result.key_warnings)
    notebooks = [s["notebook"] for s in result.students if "notebook" in s]
    if notebooks:
        graded = sum(nb["status"] == "graded" for nb in notebooks)
        review = sum(any(q["verdict"] == "needs-review" for q in nb["questions"]) for nb in notebooks)
        parts.append(
            Text(
                f"Notebooks: {graded} graded, {len(notebooks) - graded} invalid or missing, "
                f"{review} with answers that need review (review/index.html)."
            )
        )
    if result.withheld:
        parts.append(
            Text(
                f"{len(result.withheld)} students' LMS grades are withheld until their manual items are decided "
                "(the review pages, then --overrides; --allow-partial writes them anyway).",
                style="yellow",
            )
        )
    for entry in result.refused:
        verb = "skipped" if entry["reason"].startswith("skipped") else "refused"
        why = entry["reason"].removeprefix(f"{verb}: ")
        parts.append(Text(f"  {verb} {entry['entry']!r}: {why}", style="yellow"))
    if result.lms:
        lms = result.lms
        parts.append(
            Text(
                f"{lms['file']}: {lms['filled']} grades filled in {lms['column']!r} "
                f"({lms['kind'].capitalize()}); upload it as the README says."
            )
        )
        if lms["unmatched"]:
            shown = ", ".join(lms["unmatched"][:max_listed]) + (", …" if len(lms["unmatched"]) > max_listed else "")
            n = len(lms["unmatched"])
            what = "1 graded submission has" if n == 1 else f"{n} graded submissions have"
            parts.append(Text(f"  {what} no row in the LMS template (enter by hand): {shown}", style="red"))
        parts.extend(Text(f"  ! {w}", style="yellow") for w in lms["warnings"][:max_listed])
    if result.files:
        parts.append(Text("Written:"))
        parts.extend(Text(f"  {name}: {path}") for name, path in result.files.items())
    parts.extend(
        Text(f"gradkit failed on {bug}'s file; grade it by hand and please report it.", style="red")
        for bug in result.bugs
    )
    return Group(*parts)
