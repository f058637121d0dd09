"""The docstring examples run, and the --all table renders and compiles."""

from __future__ import annotations

import doctest
import importlib
import subprocess
from pathlib import Path

import pytest

from derive import Problem, all_gradients, random_values
from derive.table import render_table_latex, render_table_text

MODULES = [
    "derive",
    "derive.problem",
    "derive.graph",
    "derive.numeric",
    "derive.printer",
    "derive.steps",
    "derive.engine",
    "derive.values",
    "derive.render",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0


def test_table_text_lists_every_variable_with_its_check() -> None:
    problem = Problem(input=(3, 3), kernel=(2, 2), conv_bias=True)
    grads = all_gradients(problem, values=random_values(problem, 4))
    out = render_table_text(grads)
    rows = [line for line in out.splitlines() if line.startswith("∂L/∂")]
    assert [r.split(" = ")[0] for r in rows] == [
        f"∂L/∂{n}"
        for n in (
            [
                "a₀₀",
                "a₀₁",
                "a₀₂",
                "a₁₀",
                "a₁₁",
                "a₁₂",
                "a₂₀",
                "a₂₁",
                "a₂₂",
                "w₀₀",
                "w₀₁",
                "w₁₀",
                "w₁₁",
                "b",
                "v₀",
                "v₁",
                "v₂",
                "v₃",
            ]
        )
    ]
    assert all("autograd" in r for r in rows)


@pytest.mark.latex
def test_table_latex_compiles(tmp_path: Path) -> None:
    problem = Problem(loss="bce", conv_bias=True, dense_bias=True)
    tex = tmp_path / "all.tex"
    tex.write_text(
        render_table_latex(all_gradients(problem, values=random_values(problem, 0), check=False), standalone=True)
    )
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "all.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert "Overfull \\hbox" not in (tmp_path / "all.log").read_text(errors="replace")


def test_table_text_shows_the_given_numbers_and_lines_up_the_values() -> None:
    problem = Problem(input=(3, 3), kernel=(2, 2))
    values = random_values(problem, 2)
    out = render_table_text(all_gradients(problem, values=values, check=False))
    assert "Given:" in out and f"y = {values['y']:g}" in out
    rows = [line for line in out.splitlines() if line.startswith("∂L/∂")]
    assert len({row.index("  = ") for row in rows}) == 1, "the values start in one column"


def test_cli_grad_shows_the_given_numbers(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from derive.cli import app

    path = tmp_path / "v.json"
    path.write_text(
        '{"a": [[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]], "w": [[0.5,0,0],[0,0,0],[0,0,-0.25]], "v": [1,2,3,4], "y": 0.75}'
    )
    cases = (
        ("text", "a = [ 1   2   3   4 ]", "y = 0.75"),
        ("latex", r"a &= \left(\begin{array}{rrrr} 1 & 2 & 3 & 4 \\", "y &= 0.75"),
    )
    for fmt, matrix, target in cases:
        out = (
            CliRunner()
            .invoke(app, ["grad", "--wrt", "w11", "--values", str(path), "--no-check", "--format", fmt])
            .output
        )
        assert matrix in out and target in out, out[:600]
