"""overrides.csv: encodings a spreadsheet writes, bad rows with their messages, and applying decisions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from grading.errors import GradingError, UsageError
from grading.notebook.overrides import OverridesError, apply_overrides, read_overrides

STUDENTS = {"a0001", "0412345", "=cmd", "鄭呈毅"}
QUESTIONS = {"w00", "w01", "decision boundary"}
MANUAL = [{"name": "decision boundary", "points": 10}]
HEADER = "student,question,points,comment\n"


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "overrides.csv"
    path.write_bytes(text.encode(encoding))
    return path


def _result(student: str = "a0001") -> dict[str, Any]:
    def q(name: str, verdict: str, points: float) -> dict[str, Any]:
        return {"question": name, "verdict": verdict, "points": points, "max_points": 2.0, "cell": 0}

    return {"status": "graded", "student": student, "questions": [q("w00", "correct", 2.0), q("w01", "wrong", 0.0)]}


@pytest.mark.parametrize(
    "encoding,prefix",
    [("utf-8", ""), ("utf-8", "\ufeff"), ("cp950", ""), ("utf-16", "")],
    ids=["utf8", "bom", "big5", "utf16"],
)
def test_spreadsheet_encodings_are_read(tmp_path: Path, encoding: str, prefix: str) -> None:
    text = prefix + HEADER + "鄭呈毅,w00,1.5,推導少了 σ'(z)\r\n"
    if encoding == "utf-16":
        text = text.replace(",", "\t")  # Excel's "Unicode text" is tab-separated UTF-16
    got = read_overrides(_write(tmp_path, text, encoding), STUDENTS, QUESTIONS).get("鄭呈毅", "w00")
    assert got is not None and (got.points, got.comment, got.line) == (1.5, "推導少了 σ'(z)", 2)


def test_defused_cells_come_back_and_dropped_leading_zeros_match(tmp_path: Path) -> None:
    text = HEADER + "'=cmd,w00,2,'=1+1\n412345,w01,0,\n"
    overrides = read_overrides(_write(tmp_path, text), STUDENTS, QUESTIONS)
    assert overrides.get("=cmd", "w00") is not None and overrides.rows[("=cmd", "w00")].comment == "=1+1"
    assert overrides.get("0412345", "w01") is not None


def test_concatenated_downloads_later_row_wins_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    text = HEADER + "a0001,w00,1,first\n" + HEADER + "a0001,w00,0.5,second\na0001,w01,,\n\n"
    overrides = read_overrides(_write(tmp_path, text), STUDENTS, QUESTIONS)
    assert dict(overrides.rows) == {("a0001", "w00"): overrides.rows[("a0001", "w00")]}
    assert (overrides.rows[("a0001", "w00")].points, overrides.rows[("a0001", "w00")].comment) == (0.5, "second")


BAD = [
    ("", "overrides.csv: empty; expected the header 'student,question,points,comment' and rows."),
    (
        "a0001,w00,1,x\n",
        "overrides.csv, line 1: expected the header 'student,question,points,comment', found 'a0001,w00,1,x'.",
    ),
    (
        HEADER + "a0001,w00\n",
        "overrides.csv, line 2: expected 4 fields (student,question,points,comment), found 2; "
        "put a comment with commas in double quotes.",
    ),
    (
        HEADER + "a0001,w00,1,a,b\n",
        "overrides.csv, line 2: expected 4 fields (student,question,points,comment), found 5; "
        "put a comment with commas in double quotes.",
    ),
    (
        HEADER + "zz9,w00,1,\n",
        "overrides.csv, line 2: student 'zz9' is not in the class; use the id exactly as the gradebook has it.",
    ),
    (
        HEADER + "a0001,w99,1,\n",
        "overrides.csv, line 2: question 'w99' is not in the assignment; expected one of decision boundary, w00, w01.",
    ),
    (
        HEADER + "a0001,w00,seven,\n",
        "overrides.csv, line 2: points 'seven' is not a number; write a number like 7 or 7.5, or leave it empty.",
    ),
    (
        HEADER + "a0001,w00,7;5,\n",
        "overrides.csv, line 2: points '7;5' is not a number; write a number like 7 or 7.5, or leave it empty.",
    ),
    (HEADER + "a0001,w00,-1,\n", "overrides.csv, line 2: points '-1' is not a number of points >= 0; write 0 or more."),
    (
        HEADER + "a0001,w00,nan,\n",
        "overrides.csv, line 2: points 'nan' is not a number of points >= 0; write 0 or more.",
    ),
    (
        HEADER + 'a0001,w00,1,"multi\nline"\na0001,w00,x,\n',
        "overrides.csv, line 4: points 'x' is not a number; write a number like 7 or 7.5, or leave it empty.",
    ),
]


@pytest.mark.parametrize("text,message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_rows_name_file_line_expected_and_found(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(OverridesError, match="^" + re.escape(message) + "$") as info:
        read_overrides(_write(tmp_path, text), STUDENTS, QUESTIONS)
    assert isinstance(info.value, UsageError) and isinstance(info.value, GradingError)
    assert "\n" not in str(info.value)


def test_bytes_neither_utf8_nor_big5_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_bytes(HEADER.encode() + b"a0001,w00,1,\x81\x20\xff\n")
    with pytest.raises(OverridesError, match=r"^overrides.csv: not UTF-8 or Big5 \(cp950\) text; save it"):
        read_overrides(path, STUDENTS, QUESTIONS)
    with pytest.raises(OverridesError, match=r"^nope.csv: cannot be read \(No such file or directory\)"):
        read_overrides(tmp_path / "nope.csv", STUDENTS, QUESTIONS)


def test_apply_keeps_automatic_points_and_manual_items_start_undecided(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "a0001,w01,1.5,sign slip only\na0001,w00,,nice work\n")
    overrides = read_overrides(path, STUDENTS, QUESTIONS)
    original = _result()
    got = apply_overrides(original, overrides, MANUAL)
    assert "auto_points" not in original["questions"][0]  # a new dict, the input unchanged
    w00, w01 = got["questions"]
    assert (w00["auto_points"], w00["final_points"], w00["set_by_ta"], w00["comment"]) == (2.0, 2.0, False, "nice work")
    assert (w01["auto_points"], w01["final_points"], w01["set_by_ta"], w01["comment"]) == (
        0.0,
        1.5,
        True,
        "sign slip only",
    )
    assert got["manual"] == [
        {
            "name": "decision boundary",
            "max_points": 10.0,
            "auto_points": None,
            "final_points": None,
            "points": None,
            "set_by_ta": False,
            "comment": "",
        }
    ]
    assert (got["auto_points"], got["final_points"], got["decided"], got["undecided"]) == (
        2.0,
        3.5,
        False,
        ["decision boundary"],
    )
    other = apply_overrides(_result("鄭呈毅"), overrides, MANUAL)  # another student's rows do not leak
    assert [q["final_points"] for q in other["questions"]] == [2.0, 0.0] and other["undecided"] == ["decision boundary"]


def test_a_manual_item_with_points_is_decided(tmp_path: Path) -> None:
    overrides = read_overrides(_write(tmp_path, HEADER + "a0001,decision boundary,0,no figure\n"), STUDENTS, QUESTIONS)
    got = apply_overrides(_result(), overrides, MANUAL)
    assert got["manual"][0]["final_points"] == 0.0 and got["manual"][0]["set_by_ta"]
    assert (got["decided"], got["undecided"], got["final_points"]) == (True, [], 2.0)
