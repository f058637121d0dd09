"""Issue 12: every LaTeX output of a sweep of sizes compiles and stays inside the page.

The documents of the sweep are compiled as one (their fragments under the standalone
preamble, which is the same for all of them), so the test costs one pdflatex run; the log
must have no error and no overfull box wider than a few points.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from derive import Problem, all_gradients, gradient, random_values
from derive.render import render_latex
from derive.table import render_table_latex

OVERFULL_PT = 3.0

SWEEP = [  # (problem, wrt or None for --all, with numbers)
    (Problem(), "w11", True),
    (Problem(input=(8, 8)), "w00", True),
    (Problem(input=(12, 12), kernel=(5, 5), loss="bce"), "a55", True),
    (Problem(input=(28, 28), kernel=(1, 1)), "w00", True),
    (Problem(input=(15, 15), kernel=(3, 3), stride=2, padding=1, activation="relu"), "w12", True),
    (Problem(input=(10, 3), kernel=(2, 3), conv_bias=True, dense_bias=True, activation="tanh"), "b", True),
    (Problem(input=(6, 6)), None, True),
    (Problem(input=(8, 8), kernel=(2, 2), stride=2, loss="bce", conv_bias=True), None, True),
    (Problem(input=(10, 10)), None, False),
    (Problem(input=(9, 9), kernel=(2, 2), activation="tanh"), "w01", "wide"),  # 6-digit and 1e-7 numbers
]


def _wide(problem: Problem, seed: int) -> dict:
    """Values a TA might paste: full-precision numbers, some tiny, some negative."""
    import random

    rng = random.Random(seed)
    values = random_values(problem, seed)
    values["a"] = [
        [rng.choice([-1, 1]) * rng.uniform(0, 1) * 10.0 ** rng.randint(-8, 2) for _ in row] for row in values["a"]
    ]
    return values


def _documents() -> list[str]:
    docs = []
    for k, (problem, wrt, numbers) in enumerate(SWEEP):
        values = _wide(problem, k) if numbers == "wide" else random_values(problem, k) if numbers else None
        if wrt is None:
            docs.append(render_table_latex(all_gradients(problem, values=values, check=False), standalone=True))
        else:
            docs.append(
                render_latex(gradient(problem, wrt, values=values, check=False).to_derivation(), standalone=True)
            )
    return docs


def _batch(docs: list[str]) -> str:
    """One document: the fullest preamble (with longtable), then every body after a page break."""
    preambles = {d.split(r"\begin{document}")[0] for d in docs}
    preamble = next(p for p in preambles if "longtable" in p)  # the derivations' packages plus longtable
    lines = set(preamble.replace(",longtable", "").split("\n")) | {r"\setlength{\parindent}{0pt}"}
    assert all(set(p.replace(",longtable", "").split("\n")) <= lines for p in preambles)
    bodies = [d.split(r"\begin{document}", 1)[1].rsplit(r"\end{document}", 1)[0] for d in docs]
    return (
        preamble
        + "\\setlength{\\parindent}{0pt}\n\\begin{document}\n"
        + "\n\\clearpage\n".join(bodies)
        + "\\end{document}\n"
    )


@pytest.mark.latex
def test_sweep_compiles_inside_the_page(tmp_path: Path) -> None:
    tex = tmp_path / "sweep.tex"
    tex.write_text(_batch(_documents()), encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
    )
    log = (tmp_path / "sweep.log").read_text(errors="replace")
    assert run.returncode == 0, re.findall(r"^!.*$", log, re.M)[:3]
    wide = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert [w for w in wide if w > OVERFULL_PT] == []
    assert "Dimension too large" not in log


def test_given_matrices_and_vectors_are_broken() -> None:
    """28x28 input: the matrix in two blocks of 14 columns headed with their indices (issue 18: it was
    four blocks of 7, a page each), v over many lines; no line wider than the page by count."""
    problem = Problem(input=(28, 28), kernel=(1, 1))
    text = render_latex(gradient(problem, "w00", values=random_values(problem, 1), check=False).to_derivation())
    given = text.split(r"\paragraph{Given}")[1].split(r"\paragraph{")[0]
    assert given.count(r"\begin{array}") == 2 + 1  # the input's two blocks and the 1x1 kernel
    heads = re.findall(r"\{r\|r+\}\s+((?:& \\scriptstyle \d+ )+)", given)
    assert [re.findall(r"\d+", h) for h in heads] == [[str(c) for c in range(14)], [str(c) for c in range(14, 28)]]
    assert r"\scriptstyle 27 & " in given  # each row starts with its index
    one_based = Problem(input=(28, 28), kernel=(1, 1), one_based=True)
    values = random_values(one_based, 1)
    text = render_latex(gradient(one_based, "w11", values=values, check=False).to_derivation())
    assert r"\scriptstyle 28 \\ \hline" in text and r"\scriptstyle 1 & " in text  # the course's own numbering
    assert max(len(line) for line in given.splitlines() if line.startswith(("v &=", "&\\quad"))) < 200


def test_all_is_a_longtable() -> None:
    problem = Problem()
    text = render_table_latex(all_gradients(problem, values=random_values(problem, 0)), standalone=True)
    assert r"\usepackage{amsmath,amssymb,longtable}" in text and text.count(r"\begin{longtable}") == 1
    assert r"\endhead" in text and text.count(r" \\[2pt]") == len(problem_names := all_gradients(problem)) == 29
    assert "torch autograd" in text.split(r"\endhead")[0] and problem_names
