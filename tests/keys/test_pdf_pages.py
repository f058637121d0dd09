"""Issue 18, "PDFs, looked at page by page": each item built from the input that showed it.

The oracle is the PDF's own text (pdftotext, cropped to a region where layout matters):
no ``[U+XXXX]`` placeholder, no stray ⊮ for the indicator 1, each running header inside
its own half of the page, the points of a heading on one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from derive.key import write_keys
from derive.pdf import cjk_font, latex_escape
from derive.problemset import Student, load_problem_set, parse_problem_set

pytestmark = pytest.mark.latex
EXAMPLES = Path(__file__).parents[2] / "examples"
A4_WIDTH = 595


def _text(path: Path, *crop: str) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8", *crop, str(path), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_network_key_prints_arrows_and_the_indicator_one(tmp_path: Path) -> None:
    files = write_keys(load_problem_set(EXAMPLES / "board-net-set.toml"), tmp_path / "key.pdf")
    text = _text(files.pdfs[0])
    assert "[U+" not in text and "→" in text
    assert "⊮" not in text and "𝟙" not in text  # amssymb's \mathbb{1} came out as ⊮


def test_arrow_in_text_is_an_arrow() -> None:
    assert latex_escape("conv → relu") == r"conv \ensuremath{\to} relu"


@pytest.mark.skipif(cjk_font() is None, reason="LuaLaTeX or a CJK font missing")
def test_a_greek_or_cyrillic_name_prints_as_written(tmp_path: Path) -> None:
    ps = parse_problem_set('title = "Homework 2"\n[[item]]\nkind = "conv-shape"\ninput = [8, 8]\nkernel = [3, 3]\n')
    roster = (Student("g1", "Αλέξανδρος Παπαδόπουλος"), Student("c1", "Наталья Иванова"))
    files = write_keys(ps, tmp_path / "keys", roster=roster)
    for student in roster:
        text = _text(tmp_path / "keys" / f"{student.id}-questions.pdf")
        assert student.name in text and "[U+" not in text
    assert len(files.pdfs) == 4


LONG = "A Very Long Course Title for the Second Semester of Advanced Machine Learning (Graduate Section)"


@pytest.mark.parametrize(
    "name", ["Maximilian Alexander Featherstonehaugh-Wolfeschlegelsteinhausen", "歐陽子晴歐陽子晴"]
)
def test_running_headers_keep_to_their_own_half(tmp_path: Path, name: str) -> None:
    if not name.isascii() and cjk_font() is None:
        pytest.skip("LuaLaTeX or a CJK font missing")
    ps = parse_problem_set(f'title = "{LONG}"\n[[item]]\nkind = "conv-shape"\ninput = [8, 8]\nkernel = [3, 3]\n')
    write_keys(ps, tmp_path / "keys", roster=(Student("s1", name),))
    pdf = tmp_path / "keys" / "s1-answers.pdf"
    half = str(A4_WIDTH // 2)
    left = _text(pdf, "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", half, "-H", "70")
    right = _text(pdf, "-f", "1", "-l", "1", "-x", half, "-y", "0", "-W", half, "-H", "70")
    assert "Answer" not in left and "s1" not in left and "Very" in left
    assert "Course" not in right and "Graduate" not in right and "Answer key" in right


def test_points_stay_on_one_line(tmp_path: Path) -> None:
    words = [
        "Gradients",
        "through",
        "a",
        "sigmoid",
        "and",
        "cross-entropy",
        "output",
        "layer",
        "step",
        "by",
        "step",
        "in",
        "full",
        "detail",
    ]
    items = "".join(
        f'[[item]]\nkind = "conv-shape"\ntitle = "{" ".join(words[:n])}"\npoints = 10\ninput = [8, 8]\nkernel = [3, 3]\n'
        for n in range(6, len(words) + 1)
    )  # titles of every length from short to one line and a half: one of them used to push "points" down
    files = write_keys(parse_problem_set('title = "HW"\n' + items), tmp_path / "key.pdf")
    assert _text(files.pdfs[0]).count("(10 points)") == len(words) - 5
