"""Reading students' answers as they really arrive (issue 18): each case is built from the file or value that broke.

The right values and every mistake's value come from torch autograd in float64 on the conv network
(cross-correlation, sigmoid, dense sum, MSE), not from the engine under test.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from derive.problemset import Student, load_problem_set
from derive.sheet import solve
from grading.answers import grade_answers
from grading.answers.report import render_feedback_text
from grading.encodings import guess_legacy
from grading.reader import decode, read_rows

torch = pytest.importorskip("torch")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROSTER = (Student("0412345", "鄭呈毅"), Student("b002", "Chen, Mei-Ling"))


def oracle(values: dict, *, mse_scale: float = 2.0) -> dict[str, float]:
    """∂L/∂w11 and ∂L/∂a00 by torch autograd (float64); ``mse_scale`` is the factor of ∂L/∂ŷ = k(ŷ − y)."""
    a = torch.tensor(values["a"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(values["w"], dtype=torch.float64, requires_grad=True)
    v = torch.tensor(values["v"], dtype=torch.float64)
    z = torch.nn.functional.conv2d(a[None, None], w[None, None])[0, 0]
    yhat = (v * torch.sigmoid(z).flatten()).sum()
    loss = mse_scale / 2 * (yhat - values["y"]) ** 2
    loss.backward()
    return {"w11": float(w.grad[1, 1]), "a00": float(a.grad[0, 0])}


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    out = tmp_path_factory.mktemp("keys")
    ps = load_problem_set(EXAMPLES / "hw2-2024.toml")
    entries = [solve(ps, seed=11, student=s).to_dict() for s in ROSTER]
    path = out / "answers.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path, {e["student"]: e for e in entries}


def write(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def verdicts(result) -> dict[str, list[str]]:
    return {s.student: [i.verdict for i in s.items] for s in result.students}


def a00_formula(sep: str = "") -> str:
    return f"2*(yhat - y)*v0{sep}*sigma(z00)*(1 - sigma(z00))*w00"


# ------------------------------------------------------------------ CSV: quoted newlines, stray quotes


def test_a_quoted_newline_is_data_not_a_stray_quote(keys, tmp_path):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])
    rows = [
        ["student", "name", "w11", "a00"],
        ["0412345", "鄭呈毅", f"{right['w11']:.6g}", a00_formula("\n")],  # a two-line quiz answer
        ["b002", "Chen, Mei-Ling", "0.1", "2*(yhat - y)*v_{0}\n*\\sigma(z_{0,0})(1-\\sigma(z_{0,0}))*w_{0,0}"],
    ]
    result = grade_answers(write(tmp_path / "r.csv", rows), path)
    assert verdicts(result) == {"0412345": ["correct", "correct"], "b002": ["wrong", "correct"]}
    assert not any("quote" in w for w in result.warnings)


def test_a_real_stray_quote_still_warns_on_the_answers_path(keys, tmp_path):
    path, entries = keys
    text = 'student,w11,a00\r\n0412345,"0.5,0.1\r\nb002,0.2,0.3\r\n'
    (tmp_path / "r.csv").write_text(text, encoding="utf-8", newline="")
    result = grade_answers(tmp_path / "r.csv", path)
    assert any('a quote (") opens a cell and is not closed' in w for w in result.warnings)
    assert verdicts(result)["b002"] == ["wrong", "wrong"]


# ------------------------------------------------------------------ encodings


BIG5_NAME = b"\xbe\x47\xa7\x65\xbc\xdd"  # 鄭呈毅 as Excel on Traditional Chinese Windows saves it
BIG5_SIGMA = b"\xa3\x6d"  # σ


def test_big5_bytes_are_big5():
    assert BIG5_NAME.decode("cp950") == "鄭呈毅" and BIG5_SIGMA.decode("cp950") == "σ"
    text, encoding = decode(b"student,name,a00\r\n0412345," + BIG5_NAME + b"," + BIG5_SIGMA + b"'(z00)\r\n")
    assert encoding == "cp950" and "鄭呈毅" in text and "σ'(z00)" in text
    assert guess_legacy(BIG5_SIGMA) == "cp950"


@pytest.mark.parametrize(
    "text",
    [
        "name,score\nJosé,1\nMüller,2\nDésirée,3\n",
        "Ångström;François;Zoë;résumé;Gödel\n",
        "temp\n15°C\n€5\n",
        "student,name\nb1,Bjørn Ærø\nb2,São Paulo\nb3,El Niño\nb4,Straße\n",
    ],
)
def test_cp1252_with_accents_stays_cp1252(text):
    assert decode(text.encode("cp1252")) == (text, "cp1252")


def test_gb18030_is_recognised():
    text = "学号,姓名\n1,陈小明\n2,张伟\n3,王芳\n"
    assert decode(text.encode("gb18030")) == (text, "gb18030")


def test_big5_prediction_csv_says_so():
    data = "影像,類別\n".encode("cp950") + b"0000000.png,3\n"
    rows = read_rows(data, name="s.csv")
    assert rows.encoding == "cp950" and rows.rows[0] == ["影像", "類別"]
    assert [i.message for i in rows.issues] == [
        "s.csv is not UTF-8; it was read as Big5 (cp950, Excel on Traditional Chinese Windows)."
    ]


def test_big5_responses_are_graded(keys, tmp_path):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])
    rows = [["student", "name", "w11", "a00"], ["0412345", "鄭呈毅", f"{right['w11']:.6g}", a00_formula()]]
    rows.append(["b002", "陳美玲", "0.1", "2(yhat - y)·v0·σ'(z00)·w00"])
    result = grade_answers(write(tmp_path / "r.csv", rows, "cp950"), path)
    assert verdicts(result) == {"0412345": ["correct", "correct"], "b002": ["wrong", "correct"]}
    assert "r.csv is not UTF-8; it was read as Big5 (cp950, Excel on Traditional Chinese Windows)." in result.warnings


# ------------------------------------------------------------------ Moodle quiz attempts

HEADER = ["Surname", "First name", "ID number", "Email address", "State", "Grade/10.00", "Response 1", "Response 2"]


def test_only_finished_attempts_count_and_leading_zeros_match(keys, tmp_path):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])
    rows = [
        HEADER,
        ["鄭", "呈毅", "412345", "", "Finished", "10.00", f"{right['w11']:.6g}", f"{right['a00']:.6g}"],
        ["鄭", "呈毅", "412345", "", "In progress", "-", "", ""],
        ["Chen", "Mei-Ling", "b002", "", "Never submitted", "-", "", ""],
    ]
    result = grade_answers(write(tmp_path / "quiz.csv", rows), path)
    assert verdicts(result) == {"0412345": ["correct", "correct"], "b002": ["missing", "missing"]}
    assert any("2 attempt(s) not finished (In progress: 1, Never submitted: 1)" in w for w in result.warnings)


@pytest.mark.parametrize(("attempt", "graded"), [("last", ["wrong", "wrong"]), ("highest", ["correct", "correct"])])
def test_last_or_highest_finished_attempt(keys, tmp_path, attempt, graded):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])
    rows = [
        HEADER,
        ["鄭", "呈毅", "0412345", "", "Finished", "10.00", f"{right['w11']:.6g}", f"{right['a00']:.6g}"],
        ["鄭", "呈毅", "0412345", "", "Finished", "0.00", "1", "1"],
    ]
    result = grade_answers(write(tmp_path / "quiz.csv", rows), path, attempt=attempt)
    assert verdicts(result)["0412345"] == graded


# ------------------------------------------------------------------ a NUL byte, numbers


def test_a_nul_byte_invalidates_its_cell_only(keys, tmp_path):
    path, entries = keys
    right = {s: oracle(e["values"]) for s, e in entries.items()}
    text = (
        "student,w11,a00\r\n"
        f"0412345,{right['0412345']['w11']:.6g},{right['0412345']['a00']:.6g}\r\n"
        f"b002,0.2\x00,{right['b002']['a00']:.6g}\r\n"
    )
    (tmp_path / "r.csv").write_bytes(text.encode())
    result = grade_answers(tmp_path / "r.csv", path)
    assert result.status == "graded"
    assert verdicts(result) == {"0412345": ["correct", "correct"], "b002": ["unreadable", "correct"]}


@pytest.mark.parametrize("text", ["1e309", "-1e309", "9" * 1_000_000])
def test_a_number_too_large_is_unreadable(keys, tmp_path, text):
    path, _ = keys
    result = grade_answers(write(tmp_path / "r.csv", [["student", "w11"], ["b002", text]]), path)
    item = result.students[1].items[0]
    assert item.verdict == "unreadable" and item.why and "too large" in item.why


def test_fullwidth_and_arabic_indic_digits_read_both_ways(keys, tmp_path):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])["w11"]
    ascii_text = f"{right:.6f}"
    fullwidth = ascii_text.translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))
    arabic = ascii_text.translate(str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫"))
    for text in (fullwidth, arabic, f"2*{fullwidth}/2"):
        result = grade_answers(write(tmp_path / "r.csv", [["student", "w11"], ["0412345", text]]), path)
        assert result.students[0].items[0].verdict == "correct", text


# ------------------------------------------------------------------ formulas that are right


@pytest.mark.parametrize(
    "text",
    [
        "2*(yhat - y)*v0*σ'(z00)*w00",
        r"2\left(\hat{y}-y\right) v_{0}\,\sigma'(z_{00})\, w_{00}",
        "2(ŷ − y)·v0·σ′(z00)·w00",
        "2*(yhat - y)*v0h00*(1 - h00)*w00",
    ],
)
def test_right_formulas_students_write(keys, tmp_path, text):
    path, _ = keys
    result = grade_answers(write(tmp_path / "r.csv", [["student", "a00"], ["0412345", text]]), path)
    item = result.students[0].items[1]
    assert (item.verdict, item.why) == ("correct", None)


@pytest.mark.parametrize("text", ["2*(y^ - y)*v0*h00*(1-h00)*w00", "2(y^-y)v0 h00(1-h00)w00", "y^"])
def test_y_caret_is_unreadable_with_why(keys, tmp_path, text):
    path, _ = keys
    result = grade_answers(write(tmp_path / "r.csv", [["student", "a00"], ["0412345", text]]), path)
    item = result.students[0].items[1]
    assert item.verdict == "unreadable" and "no exponent" in (item.why or "")


# ------------------------------------------------------------------ mistakes


def _zero_term_keys(tmp_path: Path, keys_path: Path) -> tuple[Path, dict]:
    """The first student's values with a11 = 0: the z00 term of ∂L/∂w11 (a one-term value) is exactly 0."""
    entries = json.loads(keys_path.read_text(encoding="utf-8"))
    values = entries[0]["values"]
    values["a"][1][1] = 0.0
    right = oracle(values)
    for q in entries[0]["questions"]:
        q["values"] = values
        q["value"] = right[q["name"]]
    entries[0]["answers"] = right
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path, values


