"""grading.answers: grade the derivation answers (numbers and formulas) against each student's own variant.

``grade responses.csv --variants keys/answers.json`` calls :func:`grade_answers`; the
pieces are :mod:`~grading.answers.parse` (formulas, never run), :mod:`~grading.answers.models`
(the engine per question kind), :mod:`~grading.answers.mistakes` (the named mistakes),
:mod:`~grading.answers.read` (responses CSV, Moodle quiz responses) and
:mod:`~grading.answers.report` (summary, results.json, gradebook, feedback).
"""

from grading.answers.grade import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    AnswersResult,
    ItemResult,
    StudentResult,
    grade_answer,
    grade_answers,
)
from grading.answers.mistakes import MISTAKES
from grading.answers.parse import Unreadable, parse_formula
from grading.answers.read import read_number
from grading.answers.report import lms_grades, render_answers_summary, write_answers_report
from grading.answers.variants import load_variants

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "MISTAKES",
    "AnswersResult",
    "ItemResult",
    "StudentResult",
    "Unreadable",
    "grade_answer",
    "grade_answers",
    "lms_grades",
    "load_variants",
    "parse_formula",
    "read_number",
    "render_answers_summary",
    "write_answers_report",
]
