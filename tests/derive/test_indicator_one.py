"""ReLU's derivative 𝟙[z > 0] in a standalone `derive grad --format latex` document prints as a 1.

amssymb's \\mathbb has no digits: before the preamble's fix the PDF showed ⊮[z00 > 0] (issue 18).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from derive import gradient
from derive.problem import Problem
from derive.render import render_latex


@pytest.mark.latex
def test_relu_indicator_prints_as_one(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    g = gradient(Problem(activation="relu"), "w11", check=False)
    tex = render_latex(g.to_derivation(), standalone=True)
    assert r"\mathbb{1}" in tex
    (tmp_path / "r.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "r.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    text = subprocess.run(["pdftotext", "r.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert "1[z" in text and "⊮" not in text
