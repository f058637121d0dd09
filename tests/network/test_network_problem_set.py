"""kind = "network" in a problem set: validated once, a variant per student, answers that match the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derive import DeriveError
from derive.key import render_tex
from derive.network import network_gradient
from derive.problemset import Student, load_problem_set, parse_problem_set
from derive.sheet import solve

SET = Path(__file__).parents[2] / "examples" / "board-net-set.toml"

ITEM = """title = "t"
[[item]]
kind = "network"
wrt = {wrt}
input = [1, 4, 4]
[[item.layer]]
type = "conv"
kernel = 3
[[item.layer]]
type = "act"
fn = "sigmoid"
[[item.layer]]
type = "flatten"
[[item.layer]]
type = "dense"
outputs = 1
[[item.layer]]
type = {loss}
fn = "mse"
"""


def test_variants_differ_per_student_and_match_the_engine() -> None:
    ps = load_problem_set(SET)
    item = ps.items[0]
    assert item.kind == "network" and item.wrt == ("conv1.w[0,0,1,1]", "dense1.w[2,1]")
    sheets = [solve(ps, seed=11, student=Student(s)) for s in ("b1", "b2")]
    assert sheets[0].values() != sheets[1].values()
    for sheet in sheets:
        for name, value in sheet.answers().items():
            assert value == network_gradient(item.problem, name, values=sheet.values(), check=False).value
    assert solve(ps, seed=11, student=Student("b1")).answers() == sheets[0].answers()  # reproducible


def test_question_and_answer_sheets_render() -> None:
    sheet = solve(load_problem_set(SET), seed=11, student=Student("b1", "Ann & Bob_1"))
    questions, answers = render_tex(sheet, answers=False), render_tex(sheet)
    assert r"\texttt{maxpool1} (maxpool)" in questions and r"$\to$" in questions
    assert r"\frac{\partial L}{\partial w^{\mathrm{conv1}}_{0,0,1,1}}" in questions
    assert "Backward: dense1 (dense)" not in questions and r"Ann \& Bob" in answers


BAD = [
    (
        ITEM.format(wrt='["conv1.w[0,0,3,0]"]', loss='"loss"'),
        "<set>, item 1 (network): key 'wrt': 'conv1.w[0,0,3,0]': the kernel row index 3 is out of range; conv1.w's kernel "
        "row indices run from 0 to 2 (shape 1×1×3×3). Did you mean 'conv1.w[0,0,2,0]'?",
    ),
    (
        ITEM.format(wrt='["x[0,0,0]"]', loss='"los"'),
        "<set>, item 1 (network), layer 5: unknown layer type 'los'; expected one of conv, act, maxpool, avgpool, flatten, "
        "dense, loss. Did you mean 'loss'?",
    ),
    (
        ITEM.format(wrt="[]", loss='"loss"'),
        "<set>, item 1 (network): key 'wrt' must list the variables asked, such as [\"conv1.w[0,0,1,1]\"], got [].",
    ),
]


@pytest.mark.parametrize("text, message", BAD, ids=["wrt", "layer", "empty wrt"])
def test_bad_network_items(text: str, message: str) -> None:
    with pytest.raises(DeriveError, match=f"^{re.escape(message)}$"):
        parse_problem_set(text, source="<set>")


@pytest.mark.latex
def test_key_pdf_compiles(tmp_path: Path) -> None:
    from derive.key import write_keys

    files = write_keys(load_problem_set(SET), tmp_path / "key.pdf")
    assert files.pdfs and files.pdfs[0].stat().st_size > 10_000