@pytest.mark.parametrize("text", ["0", "-0", "1e-400", "0.0"])
def test_a_bare_zero_names_no_mistake(keys, tmp_path, text):
    path, values = _zero_term_keys(tmp_path, keys[0])
    assert values["a"][1][1] == 0.0  # the term of output (0, 0) of ∂L/∂w11 has a11 as a factor
    result = grade_answers(write(tmp_path / "r.csv", [["student", "w11"], ["0412345", text]]), path)
    item = result.students[0].items[0]
    assert (item.verdict, item.misconception) == ("wrong", None)


def test_an_extra_factor_2_on_plain_mse_is_named(keys, tmp_path):
    path, entries = keys
    doubled = oracle(entries["0412345"]["values"], mse_scale=4.0)  # 2·2(ŷ − y) as ∂L/∂ŷ
    halved = oracle(entries["0412345"]["values"], mse_scale=1.0)  # (ŷ − y): the 2 dropped
    for wrong in (doubled, halved):
        rows = [["student", "w11", "a00"], ["0412345", f"{wrong['w11']:.8g}", f"{wrong['a00']:.8g}"]]
        result = grade_answers(write(tmp_path / "r.csv", rows), path)
        assert [i.misconception for i in result.students[0].items] == ["factor-2", "factor-2"]


