"""Grades back into the LMS: Moodle's worksheet and Canvas's gradebook, filled and nothing else changed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from grading.assignment import Assignment, load_assignment
from grading.batch import grade_class
from grading.errors import UsageError
from grading.lms import (
    LmsGrade,
    fill_lms_template,
    moodle_date,
    read_lms_template,
    write_lms_import,
    write_moodle_worksheet,
)
from grading.rubric import parse_rubric

HERE = Path(__file__).parent / "lms"
MOODLE = HERE / "moodle-grading-worksheet.example.csv"
CANVAS = HERE / "canvas-gradebook.example.csv"
N = 20
TRUTH = [i % 10 for i in range(N)]


def predictions(n_right: int) -> str:
    rows = [f"{i:07d}.png,{t if i < n_right else (t + 1) % 10}" for i, t in enumerate(TRUTH)]
    return "image,class\n" + "\n".join(rows) + "\n"


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_moodle_worksheet_only_grade_and_feedback_cells_change() -> None:
    original = MOODLE.read_text(encoding="utf-8")
    filled = fill_lms_template(
        MOODLE,
        {
            "52110": LmsGrade(85.5, "Top-1 97.00%. <b>ok</b> & =1"),
            "52112": LmsGrade(None, "not graded"),
            "99999": LmsGrade(10, ""),
        },
    )
    assert (filled.kind, filled.column, filled.filled, filled.unmatched) == ("moodle", "Grade", 1, ["99999"])
    lines, before = filled.text.splitlines(keepends=True), original.splitlines(keepends=True)
    assert lines[0] == before[0] and lines[2:] == before[2:]  # header and the other rows: byte for byte
    assert lines[1] == before[1].replace(",,100.00,", ",85.50,100.00,").replace(
        "-,\n", '-,"Top-1 97.00%. &lt;b&gt;ok&lt;/b&gt; &amp; =1"\n'
    )
    got = rows(filled.text)
    assert got[1][4] == "85.50" and got[1][9].startswith("Top-1")


def test_canvas_gradebook_points_possible_row_and_other_columns_kept() -> None:
    original = CANVAS.read_bytes()
    filled = fill_lms_template(
        CANVAS, {"40118": LmsGrade(72.5, "ignored by Canvas"), "0040119": LmsGrade(100, ""), "77": LmsGrade(3, "")}
    )
    assert (filled.kind, filled.column) == ("canvas", "HW2 Handwritten digits (88231)")
    assert (filled.filled, filled.unmatched) == (2, ["77"])
    out, before = filled.to_bytes().splitlines(keepends=True), original.splitlines(keepends=True)
    assert out[:3] == before[:3]  # header, Points Possible, a student without a submission
    assert out[3] == before[3].replace(b"2024,,0.00", b"2024,72.50,0.00")
    assert out[4] == before[4].replace(b"2024,,0.00", b"2024,100.00,0.00")
    assert filled.warnings == []
    over = fill_lms_template(CANVAS, {"40117": LmsGrade(120, "")})
    assert over.warnings == [
        "1 grade is above the maximum 100 of 'HW2 Handwritten digits (88231)' (40117: 120): Moodle skips such a "
        "row and Canvas stores more points than the assignment has. Raise the maximum in the LMS, or add "
        "`[lms] scale_to = 100` to assignment.toml to rescale the grades."
    ]


@pytest.mark.parametrize(
    ("bom", "newline", "encoding"),
    [(True, "\r\n", "utf-8"), (False, "\r", "utf-8"), (False, "\n", "cp1252")],
    ids=["bom-crlf", "cr", "cp1252"],
)
def test_encoding_bom_and_line_ends_survive(tmp_path: Path, bom: bool, newline: str, encoding: str) -> None:
    text = MOODLE.read_text(encoding="utf-8").replace("林雨婷", "José Müller").replace("\n", newline)
    data = ("\ufeff" if bom else "").encode() + text.encode(encoding)
    (tmp_path / "w.csv").write_bytes(data)
    written = write_lms_import(tmp_path, tmp_path / "w.csv", {"52111": LmsGrade(50, "Top-1 50%, 鄭呈毅")})
    out = (tmp_path / "lms-import.csv").read_bytes()
    assert out.startswith(b"\xef\xbb\xbf") == bom
    assert out.count(newline.encode()) == data.count(newline.encode())
    expected = data.replace(
        b',,100.00,Yes,"Wednesday, 20 March 2024, 10:58 PM",-,',
        b',50.00,100.00,Yes,"Wednesday, 20 March 2024, 10:58 PM",-,"Top-1 50%, '
        + ("鄭呈毅" if encoding == "utf-8" else "???").encode(encoding)
        + b'"',
    )
    assert out == expected
    assert written.filled == 1


def test_canvas_several_assignments_need_a_column(tmp_path: Path) -> None:
    text = CANVAS.read_text().replace(
        "HW2 Handwritten digits (88231),", "HW1 Warm-up (88000),HW2 Handwritten digits (88231),"
    )
    text = (
        "\n".join(
            line.replace("2024,,", "2024,5.00,,").replace(",,,,,100.00,", ",,,,,10.00,100.00,")
            for line in text.splitlines()
        )
        + "\n"
    )
    path = tmp_path / "gb.csv"
    path.write_text(text)
    with pytest.raises(
        UsageError,
        match=r"2 assignment columns \('HW1 Warm-up \(88000\)', 'HW2 Handwritten digits "
        r"\(88231\)'\); choose one with --lms-column",
    ):
        read_lms_template(path)
    for column in ("HW2 Handwritten digits (88231)", "HW2 Handwritten digits", "88231", "hw2"):
        filled = fill_lms_template(path, {"40117": LmsGrade(90, "")}, column=column)
        assert rows(filled.text)[2][5:7] == ["5.00", "90.00"], column
    with pytest.raises(UsageError, match=r"no assignment column 'HW3'; the gradebook has"):
        read_lms_template(path, column="HW3")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, r"the LMS template '.*nope\.csv' does not exist; download it from Moodle"),
        ("", r"the LMS template is empty"),
        (
            "student,points\nb1,3\n",
            r"neither a Moodle grading worksheet \(missing 'Identifier', 'Grade', "
            r"'Last modified \(grade\)'\) nor a Canvas gradebook export",
        ),
        ('Student,ID,Section\n"Kim, A",1,S\n', r"a Canvas gradebook with no assignment column"),
        (
            'Identifier,Grade,"Last modified (grade)"\n"Participant 1,,-\n',
            r"line 2: a quote \(\"\) is opened and never closed",
        ),
    ],
    ids=["missing", "empty", "neither", "canvas-no-assignment", "open-quote"],
)
def test_bad_templates(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "nope.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(UsageError, match=message):
        read_lms_template(path)


def test_moodle_worksheet_without_template_is_what_the_upload_needs(tmp_path: Path) -> None:
    path = write_moodle_worksheet(
        tmp_path,
        [("52110", '=HYPERLINK("x")'), ("52111", "林雨婷")],
        {"52110": LmsGrade(70, "Top-1 70.00%.")},
        maximum=80,
        when=0,
    )
    got = rows(path.read_text(encoding="utf-8"))
    assert got[0] == ["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"]
    assert got[1] == ["Participant 52110", '\'=HYPERLINK("x")', "70.00", "80.00", moodle_date(0), "Top-1 70.00%."]
    assert got[2] == ["Participant 52111", "林雨婷", "", "80.00", "-", ""]
    tpl = read_lms_template(path)  # and it is itself a template gradkit can fill again
    assert (tpl.kind, tpl.column) == ("moodle", "Grade")


def moodle_class(tmp_path: Path) -> Path:
    path = tmp_path / "moodle.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Chen Wei-Lin_52110_assignsubmission_file_/HW2_prob1.csv", predictions(19))
        z.writestr("林雨婷_52111_assignsubmission_onlinetext_/onlinetext.html", "<p>my answer is 7</p>")
        z.writestr("Late Comer_52199_assignsubmission_file_/HW2_prob1.csv", predictions(10))
    return path


def assignment(tmp_path: Path, **extra: object) -> Assignment:
    key = tmp_path / "key.csv"
    key.write_text("image,class\n" + "".join(f"{i:07d}.png,{t}\n" for i, t in enumerate(TRUTH)))
    rubric = parse_rubric([{"name": "Accuracy", "rule": "linear", "floor": 0.0, "target": 1.0, "points": 100}])
    return Assignment(key_path=key, rubric=rubric, **extra)  # type: ignore[arg-type]


def test_moodle_class_round_trip(tmp_path: Path) -> None:
    a = assignment(tmp_path)
    out = tmp_path / "out"
    result = grade_class(moodle_class(tmp_path), a, out, lms_template=MOODLE)
    got = rows((out / "lms-import.csv").read_text(encoding="utf-8"))
    assert [r[4] for r in got[1:]] == ["95.00", "0.00", ""]  # the rubric total; no submission: left as it was
    assert got[2][9].startswith("Not graded: no file: online text only")
    assert got[1][9] == "Top-1 95.00%, top-3 unavailable. 95 of 100 points."
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["lms"]["unmatched"] == ["52199"] and doc["lms"]["filled"] == 2 and doc["lms"]["kind"] == "moodle"
    assert result.files["lms-import.csv"] == out / "lms-import.csv"
    assert not (out / "moodle-grading-worksheet.csv").exists()
    book = {
        r["student"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8-sig")))
    }
    assert float(book["52110"]["points"]) == float(got[1][4])  # the same number as the gradebook's
    # without a template, a Moodle class still gets the worksheet Moodle's upload accepts
    grade_class(moodle_class(tmp_path), a, tmp_path / "out2", feedback=False)
    sheet = rows((tmp_path / "out2" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8"))
    assert [(r[0], r[2]) for r in sheet[1:]] == [
        ("Participant 52110", "95.00"),
        ("Participant 52111", "0.00"),
        ("Participant 52199", "50.00"),
    ]


def test_canvas_class_from_assignment_toml(tmp_path: Path) -> None:
    a = assignment(tmp_path)
    (tmp_path / "gradebook.csv").write_bytes(CANVAS.read_bytes())
    toml = tmp_path / "assignment.toml"
    toml.write_text(
        '[key]\npath = "key.csv"\n[lms]\ntemplate = "gradebook.csv"\ncolumn = "88231"\n'
        '[[rubric]]\nname = "A"\nrule = "linear"\nfloor = 0.0\ntarget = 1.0\npoints = 100\n'
    )
    loaded = load_assignment(toml)
    assert loaded.lms_template == (tmp_path / "gradebook.csv").resolve() and loaded.lms_column == "88231"
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("chenweilin_40117_901_HW2_prob1.csv", predictions(20))
        f.writestr("kimalex_LATE_40119_903_HW2_prob1.csv", "not,a,prediction\n")
    grade_class(z, toml, tmp_path / "out", feedback=False)
    got = (tmp_path / "out" / "lms-import.csv").read_bytes().splitlines(keepends=True)
    before = CANVAS.read_bytes().splitlines(keepends=True)
    assert got[2] == before[2].replace(b"2024,,", b"2024,100.00,")
    assert got[4] == before[4].replace(b"2024,,", b"2024,0.00,")
    assert got[:2] == before[:2] and got[3] == before[3]
    assert a.rubric  # the helper's rubric and the TOML's agree


def test_cli_lms_round_trip(tmp_path: Path) -> None:
    import subprocess
    import sys

    assignment(tmp_path)
    moodle_class(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "grading",
        "moodle.zip",
        "--key",
        "key.csv",
        "--out",
        "results",
        "--lms-template",
        str(MOODLE),
        "--no-feedback",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stdout = " ".join(done.stdout.split())
    assert "lms-import.csv: 2 grades filled in 'Grade' (Moodle)" in stdout
    assert "1 graded submission has no row in the LMS template (enter by hand): 52199" in stdout
    bad = subprocess.run(
        [*cmd[:-3], "--lms-template", "nope.csv"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and bad.stderr.startswith("grade: error: the LMS template 'nope.csv' does not exist")
    assert (tmp_path / "results" / "gradebook.csv").read_text(encoding="utf-8-sig") != ""
