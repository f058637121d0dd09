"""``--overrides`` with several files and a folder (each review page downloads its own student's rows),
and points a TA gives to a question of a notebook that could not be read.

The class is the CSV + notebook class of test_csv_and_notebook (worked by hand there): 52110 has
both parts (CSV 75, w00 right 10, a21 one-term 0), 52112 a notebook only (w00 right 10), 52113 a PDF
only (0), out of 100 + 20 + 10. The expected totals below are worked by hand from those.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grading.batch import grade_class
from grading.notebook.overrides import OverridesError, override_files, read_override_sources
from tests.grading.test_class_extremes import csv_rows, moodle_template
from tests.notebook.test_csv_and_notebook import MAX, STUDENTS, assignment, lms_rows, moodle_zip

HEADER = "student,question,points,comment\n"


def _write(path: Path, *rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def klass(tmp_path: Path) -> tuple[Path, Path]:
    return moodle_zip(tmp_path), assignment(tmp_path)


def test_a_folder_of_downloads_in_the_order_they_were_downloaded(klass: tuple[Path, Path], tmp_path: Path) -> None:
    """A browser saves the second download of overrides.csv as 'overrides (1).csv': that one is later."""
    zip_path, toml = klass
    folder = tmp_path / "results" / "overrides"
    _write(folder / "overrides.csv", "52110,a21,2,first look", "52110,decision boundary,8,")
    _write(folder / "overrides (1).csv", "52110,a21,3,sign slip only", "52110,decision boundary,8,")
    _write(folder / "overrides (2).csv", "52112,decision boundary,4,")
    (folder / "._overrides.csv").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")  # hidden: skipped
    (folder / "notes.txt").write_text("not a csv\n")  # not *.csv: skipped
    (folder / "old").mkdir()
    _write(folder / "old" / "overrides.csv", "52110,a21,0,")  # not directly in the folder: skipped
    result = grade_class(zip_path, toml, tmp_path / "out", overrides=folder, feedback=False)
    rows = {r["student"]: r for r in result.students}
    a21 = next(q for q in rows["52110"]["notebook"]["questions"] if q["question"] == "a21")
    assert (a21["final_points"], a21["comment"], a21["set_by_ta"]) == (3, "sign slip only", True)
    assert rows["52110"]["total"]["final_points"] == 75 + 10 + 3 + 8
    assert rows["52112"]["total"]["final_points"] == 10 + 4
    # one line; the identical decision boundary in both files is no conflict
    assert result.override_warnings == [
        "overrides: 1 decision is set differently in two files; the later file wins: "
        "52110 a21 (overrides (1).csv over overrides.csv)."
    ]


def test_several_files_in_the_order_given(klass: tuple[Path, Path], tmp_path: Path) -> None:
    zip_path, toml = klass
    a = _write(tmp_path / "a.csv", "52110,a21,5,", "52110,w00,9,")
    b = _write(tmp_path / "b.csv", "52110,a21,1,", "52110,w00,9,")
    result = grade_class(zip_path, toml, tmp_path / "out", overrides=[b, a], feedback=False)
    got = {q["question"]: q["final_points"] for q in result.students[0]["notebook"]["questions"]}
    assert got == {"w00": 9, "a21": 5}  # a.csv was named last: it wins
    assert result.override_warnings == [
        "overrides: 1 decision is set differently in two files; the later file wins: 52110 a21 (a.csv over b.csv)."
    ]


def test_name_order_counts_a_browsers_copies() -> None:
    from grading.notebook.overrides import _name_order

    names = ["overrides (10).csv", "overrides.csv", "zz.csv", "overrides (2).csv", "overrides(1).csv", "a.csv"]
    got = [p.name for p in sorted((Path(n) for n in names), key=_name_order)]
    assert got == ["a.csv", "overrides.csv", "overrides(1).csv", "overrides (2).csv", "overrides (10).csv", "zz.csv"]


def test_same_file_name_in_two_folders_is_told_apart(tmp_path: Path) -> None:
    one = _write(tmp_path / "ta1" / "overrides.csv", "s1,w00,1,")
    two = _write(tmp_path / "ta2" / "overrides.csv", "s1,w00,2,")
    got = read_override_sources([one, two], {"s1"}, {"w00"})
    assert got.rows[("s1", "w00")].points == 2
    assert got.warnings == (
        f"overrides: 1 decision is set differently in two files; the later file wins: s1 w00 ({two} over {one}).",
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"overrides.csv": HEADER + "s1,w00,1,\n", "overrides (1).csv": HEADER + "s1,w00,1,\ns1,w00,x,\n"},
            "overrides (1).csv, line 3: points 'x' is not a number; write a number like 7 or 7.5, or leave it empty.",
        ),
        (
            {"overrides.csv": HEADER + "s1,w00,1,\n", "gradebook.csv": "student,name,status\ns1,Ada,ok\n"},
            "gradebook.csv, line 1: expected the header 'student,question,points,comment', found 'student,name,status'.",
        ),
        (
            {"notes.txt": "x"},
            "{folder}: no .csv file in this folder; put the overrides.csv files downloaded from "
            "the review pages in it, or name the file itself.",
        ),
    ],
    ids=["bad line in the second file", "another csv in the folder", "no csv"],
)
def test_a_bad_file_in_the_folder_is_refused_naming_file_and_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    folder = tmp_path / "overrides"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(OverridesError) as caught:
        read_override_sources([folder], {"s1"}, {"w00"})
    assert str(caught.value) == message.format(folder=folder)


def test_override_files_keeps_the_order_given_and_expands_folders(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    for name in ("b.csv", "A.CSV", "c.tsv"):
        _write(folder / name)
    late = _write(tmp_path / "late.csv")
    assert override_files([late, folder]) == [late, folder / "A.CSV", folder / "b.csv"]


def test_points_for_a_question_of_an_unreadable_notebook_count(klass: tuple[Path, Path], tmp_path: Path) -> None:
    """52113 handed in a PDF: the TA graded w00 from it by hand (6 points) and a21 only commented on."""
    zip_path, toml = klass
    decisions = _write(
        tmp_path / "overrides.csv",
        "52113,w00,6,graded from the PDF by hand",
        "52113,a21,,no a21 in the PDF",
        "52113,decision boundary,5,",
    )
    template = moodle_template(tmp_path, STUDENTS)
    out = tmp_path / "out"
    result = grade_class(zip_path, toml, out, overrides=decisions, lms_template=template)
    row = next(r for r in result.students if r["student"] == "52113")
    assert row["notebook"]["status"] == "invalid"
    assert (row["total"]["final_points"], row["total"]["auto_points"], row["total"]["max_points"]) == (11, 0, MAX)
    book = {r["student"]: r for r in csv_rows(out / "gradebook.csv")}["52113"]
    assert (book["notebook: w00 verdict"], book["notebook: w00 points"]) == ("not-found", "6 (set by TA)")
    assert (book["notebook: a21 points"], book["notebook_points"], book["total"]) == ("0", "11", "11")
    comment = lms_rows(out)["52113"][9]
    assert float(lms_rows(out)["52113"][4]) == 11
    assert "11 of 30 points set by the TA." in comment
    assert "TA: graded from the PDF by hand / no a21 in the PDF." in comment
    # the review page shows the decision, so its next download carries it again
    from grading.notebook.review import review_filename

    page = (out / "review" / review_filename("52113")).read_text(encoding="utf-8")
    assert 'data-question="w00"' in page and "graded from the PDF by hand" in page


def _grade(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from grading.cli import main

    monkeypatch.setattr(sys, "argv", ["grade", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


def test_cli_takes_a_folder_and_repeated_overrides(
    klass: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zip_path, toml = klass
    folder = tmp_path / "ovr"
    _write(folder / "overrides.csv", "52110,decision boundary,4,")
    _write(folder / "overrides (1).csv", "52110,decision boundary,6,")
    extra = _write(tmp_path / "extra.csv", "52112,decision boundary,7,")
    out = tmp_path / "o"
    args = [str(zip_path), "--key", str(toml), "--out", str(out), "--no-feedback", "--allow-partial"]
    status, err = _grade([*args, "--overrides", str(folder), "--overrides", str(extra)], monkeypatch, capsys)
    assert status == 0
    assert err == (
        "grade: warning: overrides: 1 decision is set differently in two files; the later file wins: "
        "52110 decision boundary (overrides (1).csv over overrides.csv).\n"
    )
    sheet = {r["Identifier"].removeprefix("Participant "): r for r in csv_rows(out / "moodle-grading-worksheet.csv")}
    assert (float(sheet["52110"]["Grade"]), float(sheet["52112"]["Grade"])) == (75 + 10 + 6, 10 + 7)
    bad = _write(tmp_path / "bad" / "overrides.csv", "52110,decision boundary,seven,")
    status, err = _grade([*args, "--overrides", str(folder), "--overrides", str(bad)], monkeypatch, capsys)
    assert (status, err) == (  # two files are called overrides.csv: the message names the one it means
        2,
        f"grade: error: {bad}, line 2: points 'seven' is not a number; write a number like 7 or 7.5, "
        "or leave it empty.\n",
    )


def test_a_notebook_only_class_takes_a_folder_too(tmp_path: Path) -> None:
    """examples/make_notebooks.py's class: 10002 (Ada) has w00 right (5 of 5) and a21 one-term (0 of 5);
    10006 handed in a PDF. The gradebook's points / max_points are the notebook part's, manual items in."""
    from grading.notebook.classrun import grade_notebook_class
    from tests.notebook.conftest import HW1
    from tests.notebook.test_class import make_notebooks

    zip_path = make_notebooks.write_class(tmp_path)
    folder = tmp_path / "overrides"
    _write(folder / "overrides.csv", "10002,a21,2,sign slip", "10002,decision boundary,7,")
    _write(folder / "overrides (1).csv", "10002,a21,3,sign slip only", "10006,w00,4,graded the PDF by hand")
    manual = ({"name": "decision boundary", "points": 10.0},)
    result = grade_notebook_class(zip_path, HW1, tmp_path / "o", manual=manual, overrides=folder)
    assert result.override_warnings == [
        "overrides: 1 decision is set differently in two files; the later file wins: "
        "10002 a21 (overrides (1).csv over overrides.csv)."
    ]
    book = {r["student"]: r for r in csv_rows(tmp_path / "o" / "gradebook.csv")}
    assert (book["10002"]["points"], book["10002"]["max_points"], book["10002"]["a21 points"]) == (
        str(5 + 3 + 7),
        str(5 + 5 + 10),
        "3 (set by TA)",
    )
    assert (book["10006"]["status"], book["10006"]["points"], book["10006"]["w00 points"]) == (
        "invalid",
        "4",
        "4 (set by TA)",
    )
    assert book["10006"]["max_points"] == "20"
