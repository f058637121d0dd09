"""What both browser tests of the review page (Chromium, Firefox) put on it: a hostile student id,
one manual item, and a question result as a class run records it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from grading.notebook.overrides import apply_overrides, read_overrides

STUDENT = "=cmd 鄭呈毅"
COMMENT = '=HYPERLINK("x"), 鄭 "ok"'
"""What both tests type into w01's comment field (after 1.5 points), and 8 into the manual item's points."""
MANUAL = [{"name": "decision boundary", "points": 10}]


def question(name: str, cell: int, verdict: str, points: float) -> dict[str, Any]:
    """One question of a notebook result, found in ``cell``, out of 2 points."""
    return {
        "question": name,
        "found": True,
        "cell": cell,
        "snippet": "0.25",
        "answer": "0.25",
        "verdict": verdict,
        "misconception": None,
        "expected": 0.3125,
        "points": points,
        "max_points": 2.0,
        "why": None,
        "steps": [],
    }


def check_downloaded_overrides(raw: bytes, tmp_path: Path) -> None:
    """The oracle for the file a browser saved after the typing above: the csv module's reading of it
    (a BOM, every cell a spreadsheet could run defused with ``'``), then what ``--overrides`` makes of it."""
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["student", "question", "points", "comment"],
        ["'" + STUDENT, "w01", "1.5", "'" + COMMENT],
        ["'" + STUDENT, "decision boundary", "8", ""],
    ]
    saved = tmp_path / "applied-overrides.csv"
    saved.write_bytes(raw)
    overrides = read_overrides(saved, {STUDENT, "someone"}, {"w00", "w01", "decision boundary"})
    assert overrides.get(STUDENT, "w01") is not None
    base = {
        "student": STUDENT,
        "questions": [question("w00", 0, "correct", 2.0), question("w01", 2, "needs-review", 0)],
    }
    final = apply_overrides(base, overrides, MANUAL)
    w00, w01 = final["questions"]
    assert (w00["final_points"], w00["set_by_ta"]) == (2.0, False)
    assert (w01["auto_points"], w01["final_points"], w01["set_by_ta"]) == (0.0, 1.5, True)
    assert w01["comment"] == COMMENT
    assert final["manual"][0]["final_points"] == 8.0 and final["decided"] and final["undecided"] == []
    assert (final["auto_points"], final["final_points"]) == (2.0, 11.5)
