"""The files a class run writes: gradebook, results.json, leaderboard, LMS file, feedback pages."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grading.assignment import Assignment
from grading.class_lms import write_lms
from grading.class_result import ClassResult
from grading.gradebook import NotebookColumns, render_gradebook, write_atomic
from grading.leaderboard import render_leaderboard_csv, render_leaderboard_html
from grading.lms import LmsTemplate


def write_feedback(
    out: Path, students: list[dict[str, Any]], title: str, *, heatmaps: bool, step: Callable[[str], None]
) -> None:
    from grading.feedback import draw_confusion_png, render_feedback

    folder = out / "feedback"
    folder.mkdir(exist_ok=True)
    for s in students:
        step(s["student"])
        png = None
        r = s.get("report") or {}
        view = s.get("student_view") or r
        if heatmaps and view.get("confusion_matrix"):
            png = folder / f"{s['slug']}.png"
            draw_confusion_png(view["confusion_matrix"], [str(x) for x in r["labels"]], png)
        write_atomic(folder / f"{s['slug']}.md", render_feedback(s, title=title, html=False, heatmap=png))
        write_atomic(folder / f"{s['slug']}.html", render_feedback(s, title=title, html=True))


def keep_hand_edits(gradebook: Path, results: Path) -> None:
    """Rename a gradebook edited by hand after the last run instead of overwriting it."""
    if gradebook.exists() and results.exists() and gradebook.stat().st_mtime > results.stat().st_mtime + 1:
        shutil.copy2(gradebook, gradebook.with_name(gradebook.name + ".bak"))


def write_all(
    out: Path,
    result: ClassResult,
    a: Assignment,
    board: list[Any],
    *,
    feedback: bool,
    heatmaps: bool,
    template: LmsTemplate | None = None,
    step: Callable[[str], None] = lambda _: None,
    allow_partial: bool = False,
) -> None:
    split = any(r["public_top1"] is not None for r in result.students)
    names = [r.name for r in a.rubric]
    notebook = None
    if a.notebook is not None:
        notebook = NotebookColumns.of(result.students, [m["name"] for m in a.notebook.manual])
    files = {name: out / name for name in ("gradebook.csv", "results.json", "leaderboard.csv", "leaderboard.html")}
    keep_hand_edits(files["gradebook.csv"], files["results.json"])
    gradebook = render_gradebook(result.students, names, split=split, notebook=notebook)
    write_atomic(files["gradebook.csv"], gradebook, bom=True)
    write_atomic(files["leaderboard.csv"], render_leaderboard_csv(board, split=split), bom=True)
    write_atomic(
        files["leaderboard.html"], render_leaderboard_html(board, title=a.title, ranking=a.ranking, split=split, k=a.k)
    )
    files.update(write_lms(out, result, a, template, allow_partial=allow_partial))
    if feedback:
        write_feedback(out, result.students, a.title, heatmaps=heatmaps, step=step)
        files["feedback"] = out / "feedback"
    write_atomic(files["results.json"], json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n")
    result.files = files
