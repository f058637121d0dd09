"""Issue 12: Chinese names and titles come out as written in the PDFs of `derive key`.

A sheet with Chinese text is a LuaLaTeX document with a CJK font (texlive-luatex +
fonts-arphic-uming, installed by .ci/run); every other sheet stays pdflatex. Where LuaLaTeX
or the font is missing, a Chinese name is one clear message, never a broken glyph.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from derive import pdf
from derive.key import chinese_text, render_tex, write_keys
from derive.pdf import LatexError, compile_many, latex_escape, needs_unicode
from derive.problemset import Student, parse_problem_set
from derive.sheet import solve

NAMES = ("鄭呈毅", "林雨婷", "Zoë O'Brien")
ROSTER = tuple(Student(f"b{k}", name) for k, name in enumerate(NAMES))
SET = """title = "{title}"
subtitle = "作業二（二）"
[[item]]
kind = "softmax-ce"
title = "（一）交叉熵"
question = "請推導損失對每個 logit 的梯度，並在給定的數值下計算其值；說明為什麼結果是預測機率減去目標。Then in English."
wrt = ["z0"]
values = "random"
"""

needs_cjk = pytest.mark.skipif(
    pdf.cjk_font() is None, reason=f"LuaLaTeX or a CJK font missing (apt-get install {pdf.CJK_PACKAGES})"
)


def _text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_escape_keeps_chinese_only_for_a_unicode_document() -> None:
    assert latex_escape("鄭呈毅") == r"\texttt{[U+912D]}\texttt{[U+5448]}\texttt{[U+6BC5]}"
    assert latex_escape("鄭呈毅 Zoë O'Brien", unicode=True) == r"鄭呈毅 Zoë O\gkquote{}Brien"
    assert latex_escape("50% & 鄭", unicode=True) == r"50\% \& 鄭"
    assert needs_unicode("進階機器學習") and not needs_unicode("Zoë O'Brien")


def test_only_sheets_with_chinese_use_lualatex() -> None:
    ps = parse_problem_set(SET.format(title="Homework 2"))
    zoe, zheng = solve(ps, student=ROSTER[2]), solve(ps, student=ROSTER[0])
    assert chinese_text(zoe) == "the subtitle ('作業二（二）')"
    english = parse_problem_set('title = "HW"\n[[item]]\nkind = "conv-shape"\ninput = [8, 8]\nkernel = [3, 3]\n')
    assert chinese_text(solve(english, student=ROSTER[2])) is None
    assert not render_tex(solve(english, student=ROSTER[2])).startswith("% !TEX program = lualatex")
    assert render_tex(zheng).startswith("% !TEX program = lualatex\n") and "鄭呈毅 (b0)" in render_tex(zheng)


@pytest.mark.latex
@needs_cjk
def test_roster_names_and_title_come_out_exactly(tmp_path: Path) -> None:
    """鄭呈毅, 林雨婷 and Zoë O'Brien in each one's PDF, under the title 進階機器學習 Advanced Machine Learning."""
    ps = parse_problem_set(SET.format(title="進階機器學習 Advanced Machine Learning"))
    files = write_keys(ps, tmp_path / "keys", roster=ROSTER, tex_only=True)
    answers = sorted(t for t in files.tex if t.name.endswith("-answers.tex"))
    pdfs = compile_many(answers, jobs=2)
    for student, path in zip(ROSTER, pdfs):
        text = _text(path)
        assert f"Student: {student.name} ({student.id})" in text
        assert "進階機器學習 Advanced Machine Learning" in text and "（一）交叉熵" in text
        assert "[U+" not in text and all(other.name not in text for other in ROSTER if other is not student)


@pytest.mark.latex
def test_pdflatex_sheet_keeps_zoe_exact(tmp_path: Path) -> None:
    """Without Chinese the sheet stays pdflatex (T1 + Latin Modern): Zoë O'Brien extracts exactly."""
    ps = parse_problem_set('title = "HW 2"\n[[item]]\nkind = "conv-shape"\ninput = [8, 8]\nkernel = [3, 3]\n')
    files = write_keys(ps, tmp_path / "keys", roster=ROSTER[2:], tex_only=True)
    (pdf_path,) = compile_many([t for t in files.tex if t.name.endswith("-answers.tex")])
    assert "Student: Zoë O'Brien (b2)" in _text(pdf_path)


@pytest.mark.latex
def test_no_cjk_font_is_one_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "cjk_font", lambda: None)
    monkeypatch.setattr("derive.key.cjk_font", lambda: None)
    ps = parse_problem_set(SET.format(title="HW 2"))
    with pytest.raises(LatexError) as info:
        write_keys(ps, tmp_path / "keys", roster=ROSTER[:1])
    message = str(info.value)
    assert message.startswith(
        "The subtitle ('作業二（二）') is Chinese (or Japanese/Korean) text, which pdflatex cannot set."
    )
    assert "sudo apt-get install texlive-luatex fonts-arphic-uming" in message and "\n" not in message
    assert len(list((tmp_path / "keys" / "tex").glob("*.tex"))) == 2 and not list((tmp_path / "keys").glob("*.pdf"))
    if shutil.which("pdflatex"):
        with pytest.raises(LatexError, match="pdflatex cannot set"):
            pdf.compile_pdf(tmp_path / "keys" / "tex" / "b0-answers.tex")
