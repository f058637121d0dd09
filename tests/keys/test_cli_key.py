"""The wiring of `derive key`, `derive softmax-ce` and `derive batchnorm`: one run each, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def derive(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_softmax_ce_json_matches_autograd(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"z": [0.2, -1.0, 1.5, 0.3], "y": [0, 0, 1, 0]}))
    run = derive("softmax-ce", "--classes", "4", "--wrt", "z2", "--values", str(values), "--format", "json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    z = torch.tensor([0.2, -1.0, 1.5, 0.3], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([2])).backward()
    assert doc["value"] == pytest.approx(z.grad[2].item(), abs=1e-12)
    assert doc["autograd"] == pytest.approx(doc["value"], abs=1e-12)
    assert set(doc) >= {"wrt", "config", "values", "steps", "result", "notes"}


def test_batchnorm_text_and_a_usage_error() -> None:
    run = derive("batchnorm", "--all", "--random", "1", "--no-check")
    assert run.returncode == 0, run.stderr
    assert "∂L/∂γ through batch normalisation" in run.stdout and "∂L/∂x₃" in run.stdout
    bad = derive("batchnorm", "--wrt", "x9", "--random", "1")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "derive: error: Unknown variable 'x9': batch norm is differentiated with respect to gamma, beta, var, mu "
        "or x0 to x3. Did you mean 'x3'?"
    ]


def test_key_tex_and_roster(tmp_path: Path) -> None:
    run = derive("key", str(EXAMPLES / "hw2-2024.toml"), "--tex", "--out", "k.pdf", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "wrote k.tex" in run.stdout and "w11 = " in run.stdout and (tmp_path / "k.tex").exists()
    run = derive(
        "key",
        str(EXAMPLES / "hw2-2024.toml"),
        "--tex",
        "--roster",
        str(EXAMPLES / "roster.csv"),
        "--seed",
        "4",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "keys" / "answers.json").read_text(encoding="utf-8"))
    assert len(data) == 5 and set(data[0]["answers"]) == {"w11", "a00"}


def test_key_without_tex_exits_1_and_keeps_the_tex(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    run = derive("key", str(EXAMPLES / "hw2-2024.toml"), "--out", "key.pdf", cwd=tmp_path, env=env)
    assert run.returncode == 1
    assert "apt-get install texlive-latex-base texlive-latex-recommended latexmk" in run.stderr
    assert "Traceback" not in run.stderr and (tmp_path / "key.tex").exists()


def test_key_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    run = derive("key", "nope.toml", cwd=tmp_path)
    assert run.returncode == 2 and "nope.toml: no such problem-set file" in run.stderr


@pytest.mark.latex
def test_batchnorm_latex_compiles_with_greek_titles(tmp_path: Path) -> None:
    run = derive("batchnorm", "--all", "--random", "2", "--format", "latex", "--no-check")
    assert run.returncode == 0, run.stderr
    assert (
        r"\section*{$\partial$L/$\partial${}$\gamma$ through batch normalisation}" in run.stdout
        and "?" not in run.stdout
    )
    (tmp_path / "bn.tex").write_text(run.stdout, encoding="utf-8")
    pdf = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "bn.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pdf.returncode == 0, pdf.stdout[-2000:]


@pytest.mark.latex
def test_key_roster_again_says_no_latex_ran(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name\nb1,Ann Lee\nb2,Bo Chen\n", encoding="utf-8")
    args = (
        "key",
        str(EXAMPLES / "hw2-2024.toml"),
        "--roster",
        str(roster),
        "--seed",
        "3",
        "--out",
        str(tmp_path / "k"),
    )
    first = derive(*args)
    assert first.returncode == 0, first.stderr
    assert "wrote 4 PDFs for 2 students" in first.stdout and (tmp_path / "k" / "class-answers.pdf").exists()
    again = derive(*args)
    assert again.returncode == 0, again.stderr
    assert "all 4 PDFs for 2 students" in again.stdout and "no LaTeX run" in again.stdout


def test_key_roster_accepts_the_names_table_grade_reads(tmp_path: Path) -> None:
    """One problem-set file for both: `derive key --roster` takes [names] (issue 17) and makes the same
    .tex files and answers.json as without it; `grade --problems` with the same file resolves u_k to v_k."""
    plain = (EXAMPLES / "hw1-2025.toml").read_text(encoding="utf-8")
    with_names = tmp_path / "hw1.toml"
    with_names.write_text(plain + '\n[names]\nv = ["u", "w2", "W^{(2)}"]\n', encoding="utf-8")
    (tmp_path / "plain.toml").write_text(plain, encoding="utf-8")
    roster = str(EXAMPLES / "roster.csv")
    for name in ("hw1", "plain"):
        run = derive("key", f"{name}.toml", "--roster", roster, "--seed", "11", "--tex", "--out", name, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
    made = sorted(str(p.relative_to(tmp_path / "hw1")) for p in (tmp_path / "hw1").rglob("*") if p.is_file())
    assert made == sorted(
        str(p.relative_to(tmp_path / "plain")) for p in (tmp_path / "plain").rglob("*") if p.is_file()
    )
    assert "answers.json" in made and any(f.endswith(".tex") for f in made)
    for file in made:  # the names are for grading only: the sheets and answers.json are unchanged
        assert (tmp_path / "hw1" / file).read_bytes() == (tmp_path / "plain" / file).read_bytes(), file
    student = json.loads((tmp_path / "hw1" / "answers.json").read_text(encoding="utf-8"))[0]["student"]
    answer = (
        r"(p - y)(u_0 o_{00}(1-o_{00}) a_{00} + u_1 o_{01}(1-o_{01}) a_{01} + u_2 o_{10}(1-o_{10}) a_{10}"
        r" + u_3 o_{11}(1-o_{11}) a_{11})"
    )
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": r"Let $o_{ij} = \sigma(z_{ij})$ and $p = \sigma(\hat{y})$.",
        },
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": f"$$\\frac{{\\partial L}}{{\\partial w_{{00}}}} = {answer}$$",
        },
    ]
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}), encoding="utf-8")
    graded = subprocess.run(
        [sys.executable, "-m", "grading", str(nb), "--problems", str(with_names), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert graded.returncode == 0, graded.stderr
    (w00, *_) = json.loads(graded.stdout)["questions"]
    assert (w00["question"], w00["verdict"]) == ("w00", "correct"), w00
    assert student
