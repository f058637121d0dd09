"""What Jupyter stores for a derivation: executed in a real kernel (nbclient + ipykernel), not simulated.

The boxed result used to be one unbreakable line (2,461 pt for ∂L/∂w11 of an 8×8 input) and the
whole ``_repr_latex_`` one display block taller than a page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from derive.latexlines import visible_width  # noqa: E402
from derive.notebook import BLOCK_LINES  # noqa: E402

ROOT = Path(__file__).parents[2]
CELL = """\
import derive
problem = derive.Problem(input=(8, 8), kernel=(3, 3))
derive.gradient(problem, "w11", values=derive.random_values(problem, 0), check=False)
"""
MAX_WIDTH = 90  # visible characters of one line: about 450 pt, the width of a page of maths


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    try:
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
        )
        client.execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    (result,) = [o for o in nb.cells[0].outputs if o["output_type"] == "execute_result"]
    return dict(result["data"])


def blocks(text: str) -> list[str]:
    return re.findall(r"\$\$(.*?)\$\$", text, flags=re.S)


def lines_of(block: str) -> list[str]:
    """The aligned lines of a block; a matrix counts as its widest row (its rows are not lines of the block)."""

    def widest_row(m: re.Match[str]) -> str:
        return max(m.group(1).split(r" \\ "), key=visible_width)

    body = re.sub(r"\\begin\{array\}\{r*\}(.*?)\\end\{array\}", widest_row, block, flags=re.S)
    body = re.sub(r"\\(begin|end)\{aligned\}", "", body)
    return [line for line in body.split(r" \\ ") if line.strip()]


@pytest.mark.parametrize("mime", ["text/latex", "text/markdown"])
def test_no_line_is_wider_than_a_page_and_no_block_taller(outputs: dict[str, str], mime: str) -> None:
    text = outputs[mime]
    found = blocks(text)
    assert len(found) >= 3  # the steps come in several blocks, the result last
    assert r"\boxed{" in found[-1] and len(lines_of(found[-1])) > 1  # the boxed result is broken into lines
    for block in found:
        rows = lines_of(block)
        assert len(rows) <= BLOCK_LINES, (mime, len(rows))
        widest = max(rows, key=visible_width)
        assert visible_width(widest) <= MAX_WIDTH, (mime, widest[:200])


def test_the_result_keeps_its_numbers(outputs: dict[str, str]) -> None:
    import derive

    problem = derive.Problem(input=(8, 8), kernel=(3, 3))
    g = derive.gradient(problem, "w11", values=derive.random_values(problem, 0), check=False)
    assert g.value is not None and derive.steps.latex_number(g.value) in blocks(outputs["text/latex"])[-1]
