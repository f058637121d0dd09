"""The handouts' five questions: golden text, LaTeX and JSON, and the LaTeX compiles.

HW1 2023: ∂L/∂w10 (MSE). HW2 2024: ∂L/∂w11 and ∂L/∂a00 (MSE).
HW1 2025: ∂L/∂w00 and ∂L/∂a21 (second sigmoid + cross-entropy).
Refresh with ``pytest --update-goldens`` and review the diff like code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from derive import Problem, gradient, random_values
from derive.render import render_latex, render_text

QUESTIONS = {
    "hw1-2023-w10": ("w10", "mse"),
    "hw2-2024-w11": ("w11", "mse"),
    "hw2-2024-a00": ("a00", "mse"),
    "hw1-2025-w00": ("w00", "bce"),
    "hw1-2025-a21": ("a21", "bce"),
}
GOLDEN = Path(__file__).parent.parent / "golden" / "derive"


@pytest.mark.parametrize("question", QUESTIONS)
def test_golden_symbolic(question: str, golden) -> None:
    wrt, loss = QUESTIONS[question]
    g = gradient(Problem(loss=loss), wrt)
    golden(f"derive/{question}.txt", render_text(g.to_derivation()))
    golden(f"derive/{question}.tex", render_latex(g.to_derivation(), standalone=True))
    golden(f"derive/{question}.json", json.dumps(g.to_dict(), indent=2, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("question", ["hw2-2024-w11", "hw1-2025-a21"])
def test_golden_with_numbers(question: str, golden) -> None:
    """Numbers from --random 0; the autograd check is tested elsewhere (its last digit is platform noise)."""
    wrt, loss = QUESTIONS[question]
    problem = Problem(loss=loss)
    g = gradient(problem, wrt, values=random_values(problem, 0), check=False)
    golden(f"derive/{question}-random0.txt", render_text(g.to_derivation()))
    golden(f"derive/{question}-random0.tex", render_latex(g.to_derivation(), standalone=True))


def test_index_forms_match_hand_derivations() -> None:
    """The index forms a TA writes by hand for the handout questions."""
    expected = {
        ("w10", "mse"): "∂L/∂w₁₀ = 2·(ŷ - y) · Σ_i=0..1 Σ_j=0..1 v₂ᵢ₊ⱼ · σ(zᵢⱼ)·(1 - σ(zᵢⱼ)) · aᵢ₊₁,ⱼ",
        ("w11", "mse"): "∂L/∂w₁₁ = 2·(ŷ - y) · Σ_i=0..1 Σ_j=0..1 v₂ᵢ₊ⱼ · σ(zᵢⱼ)·(1 - σ(zᵢⱼ)) · aᵢ₊₁,ⱼ₊₁",
        ("a00", "mse"): "∂L/∂a₀₀ = 2·(ŷ - y) · v₀ · σ(z₀₀)·(1 - σ(z₀₀)) · w₀₀",
        ("w00", "bce"): "∂L/∂w₀₀ = (p - y) · Σ_i=0..1 Σ_j=0..1 v₂ᵢ₊ⱼ · σ(zᵢⱼ)·(1 - σ(zᵢⱼ)) · aᵢⱼ",
        ("a21", "bce"): "∂L/∂a₂₁ = (p - y) · Σ_i=0..1 Σ_j=0..1 v₂ᵢ₊ⱼ · σ(zᵢⱼ)·(1 - σ(zᵢⱼ)) · w₂₋ᵢ,₁₋ⱼ",
    }
    for (wrt, loss), text in expected.items():
        assert gradient(Problem(loss=loss), wrt).closed_form_text == text


def test_reach_a00_one_position_a21_four() -> None:
    assert gradient(Problem(), "a00").positions == ((0, 0),)
    assert sorted(gradient(Problem(), "a21").positions) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # stride 2, padding 1, 5x5 input: window (i, j) covers padded rows 2i..2i+2; a_rc sits at r+1.
    p = Problem(input=(5, 5), kernel=(3, 3), stride=2, padding=1)
    assert sorted(gradient(p, "a22").positions) == [(1, 1)]  # padded 3: only i = 1
    assert sorted(gradient(p, "a11").positions) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # padded 2: i = 0, 1
    assert sorted(gradient(p, "a10").positions) == [(0, 0), (1, 0)]


@pytest.mark.latex
@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.tex")) or ["(none)"])
def test_golden_latex_compiles(name: str, tmp_path: Path) -> None:
    if name == "(none)":
        pytest.skip("goldens not generated yet")
    tex = tmp_path / name
    shutil.copy(GOLDEN / name, tex)
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    log = (tmp_path / tex.with_suffix(".log").name).read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert (tmp_path / tex.with_suffix(".pdf").name).stat().st_size > 1000
    assert "Overfull \\hbox" not in log, "an equation runs past the margin"


@pytest.mark.latex
def test_given_matrix_wider_than_ten_columns_compiles(tmp_path: Path) -> None:
    """amsmath's pmatrix stops at 10 columns; the given numbers of a 12x12 input must still compile."""
    if shutil.which("pdflatex") is None:
        pytest.skip("no pdflatex")
    p = Problem(input=(12, 12), kernel=(11, 11))
    tex = tmp_path / "wide.tex"
    tex.write_text(
        render_latex(gradient(p, "v0", values=random_values(p, 0), check=False).to_derivation(), standalone=True)
    )
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout[-2000:]
