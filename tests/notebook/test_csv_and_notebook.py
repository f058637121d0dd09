"""A CSV + notebook class (``[key]`` and ``[notebook]``): one row per student in every output, one grade.

Students with both parts, only a CSV, only a notebook, neither, and a hostile name; the grades
are checked against points worked out by hand below (not against gradkit's own output), and the
LMS file is read back as the other LMS tests read it.

The assignment: a linear rubric on top-1 (0% -> 0, 100% -> 100 points, so the CSV part is 100 x
top-1), the notebook part 20 points over HW1's two questions (10 each), and a manual item worth
10: 130 points in all.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grading.batch import grade_class
from grading.errors import UsageError
from grading.lms import read_lms_template
from tests.grading.test_class_extremes import assert_one_row_each, csv_rows, moodle_template
from tests.notebook.conftest import HW1, code, md, notebook, stream
from tests.notebook.test_class import ROOT, make_notebooks

N = 20
TRUTH = [i % 10 for i in range(N)]
HOSTILE = "=cmd|' -C calc'!A0<script>"
STUDENTS = ["52110", "52111", "52112", "52113", "52114"]
MAX = 100 + 20 + 10
Klass = tuple[Path, Path, Path]  # the zip, assignment.toml, a Moodle worksheet to fill


def predictions(n_right: int) -> str:
    return "image,class\n" + "".join(f"{i},{t if i < n_right else (t + 1) % 10}\n" for i, t in enumerate(TRUTH))


def _nb(*cells: dict[str, Any]) -> str:
    return json.dumps(notebook(*cells), ensure_ascii=False)


W00_RIGHT = md(f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {make_notebooks.RIGHT_W}$$")
A21_ONE_TERM = md(f"$$\\frac{{\\partial L}}{{\\partial a_{{21}}}} = {make_notebooks.ONE_TERM_A}$$")


def assignment(folder: Path, *, extra: str = "") -> Path:
    (folder / "key.csv").write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in enumerate(TRUTH)))
    (folder / "hw1.toml").write_text(HW1.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "assignment.toml"
    path.write_text(
        'title = "HW2 with a notebook"\n[key]\npath = "key.csv"\n[submission]\nfilename = "HW2_prob1.csv"\n'
        + extra
        + '[[rubric]]\nname = "Accuracy"\nrule = "linear"\nmetric = "top1"\nfloor = 0.0\ntarget = 1.0\npoints = 100\n'
        '[notebook]\nproblems = "hw1.toml"\npoints = 20\n'
        '[[notebook.manual]]\nname = "decision boundary"\npoints = 10\n',
        encoding="utf-8",
    )
    return path


def moodle_zip(folder: Path) -> Path:
    """52110 both parts (prints 1,000 params and top-1 50%), 52111 a CSV only, 52112 a notebook only,
    52113 neither (a PDF), 52114 a hostile name with both parts (its notebook answers nothing)."""
    path = folder / "submissions.zip"
    printed = code("summary(model); print(f'top-1 acc {acc:.0%}')", stream("Total params: 1,000\ntop-1 acc 50%\n"))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Ada_52110_assignsubmission_file_/HW2_prob1.csv", predictions(15))
        z.writestr("Ada_52110_assignsubmission_file_/HW1.ipynb", _nb(W00_RIGHT, A21_ONE_TERM, printed))
        z.writestr("Bob_52111_assignsubmission_file_/HW2_prob1.csv", predictions(10))
        z.writestr("Cy_52112_assignsubmission_file_/HW1.ipynb", _nb(W00_RIGHT))
        z.writestr("Dee_52113_assignsubmission_file_/report.pdf", b"%PDF-1.4\n")
        z.writestr(f"{HOSTILE}_52114_assignsubmission_file_/HW2_prob1.csv", predictions(20))
        z.writestr(f"{HOSTILE}_52114_assignsubmission_file_/HW1.ipynb", _nb(md("第二題：我不會。")))
    return path


def lms_rows(out: Path, name: str = "lms-import.csv") -> dict[str, list[str]]:
    """lms-import.csv read back as the LMS tests read it: Participant id -> the row."""
    rows = list(csv.reader(io.StringIO((out / name).read_text(encoding="utf-8"))))
    assert rows[0][4] == "Grade" and rows[0][9] == "Feedback comments"
    return {r[0].removeprefix("Participant "): r for r in rows[1:]}


def overrides(folder: Path, rows: list[str]) -> Path:
    path = folder / "overrides.csv"
    path.write_text("student,question,points,comment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def klass(tmp_path: Path) -> Klass:
    return moodle_zip(tmp_path), assignment(tmp_path), moodle_template(tmp_path, STUDENTS)


# Worked by hand. CSV part: 100 x top-1 = 75 (15 of 20), 50, 0 (no CSV), 0, 100.
# Notebook (automatic): w00 right = 10, a21 one-term = 0; 52112: w00 = 10; 52114: nothing found = 0.
# Invalid notebooks (52111, 52113) count 0 and have nothing for the TA to decide.
AUTO = {"52110": 75 + 10, "52111": 50, "52112": 0 + 10, "52113": 0, "52114": 100}
UNDECIDED = {"52110", "52112", "52114"}


def test_one_row_each_and_the_grade_is_withheld_until_the_manual_item_is_decided(klass: Klass, tmp_path: Path) -> None:
    zip_path, toml, template = klass
    out = tmp_path / "out"
    result = grade_class(zip_path, toml, out, lms_template=template)
    rows = assert_one_row_each(out, STUDENTS)
    assert not (out / "notebook-gradebook.csv").exists()
    assert sorted(result.withheld) == sorted(UNDECIDED)
    for sid, auto in AUTO.items():
        total = rows[sid]["total"]
        assert (total["auto_points"], total["final_points"], total["max_points"]) == (auto, auto, MAX), sid
        assert total["decided"] == (sid not in UNDECIDED)
    lms, before = lms_rows(out), lms_rows(template.parent, template.name)
    assert sorted(lms) == STUDENTS  # every student once in the LMS file
    for sid in STUDENTS:
        if sid in UNDECIDED:  # withheld: the row is left exactly as the LMS gave it
            assert lms[sid] == before[sid], sid
        else:
            assert float(lms[sid][4]) == AUTO[sid] and lms[sid][9].startswith("Predictions: "), sid
    assert "Notebook not graded: no notebook matching" in lms["52111"][9]
    assert lms["52113"][9].startswith("Predictions: Not graded: no CSV file found")
    # without a template, Moodle's worksheet says why a grade is withheld
    grade_class(zip_path, toml, tmp_path / "out2", feedback=False)
    sheet = {
        r["Identifier"].removeprefix("Participant "): r
        for r in csv_rows(tmp_path / "out2" / "moodle-grading-worksheet.csv")
    }
    assert sorted(sheet) == STUDENTS
    for sid in UNDECIDED:
        assert sheet[sid]["Grade"] == "", sid
        assert sheet[sid]["Feedback comments"].endswith("Grade withheld until decision boundary is graded."), sid
    assert "Not graded: no CSV file found" in sheet["52112"]["Feedback comments"]
    assert f"So far 10 of {MAX} points." in sheet["52112"]["Feedback comments"]
    # the summary says how many wait for the TA
    from rich.console import Console

    from grading.batch import render_class_summary

    shown = io.StringIO()
    Console(file=shown, width=300, color_system=None).print(render_class_summary(result))
    assert "3 students' LMS grades are withheld" in shown.getvalue()
    index = (out / "review" / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in index and "&lt;script&gt;" in index  # the name is escaped
    # the class page counts what the summary and the LMS file wait for: no item of a missing notebook
    assert f'<div class="big">{len(UNDECIDED)}</div>manual items undecided' in index
    assert len(list((out / "review").glob("*.html"))) == len(STUDENTS) + 1  # the index and a page each
    assert len(list((out / "feedback").glob("*.html"))) == len(STUDENTS)


def test_allow_partial_writes_the_automatic_total_and_says_so(klass: Klass, tmp_path: Path) -> None:
    zip_path, toml, template = klass
    out = tmp_path / "out"
    result = grade_class(zip_path, toml, out, lms_template=template, allow_partial=True)
    assert result.withheld == []
    assert_one_row_each(out, STUDENTS, lms_ids=STUDENTS)
    lms = lms_rows(out)
    assert {sid: float(lms[sid][4]) for sid in STUDENTS} == AUTO
    for sid in UNDECIDED:
        assert "Partial grade: decision boundary not graded yet." in lms[sid][9]


def test_overrides_set_the_final_grade_the_gradebook_and_the_lms_comment(klass: Klass, tmp_path: Path) -> None:
    zip_path, toml, template = klass
    decisions = overrides(
        tmp_path,
        [
            "52110,a21,3,sign slip only",
            "52110,decision boundary,8,regions right; the ring is coarse",
            "52112,decision boundary,0,no figure",
            "52114,decision boundary,10,",
        ],
    )
    out = tmp_path / "out"
    result = grade_class(zip_path, toml, out, lms_template=template, overrides=decisions)
    assert result.withheld == []
    rows = assert_one_row_each(out, STUDENTS, lms_ids=STUDENTS)
    final = {"52110": 75 + 10 + 3 + 8, "52111": 50, "52112": 0 + 10 + 0, "52113": 0, "52114": 100 + 0 + 10}
    assert {sid: rows[sid]["total"]["final_points"] for sid in STUDENTS} == final
    assert {sid: rows[sid]["total"]["auto_points"] for sid in STUDENTS} == AUTO  # the automatic points are kept
    a21 = next(q for q in rows["52110"]["notebook"]["questions"] if q["question"] == "a21")
    assert (a21["auto_points"], a21["final_points"], a21["set_by_ta"]) == (0, 3, True)
    lms = lms_rows(out)
    assert {sid: float(lms[sid][4]) for sid in STUDENTS} == final
    assert "sign slip only / regions right; the ring is coarse." in lms["52110"][9]
    assert lms["52110"][9].endswith(f"Total {final['52110']} of {MAX} points.")
    book = {r["student"]: r for r in csv_rows(out / "gradebook.csv")}
    assert book["52110"]["notebook: a21 points"] == "3 (set by TA)"
    assert book["52110"]["notebook: w00 points"] == "10"  # automatic: not marked
    assert book["52110"]["notebook: decision boundary points"] == "8 (set by TA)"
    assert {sid: float(book[sid]["total"]) for sid in STUDENTS} == final
    assert {book[sid]["max_total"] for sid in STUDENTS} == {str(MAX)}
    assert book["52110"]["points"] == "75" and book["52110"]["notebook_points"] == str(10 + 3 + 8)
    # the hostile name is defused in the spreadsheet and matched in the LMS file by its id
    hostile = next(r for r in csv_rows(out / "gradebook.csv") if r["student"] == "52114")
    assert hostile["name"].startswith("'=")
    # no answer-key material in what students read: the key's formulas and the key's classes
    for sid in STUDENTS:
        comment = lms[sid][9]
        for q in rows[sid]["notebook"]["questions"]:
            assert not q["expected"] or str(q["expected"]) not in comment
        assert "\\frac" not in comment and "class" not in comment.lower()
    # the written file is itself a worksheet gradkit (and Moodle) reads
    assert read_lms_template(out / "lms-import.csv").kind == "moodle"


def test_the_moodle_worksheet_without_a_template_carries_the_combined_grade(klass: Klass, tmp_path: Path) -> None:
    zip_path, toml, _ = klass
    out = tmp_path / "out"
    grade_class(zip_path, toml, out, feedback=False, allow_partial=True)
    sheet = {r["Identifier"]: r for r in csv_rows(out / "moodle-grading-worksheet.csv")}
    assert sorted(sheet) == [f"Participant {sid}" for sid in STUDENTS]
    assert {k.removeprefix("Participant "): float(r["Grade"]) for k, r in sheet.items()} == AUTO
    assert {r["Maximum Grade"] for r in sheet.values()} == {f"{MAX}.00"}


def test_printed_params_stand_in_for_a_missing_params_file_row_and_a_far_accuracy_is_flagged(tmp_path: Path) -> None:
    """52110 prints 1,000 parameters and top-1 50% (the CSV grades 75%); 52114 has a params.csv row."""
    (tmp_path / "params.csv").write_text("student,params\n52114,2500\n52110_typo,7\n")
    toml = assignment(tmp_path, extra='params_file = "params.csv"\n')
    grade_class(moodle_zip(tmp_path), toml, tmp_path / "out", feedback=False)
    rows = {s["student"]: s for s in json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))["students"]}
    ada = rows["52110"]
    assert ada["report"]["params"] == 1000 and ada["report"]["top1_per_param"] == pytest.approx(0.75 / 1000)
    assert "parameter count 1,000 from the notebook (cell 2)." in ada["notes"]
    assert any("prints top-1 50%" in n and "75.00%" in n for n in ada["notes"])
    assert rows["52114"]["report"]["params"] == 2500  # the file's row wins; nothing from the notebook
    assert not any("from the notebook" in n for n in rows["52114"]["notes"])
    assert rows["52111"]["report"]["params"] is None
    book = {r["student"]: r for r in csv_rows(tmp_path / "out" / "gradebook.csv")}
    assert book["52110"]["params"] == "1000" and book["52110"]["top1_per_param"] == "0.00075"


def test_printed_top1_within_two_points_passes_and_a_far_top3_is_flagged(tmp_path: Path) -> None:
    """The CSV: top-1 75% (15 of 20), top-3 100% (the other 5 right at rank 2). The notebook prints
    top-1 76.5% (1.5 points off: fine) and top-3 90% (10 points off: flagged)."""
    toml = assignment(tmp_path)
    rows = "".join(f"{i},{t if i < 15 else (t + 1) % 10},{t},{(t + 2) % 10}\n" for i, t in enumerate(TRUTH))
    printed = code("report()", stream("top-1 accuracy: 0.765\ntop-3 accuracy: 90%\n"))
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Ada_52110_assignsubmission_file_/HW2_prob1.csv", "image,class,class_2,class_3\n" + rows)
        f.writestr("Ada_52110_assignsubmission_file_/HW1.ipynb", _nb(printed))
    result = grade_class(z, toml, tmp_path / "out", feedback=False)
    ada = result.students[0]
    assert (ada["report"]["top1"], ada["report"]["top3"]) == (0.75, 1.0)
    assert not any("prints top-1" in n for n in ada["notes"])
    assert (
        "the notebook prints top-3 90% (cell 0) but the CSV grades 100.00%; check which model made the CSV."
        in (ada["notes"])
    )


def test_overrides_need_a_notebook_part(tmp_path: Path) -> None:
    (tmp_path / "key.csv").write_text("image,class\n0,1\n")
    (tmp_path / "s").mkdir()
    with pytest.raises(UsageError, match=r"^--overrides and --allow-partial apply to a class of notebooks"):
        grade_class(tmp_path / "s", tmp_path / "key.csv", tmp_path / "out", allow_partial=True)


def _grade(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``grade ARGS`` through the console script's entry point: (exit status, stderr)."""
    from grading.cli import main

    monkeypatch.setattr(sys, "argv", ["grade", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


def test_cli_overrides_on_a_csv_and_notebook_class(
    klass: Klass, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zip_path, toml, _ = klass
    out = tmp_path / "o"
    args = [str(zip_path), "--key", str(toml), "--out", str(out), "--no-feedback", "--overrides"]
    status, err = _grade([*args, str(overrides(tmp_path, ["52199,decision boundary,5,"]))], monkeypatch, capsys)
    assert (status, err) == (
        2,
        "grade: error: overrides.csv, line 2: student '52199' is not in the class; "
        "use the id exactly as the gradebook has it.\n",
    )
    good = overrides(tmp_path, [f"{sid},decision boundary,5," for sid in STUDENTS])
    assert _grade([*args, str(good)], monkeypatch, capsys)[0] == 0
    sheet = {r["Identifier"]: r for r in csv_rows(out / "moodle-grading-worksheet.csv")}
    got = {k.removeprefix("Participant "): float(r["Grade"]) for k, r in sheet.items()}
    assert got == {sid: points + 5 for sid, points in AUTO.items()}  # the TA's points count even without a notebook
    status, err = _grade([str(zip_path), "--key", str(tmp_path / "key.csv"), "--allow-partial"], monkeypatch, capsys)
    assert status == 2 and "apply to a class of notebooks" in err


_spec = importlib.util.spec_from_file_location(
    "make_csv_and_notebooks", ROOT / "examples" / "make_csv_and_notebooks.py"
)
assert _spec is not None and _spec.loader is not None
make_both = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_both)  # at import, before the no-execution guard is on


def test_the_demo_class_of_both_parts(tmp_path: Path) -> None:
    """examples/make_csv_and_notebooks.py (the demo's step 9): 8 students, one row and one LMS grade each."""
    key = tmp_path / "key.csv"
    key.write_text("image,class\n" + "".join(f"{i},{t}\n" for i, t in enumerate(TRUTH)))
    zip_path = make_both.write_class(make_notebooks.write_class(tmp_path / "nb"), key, key, tmp_path / "both")
    out = tmp_path / "out"
    result = grade_class(zip_path, tmp_path / "both" / "assignment.toml", out, feedback=False, allow_partial=True)
    ids = [f"{10001 + n}" for n in range(8)]
    rows = assert_one_row_each(out, ids)
    sheet = {r["Identifier"].removeprefix("Participant "): r for r in csv_rows(out / "moodle-grading-worksheet.csv")}
    assert sorted(sheet) == ids and all(r["Grade"] for r in sheet.values()) and result.withheld == []
    assert rows["10003"]["status"] == "invalid" and rows["10003"]["notebook"]["status"] == "graded"  # notebook only
    assert rows["10007"]["status"] == "ok" and rows["10007"]["notebook"]["status"] == "invalid"  # CSV only
    assert rows["10008"]["total"]["final_points"] == 0  # neither
    assert rows["10004"]["report"]["params"] == 2938  # printed in the notebook


def test_notebook_points_and_comment_by_hand(tmp_path: Path) -> None:
    """One computation for both kinds of class: a TA's points on a question and a manual item, a
    manual item's comment, and points the TA gave a notebook that could not be read."""
    from grading.notebook.finalize import hold_back, notebook_comment, notebook_points
    from grading.notebook.overrides import apply_overrides, read_overrides

    manual = [{"name": "decision boundary", "points": 10.0}]
    graded = {
        "status": "graded",
        "student": "s1",
        "questions": [
            {"question": "w00", "verdict": "correct", "misconception": None, "points": 5.0, "max_points": 5.0},
            {"question": "a21", "verdict": "wrong", "misconception": "one-term", "points": 0.0, "max_points": 5.0},
        ],
        "errors": [],
    }
    invalid = {"status": "invalid", "student": "s2", "questions": [], "errors": ["HW1.ipynb: not a notebook."]}
    before = notebook_points(graded, manual)
    assert (before.auto, before.final, before.undecided) == (5.0, 5.0, ("decision boundary",))
    assert hold_back(before, allow_partial=False) == (True, " Grade withheld until decision boundary is graded.")
    path = overrides(
        tmp_path, ["s1,a21,2,sign slip", "s1,decision boundary,7,ring too coarse", "s2,decision boundary,4,"]
    )
    decisions = read_overrides(path, {"s1", "s2"}, {"w00", "a21", "decision boundary"})
    s1 = apply_overrides(graded, decisions, manual)
    after = notebook_points(s1, manual)
    assert (after.auto, after.final, after.decided) == (5.0, 5.0 + 2.0 + 7.0, True)
    assert notebook_comment(s1, after, 20.0) == (
        "Notebook: w00: correct; a21: wrong (one-term). 14 of 20 points. TA: sign slip / ring too coarse."
    )
    s2 = apply_overrides(invalid, decisions, manual)
    got = notebook_points(s2, manual)
    assert (got.auto, got.final, got.decided) == (0.0, 4.0, True)  # nothing to wait for; the TA's 4 count
    assert (
        notebook_comment(s2, got, 20.0)
        == "Notebook not graded: HW1.ipynb: not a notebook. 4 of 20 points set by the TA."
    )
    untouched = notebook_points(invalid, manual)
    assert (untouched.final, untouched.decided) == (0.0, True)


def test_scale_to_rescales_the_combined_grade(tmp_path: Path) -> None:
    toml = assignment(tmp_path, extra="[lms]\nscale_to = 100\n")
    grade_class(moodle_zip(tmp_path), toml, tmp_path / "out", feedback=False, allow_partial=True)
    sheet = {
        r["Identifier"].removeprefix("Participant "): r
        for r in csv_rows(tmp_path / "out" / "moodle-grading-worksheet.csv")
    }
    assert {sid: float(r["Grade"]) for sid, r in sheet.items()} == {
        sid: round(p * 100 / MAX, 2) for sid, p in AUTO.items()
    }
    assert {r["Maximum Grade"] for r in sheet.values()} == {"100.00"}
