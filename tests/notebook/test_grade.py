"""Verdicts against torch autograd in float64, computed here (not by gradkit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading.notebook.grade import grade_notebook
from grading.notebook.model import QUESTION_KEYS, RESULT_KEYS
from tests.notebook.conftest import HW1, code, md, notebook, stream, write

torch = pytest.importorskip("torch")  # imported before the no-execution guard is on

A = [[0.1, -0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8], [0.9, -1.0, 0.2, 0.3], [-0.4, 0.5, 0.6, 0.7]]
W = [[0.2, -0.1, 0.3], [0.4, 0.5, -0.6], [0.7, -0.8, 0.9]]
V = [0.3, -0.2, 0.5, 0.1]
Y = 1.0

FIXED = f"""title = "fixed"
seed = 3

[[item]]
kind = "conv-gradient"
points = 10
input = [4, 4]
kernel = [3, 3]
activation = "sigmoid"
loss = "bce"
wrt = ["w00", "a21"]
values = {{ a = {A}, w = {W}, v = {V}, y = {Y} }}
"""


def torch_grads() -> dict[str, float]:
    a = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    v = torch.tensor(V, dtype=torch.float64)
    z = torch.nn.functional.conv2d(a[None, None], w[None, None])[0, 0]
    p = torch.sigmoid((v * torch.sigmoid(z).flatten()).sum())
    loss = torch.nn.functional.binary_cross_entropy(p, torch.tensor(Y, dtype=torch.float64))
    loss.backward()
    assert a.grad is not None and w.grad is not None
    return {"w00": float(w.grad[0, 0]), "a21": float(a.grad[2, 1])}


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    return write(tmp_path / "fixed.toml", FIXED)


def grade(tmp_path: Path, problems: Path, *cells: dict) -> dict:
    return grade_notebook(write(tmp_path / "s.ipynb", notebook(*cells)), problems)


def test_numbers_against_torch(tmp_path: Path, fixed: Path) -> None:
    g = torch_grads()
    r = grade(
        tmp_path,
        fixed,
        md(f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {g['w00']:.6f}$$"),
        md(f"$$\\frac{{\\partial L}}{{\\partial a_{{21}}}} = {g['a21'] * 1.5:.6f}$$"),
    )
    by = {q["question"]: q for q in r["questions"]}
    assert by["w00"]["verdict"] == "correct" and by["w00"]["points"] == 5
    assert by["a21"]["verdict"] == "wrong" and by["a21"]["points"] == 0
    assert by["w00"]["expected"] == pytest.approx(g["w00"], rel=1e-9)


def test_formula_right_wrong_and_named_mistake(tmp_path: Path) -> None:
    right = r"(p - y)\left(v_0 h_{00}(1-h_{00}) a_{00} + v_1 h_{01}(1-h_{01}) a_{01} + v_2 h_{10}(1-h_{10}) a_{10} + v_3 h_{11}(1-h_{11}) a_{11}\right)"
    r = grade(
        tmp_path,
        HW1,
        md(f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {right}$$"),
        md(r"$$\frac{\partial L}{\partial a_{21}} = (p - y) v_2 h_{10}(1-h_{10}) w_{11}$$"),
    )
    by = {q["question"]: q for q in r["questions"]}
    assert by["w00"]["verdict"] == "correct"
    assert (by["a21"]["verdict"], by["a21"]["misconception"]) == ("wrong", "one-term")


def test_formula_checked_against_torch_at_random_points(tmp_path: Path, fixed: Path) -> None:
    """The right formula, evaluated by torch at the fixed values, equals torch's gradient; gradkit says correct."""
    g = torch_grads()
    formula = r"(p - y)\left(v_0 h_{00}(1-h_{00}) a_{00} + v_1 h_{01}(1-h_{01}) a_{01} + v_2 h_{10}(1-h_{10}) a_{10} + v_3 h_{11}(1-h_{11}) a_{11}\right)"
    r = grade(tmp_path, fixed, md(f"$$\\frac{{dL}}{{dw_{{00}}}} = {formula}$$"))
    q = r["questions"][0]
    assert q["verdict"] == "correct" and q["expected"] == pytest.approx(g["w00"], rel=1e-9)


def test_number_without_values_is_needs_review(tmp_path: Path) -> None:
    r = grade(tmp_path, HW1, md(r"$\partial L/\partial w_{00} = 0.0123$"))
    q = r["questions"][0]
    assert q["verdict"] == "needs-review" and "own values" in q["why"]


def test_unresolved_name_is_needs_review_naming_it(tmp_path: Path) -> None:
    r = grade(tmp_path, HW1, md(r"$$\frac{\partial L}{\partial w_{00}} = (\rho - y) \kappa_{00}$$"))
    q = r["questions"][0]
    assert q["verdict"] == "needs-review"
    r = grade(tmp_path, HW1, md(r"$$\frac{\partial L}{\partial w_{00}} = (p - y) g_{00} a_{00}$$"))
    q = r["questions"][0]
    assert q["verdict"] == "needs-review" and "'g00'" in q["why"] and q["points"] == 0


def test_students_definitions_and_aliases(tmp_path: Path) -> None:
    """o_ij = σ(z_ij) (generic indices), u_k for v_k via [names], yy for the label."""
    problems = write(tmp_path / "p.toml", HW1.read_text(encoding="utf-8") + '\n[names]\nv = ["u"]\n')
    answer = r"(p - yy)(u_0 o_{00}(1-o_{00}) a_{00} + u_1 o_{01}(1-o_{01}) a_{01} + u_2 o_{10}(1-o_{10}) a_{10} + u_3 o_{11}(1-o_{11}) a_{11})"
    r = grade(
        tmp_path,
        problems,
        md(r"令 $o_{ij} = \sigma(z_{ij})$，輸出 $p$。"),
        md(f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {answer}$$"),
    )
    assert r["questions"][0]["verdict"] == "correct", r["questions"][0]


def test_steps_ticked(tmp_path: Path) -> None:
    r = grade(
        tmp_path,
        HW1,
        md(
            r"$$\frac{\partial L}{\partial \hat{y}} = p - y$$ and $$\frac{\partial h_{00}}{\partial z_{00}} = 2 h_{00}$$"
        ),
        md(r"$$\frac{\partial L}{\partial w_{00}} = 1$$"),
    )
    steps = r["questions"][0]["steps"]
    assert steps == [{"step": "∂L/∂yhat", "ok": True}, {"step": "∂h00/∂z00", "ok": False}]


def test_code_cell_number_counts_when_no_equation(tmp_path: Path, fixed: Path) -> None:
    g = torch_grads()
    r = grade(tmp_path, fixed, code("print('dL_dw00 =', grad)", stream(f"dL_dw00 = {g['w00']!r}\n")))
    q = r["questions"][0]
    assert (q["found"], q["cell"], q["verdict"]) == (True, 0, "correct")
    assert r["questions"][1]["verdict"] == "not-found"


def test_json_keys_exactly(tmp_path: Path) -> None:
    r = grade(tmp_path, HW1, md("nothing"))
    assert tuple(r) == RESULT_KEYS
    assert all(tuple(q) == QUESTION_KEYS for q in r["questions"])
    json.dumps(r, allow_nan=False)
