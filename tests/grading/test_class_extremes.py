"""Nobody zeroed, nobody lost: each case built from the zip that showed it (issue 18).

Every test checks the class invariant as well: each student of the input has exactly one
row in gradebook.csv, results.json and the LMS file (and leaderboard.csv, if scored).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading.assignment import Assignment
from grading.batch import grade_class
from grading.errors import UsageError
from grading.rubric import parse_rubric
from grading.safety import is_zip

N = 20
TRUTH = [i % 10 for i in range(N)]
IDS = [f"{i:07d}.png" for i in range(N)]
MOODLE_HEAD = (
    'Identifier,"Full name","Email address",Status,Grade,"Maximum Grade","Grade can be changed",'
    '"Last modified (submission)","Last modified (grade)","Feedback comments"\n'
)
CANVAS_HEAD = (
    "Student,ID,SIS User ID,SIS Login ID,Section,HW2 (88231),Current Score\n"
    "    Points Possible,,,,,100.00,(read only)\n"
)


def predictions(n_right: int = N) -> str:
    return "image,class\n" + "".join(f"{IDS[i]},{t if i < n_right else (t + 1) % 10}\n" for i, t in enumerate(TRUTH))


@pytest.fixture
def a(tmp_path: Path) -> Assignment:
    key = tmp_path / "key.csv"
    key.write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in zip(IDS, TRUTH, strict=True)))
    rubric = parse_rubric([{"name": "Accuracy", "rule": "linear", "floor": 0.0, "target": 1.0, "points": 100}])
    return Assignment(key_path=key, rubric=rubric)


def moodle_template(tmp_path: Path, pids: list[str]) -> Path:
    path = tmp_path / "worksheet.csv"
    rows = "".join(f'"Participant {p}","x",x@example.edu,"Submitted",,100.00,Yes,-,-,\n' for p in pids)
    path.write_text(MOODLE_HEAD + rows, encoding="utf-8")
    return path


def canvas_template(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "gradebook.csv"
    rows = "".join(f'"Student {i}",{i},B{i},b{i},AML,,0.00\n' for i in ids)
    path.write_text(CANVAS_HEAD + rows, encoding="utf-8")
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def assert_one_row_each(out: Path, students: list[str], *, lms_ids: list[str] | None = None) -> dict[str, dict]:
    """The invariant: every student in the input has exactly one row in every output."""
    expected = sorted(students)
    assert sorted(r["student"] for r in csv_rows(out / "gradebook.csv")) == expected
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert sorted(s["student"] for s in doc["students"]) == expected
    scored = sorted(s["student"] for s in doc["students"] if s["status"] == "ok")
    assert sorted(r["student"] for r in csv_rows(out / "leaderboard.csv")) == scored  # the board ranks scored files
    if lms_ids is not None:
        assert doc["lms"]["unmatched"] == []
        assert doc["lms"]["filled"] == len(lms_ids)
    return {s["student"]: s for s in doc["students"]}


def test_a_name_too_long_for_the_disk_is_shortened_not_failed(tmp_path: Path, a: Assignment) -> None:
    long_name = "長" * 90  # Moodle builds the folder from the full name: 270 bytes before "_52115_..."
    folder = f"{long_name}_52115_assignsubmission_file_"
    assert len(folder.encode()) > 255
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr(f"{folder}/HW2_prob1.csv", predictions(18))
        f.writestr("Ada_52116_assignsubmission_file_/HW2_prob1.csv", predictions(10))
        f.writestr(f"{'x' * 300}_52117_assignsubmission_file_{'y' * 300}.csv", predictions(20))  # old flat layout
    out = tmp_path / "out"
    grade_class(z, a, out, feedback=False, lms_template=moodle_template(tmp_path, ["52115", "52116", "52117"]))
    rows = assert_one_row_each(out, ["52115", "52116", "52117"], lms_ids=["52115", "52116", "52117"])
    assert rows["52115"]["status"] == "ok" and rows["52115"]["name"] == long_name
    assert rows["52117"]["status"] == "ok"
    imported = list(csv.reader(io.StringIO((out / "lms-import.csv").read_text(encoding="utf-8"))))
    assert [r[4] for r in imported[1:]] == ["90.00", "50.00", "100.00"]


def test_a_refused_entry_never_displaces_an_accepted_file(tmp_path: Path, a: Assignment) -> None:
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Bo_52120_assignsubmission_file_/notes", "my notes")  # a file called notes ...
        f.writestr("Bo_52120_assignsubmission_file_/notes/HW2_prob1.csv", predictions(3))  # ... so this clashes
        f.writestr("Bo_52120_assignsubmission_file_/HW2_prob1.csv", predictions(14))
        f.writestr("Cy_52121_assignsubmission_file_/HW2_prob1.csv", predictions(18))
        with pytest.warns(UserWarning, match="Duplicate name"):
            f.writestr("Cy_52121_assignsubmission_file_/HW2_prob1.csv", predictions(2))  # the same entry twice
    out = tmp_path / "out"
    grade_class(z, a, out, feedback=False, lms_template=moodle_template(tmp_path, ["52120", "52121"]))
    rows = assert_one_row_each(out, ["52120", "52121"], lms_ids=["52120", "52121"])
    assert rows["52120"]["status"] == rows["52121"]["status"] == "ok"
    assert rows["52120"]["report"]["n_correct"] == 14 and rows["52121"]["report"]["n_correct"] == 18
    assert any("a file and a folder both named" in n for n in rows["52120"]["notes"])
    assert any("only the first copy was unpacked" in n for n in rows["52121"]["notes"])
    imported = list(csv.reader(io.StringIO((out / "lms-import.csv").read_text(encoding="utf-8"))))
    assert [r[4] for r in imported[1:]] == ["70.00", "90.00"]


def test_one_students_zip_bomb_does_not_refuse_the_class(tmp_path: Path, a: Assignment) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("Ada_52130_assignsubmission_file_/HW2_prob1.csv", predictions(12))
        for i in range(7):  # 63 MB of zeros from one student, each file under the 10 MB limit
            f.writestr(f"Eve_52131_assignsubmission_file_/part{i}.csv", b"0" * 9_000_000)
        f.writestr("Bo_52132_assignsubmission_file_/HW2_prob1.csv", predictions(16))
    assert z.stat().st_size < 1_000_000
    out = tmp_path / "out"
    grade_class(z, a, out, feedback=False, lms_template=moodle_template(tmp_path, ["52130", "52131", "52132"]))
    rows = assert_one_row_each(out, ["52130", "52131", "52132"], lms_ids=["52130", "52131", "52132"])
    assert rows["52130"]["status"] == rows["52132"]["status"] == "ok"
    eve = rows["52131"]
    assert eve["status"] == "invalid"
    assert eve["reason"].count("zip bomb") == 1 and "63.0 MB" in eve["reason"], eve["reason"]  # one sentence
    assert not any(p.name.startswith("part") for p in out.rglob("*"))


def test_every_canvas_name_form_is_matched(tmp_path: Path, a: Assignment) -> None:
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("o_brienpat_12021_901_HW2_prob1.csv", predictions(11))  # O_Brien, Pat: underscores kept
        f.writestr("agent_007james_12112_902_HW2_prob1.csv", predictions(12))  # digits in the name
        f.writestr("_12042_903_HW2_prob1.csv", predictions(13))  # a name with no word characters at all
        f.writestr("_LATE_12043_904_HW2_prob1-1.csv", predictions(14))
        f.writestr("chenweilin_LATE_12044_905_HW2_prob1.csv", predictions(15))
        f.writestr("anon_Xb3Kq_906_HW2_prob1.csv", predictions(16))  # anonymous grading
        f.writestr("linyuting_12045_text.html", "<p>my answer</p>")  # online text
        f.writestr("kimalex_LATE_12046_link.html", "<a href='x'>link</a>")  # a website URL
    ids = ["12021", "12112", "12042", "12043", "12044", "12045", "12046"]
    out = tmp_path / "out"
    grade_class(z, a, out, feedback=False, lms_template=canvas_template(tmp_path, ids))
    rows = assert_one_row_each(out, [*ids, "anon_Xb3Kq"])
    right = {"12021": 11, "12112": 12, "12042": 13, "12043": 14, "12044": 15, "anon_Xb3Kq": 16}
    for sid, n in right.items():
        assert rows[sid]["status"] == "ok" and rows[sid]["report"]["n_correct"] == n, sid
        assert rows[sid]["lms"] == "canvas"
    assert rows["12043"]["late"] and rows["12044"]["late"] and not rows["12021"]["late"]
    assert rows["12021"]["name"] == "o_brienpat" and rows["12042"]["name"] == ""
    for sid in ("12045", "12046"):
        assert rows[sid]["status"] == "invalid" and rows[sid]["reason"].startswith("no file: online text"), sid
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["lms"]["unmatched"] == ["anon_Xb3Kq"]  # an anonymous id has no gradebook row: listed, not dropped
    imported = list(csv.reader(io.StringIO((out / "lms-import.csv").read_text(encoding="utf-8"))))[2:]
    assert [r[5] for r in imported] == ["55.00", "60.00", "65.00", "70.00", "75.00", "0.00", "0.00"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("where", ["cli", "library"])
def test_a_fifo_is_refused_in_one_line(tmp_path: Path, a: Assignment, where: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    if where == "cli":
        cmd = [sys.executable, "-m", "grading", str(fifo), "--key", str(a.key_path)]
    else:
        code = f"from grading.batch import grade_class; grade_class({str(fifo)!r}, {str(a.key_path)!r}, 'out')"
        cmd = [sys.executable, "-c", code]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)  # a hang fails here
    if where == "cli":
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "not a regular file" in done.stderr and "pipe" in done.stderr
    else:
        assert "UsageError" in done.stderr and "not a regular file" in done.stderr, done.stderr


def test_an_empty_zip_says_it_is_empty(tmp_path: Path, a: Assignment) -> None:
    z = tmp_path / "empty.zip"
    zipfile.ZipFile(z, "w").close()
    assert is_zip(z)
    with pytest.raises(UsageError, match=r"empty\.zip'? (is an empty zip|holds no files)"):
        grade_class(z, a, tmp_path / "out")
    done = subprocess.run(
        [sys.executable, "-m", "grading", str(z), "--key", str(a.key_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "empty" in done.stderr and "lms-template" not in done.stderr, done.stderr
