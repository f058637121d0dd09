"""PDFs: the key compiles, its text holds the numbers and the names as written; errors are readable."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from derive.key import write_keys
from derive.pdf import LatexError, compile_pdf
from derive.problemset import Student, load_problem_set
from derive.steps import format_number

EXAMPLES = Path(__file__).parents[2] / "examples"
NAME = "Ann & Bob_1 50% #2 \\o/ {x} ~y^ $z$"


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFC", out)


@pytest.mark.latex
def test_key_pdf_holds_the_numbers(tmp_path: Path) -> None:
    ps = load_problem_set(EXAMPLES / "fer-report.toml")
    files = write_keys(ps, tmp_path / "key.pdf")
    text = pdf_text(files.pdfs[0])
    assert "FER report: math problem" in text and "Answer key" in text
    for value in files.sheets[0].answers().values():
        shown = str(value) if isinstance(value, int) else format_number(value).replace("-", "−")
        assert shown in text, shown
    assert (tmp_path / "key.tex").exists() and not (tmp_path / "key.log").exists()


@pytest.mark.latex
def test_student_sheets_print_names_as_written(tmp_path: Path) -> None:
    ps = load_problem_set(EXAMPLES / "hw1-2025.toml")
    students = (Student("r12922004", "Zoë O'Brien"), Student("b1_#2", NAME))
    seen: list[tuple[int, int]] = []
    files = write_keys(
        ps,
        tmp_path / "keys",
        seed=9,
        roster=students,
        jobs=2,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert sorted(p.name for p in files.pdfs) == [
        "b1__2-answers.pdf",
        "b1__2-questions.pdf",
        "r12922004-answers.pdf",
        "r12922004-questions.pdf",
    ]
    assert seen[-1] == (4, 4)
    questions = pdf_text(tmp_path / "keys" / "b1__2-questions.pdf")
    assert f"Student: {NAME} (b1_#2)" in questions
    assert "Zoë O'Brien" in pdf_text(tmp_path / "keys" / "r12922004-answers.pdf")  # exactly, straight apostrophe
    answers = pdf_text(tmp_path / "keys" / "b1__2-answers.pdf")
    w00 = files.sheets[1].answers()["w00"]
    assert format_number(w00).replace("-", "−") in answers
    assert "seed" not in questions and format_number(w00).replace("-", "−") not in questions


@pytest.mark.latex
def test_latex_error_quotes_the_line(tmp_path: Path) -> None:
    tex = tmp_path / "bad.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\oops{x}\n\\end{document}\n")
    with pytest.raises(LatexError, match=r"bad.tex, line \d+: LaTeX error: .*\n  \d+ \| ") as info:
        compile_pdf(tex)
    assert "The .tex is kept" in str(info.value) and tex.exists()


def test_no_tex_installed_keeps_the_tex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if "latex" in cmd else real(cmd, *a, **k))
    ps = load_problem_set(EXAMPLES / "hw2-2024.toml")
    with pytest.raises(LatexError, match="texlive-latex-base texlive-latex-recommended latexmk"):
        write_keys(ps, tmp_path / "key.pdf")
    assert (tmp_path / "key.tex").exists()
    with pytest.raises(LatexError, match="pdflatex is not installed"):
        write_keys(ps, tmp_path / "keys", roster=(Student("a"), Student("b")))
    assert (tmp_path / "keys" / "answers.json").exists() and len(list((tmp_path / "keys" / "tex").iterdir())) == 4


def test_out_must_fit_the_mode(tmp_path: Path) -> None:
    from derive.errors import DeriveError

    ps = load_problem_set(EXAMPLES / "hw2-2024.toml")
    with pytest.raises(DeriveError, match="without --roster, give the key's file name"):
        write_keys(ps, tmp_path / "keys", tex_only=True)
    with pytest.raises(DeriveError, match="with --roster, give a folder"):
        write_keys(ps, tmp_path / "k.pdf", roster=(Student("a"),), tex_only=True)
