"""Write ``gradebook.csv``: one row per student, ready for a spreadsheet or an LMS import.

Every cell is quoted (``csv.QUOTE_ALL``) so a comma or a line break in a name is
safe, terminal escape codes and control characters are removed, every text cell that a spreadsheet would run as a formula is defused with
a leading ``'``, and the file is UTF-8 with a BOM so that Excel shows accents and
CJK names correctly. Numbers are written plainly (top-1 to 4 decimals, points to 2).

A CSV + notebook class (:class:`NotebookColumns`) adds, after the rubric's points, the
notebook's columns (per question its verdict and points, per manual item its points, a
TA's points marked "(set by TA)") and each student's ``total`` (:mod:`grading.class_total`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.safety import defuse_cell, strip_control

__all__ = ["NotebookColumns", "gradebook_columns", "gradebook_rows", "render_gradebook", "write_atomic"]

_BASE = ["student", "name", "status", "top1", "top3", "params", "top1_per_param", "n_correct", "n_key", "n_missing"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        return f"{value:.6g}" if abs(value) < 1e-3 else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    return defuse_cell(strip_control(str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")))


@dataclass(frozen=True)
class NotebookColumns:
    """The notebook part's columns: its questions and manual items, in the order shown."""

    questions: tuple[str, ...]
    manual: tuple[str, ...] = ()

    @classmethod
    def of(cls, students: Sequence[Mapping[str, Any]], manual: Sequence[str] = ()) -> NotebookColumns:
        """Every question any student's notebook result has, in first-seen order."""
        seen: dict[str, None] = {}
        for s in students:
            for q in (s.get("notebook") or {}).get("questions", []):
                seen.setdefault(q["question"], None)
        return cls(tuple(seen), tuple(manual))

    def header(self) -> list[str]:
        cols = [c for q in self.questions for c in (f"notebook: {q} verdict", f"notebook: {q} points")]
        cols += [f"notebook: {m} points" for m in self.manual]
        return [*cols, "notebook_points", "notebook_max_points", "needs_review", "undecided", "total", "max_total"]

    def cells(self, s: Mapping[str, Any]) -> list[Any]:
        nb = s.get("notebook") or {}
        total = s.get("total") or {}
        by = {q["question"]: q for q in nb.get("questions", [])}
        manual = {m["name"]: m for m in nb.get("manual") or []}
        row: list[Any] = []
        for name in self.questions:
            q = by.get(name)
            row += [q["verdict"], _points(q)] if q else [None, None]
        row += [_points(manual[m]) if m in manual else None for m in self.manual]
        return [
            *row,
            total.get("notebook_points"),
            total.get("notebook_max_points"),
            sum(q["verdict"] == "needs-review" for q in by.values()),
            ", ".join(total.get("undecided") or []),
            total.get("final_points"),
            total.get("max_points"),
        ]


def _points(item: Mapping[str, Any]) -> Any:
    """A question's or manual item's final points (None: undecided), marked when the TA set them."""
    points = item.get("final_points", item.get("points"))
    if points is None or not item.get("set_by_ta"):
        return points
    return f"{_cell(float(points))} (set by TA)"


def gradebook_columns(rule_names: Sequence[str], *, split: bool, notebook: NotebookColumns | None = None) -> list[str]:
    """The header: fixed metrics, public/private when the key is split, one column per rule, the notebook's."""
    cols = list(_BASE)
    if split:
        cols += ["public_top1", "private_top1"]
    cols += ["rank", *(f"points: {n}" for n in rule_names), "points", "max_points"]
    if notebook is not None:
        cols += notebook.header()
    cols += ["late", "reason", "feedback"]
    if notebook is not None:
        cols += ["notebook", "notebook_reason"]
    return cols


def gradebook_rows(
    students: Sequence[Mapping[str, Any]],
    rule_names: Sequence[str],
    *,
    split: bool,
    notebook: NotebookColumns | None = None,
) -> list[list[str]]:
    """One list of cells per student, in header order.

    Args:
        students: per-student dicts as in ``results.json`` (keys ``student``, ``name``,
            ``status``, ``report``, ``rubric``, ``rank``, ``public_top1``...; with a
            notebook part, ``notebook`` and ``total``).
        rule_names: the rubric rule names, in order.
        split: whether the key has a public/private split.
        notebook: the notebook part's columns, for a CSV + notebook class.
    """
    rows = []
    for s in students:
        r = s.get("report") or {}
        rubric = s.get("rubric") or {}
        by_rule = {p["name"]: p["points"] for p in rubric.get("rules", [])}
        row: list[Any] = [
            s["student"],
            s.get("name", ""),
            s["status"],
            r.get("top1"),
            r.get("top3"),
            r.get("params"),
            r.get("top1_per_param"),
            r.get("n_correct"),
            r.get("n_key"),
            r.get("n_missing"),
        ]
        if split:
            row += [s.get("public_top1"), s.get("private_top1")]
        row += [
            s.get("rank"),
            *(by_rule.get(n) for n in rule_names),
            rubric.get("total") if rule_names else None,
            rubric.get("max_total") if rule_names else None,
        ]
        if notebook is not None:
            row += notebook.cells(s)
        row += [s.get("late", False), s.get("reason", ""), s.get("feedback", "")]
        if notebook is not None:
            nb = s.get("notebook") or {}
            row += [nb.get("notebook", ""), " ".join(nb.get("errors") or [])]
        rows.append([_cell(v) for v in row])
    return rows


def render_gradebook(
    students: Sequence[Mapping[str, Any]],
    rule_names: Sequence[str],
    *,
    split: bool,
    notebook: NotebookColumns | None = None,
) -> str:
    """The whole CSV text (without BOM), all cells quoted.

    >>> text = render_gradebook([{"student": "=1+1", "name": "Chen, Wei", "status": "invalid",
    ...                           "reason": "empty file"}], [], split=False)
    >>> text.splitlines()[1].startswith('"\\'=1+1","Chen, Wei","invalid"')
    True
    """
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(gradebook_columns(rule_names, split=split, notebook=notebook))
    writer.writerows(gradebook_rows(students, rule_names, split=split, notebook=notebook))
    return buf.getvalue()


def write_atomic(path: Path, data: str | bytes, *, bom: bool = False) -> None:
    """Write a file through a temporary file and a rename, so a crash never leaves half a file.

    The file gets ordinary permissions (0666 less the umask, usually 0644), so a web
    server can serve ``leaderboard.html``; ``mkstemp``'s 0600 is not used.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if bom:
        payload = b"\xef\xbb\xbf" + payload
    for attempt in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred stale temporary files
        raise FileExistsError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
