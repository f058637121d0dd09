"""The data that passes between the notebook stages: read → locate → grade → review.

A notebook is a student's file, not a program: nothing here holds code to run. ``Notebook`` is
what the reader keeps of an ``.ipynb`` (cells, their stored outputs, size-capped images), and a
graded notebook is the plain dict that ``grade FILE.ipynb --json`` prints (``NotebookResult``),
so that results.json, the review pages and the overrides all read the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CellKind = Literal["markdown", "code", "raw"]
OutputKind = Literal["text", "png", "jpeg", "html", "other"]
Verdict = Literal["correct", "wrong", "needs-review", "not-found"]

VERDICTS: tuple[Verdict, ...] = ("correct", "wrong", "needs-review", "not-found")
CLAIMS = ("params", "top1", "top3")


@dataclass(frozen=True)
class Output:
    """One stored output of a code cell, default-deny: text, or image bytes already re-encoded.

    ``kind`` is ``text`` (stream, ``execute_result``/``display_data`` text/plain, error text),
    ``png``/``jpeg`` (bytes re-encoded with Pillow, size-capped: a
    :class:`grading.notebook.images.Reencoded` when read from a notebook), ``html`` (the raw student HTML,
    to be sanitized before any page shows it) or ``other`` (dropped: ``mime`` says what it was).
    """

    kind: OutputKind
    text: str = ""
    data: bytes = b""
    mime: str = ""
    file: Any = None
    """For a class, an image's bytes once written to disk (a :class:`grading.notebook.images.ImageFile`)."""


@dataclass(frozen=True)
class Cell:
    """One cell as stored: ``index`` is 0-based over all cells, as the review page numbers them.

    ``attachments`` are a markdown cell's images (``![x](attachment:name)``), ``(name, Output)``.
    """

    index: int
    kind: CellKind
    source: str
    outputs: tuple[Output, ...] = ()
    attachments: tuple[tuple[str, Output], ...] = ()


@dataclass(frozen=True)
class Notebook:
    """What was read of one ``.ipynb``. ``warnings`` are one sentence each (upgraded v3, bad cells)."""

    path: str
    cells: tuple[Cell, ...]
    nbformat: int = 4
    language: str = "python"
    warnings: tuple[str, ...] = field(default_factory=tuple)


# The JSON of one graded notebook (``grade FILE.ipynb --json``; results.json per student). The keys
# are a contract (issue 17); values are JSON types.
#
#   {status, student, notebook,
#    questions: [{question, found, cell, snippet, answer, verdict, misconception, expected,
#                 points, max_points, why, steps: [{step, ok}]}],
#    claims: [{what, value, cell}], figures: [{cell, file}], warnings, errors}
#
# status: "graded" | "invalid"; question: the name used in answers.json (w00, a21); verdict: one
# of VERDICTS; cell: the 0-based cell index (None when not found); snippet: the exact source
# text of the answer; answer: the student's right-most side as written; expected: the key's
# value (a number or a LaTeX string; the student's own variant when there is one);
# misconception: a mistake name as ``grade --variants`` names it, or None; why: one sentence for
# needs-review / not-found / wrong; steps[].ok: True, False or None (not decided);
# claims[].what: params | top1 | top3; figures[].file: a path relative to the output folder.
NotebookResult = dict[str, Any]

QUESTION_KEYS = (
    "question",
    "found",
    "cell",
    "snippet",
    "answer",
    "verdict",
    "misconception",
    "expected",
    "points",
    "max_points",
    "why",
    "steps",
)
RESULT_KEYS = ("status", "student", "notebook", "questions", "claims", "figures", "warnings", "errors")
