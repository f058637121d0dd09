"""Answer keys: render solved sheets as LaTeX and write the ``.tex``, PDF and ``answers.json`` files.

Data flows one way: :func:`solve` (:mod:`derive.sheet`) draws or takes each item's
values and works every question out (:class:`Sheet`); :func:`render_tex` turns a
sheet into a LaTeX document through the jinja2 templates ``templates/key_*.tex.j2``,
as a question sheet or as an answer sheet; :func:`write_keys` writes them and
compiles the PDFs. Only pre-rendered strings and numbers reach the templates, and
every string a user wrote (title, question, student name) goes through
:func:`derive.latex_env.esc`. Each item's question wording and given numbers come from
its kind (:mod:`derive.kinds`).

>>> derived_seed(7, "b0123", "1") == derived_seed(7, "b0123", "1")
True
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from derive import kinds
from derive.errors import DeriveError
from derive.latex_env import environment, esc, unicode_document
from derive.pdf import CJK_FONTS, aligned, cjk_font, label_latex, needs_unicode
from derive.problemset import ProblemSet, Student
from derive.sheet import Part, Sheet, Solved, derived_seed, solve
from derive.steps import GIVEN, int_latex, latex_number

__all__ = [
    "KeyFiles",
    "Part",
    "Sheet",
    "Solved",
    "derived_seed",
    "render_tex",
    "solve",
    "write_keys",
]

# ---------------------------------------------------------------- rendering


def _boxed(part: Part) -> str:
    """The result as ``lhs = number``: the left side of the result step and the part's value."""
    lhs = part.derivation.result.latex.split(" = ", 1)[0]
    number = int_latex(part.value) if isinstance(part.value, int) else latex_number(part.value)
    return f"{lhs} = {number}"


def _item_context(solved: Solved, *, answers: bool) -> dict[str, Any]:
    item = solved.item
    kind = kinds.get(item.kind)
    parts = []
    seen: set[str] = set()  # forward-pass lines already shown for this item
    seen_notes: set[str] = set()
    for part in solved.parts:
        d = part.derivation
        shown = [s for s in d.steps if s.group != GIVEN] + ([] if d.result in d.steps else [d.result])
        repeated = [s for s in shown if s.group == "Forward pass" and s.latex in seen]
        seen.update(s.latex for s in shown if s.group == "Forward pass")
        steps, group = [], None
        for s in shown:
            if s in repeated:
                continue
            steps.append(
                {
                    "heading": label_latex(s.group) if s.group != group else "",
                    "name": label_latex(s.name) if " " in s.name else "",
                    "math": aligned(s.latex),
                }
            )
            group = s.group
        notes = [label_latex(n) for n in d.notes if n not in seen_notes]
        seen_notes.update(d.notes)
        if repeated:
            notes.insert(0, "The forward pass is the one worked out above.")
        parts.append(
            {
                "title": label_latex(d.title),
                "table": part.table_latex,
                "steps": steps,
                "boxed": _boxed(part),
                "notes": notes,
            }
        )
    points = item.points
    return {
        "number": item.number,
        "title": esc(item.title) if item.title else "",
        "points": "" if points is None else f"({points:g} point{'' if points == 1 else 's'})",
        "question": esc(item.question) if item.question else kind.question_latex(item.problem, item.wrt),
        "given": [] if solved.values is None else kind.given_latex(item.problem, solved.values),
        "parts": parts if answers else [],
    }


def chinese_text(sheet: Sheet) -> str | None:
    """The first text of ``sheet`` that pdflatex cannot set (a Chinese name or title), named; else ``None``."""
    ps = sheet.problem_set
    texts = [("the title", ps.title), ("the subtitle", ps.subtitle or "")]
    if sheet.student is not None:
        texts.append((f"the name of student {sheet.student.id}", f"{sheet.student.name or ''} {sheet.student.id}"))
    for solved in sheet.solved:
        texts += [(f"item {solved.item.number}", f"{solved.item.title or ''} {solved.item.question or ''}")]
    return next((f"{where} ({text.strip()[:40]!r})" for where, text in texts if needs_unicode(text)), None)


