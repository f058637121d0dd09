"""``[notebook]`` of an assignment file: the problem set a class's notebooks answer, their files, points and manual items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.assignment_toml import ASSIGNMENT_FILENAME, check_keys, read_toml, toml_file, toml_str, toml_table
from grading.errors import UsageError


@dataclass(frozen=True)
class NotebookSettings:
    """``[notebook]``: the problem set looked for, optional variants, the file pattern, points, manual items."""

    problems: Path
    variants: Path | None = None
    filename: str = "*.ipynb"
    points: float | None = None
    manual: tuple[dict[str, Any], ...] = ()
    standalone: bool = False
    """True when the file has no ``[key]``: the assignment is the notebook alone."""
    path: Path | None = None
    """The assignment file."""


def read_notebook_table(folder: Path, doc: Mapping[str, Any], where: str) -> NotebookSettings | None:
    if "notebook" not in doc:
        return None
    table = toml_table(doc, "notebook", where)
    w = f"{where}: [notebook]"
    if "problems" not in table:
        raise UsageError(f'{w} needs problems = "hw1-2025.toml", the derive problem set whose questions are graded.')
    problems = toml_file(folder, table, "problems", w)
    assert problems is not None
    filename = toml_str(table, "filename", w, "*.ipynb") or "*.ipynb"
    if "/" in filename or "\\" in filename:
        raise UsageError(f'{w} filename must be a file name or pattern such as "*.ipynb", got {filename!r}.')
    points = table.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        raise UsageError(f"{w} points must be a number >= 0, got {points!r}.")
    manual = table.get("manual", [])
    if not isinstance(manual, list):
        raise UsageError(f'{w} manual must be [[notebook.manual]] tables with name = "..." and points = N.')
    items = []
    for n, item in enumerate(manual, start=1):
        ok = isinstance(item, dict) and set(item) <= {"name", "points"} and isinstance(item.get("name"), str)
        pts = item.get("points", 0) if isinstance(item, dict) else None
        if not ok or not str(item["name"]).strip() or isinstance(pts, bool) or not isinstance(pts, (int, float)):
            raise UsageError(
                f'{w}: manual item {n} must have name = "decision boundary" and points = 10, got {item!r}.'
            )
        items.append({"name": item["name"].strip(), "points": float(pts)})
    return NotebookSettings(
        problems=problems,
        variants=toml_file(folder, table, "variants", w),
        filename=filename,
        points=None if points is None else float(points),
        manual=tuple(items),
        standalone="key" not in doc,
        path=Path(where).resolve(),
    )


def load_notebook_settings(path: str | Path) -> NotebookSettings | None:
    """Read only ``[notebook]`` of an assignment file (a notebook-only assignment needs no ``[key]``).

    Raises:
        UsageError: the file is missing, is not TOML, or a value is wrong.
    """
    path = Path(path)
    if path.is_dir() and (path / ASSIGNMENT_FILENAME).is_file():
        path = path / ASSIGNMENT_FILENAME
    where = str(path)
    doc = read_toml(path, where)
    check_keys(doc, "", where)
    return read_notebook_table(path.resolve().parent, doc, where)
