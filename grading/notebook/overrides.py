"""A TA's decisions on the review page, back into the results: ``overrides.csv``.

The review page's button downloads ``student,question,points,comment`` rows (one per field the TA
set); :func:`read_overrides` reads that file (UTF-8 with or without BOM, UTF-16 as Excel's "Unicode
text" saves it, or cp950/Big5 as Excel saves a CSV on a Taiwanese Windows) and checks every row
against the class and the assignment; :func:`apply_overrides` puts the decisions into one
student's :data:`~grading.notebook.model.NotebookResult`, keeping the automatic points beside the
final ones. A row's ``question`` is a question of the problem set or a manual item's name. The
page writes text cells formula-defused (``'=cmd``); the apostrophe is taken off again here.
Several downloads may be concatenated (``cat overrides*.csv``): a repeated header is skipped and a
later row for the same student and question replaces an earlier one.

Each student's page downloads only that student's rows, so ``--overrides`` takes several files and
folders (:func:`read_override_sources`): the files in the order given, a folder's ``*.csv`` in name
order (a browser's copies counted: ``overrides.csv``, ``overrides (1).csv``, ``overrides (2).csv`` …
``overrides (10).csv``); when two files set the same student and question differently, the later
file wins and :attr:`Overrides.warnings` says so in one line.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.errors import UsageError
from grading.notebook.model import NotebookResult
from grading.safety import strip_control

__all__ = [
    "HEADER",
    "Override",
    "Overrides",
    "OverridesError",
    "apply_overrides",
    "override_files",
    "read_override_sources",
    "read_overrides",
]

HEADER = ("student", "question", "points", "comment")
_DEFUSED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_MAX_BYTES = 20_000_000
_MAX_COMMENT = 2000
_COPY = re.compile(r"^(?P<base>.*?)\s*\((?P<n>\d{1,6})\)$")  # "overrides (2)", "overrides(2)": a browser's copy


class OverridesError(UsageError):
    """``overrides.csv`` cannot be used as it is (the TA's own file: exit code 2)."""


@dataclass(frozen=True)
class Override:
    """One TA decision: ``points`` None means "comment only, keep the automatic points"."""

    points: float | None
    comment: str
    line: int


@dataclass(frozen=True)
class Overrides:
    """Every decision read from one file or several, by ``(student, question)``; ``warnings`` (one line
    each) say which decisions a later file replaced."""

    path: str
    rows: Mapping[tuple[str, str], Override] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def get(self, student: str, question: str) -> Override | None:
        return self.rows.get((student, question))


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OverridesError(f"{name}: not UTF-8 or Big5 (cp950) text; save it from the spreadsheet as 'CSV UTF-8'.")


def _undefuse(value: str) -> str:
    return value[1:] if value.startswith(_DEFUSED) else value


def _points(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise OverridesError(
            f"{where}: points {text!r} is not a number; write a number like 7 or 7.5, or leave it empty."
        ) from None
    if not math.isfinite(value) or value < 0:
        raise OverridesError(f"{where}: points {text!r} is not a number of points >= 0; write 0 or more.")
    return value


def _student(text: str, students: set[str], where: str) -> str:
    if text in students:
        return text
    if text.isdigit():  # a spreadsheet drops an id's leading zeros: 0412345 -> 412345
        matches = [s for s in students if s.isdigit() and s.lstrip("0") == text.lstrip("0")]
        if len(matches) == 1:
            return matches[0]
    raise OverridesError(f"{where}: student {text!r} is not in the class; use the id exactly as the gradebook has it.")


def read_overrides(path: Path, students: set[str], questions: set[str], *, shown: str | None = None) -> Overrides:
    """The decisions in ``path``; a bad row stops with :class:`OverridesError` naming the file
    (``shown``, else its name) and the line."""
    path = Path(path)
    name = shown if shown is not None else strip_control(path.name)
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise OverridesError(f"{name}: larger than {_MAX_BYTES // 1_000_000} MB; this is not an overrides file.")
        raw = path.read_bytes()
    except OSError as exc:
        raise OverridesError(f"{name}: cannot be read ({exc.strerror}); check the --overrides path.") from None
    text = _decode(raw, name)
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0] else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: dict[tuple[str, str], Override] = {}
    header_seen = False
    for cells in reader:
        where = f"{name}, line {reader.line_num}"
        cells = [strip_control(c) for c in cells]
        if not any(c.strip() for c in cells):
            continue
        if tuple(c.strip().lower() for c in cells[:4]) == HEADER:
            header_seen = True
            continue
        if not header_seen:
            raise OverridesError(
                f"{where}: expected the header 'student,question,points,comment', found {','.join(cells)[:80]!r}."
            )
        if len(cells) < 3 or len(cells) > 4:
            raise OverridesError(
                f"{where}: expected 4 fields (student,question,points,comment), found {len(cells)}; "
                "put a comment with commas in double quotes."
            )
        student = _student(_undefuse(cells[0].strip()), students, where)
        question = _undefuse(cells[1].strip())
        if question not in questions:
            known = ", ".join(sorted(questions)[:12])
            raise OverridesError(f"{where}: question {question!r} is not in the assignment; expected one of {known}.")
        comment = _undefuse(cells[3].strip()) if len(cells) == 4 else ""
        if len(comment) > _MAX_COMMENT:
            raise OverridesError(f"{where}: the comment has {len(comment)} characters; keep it under {_MAX_COMMENT}.")
        points = _points(_undefuse(cells[2]), where)
        if points is None and not comment:
            continue  # an untouched field
        rows[(student, question)] = Override(points, comment, reader.line_num)
    if not header_seen:
        raise OverridesError(f"{name}: empty; expected the header 'student,question,points,comment' and rows.")
    return Overrides(str(path), rows)


def _name_order(path: Path) -> tuple[str, int, str]:
    """A folder's files in name order, a browser's copy number counted (``overrides.csv`` first, then
    ``overrides (1).csv``, ``overrides (2).csv`` … ``overrides (10).csv``: the order they were downloaded)."""
    m = _COPY.match(path.stem)
    base, number = (m["base"], int(m["n"])) if m else (path.stem, 0)
    return (base.casefold() + path.suffix.casefold(), number, path.name)


def override_files(sources: Sequence[str | Path]) -> list[Path]:
    """The files ``--overrides`` names: each file as given, each folder's ``*.csv`` (directly in it,
    hidden files skipped) in name order (:func:`_name_order`).

    Raises:
        OverridesError: a folder holds no ``.csv`` file.
    """
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if not path.is_dir():
            files.append(path)
            continue
        try:
            found = [f for f in path.iterdir() if f.suffix.lower() == ".csv" and not f.name.startswith(".")]
        except OSError as exc:
            raise OverridesError(
                f"{strip_control(str(path))}: cannot be read ({exc.strerror}); check the --overrides path."
            ) from None
        found = sorted((f for f in found if f.is_file()), key=_name_order)
        if not found:
            raise OverridesError(
                f"{strip_control(str(path))}: no .csv file in this folder; put the overrides.csv files "
                "downloaded from the review pages in it, or name the file itself."
            )
        files.extend(found)
    return files


def read_override_sources(sources: Sequence[str | Path], students: set[str], questions: set[str]) -> Overrides:
    """The decisions of every file ``sources`` names (:func:`override_files`), merged: when two files
    set the same student and question differently, the later one wins, and one warning line says which.

    Raises:
        OverridesError: a folder without a CSV, or a bad row (naming its file and line).
    """
    files = override_files(sources)
    names = [strip_control(f.name) for f in files]
    shown = [n if names.count(n) == 1 else strip_control(str(f)) for n, f in zip(names, files, strict=True)]
    rows: dict[tuple[str, str], Override] = {}
    origin: dict[tuple[str, str], str] = {}
    replaced: list[str] = []
    for path, name in zip(files, shown, strict=True):
        for key, decision in read_overrides(path, students, questions, shown=name).rows.items():
            before = rows.get(key)
            if before is not None and (before.points, before.comment) != (decision.points, decision.comment):
                replaced.append(f"{strip_control(key[0])} {strip_control(key[1])} ({name} over {origin[key]})")
            rows[key], origin[key] = decision, name
    warnings = []
    if replaced:
        listed = "; ".join(replaced[:5]) + (f"; and {len(replaced) - 5} more" if len(replaced) > 5 else "")
        one = "1 decision is" if len(replaced) == 1 else f"{len(replaced)} decisions are"
        warnings.append(f"overrides: {one} set differently in two files; the later file wins: {listed}.")
    return Overrides(", ".join(str(f) for f in files), rows, tuple(warnings))


def _decide(item: dict[str, Any], auto: float | None, found: Override | None) -> None:
    item["auto_points"] = auto
    item["set_by_ta"] = found is not None and found.points is not None
    item["final_points"] = found.points if found is not None and found.points is not None else auto
    item["comment"] = found.comment if found is not None else item.get("comment") or ""


def _unread(student: str, overrides: Overrides, max_points: Mapping[str, float], manual: set[str]) -> list[dict]:
    """The questions the TA decided for a notebook that could not be read: verdict ``not-found``, no
    automatic points, each with the TA's points and comment (a TA who gives points has decided)."""
    questions = []
    for who, name in overrides.rows:
        if who != student or name in manual:
            continue
        questions.append(
            {
                "question": name,
                "found": False,
                "cell": None,
                "snippet": "",
                "answer": "",
                "verdict": "not-found",
                "misconception": None,
                "expected": None,
                "points": 0.0,
                "max_points": float(max_points.get(name, 0.0)),
                "why": "the notebook could not be read; the TA decided this question.",
                "steps": [],
            }
        )
    order = list(max_points)
    return sorted(questions, key=lambda q: order.index(q["question"]) if q["question"] in order else len(order))


def apply_overrides(
    result: NotebookResult,
    overrides: Overrides,
    manual: Sequence[dict],
    max_points: Mapping[str, float] | None = None,
) -> NotebookResult:
    """A copy of ``result`` with each question's and manual item's automatic and final points.

    A question's automatic points are its ``points``; a manual item has none and stays undecided
    (``final_points`` None) until the TA gives it points. ``final_points`` at the top is the sum
    of what is decided; ``decided`` says whether every manual item is (always, for a notebook
    that could not be graded: there is nothing to judge, only points the TA gives count).

    A notebook that could not be read has no questions; a question the TA decides for it anyway
    (graded from a PDF, a late e-mail) is added, verdict ``not-found``, with the TA's points, out of
    ``max_points[question]`` (the class's points per question; 0 when not given).
    """
    out = copy.deepcopy(result)
    student = str(out.get("student", ""))
    if out.get("status") != "graded" and not out.get("questions"):
        out["questions"] = _unread(student, overrides, max_points or {}, {str(m["name"]) for m in manual})
    for q in out.get("questions", []):
        auto = q.get("points")
        _decide(q, None if auto is None else float(auto), overrides.get(student, q["question"]))
    items = []
    for spec in manual:
        item: dict[str, Any] = {"name": spec["name"], "max_points": float(spec["points"])}
        _decide(item, None, overrides.get(student, spec["name"]))
        item["points"] = item["final_points"]
        items.append(item)
    out["manual"] = items
    out["auto_points"] = sum(q["auto_points"] or 0.0 for q in out.get("questions", []))
    out["final_points"] = sum(x["final_points"] or 0.0 for x in [*out.get("questions", []), *items])
    graded = out.get("status") == "graded"  # an unreadable notebook leaves nothing to judge: nothing waits
    out["undecided"] = [x["name"] for x in items if x["final_points"] is None] if graded else []
    out["decided"] = not out["undecided"]
    return out
