"""Each notation the issue lists is found, with its cell and exact snippet."""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.notebook.grade import grade_notebook
from grading.notebook.locate import derivative, math_spans
from grading.notebook.read import parse_notebook
from tests.notebook.conftest import HW1, md, notebook, write

RIGHT = r"(p - y)(v_0 h_{00}(1-h_{00}) a_{00} + v_1 h_{01}(1-h_{01}) a_{01} + v_2 h_{10}(1-h_{10}) a_{10} + v_3 h_{11}(1-h_{11}) a_{11})"

NOTATIONS = [
    rf"$$\frac{{\partial L}}{{\partial w_{{00}}}} = {RIGHT}$$",
    rf"$\partial L/\partial w_{{00}} = {RIGHT}$",
    f"∂L/∂w₀₀ = {RIGHT}",
    f"dL/dw00 = {RIGHT}",
    rf"$$\frac{{dL}}{{dw_{{00}}}} = {RIGHT}$$",
    rf"$$\dfrac{{\partial E}}{{\partial w_{{0,0}}}} = {RIGHT}$$",
    rf"$$\tfrac{{\partial J}}{{\partial w_00}} = {RIGHT}$$",
    rf"$$\nabla_{{w_{{00}}}} \mathcal{{L}} = {RIGHT}$$",
    rf"\[ \frac{{\partial Loss}}{{\partial w00}} = {RIGHT} \]",
    rf"\begin{{align}}\frac{{\partial L}}{{\partial w_{{00}}}} &= \sum_{{i,j}} \frac{{\partial L}}{{\partial z_{{ij}}}} x \\ &= {RIGHT}\end{{align}}",
]


@pytest.mark.parametrize("text", NOTATIONS)
def test_each_notation_found_and_graded(tmp_path: Path, text: str) -> None:
    src = "## 第二題 derivation\n\n" + text + "\n"
    r = grade_notebook(write(tmp_path / "n.ipynb", notebook(md("intro"), md(src))), HW1)
    q = r["questions"][0]
    assert (q["found"], q["cell"], q["verdict"]) == (True, 1, "correct"), q
    assert q["snippet"] in src and q["answer"].replace(" ", "") in q["snippet"].replace(" ", "")


def test_one_based_indices(tmp_path: Path) -> None:
    problems = write(
        tmp_path / "p.toml",
        HW1.read_text(encoding="utf-8").replace('wrt = ["w00", "a21"]', 'wrt = ["w11", "a32"]\none_based = true'),
    )
    ans = r"(p - y)(v_1 h_{11}(1-h_{11}) a_{11} + v_2 h_{12}(1-h_{12}) a_{12} + v_3 h_{21}(1-h_{21}) a_{21} + v_4 h_{22}(1-h_{22}) a_{22})"
    r = grade_notebook(
        write(tmp_path / "n.ipynb", notebook(md(f"$$\\frac{{\\partial L}}{{\\partial w_{{11}}}} = {ans}$$"))), problems
    )
    assert r["questions"][0]["question"] == "w11"
    assert r["questions"][0]["verdict"] == "correct", r["questions"][0]


def test_last_chain_wins_and_rightmost_side() -> None:
    nb = parse_notebook(
        b'{"nbformat":4,"cells":[{"cell_type":"markdown","source":"$dL/dw00 = 1$"},'
        b'{"cell_type":"markdown","source":"$$\\\\frac{\\\\partial L}{\\\\partial w_{00}} = a = 2$$"}]}'
    )
    from grading.notebook.locate import find_answers

    found, _, _ = find_answers(nb, ["w00"], lambda k: k)
    assert (found["w00"].cell, found["w00"].answer) == (1, "2")


def test_math_spans_and_derivative_forms() -> None:
    assert [b for _, _, b in math_spans(r"a $x$ b $$y$$ \[z\] \begin{align*}u\end{align*} costs \$5")] == [
        "x",
        "y",
        "z",
        "u",
    ]
    assert derivative(r"\frac{\partial \hat{y}}{\partial h_{00}}") == ("yhat", "h00")
    assert derivative("x + 1") is None
    assert derivative(r"\frac{a}{b}") is None


class _Counting(str):
    """A source that counts the characters its ``find`` calls look through."""

    scanned = 0

    def find(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        begin = 0 if start is None else start
        found = str.find(self, sub, begin, len(self) if end is None else end)
        type(self).scanned += (len(self) if found == -1 else found) - begin
        return found


def test_math_spans_linear_on_unclosed_openers() -> None:
    """Ten thousand unclosed ``\\begin{align}`` (or ``\\[``) took minutes: each opener searched to the end."""
    for opener in ("\\begin{align}x", "\\[x", "$$x\n"):
        source = _Counting(opener * 10_000 + "\\]")
        _Counting.scanned = 0
        math_spans(source)
        assert _Counting.scanned <= 4 * len(source), (opener, _Counting.scanned)