def render_tex(sheet: Sheet, *, answers: bool = True) -> str:
    """Render ``sheet`` as a complete LaTeX document: the answer key, or with ``answers=False`` the questions.

    A sheet with Chinese text (a name, a title, a question) becomes a LuaLaTeX document
    with the CJK font found by :func:`derive.pdf.cjk_font` (AR PL UMing TW if none is
    installed yet: compiling then says what to install); any other sheet stays pdflatex.
    """
    ps = sheet.problem_set
    unicode = chinese_text(sheet) is not None
    font = (cjk_font() or CJK_FONTS[0]) if unicode else ""
    with unicode_document(unicode):  # every esc of this document keeps Chinese as written
        student = ""
        if sheet.student is not None:
            who = sheet.student.name or sheet.student.id
            student = esc(who if not sheet.student.name else f"{sheet.student.name} ({sheet.student.id})")
        total = ps.total_points
        return (
            environment()
            .get_template("key_document.tex.j2")
            .render(
                title=esc(ps.title),
                subtitle=esc(ps.subtitle) if ps.subtitle else "",
                kind="Answer key" if answers else "Questions",
                student=student,
                seed=sheet.seed,
                total_points=(str(int(total)) if total == int(total) else f"{total:g}") if total else "",
                items=[_item_context(s, answers=answers) for s in sheet.solved],
                cjk_font=font,
            )
        )


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class KeyFiles:
    """What :func:`write_keys` wrote: the sheets, the ``.tex`` and PDF files, ``answers.json``."""

    sheets: tuple[Sheet, ...]
    tex: tuple[Path, ...]
    pdfs: tuple[Path, ...]
    answers_json: Path | None
    reused: int = 0
    """PDFs left as they were because their source had not changed (``derive key --roster`` run again)."""


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return slug or "student"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_keys(
    problem_set: ProblemSet,
    out: str | Path,
    *,
    seed: int | None = None,
    roster: tuple[Student, ...] | None = None,
    tex_only: bool = False,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> KeyFiles:
    """Write one answer key, or a question and an answer sheet per student of ``roster``.

    Without a roster, ``out`` is the key's path (``key.pdf``; its ``.tex`` goes beside it).
    With a roster, ``out`` is a folder that receives ``<student>-questions.pdf``,
    ``<student>-answers.pdf``, their sources under ``tex/``, and ``answers.json``.

    Args:
        problem_set: The validated problem set.
        out: Where to write (a file without roster, a folder with one).
        seed: The seed (default: the set's own, then :data:`DEFAULT_SEED`).
        roster: Students, each getting their own numbers.
        tex_only: Stop at the ``.tex`` files.
        jobs: Parallel pdflatex runs (default: the number of cores).
        on_progress: Called as ``on_progress(done, total)`` after each PDF.

    Raises:
        DeriveError: TeX missing (the ``.tex`` files are kept), or a LaTeX error.
    """
    from derive.pdf import compile_many

    out = Path(out)
    if roster is None:
        if out.suffix.lower() not in (".pdf", ".tex"):
            raise DeriveError(f"--out {str(out)!r}: without --roster, give the key's file name, such as key.pdf.")
        if out.exists() and out.is_dir():
            raise DeriveError(
                f"--out {str(out)!r} is a folder; give a file name such as {out / 'key.pdf'}, or add --roster."
            )
        sheet = solve(problem_set, seed=seed)
        tex = _write(out.with_suffix(".tex"), render_tex(sheet))
        if not tex_only:
            _check_cjk((sheet,))
        compiled = () if tex_only else tuple(compile_many([tex], jobs=1, on_done=_counter(1, on_progress)))
        return KeyFiles((sheet,), (tex,), compiled, None)
    if out.suffix.lower() in (".pdf", ".tex") or (out.exists() and not out.is_dir()):
        raise DeriveError(
            f"--out {str(out)!r}: with --roster, give a folder (such as keys/) for one PDF pair per student."
        )
    sheets = tuple(solve(problem_set, seed=seed, student=s) for s in roster)
    texs: list[Path] = []
    used: set[str] = set()
    for sheet in sheets:
        assert sheet.student is not None
        slug, k = _slug(sheet.student.id), 2
        while slug in used:
            slug, k = f"{_slug(sheet.student.id)}-{k}", k + 1
        used.add(slug)
        for kind, answers in (("questions", False), ("answers", True)):
            texs.append(_write(out / "tex" / f"{slug}-{kind}.tex", render_tex(sheet, answers=answers)))
    answers_json = _write(
        out / "answers.json", json.dumps([s.to_dict() for s in sheets], indent=2, ensure_ascii=False) + "\n"
    )
    if tex_only:
        return KeyFiles(sheets, tuple(texs), (), answers_json)
    _check_cjk(sheets)
    from derive.pdfbatch import compile_roster  # a few LaTeX runs for the class, cached, a failing sheet isolated

    made = compile_roster(sheets, texs, out, jobs=jobs, on_done=_counter(len(texs), on_progress))
    return KeyFiles(sheets, tuple(texs), tuple(made.pdfs), answers_json, reused=made.reused)


def _check_cjk(sheets: tuple[Sheet, ...]) -> None:
    """Stop before compiling when a sheet has Chinese text and LuaLaTeX or a CJK font is missing."""
    from derive.pdf import LatexError, have_tex, no_cjk_message

    if not have_tex():
        return  # compile_many says to install TeX first
    what = next((w for w in map(chinese_text, sheets) if w), None)
    if what is not None and cjk_font() is None:
        raise LatexError(no_cjk_message(what[0].upper() + what[1:]) + " The .tex files are kept.")


def _counter(total: int, on_progress: Callable[[int, int], None] | None) -> Callable[[Path], None] | None:
    if on_progress is None:
        return None
    done = [0]

    def tick(_: Path) -> None:
        done[0] += 1
        on_progress(done[0], total)

    return tick
