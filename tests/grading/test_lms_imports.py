"""Grades the LMS would silently drop or misread (issue 18): warn once per kind, or refuse; never
write a file the LMS half-ignores. Each case is built from the template that showed it."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from grading.assignment import Assignment, load_assignment
from grading.batch import grade_class
from grading.errors import UsageError
from grading.lms import LmsGrade, fill_lms_template, read_lms_template, write_lms_import

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


def test_a_scale_assignment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(MOODLE.read_text(encoding="utf-8").replace('"Maximum Grade"', "Scale").replace(",100.00,", ",,"))
    with pytest.raises(UsageError, match=r"scale assignment \(its 'Scale' column\).*Grade type to 'Point'"):
        read_lms_template(path)


def test_grades_above_the_maximum_are_one_warning_with_the_fix(tmp_path: Path) -> None:
    filled = fill_lms_template(
        MOODLE, {"52110": LmsGrade(105, ""), "52111": LmsGrade(120, ""), "52112": LmsGrade(99, "")}
    )
    assert len(filled.warnings) == 1, filled.warnings
    (warning,) = filled.warnings
    assert warning.startswith("2 grades are above the maximum 100 of 'Grade' (Participant 52110: 105, ")
    assert "Moodle skips such a row" in warning and "[lms] scale_to = 100" in warning
    gb = tmp_path / "gb.csv"
    gb.write_text(CANVAS.read_text().replace(",,,,,100.00,", ",,,,,10.00,"))
    (canvas_warning,) = fill_lms_template(gb, {"40117": LmsGrade(96, "")}).warnings
    assert canvas_warning.startswith("1 grade is above the maximum 10 of 'HW2 Handwritten digits (88231)'")
    assert "[lms] scale_to = 10" in canvas_warning


def hw2_class(tmp_path: Path, *, scale_to: float | None = None) -> tuple[Path, Assignment]:
    key = tmp_path / "key.csv"
    key.write_text("image,class\n" + "".join(f"{i:07d}.png,{t}\n" for i, t in enumerate(TRUTH)))
    toml = tmp_path / "assignment.toml"
    toml.write_text(
        '[key]\npath = "key.csv"\n'
        + ("" if scale_to is None else f"[lms]\nscale_to = {scale_to}\n")
        + '[[rubric]]\nname = "A"\nrule = "linear"\nfloor = 0.0\ntarget = 1.0\npoints = 70\n'
        + '[[rubric]]\nname = "B"\nrule = "linear"\nfloor = 0.0\ntarget = 1.0\npoints = 35\n'
    )  # 105 points, as examples/hw2
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Ada_52110_assignsubmission_file_/HW2_prob1.csv", predictions(20))
        f.writestr("Bo_52111_assignsubmission_file_/HW2_prob1.csv", predictions(10))
        f.writestr("Cy_52112_assignsubmission_onlinetext_/onlinetext.html", "<p>x</p>")
    return z, load_assignment(toml)


def test_without_a_template_a_grade_above_moodles_default_100_is_said(tmp_path: Path) -> None:
    z, a = hw2_class(tmp_path)
    result = grade_class(z, a, tmp_path / "out", feedback=False)
    assert result.lms is not None
    (warning,) = result.lms["warnings"]
    assert warning.startswith("1 grade is above 100, the maximum grade of a new Moodle assignment")
    assert "[lms] scale_to = 100" in warning
    got = rows((tmp_path / "out" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8"))
    assert [r[2] for r in got[1:]] == ["105.00", "52.50", "0.00"]
    assert len(got) == 4  # every student, one row each


def test_scale_to_rescales_the_grades_for_the_lms(tmp_path: Path) -> None:
    z, a = hw2_class(tmp_path, scale_to=100)
    assert a.lms_scale_to == 100
    result = grade_class(z, a, tmp_path / "out", feedback=False, lms_template=MOODLE)
    assert result.lms is not None and result.lms["warnings"] == []
    got = rows((tmp_path / "out" / "lms-import.csv").read_text(encoding="utf-8"))
    assert [r[4] for r in got[1:]] == ["100.00", "50.00", "0.00"]
    book = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text("utf-8-sig")))}  # fmt: skip
    assert float(book["52110"]["points"]) == 105.0  # the gradebook keeps the rubric's own points
    grade_class(z, a, tmp_path / "out2", feedback=False)
    sheet = rows((tmp_path / "out2" / "moodle-grading-worksheet.csv").read_text(encoding="utf-8"))
    assert [(r[2], r[3]) for r in sheet[1:]] == [("100.00", "100.00"), ("50.00", "100.00"), ("0.00", "100.00")]


@pytest.mark.parametrize("bad", [0, -5, "100", True])
def test_scale_to_must_be_a_positive_number(tmp_path: Path, bad: object) -> None:
    toml = tmp_path / "assignment.toml"
    (tmp_path / "key.csv").write_text("image,class\na,1\n")
    value = f'"{bad}"' if isinstance(bad, str) else str(bad).lower()
    toml.write_text(f'[key]\npath = "key.csv"\n[lms]\nscale_to = {value}\n')
    with pytest.raises(UsageError, match=r"\[lms\] scale_to must be a positive number"):
        load_assignment(toml)


def test_a_read_only_canvas_column_is_refused(tmp_path: Path) -> None:
    gb = tmp_path / "gb.csv"
    gb.write_text(CANVAS.read_text().replace(",,,,,100.00,", ",,,,,(read only),"))
    with pytest.raises(UsageError, match=r"'HW2 Handwritten digits \(88231\)' is read only in Canvas"):
        read_lms_template(gb)


def test_an_lms_column_matching_two_columns_is_refused(tmp_path: Path) -> None:
    text = CANVAS.read_text().replace(
        "HW2 Handwritten digits (88231),", "HW2 Handwritten digits (88231),HW2 Bonus (88232),HW2 (88233),HW2 (88234),"
    )
    lines = text.splitlines()
    lines[1] = lines[1].replace(",,,,,100.00,", ",,,,,100.00,10.00,5.00,5.00,")
    lines[2:] = [line.replace("2024,,", "2024,,,,,") for line in lines[2:]]
    gb = tmp_path / "gb.csv"
    gb.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        UsageError, match=r"--lms-column 'HW2' matches 2 columns \('HW2 \(88233\)', 'HW2 \(88234\)'\); give its number"
    ):
        read_lms_template(gb, column="HW2")
    with pytest.raises(UsageError, match=r"--lms-column 'hw2 ' matches 4 columns \('HW2 Handwritten"):
        read_lms_template(gb, column="hw2 ")
    assert read_lms_template(gb, column="hw2 b").column == "HW2 Bonus (88232)"  # a unique beginning is enough
    assert read_lms_template(gb, column="88234").column == "HW2 (88234)"
    with pytest.raises(UsageError, match=r"no assignment column 'HW3'; the gradebook has"):
        read_lms_template(gb, column="HW3")


def test_a_cp1252_canvas_export_is_written_back_as_utf8(tmp_path: Path) -> None:
    text = CANVAS.read_text(encoding="utf-8").replace("Kim, Alex", "Müller, José")
    data = text.encode("cp1252")
    (tmp_path / "gb.csv").write_bytes(data)
    filled = write_lms_import(tmp_path, tmp_path / "gb.csv", {"40119": LmsGrade(88, "")})
    out = (tmp_path / "lms-import.csv").read_bytes()
    lines = text.splitlines(keepends=True)
    lines[4] = lines[4].replace("2024,,0.00", "2024,88.00,0.00")
    assert out == "".join(lines).encode("utf-8")  # the same text, in the encoding Canvas requires
    (warning,) = filled.warnings
    assert "cp1252" in warning and "UTF-8" in warning and "lms-import.csv" in warning


# Moodle writes the worksheet's header in the user's language: get_string('recordid', 'assign'),
# get_string('grade'), get_string('lastmodifiedgrade', 'assign'), get_string('pluginname',
# 'assignfeedback_comments') and the participant as get_string('hiddenuser', 'assign') . $id.
# The strings are those of the language packs (see grading/lms/headers.py for the sources).
LANGUAGES = {
    "de": ("ID", "Bewertung", "Zuletzt geändert (Bewertung)", "Feedback als Kommentar", "Teilnehmer/in"),
    "fr": ("Identifiant", "Note", "Dernière modification (note)", "Feedback par commentaires", "Participant"),
    "es": (
        "Identificador",
        "Calificación",
        "Última modificación (calificación)",
        "Comentarios de retroalimentación",
        "Participante",
    ),
    "ja": ("ID", "評定", "最終更新日時 (評定)", "フィードバックコメント", "参加者"),
    "zh_cn": ("标识符", "成绩", "上次修改（评分）", "反馈意见", "参与人"),
    "zh_tw": ("識別碼", "成績", "最後修改的(得分)", "評語回饋", "參與者"),
}


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("encoding", ["utf-8", "excel"])
def test_a_worksheet_in_moodles_other_languages(tmp_path: Path, lang: str, encoding: str) -> None:
    recordid, grade, modified, feedback, participant = LANGUAGES[lang]
    header = f'{recordid},"Full name",Status,{grade},"{modified}","{feedback}"\r\n'
    body = f'"{participant}52110","Chen Wei-Lin",x,,-,\r\n"{participant}52111","林雨婷",y,,-,\r\n'
    if encoding == "excel":  # re-saved by Excel on a Windows in that language
        encoding = {"zh_tw": "cp950", "zh_cn": "gb18030", "ja": "cp932"}.get(lang, "cp1252")
        body = body.replace("林雨婷", {"cp1252": "Lin Yu-Ting", "cp932": "山田花子"}.get(encoding, "林雨婷"))
    data = (header + body).encode(encoding)
    path = tmp_path / "w.csv"
    path.write_bytes(data)
    filled = write_lms_import(tmp_path, path, {"52110": LmsGrade(85.5, "Top-1 85.50%."), "52111": LmsGrade(40, "")})
    assert (filled.kind, filled.column, filled.filled, filled.unmatched) == ("moodle", grade, 2, [])
    out = (tmp_path / "lms-import.csv").read_bytes()
    expected = data.replace(b'"Chen Wei-Lin",x,,-,', b'"Chen Wei-Lin",x,85.50,-,"Top-1 85.50%."')
    expected = expected.replace(b",y,,-,", b",y,40.00,-,")
    assert out == expected  # the header (and every byte outside the two cells) as it came


def test_an_english_worksheet_excel_saved_as_big5_keeps_its_encoding_and_says_so(tmp_path: Path) -> None:
    data = MOODLE.read_text(encoding="utf-8").replace("Alex Kim", "鄭呈毅").encode("cp950")
    (tmp_path / "w.csv").write_bytes(data)
    filled = write_lms_import(tmp_path, tmp_path / "w.csv", {"52112": LmsGrade(60, "鄭呈毅：Top-1 60%")})
    out = (tmp_path / "lms-import.csv").read_bytes()
    assert filled.encoding == "cp950" and out.decode("cp950").splitlines()[3].endswith(',-,"鄭呈毅：Top-1 60%"')
    assert out.replace(b"60.00,100.00", b",100.00").replace(',"鄭呈毅：Top-1 60%"'.encode("cp950"), b",") == data
    (warning,) = filled.warnings
    assert warning.startswith("w.csv is in cp950, not the UTF-8 Moodle downloads")
