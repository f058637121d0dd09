"""``grade RESPONSES --variants answers.json``: derive key and grade in step, every example's kinds, the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from derive.key import write_keys
from derive.problemset import Student, load_problem_set, parse_problem_set
from derive.sheet import solve
from grading.answers import grade_answers, lms_grades
from grading.answers.variants import parse_variants
from grading.errors import UsageError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROSTER = (Student("b001", "Chen Mei-Ling"), Student("b002", '=HYPERLINK("x")'), Student("b003", "Zoë O'Brien"))
ITEM_FIELDS = {"question", "answer", "verdict", "misconception", "expected", "points", "why"}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def responses(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["student", *columns])
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("keys")
    write_keys(load_problem_set(EXAMPLES / "hw2-2024.toml"), out, seed=11, roster=ROSTER, tex_only=True)
    return out / "answers.json"


def test_answers_json_has_what_grading_needs(keys):
    data = json.loads(keys.read_text(encoding="utf-8"))
    for entry in data:
        assert [q["name"] for q in entry["questions"]] == list(entry["answers"]) == ["w11", "a00"]
        for q in entry["questions"]:
            assert set(q) == {"name", "item", "kind", "wrt", "problem", "values", "points", "value"}
            assert q["kind"] == "conv-gradient" and q["points"] == 5.0 and q["values"] == entry["values"]
            assert q["value"] == entry["answers"][q["name"]]


def test_repeated_names_are_qualified_in_questions():
    text = (
        'title = "t"\n[[item]]\nkind = "batchnorm"\nwrt = ["x0"]\n'
        '[[item]]\nid = "b"\nkind = "batchnorm"\nwrt = ["x0", "gamma"]\npoints = 4\n'
    )
    qs = solve(parse_problem_set(text)).to_dict()["questions"]
    assert [(q["name"], q["item"], q["wrt"], q["points"]) for q in qs] == [
        ("1.x0", "1", "x0", None),
        ("b.x0", "b", "x0", 2.0),
        ("gamma", "b", "gamma", 2.0),
    ]


# Every problem set of examples/ (the network files beside them, board-net*.toml, are not sets).
PROBLEM_SETS = sorted(p.name for p in EXAMPLES.glob("*.toml") if "[[item]]" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", PROBLEM_SETS)
def test_every_example_kind_grades(example, tmp_path):
    ps = load_problem_set(EXAMPLES / example)
    entries = [solve(ps, seed=3, student=s).to_dict() for s in ROSTER[:2]]
    variants = parse_variants(entries)
    kinds = {q.kind for q in variants[0].questions}
    assert kinds == {item.kind for item in ps.items}
    (tmp_path / "answers.json").write_text(json.dumps(entries), encoding="utf-8")
    names = [q.name for q in variants[0].questions]
    right = {"student": "b001", **{n: repr(entries[0]["answers"][n]) for n in names}}
    wrong = {"student": "b002", **{n: repr(-entries[1]["answers"][n] - 1) for n in names}}
    result = grade_answers(responses(tmp_path / "r.csv", [right, wrong], names), tmp_path / "answers.json")
    assert result.ok
    first, second = result.students
    assert [i.verdict for i in first.items] == ["correct"] * len(names)
    assert first.points == first.max_points == (ps.total_points or len(names))
    assert [i.verdict for i in second.items] == ["wrong"] * len(names) and second.points == 0
    for item, name in zip(second.items, names):
        assert item.expected == pytest.approx(entries[1]["answers"][name])


def test_moodle_quiz_responses(keys, tmp_path):
    data = {e["student"]: e["answers"] for e in json.loads(keys.read_text(encoding="utf-8"))}
    header = [
        "Surname",
        "First name",
        "ID number",
        "Email address",
        "State",
        "Started on",
        "Completed",
        "Time taken",
        "Grade/10.00",
        "Response 1",
        "Response 2",
    ]
    rows = [
        [
            "Chen",
            "Mei-Ling",
            "b001",
            "b001@ntu.edu.tw",
            "Finished",
            "",
            "",
            "5 mins",
            "10.00",
            f"{data['b001']['w11']:.5g}".replace(".", ","),
            "-",
        ],
        ["O'Brien", "Zoë", "", "b003@ntu.edu.tw", "Finished", "", "", "", "", "q+1", f"≈ {data['b003']['a00']:.4g}"],
        ["Overall average", "", "", "", "", "", "", "", "5.00", "", ""],
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows([header, *rows])
    path = tmp_path / "quiz.csv"
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    result = grade_answers(path, keys)
    by = {s.student: s for s in result.students}
    assert [i.verdict for i in by["b001"].items] == ["correct", "missing"]
    assert [i.verdict for i in by["b003"].items] == ["unreadable", "correct"]
    assert by["b003"].items[0].why == "unknown name 'q'."
    assert not by["b002"].submitted and [i.verdict for i in by["b002"].items] == ["missing", "missing"]
    assert any("b002" in w for w in result.warnings)


def test_lms_mapping_and_report_files(keys, tmp_path):
    data = {e["student"]: e["answers"] for e in json.loads(keys.read_text(encoding="utf-8"))}
    path = responses(
        tmp_path / "r.csv",
        [
            {"student": "b001", "w11": repr(data["b001"]["w11"]), "a00": "=1+1"},
            {"student": "b002", "w11": repr(-data["b002"]["w11"]), "a00": ""},
        ],
        ["w11", "a00"],
    )
    result = grade_answers(path, keys, out=tmp_path / "results")
    grades = lms_grades(result)
    assert grades["b001"][0] == 5.0 and grades["b003"] == (0.0, grades["b003"][1])
    assert "w11: correct" in grades["b001"][1]
    gradebook = (tmp_path / "results" / "gradebook.csv").read_bytes()
    assert gradebook.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(gradebook.decode("utf-8-sig"))))
    assert rows[0][:5] == ["student", "name", "submitted", "points", "max_points"]
    assert rows[2][1] == '\'=HYPERLINK("x")' and len(rows) == 4
    feedback = (tmp_path / "results" / "feedback" / "b002.txt").read_text(encoding="utf-8")
    assert "Your numbers:" in feedback and "The right value is" in feedback
    doc = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert doc == json.loads(json.dumps(result.to_dict()))


def test_usage_errors_name_the_fix(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps([{"student": "b1", "values": {}, "answers": {"w11": 0.1}}]))
    (tmp_path / "r.csv").write_text("student,w11\nb1,0.1\n")
    with pytest.raises(UsageError, match=r"no 'questions' \(it was written by an older derive key\); run `derive key"):
        grade_answers(tmp_path / "r.csv", tmp_path / "old.json")
    with pytest.raises(UsageError, match="no such file"):
        grade_answers(tmp_path / "r.csv", tmp_path / "none.json")
    with pytest.raises(UsageError, match="--rtol 2.0: expected a relative tolerance from 0 to 1"):
        grade_answers(tmp_path / "r.csv", tmp_path / "old.json", rtol=2.0)


def test_cli_end_to_end(keys, tmp_path):
    data = {e["student"]: e for e in json.loads(keys.read_text(encoding="utf-8"))}
    rows = [
        {"student": s, "w11": repr(-data[s]["answers"]["w11"]), "a00": repr(data[s]["answers"]["a00"])}
        for s in ("b001", "b002", "b003")
    ]
    responses(tmp_path / "responses.csv", rows, ["w11", "a00"])
    out = run("responses.csv", "--variants", str(keys), "--json", "--out", "results", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"status", "students", "misconceptions", "warnings", "errors"}
    assert doc["status"] == "graded" and doc["errors"] == []
    student = doc["students"][0]
    assert set(student) == {"student", "name", "points", "max_points", "items"}
    assert all(set(i) == ITEM_FIELDS for s in doc["students"] for i in s["items"])
    assert [i["verdict"] for i in student["items"]] == ["wrong", "correct"]
    # b003's ∂L/∂w11 is -0.036173: its negative is as close to one term of the sum (0.035990), so no mistake is named
    assert [s["items"][0]["misconception"] for s in doc["students"]] == ["sign", "sign", None]
    assert doc["misconceptions"] == {"sign": 2}
    assert (tmp_path / "results" / "gradebook.csv").exists() and len(
        list((tmp_path / "results" / "feedback").iterdir())
    ) == 3
    summary = run("responses.csv", "--variants", str(keys), cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert "sign: 2 students" in summary.stdout and "question" in summary.stdout


@pytest.mark.parametrize(
    ("content", "args", "code", "message"),
    [
        ("name,w11\nx,1\n", (), 1, "responses.csv, line 1: no 'student' column"),
        (
            "student,foo\nb001,1\n",
            (),
            1,
            "responses.csv, line 1: no column is a question; expected columns named 'w11', 'a00'",
        ),
        ("student,w11\nnobody,1\n", (), 1, "no row names a student of answers.json"),
        ("student,w11\nb001,1\n", ("--key", "key.csv"), 2, "--variants grades derivation answers"),
        ("student,w11\nb001,1\n", ("--rtol", "-1"), 2, "--rtol -1.0: expected a relative tolerance"),
    ],
    ids=["no-student", "no-question", "nobody-known", "with-key", "bad-rtol"],
)
def test_cli_exit_codes(keys, tmp_path, content, args, code, message):
    (tmp_path / "responses.csv").write_text(content)
    out = run("responses.csv", "--variants", str(keys), *args, cwd=tmp_path)
    assert out.returncode == code, out.stderr
    assert message in " ".join((out.stdout + out.stderr).split())
    assert "Traceback" not in out.stderr


def test_a_stale_answers_json_is_warned_about(keys, tmp_path):
    data = json.loads(keys.read_text(encoding="utf-8"))
    data[0]["questions"][1]["value"] += 1.0
    (tmp_path / "answers.json").write_text(json.dumps(data), encoding="utf-8")
    path = responses(tmp_path / "r.csv", [{"student": "b001", "w11": "0", "a00": "0"}], ["w11", "a00"])
    result = grade_answers(path, tmp_path / "answers.json")
    assert any(w.startswith("answers.json's value of a00 differs from the engine's") for w in result.warnings)
