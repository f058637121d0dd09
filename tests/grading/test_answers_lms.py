"""``grade RESPONSES --variants answers.json --out DIR --lms-template FILE``: the derivation grades back into the LMS.

derive key → responses → grade, through the two CLIs, with examples/roster.csv's students.
The templates find students by their own ids (Moodle ``ID number`` / ``Email address``,
Canvas ``SIS User ID`` / ``SIS Login ID``); every byte but the filled cells is the template's.
Also ``[answers] rtol/atol`` and ``[lms]`` of an assignment file given with ``--key``.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grading.errors import UsageError
from grading.lms import LmsGrade, fill_lms_template

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LMS = Path(__file__).resolve().parent / "lms"

# Moodle's worksheet layout (BOM, CRLF) with its optional ID number column; {g}/{f}: grade and feedback cells.
MOODLE_HEAD = (
    '\ufeffIdentifier,"Full name","ID number","Email address",Status,Grade,"Maximum Grade",'
    '"Grade can be changed","Last modified (submission)","Last modified (grade)","Feedback comments"\r\n'
)
MOODLE_ROWS = {
    # by email, upper-case domain-less match on the part before @
    "b11901001": '"Participant 52110","Chen Mei-Ling",,B11901001@example.edu,"Submitted for grading",{g},10.00,Yes,'
    '"Wednesday, 20 March 2024, 10:41 PM",-,{f}\r\n',
    # by ID number (the email is someone else's address)
    "b11901002": '"Participant 52111","林雨婷", B11901002 ,yuting.lin@example.edu,"Submitted for grading",{g},10.00,Yes,'
    '"Wednesday, 20 March 2024, 10:58 PM",-,{f}\r\n',
    None: '"Participant 52112","Alex Kim",,r11922003@example.edu,"No submission",,10.00,Yes,-,-,\r\n',
    # by the whole address, case-insensitively; no answers in the responses: 0 points
    "r12922004": '"Participant 52113","Zoë O\'Brien",,R12922004@EXAMPLE.edu,"No submission",{g},10.00,Yes,-,-,{f}\r\n',
}
CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Derivations (90001),HW2 Handwritten digits (88231),Current Score\n"
    "    Points Possible,,,,,10.00,100.00,(read only)\n"
    '"Chen, Mei-Ling",40117,B11901001,b11901001,ML 2024,{b11901001},,0.00\n'
    '"Lin, Yu-Ting",40118,,b11901002,ML 2024,{b11901002},,0.00\n'
    '"Kim, Alex",40119,R11922003,r11922003,ML 2024,,,0.00\n'
    '"Wang, Chih-Hao",40120,b11901003,b11901003,ML 2024,{b11901003},88.00,0.00\n'
)


def run(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """derive key for examples/roster.csv, then responses: b11901001 right, b11901002 w11's sign flipped,
    b11901003 a00 right only (w11 blank), r12922004 and r12922005 absent."""
    folder = tmp_path_factory.mktemp("class")
    made = run(
        "derive",
        "key",
        str(EXAMPLES / "hw2-2024.toml"),
        "--roster",
        str(EXAMPLES / "roster.csv"),
        "--seed",
        "11",
        "--tex",
        "--out",
        "keys",
        cwd=folder,
    )
    assert made.returncode == 0, made.stderr
    key = {e["student"]: e["answers"] for e in json.loads((folder / "keys" / "answers.json").read_text("utf-8"))}
    assert sorted(key) == ["b11901001", "b11901002", "b11901003", "r12922004", "r12922005"]
    rows = [
        "student,w11,a00",
        f"b11901001,{key['b11901001']['w11']!r},{key['b11901001']['a00']!r}",
        f"b11901002,{-key['b11901002']['w11']!r},{key['b11901002']['a00']!r}",
        f"b11901003,,{key['b11901003']['a00']!r}",
    ]
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


POINTS = {"b11901001": "10.00", "b11901002": "5.00", "b11901003": "5.00", "r12922004": "0.00", "r12922005": "0.00"}


def test_moodle_worksheet_filled_by_email_and_id_number(klass, tmp_path):
    template = tmp_path / "worksheet.csv"
    blank = MOODLE_HEAD + "".join(r.format(g="", f="") for r in MOODLE_ROWS.values())
    template.write_bytes(blank.encode("utf-8"))
    out = run(
        "grading",
        "responses.csv",
        "--variants",
        "keys/answers.json",
        "--out",
        str(tmp_path / "results"),
        "--lms-template",
        str(template),
        cwd=klass,
    )
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "results" / "lms-import.csv").read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    assert lines[0] == MOODLE_HEAD and len(lines) == 1 + len(MOODLE_ROWS)
    feedback = {}
    for line, (student, row) in zip(lines[1:], MOODLE_ROWS.items()):
        if student is None:
            assert line == row  # the stranger's row, byte for byte
            continue
        prefix = row.format(g=POINTS[student], f="")[:-2]  # everything but the feedback cell and CRLF
        assert line.startswith(prefix) and line.endswith("\r\n"), line
        cell = line[len(prefix) : -2]
        assert cell.startswith('"') and cell.endswith('"') and '""' not in cell
        feedback[student] = cell[1:-1]
    assert feedback["b11901001"] == "w11: correct; a00: correct."
    assert feedback["b11901002"].startswith("w11: wrong (right value -0.0871052), mistake sign: ")
    assert feedback["b11901002"].endswith("; a00: correct.")
    assert feedback["r12922004"].startswith("w11: missing (right value ")
    for comment in feedback.values():
        assert len(comment) <= 600 and "<" not in comment and "\n" not in comment and "\r" not in comment
    doc = json.loads((tmp_path / "results" / "results.json").read_text("utf-8"))
    assert doc["lms"] == {
        "kind": "moodle",
        "column": "Grade",
        "filled": 3,
        "unmatched": ["b11901003", "r12922005"],
        "warnings": [],
        "file": "lms-import.csv",
        "template": str(template),
    }
    assert {s["student"]: s["points"] for s in doc["students"]} == {k: float(v) for k, v in POINTS.items()}
    summary = " ".join(out.stdout.split())
    assert "lms-import.csv: 3 grades filled in 'Grade' (Moodle)" in summary
    assert "2 student(s) have no row in the LMS template (enter by hand): b11901003, r12922005" in summary


def test_canvas_gradebook_filled_by_sis_ids(klass, tmp_path):
    template = tmp_path / "gradebook.csv"
    template.write_text(CANVAS.format(b11901001="", b11901002="", b11901003=""), encoding="utf-8")
    out = run(
        "grading",
        "responses.csv",
        "--variants",
        "keys/answers.json",
        "--out",
        str(tmp_path / "results"),
        "--lms-template",
        str(template),
        "--lms-column",
        "90001",
        "--json",
        cwd=klass,
    )
    assert out.returncode == 0, out.stderr
    expected = CANVAS.format(**{s: POINTS[s] for s in ("b11901001", "b11901002", "b11901003")})
    assert (tmp_path / "results" / "lms-import.csv").read_bytes() == expected.encode("utf-8")
    doc = json.loads(out.stdout)
    assert doc["lms"]["unmatched"] == ["r12922004", "r12922005"] and doc["lms"]["filled"] == 3
    assert doc["lms"]["column"] == "Derivations (90001)"
    # two assignment columns and no --lms-column: one line, exit 2, nothing graded
    again = run(
        "grading",
        "responses.csv",
        "--variants",
        "keys/answers.json",
        "--out",
        str(tmp_path / "r2"),
        "--lms-template",
        str(template),
        cwd=klass,
    )
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "choose one with --lms-column" in again.stderr


def test_no_template_writes_no_lms_file(klass, tmp_path):
    out = run("grading", "responses.csv", "--variants", "keys/answers.json", "--out", str(tmp_path / "r"), cwd=klass)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "r" / "lms-import.csv").exists()
    assert "lms" not in json.loads((tmp_path / "r" / "results.json").read_text("utf-8"))


def test_shared_examples_match_by_student_only_when_asked():
    grades = {"b10901001": LmsGrade(7.0, "ok"), "R11922003": LmsGrade(3.0, ""), "nobody": LmsGrade(1.0, "")}
    moodle = LMS / "moodle-grading-worksheet.example.csv"
    by_id = fill_lms_template(moodle, grades)
    assert by_id.filled == 0 and by_id.text == moodle.read_text("utf-8")
    by_student = fill_lms_template(moodle, grades, match="student")
    assert by_student.filled == 2 and by_student.unmatched == ["nobody"]
    lines = by_student.text.splitlines()
    assert lines[1].endswith(',7.00,100.00,Yes,"Wednesday, 20 March 2024, 10:41 PM",-,ok')
    assert lines[3] == '"Participant 52112","Alex Kim",r11922003@example.edu,"No submission",3.00,100.00,Yes,-,-,'
    canvas = fill_lms_template(LMS / "canvas-gradebook.example.csv", {"B10901002": LmsGrade(50.0)}, match="student")
    assert canvas.filled == 1 and canvas.text.splitlines()[3].split(",")[6] == "50.00"
    assert (
        fill_lms_template(LMS / "canvas-gradebook.example.csv", {"40118": LmsGrade(50.0)}, match="student").filled == 1
    )
    with pytest.raises(UsageError, match=r"match='email': expected one of 'lms-id', 'student'"):
        fill_lms_template(moodle, grades, match="email")


def test_moodle_worksheet_without_student_columns_is_refused(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(
        'Identifier,"Full name",Grade,"Last modified (grade)"\n"Participant 7","Ada L",,-\n', encoding="utf-8"
    )
    with pytest.raises(UsageError, match=r"w.csv: no column names the students themselves .*'Email address'"):
        fill_lms_template(path, {"b1": LmsGrade(1.0)}, match="student")


# ------------------------------------------------------------------ [answers] rtol / atol and [lms] in a toml


def _verdict(out: subprocess.CompletedProcess[str], student: str, question: str) -> str:
    doc = json.loads(out.stdout)
    [s] = [s for s in doc["students"] if s["student"] == student]
    return next(i["verdict"] for i in s["items"] if i["question"] == question)


def test_answers_rtol_in_the_assignment_changes_a_verdict(klass, tmp_path):
    key = json.loads((klass / "keys" / "answers.json").read_text("utf-8"))[0]
    assert key["student"] == "b11901001"
    (tmp_path / "r.csv").write_text(f"student,w11,a00\nb11901001,{key['answers']['w11'] * 1.05!r},\n", encoding="utf-8")
    (tmp_path / "assignment.toml").write_text('title = "derivations"\n[answers]\nrtol = 0.1\n', encoding="utf-8")
    args = ("--variants", str(klass / "keys" / "answers.json"), "--json")
    default = run("grading", "r.csv", *args, cwd=tmp_path)
    loose = run("grading", "r.csv", *args, "--key", "assignment.toml", cwd=tmp_path)
    flag_wins = run("grading", "r.csv", *args, "--key", "assignment.toml", "--rtol", "0.01", cwd=tmp_path)
    assert (default.returncode, loose.returncode, flag_wins.returncode) == (0, 0, 0), loose.stderr
    assert _verdict(default, "b11901001", "w11") == "wrong"
    assert _verdict(loose, "b11901001", "w11") == "correct"
    assert _verdict(flag_wins, "b11901001", "w11") == "wrong"


def test_lms_table_in_the_assignment_is_used(klass, tmp_path):
    (tmp_path / "gb.csv").write_text(CANVAS.format(b11901001="", b11901002="", b11901003=""), encoding="utf-8")
    (tmp_path / "assignment.toml").write_text('[lms]\ntemplate = "gb.csv"\ncolumn = "Derivations"\n', encoding="utf-8")
    out = run(
        "grading",
        str(klass / "responses.csv"),
        "--variants",
        str(klass / "keys" / "answers.json"),
        "--key",
        "assignment.toml",
        "--out",
        "results",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "results" / "lms-import.csv").read_text("utf-8"))))
    assert [r[5] for r in rows[2:]] == ["10.00", "5.00", "", "5.00"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[answers]\nrtol = -0.1\n",
            "assignment.toml: [answers] rtol must be a relative tolerance from 0 to 1, such as 0.01 for 1 %; got -0.1.",
        ),
        (
            "[answers]\nrtol = nan\n",
            "assignment.toml: [answers] rtol must be a relative tolerance from 0 to 1, such as 0.01 for 1 %; got nan.",
        ),
        (
            "[answers]\nrtol = inf\n",
            "assignment.toml: [answers] rtol must be a relative tolerance from 0 to 1, such as 0.01 for 1 %; got inf.",
        ),
        (
            '[answers]\nrtol = "1%"\n',
            "assignment.toml: [answers] rtol must be a relative tolerance from 0 to 1, such as 0.01 for 1 %; got '1%'.",
        ),
        (
            "[answers]\natol = -1e-3\n",
            "assignment.toml: [answers] atol must be an absolute tolerance >= 0, such as 5e-05; got -0.001.",
        ),
        (
            "[answers]\nrtool = 0.1\n",
            "assignment.toml: unknown key 'rtool' in [answers] (allowed: atol, rtol). Did you mean 'rtol'?",
        ),
        ("[answers\n", "assignment.toml: invalid TOML"),
    ],
    ids=["negative", "nan", "inf", "string", "atol", "typo", "not-toml"],
)
def test_bad_answers_settings_are_one_line_exit_2(klass, tmp_path, toml, message):
    (tmp_path / "assignment.toml").write_text(toml, encoding="utf-8")
    out = run(
        "grading",
        str(klass / "responses.csv"),
        "--variants",
        str(klass / "keys" / "answers.json"),
        "--key",
        "assignment.toml",
        cwd=tmp_path,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith(f"grade: error: {message}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--key", "key.csv"), "--variants grades derivation answers; --key 'key.csv' is an answer key CSV"),
        (("--lms-template", "gb.csv"), "--lms-template writes OUT/lms-import.csv: give --out DIR as well."),
        (("--lms-column", "HW2", "--out", "r"), "--lms-column picks the column of an LMS template"),
        (("--lms-template", "none.csv", "--out", "r"), "the LMS template 'none.csv' does not exist"),
    ],
    ids=["key-csv", "template-no-out", "column-no-template", "template-missing"],
)
def test_lms_usage_errors(klass, tmp_path, args, message):
    out = run(
        "grading", str(klass / "responses.csv"), "--variants", str(klass / "keys" / "answers.json"), *args, cwd=tmp_path
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_predictions_assignment_still_loads_with_an_answers_table(tmp_path):
    from grading.assignment import load_assignment

    (tmp_path / "key.csv").write_text("image,class\n1,0\n", encoding="utf-8")
    (tmp_path / "assignment.toml").write_text('[key]\npath = "key.csv"\n[answers]\nrtol = 0.05\n', encoding="utf-8")
    assert load_assignment(tmp_path / "assignment.toml").key_path == (tmp_path / "key.csv").resolve()
    (tmp_path / "assignment.toml").write_text('[key]\npath = "key.csv"\n[answers]\nrtol = 2\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"\[answers\] rtol must be a relative tolerance from 0 to 1"):
        load_assignment(tmp_path / "assignment.toml")
