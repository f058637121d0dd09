"""Printer notation, LaTeX escaping and line breaking, and the public surface."""

from __future__ import annotations

import sympy

import derive
from derive.graph import relu, sigma
from derive.printer import latex, text
from derive.render import escape_latex, render_latex, render_text, split_latex
from derive.steps import Derivation, Step


def test_names_print_as_the_handouts() -> None:
    cases = {"w11": ("w_{11}", "w₁₁"), "a12_3": ("a_{12,3}", "a₁₂,₃"), "yhat": (r"\hat{y}", "ŷ"), "v3": ("v_{3}", "v₃")}
    for name, (tex, txt) in cases.items():
        assert latex(sympy.Symbol(name)) == tex and text(sympy.Symbol(name)) == txt


def test_functions_and_derivatives() -> None:
    z = sympy.Symbol("z00")
    assert latex(sigma(z)) == r"\sigma(z_{00})"
    assert latex(sympy.Heaviside(z, 0)) == r"\mathbb{1}[z_{00} > 0]"
    assert text(sympy.Heaviside(z, 0)) == "𝟙[z₀₀ > 0]"
    assert relu(z).diff(z) == sympy.Heaviside(z, 0)
    assert sympy.simplify(sigma(z).diff(z) - sigma(z) * (1 - sigma(z))) == 0
    assert latex(sympy.log(sympy.Symbol("p"))) == r"\ln p"
    assert latex(sympy.Derivative(sympy.Symbol("L"), sympy.Symbol("w11"))) == r"\frac{\partial L}{\partial w_{11}}"


def test_user_text_is_escaped() -> None:
    assert (
        escape_latex(r"HW#1 & 50% $x_1$ {a} \o ~^")
        == r"HW\#1 \& 50\% \$x\_1\$ \{a\} \textbackslash{}o \textasciitilde{}\textasciicircum{}"
    )
    assert escape_latex("∂L/∂w₁₀") == r"$\partial$L/$\partial$w$_{10}$"
    assert escape_latex("中") == "?"


def test_the_network_title_signs_are_not_question_marks() -> None:
    # derive grad --net's section title read "input 2?6?6" in the compiled PDF
    assert escape_latex("input 2×6×6 → conv1") == r"input 2$\times$6$\times$6 $\to$ conv1"
    assert "?" not in escape_latex("⌊(W + 2P − K)/S⌋ ≈ ⌈W/S⌉ ≤ 3 ≥ 1")


def test_split_keeps_left_right_pairs_together() -> None:
    eq = r"x = \left(a + b + c\right) + " + " + ".join(f"t_{{{k}}}" for k in range(60))
    lines = split_latex(eq, width=30)
    assert len(lines) > 2
    assert lines[0].startswith(r"x &= \left(a + b + c\right)")
    for line in lines:
        assert line.count(r"\left") == line.count(r"\right")


def test_generic_derivation_renders() -> None:
    d = Derivation(
        "Softmax & CE",
        (Step("s", r"s_{1} = e^{z_{1}}", "s₁ = e^z₁", 2.5, "Forward pass"),),
        Step("∂L/∂z₁", r"\frac{\partial L}{\partial z_{1}} = s_{1} - y_{1}", "∂L/∂z₁ = s₁ - y₁", None, "Result"),
        ("A note with 10% & more",),
    )
    out = render_text(d)
    assert "Softmax & CE" in out and "s₁ = e^z₁" in out and "Result:" in out
    frag = render_latex(d)
    assert r"\section*{Softmax \& CE}" in frag and "documentclass" not in frag and r"10\% \& more" in frag
    doc = render_latex([d, d], standalone=True)
    assert doc.count(r"\section*") == 2 and doc.rstrip().endswith(r"\end{document}")
    assert d.to_dict()["result"] == {
        "name": "∂L/∂z₁",
        "latex": r"\frac{\partial L}{\partial z_{1}} = s_{1} - y_{1}",
        "value": None,
    }


def test_all_is_sorted_and_complete() -> None:
    assert derive.__all__ == sorted(derive.__all__)
    for name in derive.__all__:
        assert getattr(derive, name) is not None
    public = {
        n
        for n in dir(derive)
        if not n.startswith("_")
        and n[0].isupper()
        or n in ("gradient", "all_gradients", "load_values", "random_values")
    }
    assert public <= set(derive.__all__) | {"TYPE_CHECKING"}
