"""Write ``gradebook.csv``: one row per student, ready for a spreadsheet or an LMS import.

Every cell is quoted (``csv.QUOTE_ALL``) so a comma or a line break in a name is
safe, terminal escape codes and control characters are removed, every text cell that a spreadsheet would run as a formula is defused with
a leading ``'``, and the file is UTF-8 with a BOM so that Excel shows accents and
CJK names correctly. Numbers are written plainly (top-1 to 4 decimals, points to 2).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grading.safety import defuse_cell, strip_control

__all__ = ["gradebook_columns", "gradebook_rows", "render_gradebook", "write_atomic"]

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


def gradebook_columns(rule_names: Sequence[str], *, split: bool) -> list[str]:
    """The header: fixed metrics, public/private when the key is split, one column per rule."""
    cols = list(_BASE)
    if split:
        cols += ["public_top1", "private_top1"]
    cols += ["rank", *(f"points: {n}" for n in rule_names), "points", "max_points", "late", "reason", "feedback"]
    return cols


def gradebook_rows(students: Sequence[Mapping[str, Any]], rule_names: Sequence[str], *, split: bool) -> list[list[str]]:
    """One list of cells per student, in header order.

    Args:
        students: per-student dicts as in ``results.json`` (keys ``student``, ``name``,
            ``status``, ``report``, ``rubric``, ``rank``, ``public_top1``...).
        rule_names: the rubric rule names, in order.
        split: whether the key has a public/private split.
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
            s.get("late", False),
            s.get("reason", ""),
            s.get("feedback", ""),
        ]
        rows.append([_cell(v) for v in row])
    return rows


def render_gradebook(students: Sequence[Mapping[str, Any]], rule_names: Sequence[str], *, split: bool) -> str:
    """The whole CSV text (without BOM), all cells quoted.

    >>> text = render_gradebook([{"student": "=1+1", "name": "Chen, Wei", "status": "invalid",
    ...                           "reason": "empty file"}], [], split=False)
    >>> text.splitlines()[1].startswith('"\\'=1+1","Chen, Wei","invalid"')
    True
    """
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(gradebook_columns(rule_names, split=split))
    writer.writerows(gradebook_rows(students, rule_names, split=split))
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