# ------------------------------------------------------------------ the feedback file


def test_feedback_header_has_no_escape_codes_or_newline(keys, tmp_path):
    path, entries = keys
    data = json.loads(path.read_text(encoding="utf-8"))
    data[0]["name"] = "Ada\x1b[31m Lovelace\nPoints: 10 of 10"
    (tmp_path / "answers.json").write_text(json.dumps(data), encoding="utf-8")
    result = grade_answers(write(tmp_path / "r.csv", [["student", "w11"], ["0412345", "1"]]), tmp_path / "answers.json")
    text = render_feedback_text(result.students[0])
    first, second = text.split("\n")[:2]
    assert "\x1b" not in text and first == "Derivation feedback for Ada Lovelace Points: 10 of 10 (0412345)"
    assert second.startswith("Points: 0 of")
    assert math.isfinite(result.students[0].points)


def test_legacy_bytes_come_back_unchanged_for_a_template():
    from grading.encodings import decode_legacy

    data = b"Identifier,Full name,Grade\r\nParticipant 7," + BIG5_NAME + b",\r\n"
    text, encoding = decode_legacy(data, errors="surrogateescape")
    assert encoding == "cp950" and "鄭呈毅" in text
    assert text.encode(encoding, errors="surrogateescape") == data


def test_quiz_attempt_flag(keys, tmp_path):
    import subprocess
    import sys

    path, entries = keys
    right = oracle(entries["0412345"]["values"])
    rows = [
        HEADER,
        ["鄭", "呈毅", "0412345", "", "Finished", "10.00", f"{right['w11']:.6g}", f"{right['a00']:.6g}"],
        ["鄭", "呈毅", "0412345", "", "Finished", "0.00", "1", "1"],
    ]
    quiz = write(tmp_path / "quiz.csv", rows)
    base = [sys.executable, "-m", "grading", str(quiz), "--variants", str(path), "--json"]
    run = subprocess.run([*base, "--quiz-attempt", "highest"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    items = json.loads(run.stdout)["students"][0]["items"]
    assert [i["verdict"] for i in items] == ["correct", "correct"]
    bad = subprocess.run([*base, "--quiz-attempt", "best"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--quiz-attempt 'best': expected one of last, highest." in bad.stderr


W11_SUM = r"2(\hat{y}-y) v_{2i+j} \sigma'(z_{ij}) a_{i+1,j+1}"


@pytest.mark.parametrize(
    "text",
    [
        r"\sum_{i,j=0}^{1} " + W11_SUM,
        r"\sum_{i=0}^{1}\sum_{j=0}^{1} " + W11_SUM,
        r"\sum_{i,j} " + W11_SUM,  # every i, j where the names exist: the 2 x 2 outputs
        "Σ_{i,j=0}^{1} 2(ŷ-y) v_{2i+j} σ'(z_{ij}) a_{i+1,j+1}",
    ],
)
def test_a_sum_over_a_stated_range(keys, tmp_path, text):
    path, entries = keys
    right = oracle(entries["0412345"]["values"])["w11"]
    result = grade_answers(write(tmp_path / "r.csv", [["student", "w11"], ["0412345", text]]), path)
    item = result.students[0].items[0]
    assert (item.verdict, item.why) == ("correct", None) and math.isclose(item.expected, right, rel_tol=1e-12)


def test_a_sum_with_a_wrong_range_is_not_right(keys, tmp_path):
    path, _ = keys
    rows = [["student", "w11"], ["0412345", r"\sum_{i,j=0}^{2} " + W11_SUM], ["b002", r"\sum_{i=0} 3"]]
    result = grade_answers(write(tmp_path / "r.csv", rows), path)
    assert [(s.items[0].verdict, s.items[0].why) for s in result.students] == [
        ("unreadable", "unknown name 'z02'."),
        ("unreadable", r"the sum starts at i = 0 but has no end; write a sum as \sum_{i=0}^{1} or \sum_{i,j=0}^{1}."),
    ]
