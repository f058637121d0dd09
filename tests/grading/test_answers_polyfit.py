"""grade --variants on HW1 2023: polyfit questions from answers.json's pairs, a kind with no model, end to end."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from numpy.polynomial import Polynomial
from numpy.polynomial import polynomial as P

from derive.errors import DeriveError
from derive.key import write_keys
from derive.problemset import Student, load_problem_set, make_problem
from grading.answers import grade_answers
from grading.answers.variants import parse_variants

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ROSTER = (Student("b001", "Chen Mei-Ling"), Student("b002", "Zoë O'Brien"), Student("b003", "Ann & Bob"))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hw1(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hw1")
    write_keys(load_problem_set(EXAMPLES / "hw1-2023.toml"), out, seed=3, roster=ROSTER, tex_only=True)
    return out / "answers.json"


def oracle(problem: dict) -> dict[str, float]:
    """numpy.polynomial (its own least squares, w_0 first), not numpy.polyfit/polyval."""
    fit = Polynomial.fit(problem["x"], problem["y"], problem["degree"]).convert()
    out = {f"w{k}": float(c) for k, c in enumerate(fit.coef)}
    out.update({f"f'({p!r})": float(fit.deriv()(p)) for p in problem["at"]})
    return out


def test_polyfit_questions_carry_the_pairs_and_rebuild(hw1):
    data = json.loads(hw1.read_text(encoding="utf-8"))
    qs = [q for q in data[0]["questions"] if q["kind"] == "polyfit"]
    assert [q["name"] for q in qs] == ["w3", "w2", "w1", "w0", "f'(3.0)", "f'(0.1)", "f'(-0.5)"]
    problem = qs[0]["problem"]
    assert set(problem) == {"data", "degree", "at", "x", "y"} and problem["data"] is None and len(problem["x"]) == 20
    rebuilt = make_problem("polyfit", problem)
    original = load_problem_set(EXAMPLES / "hw1-2023.toml").items[0].problem
    assert rebuilt == original  # same path (the sample), pairs, degree and points
    right = oracle(problem)
    for q in qs:
        assert q["values"] is None and q["points"] == pytest.approx(10 / 7)
        assert q["value"] == pytest.approx(right[q["wrt"]], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": [1.0, 2.0]}, r"keys 'x' and 'y' must be two lists of as many finite numbers"),
        ({"y": "pairs.csv"}, r"keys 'x' and 'y' must be two lists"),
        ({"degree": 30}, r"key 'degree' must be a whole number from 0 to 10"),
        ({"x": [0.0, 1.0], "y": [1.0, 2.0]}, r"2 pairs cannot fix the 4 coefficients of a degree-3 polynomial"),
        ({"rows": 3}, r"unknown key 'rows'"),
    ],
    ids=["lengths", "not-a-list", "degree", "too-few", "unknown-key"],
)
def test_bad_polyfit_config(change, message):
    config = {"data": None, "degree": 3, "at": [3.0], "x": [0.0, 1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 0.0, 5.0, 3.0]}
    with pytest.raises(DeriveError, match=rf"^answers.json \(polyfit\): {message}"):
        make_problem("polyfit", {**config, **change}, where="answers.json (polyfit)")


def test_polyfit_numbers_and_reversed_coefficients(hw1, tmp_path):
    entry = json.loads(hw1.read_text(encoding="utf-8"))[1]
    problem = next(q["problem"] for q in entry["questions"] if q["kind"] == "polyfit")
    right = oracle(problem)
    m = problem["degree"]
    low_first = P.polyfit(problem["x"], problem["y"], m)  # w_0 first
    # the slip: numpy.polyfit's array (w_m first) read as w_0 first, so "w_k" is w_(m-k); f' from that reading
    slipped = {f"w{k}": float(low_first[m - k]) for k in range(m + 1)}
    slipped_poly = Polynomial(low_first[::-1])
    slipped.update({f"f'({p!r})": float(slipped_poly.deriv()(p)) for p in problem["at"]})
    names = list(right)
    rows = [
        ["b002", *[f"{slipped[n]:.6g}" for n in names]],
        ["b001", *[f"{right[n] * 1.005:.8g}" for n in names]],
    ]  # within 1 %
    path = write_csv(tmp_path / "r.csv", ["student", *names], rows)
    by = {s.student: s for s in grade_answers(path, hw1).students}
    graded = {i.question: i for i in by["b001"].items}
    assert all(graded[n].verdict == "correct" for n in names)
    for item in by["b002"].items:
        if item.question not in right:
            assert item.verdict == "missing"
            continue
        distinct = abs(slipped[item.question] - right[item.question]) > 0.01 * abs(right[item.question])
        assert item.verdict == ("wrong" if distinct else "correct")
        assert item.misconception == ("reversed-coefficients" if distinct else None)


def test_a_kind_without_a_model_is_graded_against_its_value(tmp_path):
    network = {
        "kind": "future-network",
        "item": "4",
        "wrt": "dL/dW1[0,0]",
        "values": {"W1": [[0.5, -1.0]], "x": [1, 2]},
        "points": 2.0,
    }
    entries = [
        {
            "student": s,
            "name": None,
            "seed": 1,
            "values": {},
            "answers": {},
            "questions": [
                {**network, "name": "g", "value": 0.125},
                {"name": "loss", "kind": "future-kind", "value": -3.5},  # nothing but name, kind and value
            ],
        }
        for s in ("s1", "s2", "s3", "s4", "s5")
    ]
    parse_variants(entries)
    (tmp_path / "answers.json").write_text(json.dumps(entries), encoding="utf-8")
    rows = [["s1", "0.1251", "≈ −3,5"], ["s2", "0.2", "-3.0"], ["s3", "2*W1 + x", "1/8"], ["s4", "", "1e400"]]
    result = grade_answers(write_csv(tmp_path / "r.csv", ["student", "g", "loss"], rows), tmp_path / "answers.json")
    got = {s.student: [(i.verdict, i.misconception, i.why) for i in s.items] for s in result.students}
    assert got["s1"] == [("correct", None, None), ("correct", None, None)]
    assert got["s2"] == [("wrong", None, None), ("wrong", None, None)]
    assert got["s3"] == [
        ("unreadable", None, "unknown name 'W1'; this question takes a number."),
        ("wrong", None, None),
    ]
    assert [v for v, _, _ in got["s4"]] == [
        "missing",
        "unreadable",
    ]  # 1e400: too large (issue 18), no longer a wrong inf
    assert got["s5"] == [("missing", None, None)] * 2
    assert result.students[0].points == 3.0 and result.students[0].max_points == 3.0
    assert not any("differs from the engine" in w for w in result.warnings)


def run(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_end_to_end_hw1_2023_cli(tmp_path):
    roster = write_csv(
        tmp_path / "roster.csv", ["student", "name"], [["b001", "Chen"], ["b002", "Lin"], ["b003", "Wang"]]
    )
    made = run(
        "derive",
        "key",
        str(EXAMPLES / "hw1-2023.toml"),
        "--roster",
        str(roster),
        "--seed",
        "3",
        "--tex",
        "--out",
        str(tmp_path / "keys"),
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    answers = tmp_path / "keys" / "answers.json"
    key = {e["student"]: e["answers"] for e in json.loads(answers.read_text(encoding="utf-8"))}
    names = list(key["b001"])
    assert names == ["w3", "w2", "w1", "w0", "f'(3.0)", "f'(0.1)", "f'(-0.5)", "params", "w10"]
    right = [f"{key['b001'][n]:.6g}" for n in names]
    right[names.index("params")] = f"{key['b001']['params']:,}"
    b2 = {n: f"{key['b002'][n]:.6g}" for n in names}
    b2["w2"] = f"{-key['b002']['w2']:.6g}"  # wrong sign, no named mistake
    b2["w3"] = f"{key['b002']['w0']:.6g}"  # numpy.polyfit's order read backwards
    b2["f'(0.1)"] = "3*w3*0.1^2 + 2*w2*0.1 + w1"  # a formula: this question takes a number
    b2["params"] = f"{key['b002']['params'] + 1}"
    b2["w10"] = ""  # missing
    path = write_csv(
        tmp_path / "responses.csv", ["student", *names], [["b001", *right], ["b002", *[b2[n] for n in names]]]
    )
    graded = run("grading", str(path), "--variants", str(answers), "--json", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    doc = json.loads(graded.stdout)
    assert doc["status"] == "graded"
    by = {s["student"]: {i["question"]: i for i in s["items"]} for s in doc["students"]}
    assert all(i["verdict"] == "correct" for i in by["b001"].values())
    assert by["b001"]["w3"]["points"] == pytest.approx(10 / 7) and sum(i["points"] for i in by["b001"].values()) == 30
    verdicts = {n: (i["verdict"], i["misconception"]) for n, i in by["b002"].items()}
    assert verdicts == {
        "w3": ("wrong", "reversed-coefficients"),
        "w2": ("wrong", None),
        "w1": ("correct", None),
        "w0": ("correct", None),
        "f'(3.0)": ("correct", None),
        "f'(0.1)": ("unreadable", None),
        "f'(-0.5)": ("correct", None),
        "params": ("wrong", None),
        "w10": ("missing", None),
    }
    assert by["b002"]["f'(0.1)"]["why"] == "unknown name 'w3'; this question takes a number."
    assert [i["verdict"] for i in by["b003"].values()] == ["missing"] * len(names)
    assert doc["misconceptions"] == {"reversed-coefficients": 1}
    assert run("grading", str(path), "--variants", str(tmp_path / "none.json"), cwd=tmp_path).returncode == 2
    empty = write_csv(tmp_path / "empty.csv", ["student", "w3"], [["nobody", "1"]])
    assert run("grading", str(empty), "--variants", str(answers), cwd=tmp_path).returncode == 1
