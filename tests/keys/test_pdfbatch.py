"""Issue 19: a class's sheets in a few LaTeX runs, the same pages and bytes, cached, a failing sheet isolated.

The oracle for "the same pages" is each sheet compiled alone the old way
(:func:`derive.pdf.compile_pdf` on its own ``.tex``): the batched, split PDF must
have the same number of pages and the same text, page by page.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from derive import pdfbatch
from derive.key import write_keys
from derive.pdf import LatexError, compile_pdf
from derive.problemset import Student, parse_problem_set

pytestmark = pytest.mark.latex

SET = """title = "進階機器學習 Advanced Machine Learning"
[[item]]
kind = "softmax-ce"
points = 10
wrt = ["z0"]
values = "random"
"""
LATIN = 'title = "Homework 2"\n' + SET.split("\n", 1)[1]
ROSTER = (Student("b01", "鄭呈毅"), Student("b02", "林雨婷"), Student("b03", "Zoë O'Brien"))


def _pages(path: Path) -> list[str]:
    count = len(PdfReader(path).pages)
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("source", [SET, LATIN], ids=["lualatex", "pdflatex"])
def test_batched_sheets_are_the_sheets_compiled_alone(tmp_path: Path, source: str) -> None:
    ps = parse_problem_set(source)
    files = write_keys(ps, tmp_path / "keys", seed=11, roster=ROSTER)
    assert len(files.pdfs) == 6 and files.reused == 0
    for tex in files.tex:
        alone = tmp_path / "alone" / tex.name
        alone.parent.mkdir(exist_ok=True)
        alone.write_text(tex.read_text(encoding="utf-8"), encoding="utf-8")
        assert _pages(tmp_path / "keys" / (tex.stem + ".pdf")) == _pages(compile_pdf(alone)), tex.name
    assert not list((tmp_path / "keys" / "tex").glob("class-*"))  # the class documents are cleaned up


def test_printing_files_hold_every_sheet_in_roster_order_from_odd_pages(tmp_path: Path) -> None:
    ps = parse_problem_set(SET)
    files = write_keys(ps, tmp_path / "keys", seed=11, roster=ROSTER)
    for group in ("questions", "answers"):
        sheets = [p for p in files.pdfs if p.stem.endswith(group)]
        expected: list[str] = []
        for sheet in sheets:
            pages = _pages(sheet)
            expected += pages + ([""] if len(pages) % 2 and sheet != sheets[-1] else [])
        printed = _pages(tmp_path / "keys" / f"class-{group}.pdf")
        assert [p.strip() for p in printed] == [p.strip() for p in expected]
        starts = [k for k, page in enumerate(printed) if "Student:" in page]
        assert len(starts) == 3 and all(k % 2 == 0 for k in starts)  # page 1, 3, 5...: odd pages
        assert [printed[k].split("Student:")[1].split("(")[0].strip() for k in starts] == [s.name for s in ROSTER]


def test_the_same_input_gives_the_same_bytes_and_a_second_run_starts_no_latex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ps = parse_problem_set(SET)
    first = write_keys(ps, tmp_path / "a", seed=11, roster=ROSTER)
    second = write_keys(ps, tmp_path / "b", seed=11, roster=ROSTER)  # a fresh folder: compiled again
    names = [p.name for p in first.pdfs] + ["class-questions.pdf", "class-answers.pdf"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert b"/CreationDate" not in (tmp_path / "a" / names[0]).read_bytes()

    def no_latex(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"LaTeX started: {args}")

    monkeypatch.setattr(subprocess, "run", no_latex)
    before = {name: (tmp_path / "b" / name).stat().st_mtime_ns for name in names}
    again = write_keys(ps, tmp_path / "b", seed=11, roster=ROSTER)
    assert again.reused == 6 and [p.name for p in again.pdfs] == [p.name for p in second.pdfs]
    assert {name: (tmp_path / "b" / name).stat().st_mtime_ns for name in names} == before


def test_a_changed_sheet_alone_is_compiled_again(tmp_path: Path) -> None:
    ps = parse_problem_set(SET)
    write_keys(ps, tmp_path / "keys", seed=11, roster=ROSTER)
    renamed = (ROSTER[0], Student("b02", "林雨晴"), ROSTER[2])
    files = write_keys(ps, tmp_path / "keys", seed=11, roster=renamed)
    assert files.reused == 4 and len(files.pdfs) == 6
    assert "林雨晴" in _pages(tmp_path / "keys" / "b02-questions.pdf")[0]
    assert "林雨晴" in "".join(_pages(tmp_path / "keys" / "class-questions.pdf"))


def test_one_failing_sheet_names_its_student_and_line_and_the_others_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ps = parse_problem_set(SET)
    out = tmp_path / "keys"
    files = write_keys(ps, out, seed=11, roster=ROSTER, tex_only=True)
    bad = out / "tex" / "b02-answers.tex"
    lines = bad.read_text(encoding="utf-8").splitlines()
    where = next(k for k, line in enumerate(lines) if "Student:" in line)
    lines[where] = lines[where].replace("Student:", r"Student: \gkcannotset")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    commands: list[list[str]] = []
    real = subprocess.run

    def spy(cmd: list[str], **kwargs: Any) -> Any:
        commands.append(cmd)
        return real(cmd, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    with pytest.raises(LatexError) as error:
        pdfbatch.compile_roster(files.sheets, list(files.tex), out)
    message = str(error.value)
    assert "5 of 6 PDFs written" in message and "missing: b02-answers.pdf" in message
    assert "student b02 (林雨婷)" in message and f"b02-answers.tex, line {where + 1}" in message
    assert r"\gkcannotset" in message and "Undefined control sequence" in message
    made = sorted(p.name for p in out.glob("b*.pdf"))
    assert made == ["b01-answers.pdf", "b01-questions.pdf", "b02-questions.pdf", "b03-answers.pdf", "b03-questions.pdf"]
    assert "林雨婷" not in "".join(_pages(out / "class-answers.pdf")) and (out / "class-questions.pdf").exists()
    latex = [cmd for cmd in commands if cmd[0] in ("lualatex", "pdflatex", "latexmk")]
    assert latex and all("-no-shell-escape" in cmd and "-shell-escape" not in cmd for cmd in latex)
