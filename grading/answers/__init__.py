"""grading.answers: grade the derivation answers (numbers and formulas) against each student's own variant.

``grade responses.csv --variants keys/answers.json`` calls :func:`grade_answers`; the
pieces are :mod:`~grading.answers.parse` (formulas, never run), :mod:`~grading.answers.models`
(the engine per question kind), :mod:`~grading.answers.mistakes` (the named mistakes),
:mod:`~grading.answers.read` (responses CSV, Moodle quiz responses), :mod:`~grading.answers.result` (the results) and
:mod:`~grading.answers.report` (summary, results.json, gradebook, feedback).
"""

import importlib
from typing import Any

from grading.answers.tolerance import DEFAULT_ATOL, DEFAULT_RTOL

_WHERE = {
    "AnswersResult": "grade",
    "ItemResult": "grade",
    "StudentResult": "grade",
    "grade_answer": "grade",
    "grade_answers": "grade",
    "MISTAKES": "mistakes",
    "Unreadable": "parse",
    "parse_formula": "parse",
    "read_number": "read",
    "lms_grades": "report",
    "render_answers_summary": "report",
    "write_answers_report": "report",
    "load_variants": "variants",
}

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


def __getattr__(name: str) -> Any:
    """Import on first use: grading the derivations loads sympy and the engine, predictions need neither."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"grading.answers.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'grading.answers' has no attribute {name!r}")
