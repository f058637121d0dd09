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
