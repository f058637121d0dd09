"""The terminal summary of one graded notebook (``grade FILE.ipynb --problems P.toml``)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grading.notebook.model import NotebookResult
from grading.safety import strip_control

__all__ = ["render_class_notebooks", "render_notebook_summary"]

_STYLE = {"correct": "green", "wrong": "red", "needs-review": "yellow", "not-found": "dim"}


def _clip(text: object, n: int = 70) -> str:
    s = " ".join(strip_control(str(text)).split())
    return escape(s if len(s) <= n else s[: n - 1] + "…")


def render_notebook_summary(result: NotebookResult) -> Table | Text:
    """A table: question, verdict (with the mistake), points, where it was found, why."""
    name = _clip(result.get("student") or result.get("notebook") or "", 60)
    if result["status"] != "graded":
        return Text.from_markup(f"[bold red]invalid[/] {name}: {_clip(result['errors'][0], 300)}")
    got = sum(q["points"] for q in result["questions"])
    total = sum(q["max_points"] for q in result["questions"])
    table = Table(title=f"{name}: {got:g} / {total:g} points (automatic)", title_justify="left")
    for col in ("question", "verdict", "points", "cell", "answer / why"):
        table.add_column(col)
    for q in result["questions"]:
        verdict = q["verdict"] + (f" ({q['misconception']})" if q["misconception"] else "")
        ticks = "".join("✓" if s["ok"] else "✗" if s["ok"] is False else "?" for s in q["steps"])
        detail = _clip(q["answer"] or "") if q["verdict"] == "correct" else _clip(q["why"] or q["answer"] or "")
        table.add_row(
            _clip(q["question"], 20),
            f"[{_STYLE[q['verdict']]}]{escape(verdict)}[/]",
            f"{q['points']:g}/{q['max_points']:g}",
            "" if q["cell"] is None else str(q["cell"]),
            detail + (f"  steps {ticks}" if ticks else ""),
        )
    for c in result["claims"]:
        table.caption = (table.caption or "") + f"{c['what']} = {c['value']:,} (cell {c['cell']})   "
    for w in result["warnings"]:
        table.caption = (table.caption or "") + f"\nnote: {_clip(w, 200)}"
    return table


def render_class_notebooks(students: list[dict[str, Any]], files: dict[str, Any], withheld: int = 0) -> Text:
    """The class in a few lines: how many graded, invalid, needing review; where the files are."""
    results = [s["notebook"] for s in students]
    graded = sum(r["status"] == "graded" for r in results)
    review = sum(any(q["verdict"] == "needs-review" for q in r["questions"]) for r in results)
    text = Text(f"{len(results)} students: {graded} notebooks graded, {len(results) - graded} invalid or missing, ")
    text.append(f"{review} with answers that need review.", style="yellow" if review else "")
    for s in students:
        r = s["notebook"]
        if r["status"] != "graded":
            text.append(f"\n  {_clip(s['student'], 40)}: {_clip(r['errors'][0], 160)}", style="red")
    if withheld:
        text.append(
            f"\n{withheld} students' LMS grades are withheld until their manual items are decided "
            "(the review pages, then --overrides; --allow-partial writes them anyway).",
            style="yellow",
        )
    for name, path in files.items():
        text.append(f"\n{name}: {_clip(path, 200)}")
    return text
