"""Verdicts: each student's numbers and formulas against their own variant, with the mistake named.

- A **number** is right within ``rtol`` of the gradient at the student's values, or within
  ``atol`` near zero; shapes and parameter counts must be exact.
- A **formula** is right when it equals the gradient at the student's values *and* at
  :data:`N_POINTS` other points of the question (nodes take the values their definitions
  give), so an equivalent form is right and a coincidence is not.
- A wrong answer gets a mistake id when it matches one (:mod:`grading.answers.mistakes`).
- Verdicts: ``correct``, ``wrong``, ``unreadable`` (with why), ``missing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from derive.kinds import derived_seed
from grading.answers.mistakes import diagnose, diagnose_points, explain
from grading.answers.parse import Unreadable, evaluate, parse_formula
from grading.answers.read import ATTEMPTS, normalize_digits, read_number, read_responses
from grading.answers.result import VERDICTS, AnswersResult, ItemResult, StudentResult
from grading.answers.tolerance import DEFAULT_ATOL, DEFAULT_RTOL, N_POINTS
from grading.answers.variants import Question, Variant, load_variants
from grading.errors import UsageError

__all__ = [
    "AnswersResult",
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "ItemResult",
    "N_POINTS",
    "StudentResult",
    "VERDICTS",
    "grade_answer",
    "grade_answers",
    "grade_variants",
]

# ------------------------------------------------------------------ one answer


def _closeness(rtol: float, atol: float, integer: bool):  # type: ignore[no-untyped-def]
    if integer:
        return lambda a, b: abs(a - b) < 1e-9 * max(1.0, abs(b))
    return lambda a, b: abs(a - b) <= max(rtol * abs(b), atol)


def grade_answer(
    question: Question, text: str | None, *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, seed: int = 0
) -> ItemResult:
    """Grade one student's answer ``text`` (``None`` when blank) to ``question``.

    Args:
        question: The question with the student's own values.
        text: What the student wrote: a number or a formula.
        rtol, atol: The tolerance of numbers.
        seed: Seeds the random points of a formula check (with the question's name).
    """
    model, wrt, values = question.model, question.wrt, question.values
    right = model.right_at(values, wrt)

    def result(verdict: str, misconception: str | None = None, why: str | None = None) -> ItemResult:
        pts = question.points if verdict == "correct" else 0.0
        return ItemResult(question.name, text, verdict, misconception, right, pts, question.points, why, question.kind)

    if text is None or not text.strip():
        return result("missing")
    if "\x00" in text or "\ufffd" in text:
        return result(
            "unreadable", why="the cell holds bytes that are not text (a NUL or an undecodable byte); write it again."
        )
    text_read = normalize_digits(text)
    close = _closeness(rtol, atol, model.integer)
    number = read_number(text_read, integer=model.integer)
    written_zero = number == 0.0
    expr = None
    if number is not None and not math.isfinite(number):
        return result("unreadable", why="the number is too large: float64 holds numbers up to about 1.8e308 in size.")
    if number is None:
        try:
            expr = parse_formula(text_read, model.resolve if model.formulas else (lambda _: None))
        except Unreadable as exc:
            why = str(exc)
            if not model.formulas and why.startswith("unknown name"):
                why = f"{why[:-1]}; this question takes a {'whole number' if model.integer else 'number'}."
            return result("unreadable", why=why)
        if not expr.free_symbols:
            number = evaluate(expr, {})
            if math.isnan(number):
                return result(
                    "unreadable",
                    why="the expression has no finite value (a log of a negative number, "
                    "a division by zero or an overflow).",
                )
            expr = None
    if expr is None:
        assert number is not None
        if close(number, right):
            return result("correct")
        # A bare 0 matches any mistake that vanishes at these values (a term with a zero factor): name none.
        found = None if written_zero else diagnose(number, right, model.mistakes(values, wrt, right), close)
        return result("wrong", found, explain(found, question.kind) if found else None)
    points = [values] + [model.random_values(derived_seed(seed, question.name, str(k))) for k in range(N_POINTS)]
    answers, rights = [], []
    for k, point in enumerate(points):
        env = model.env(point)
        r = right if k == 0 else model.right_at(point, wrt)
        answers.append(evaluate(expr, env))
        rights.append(r)
    if all(close(a, r) for a, r in zip(answers, rights)):
        return result("correct")
    mistakes = [model.mistakes(point, wrt, r) for point, r in zip(points, rights)]  # only a wrong answer needs them
    found = diagnose_points(answers, rights, mistakes, close)
    if found:
        return result("wrong", found, explain(found, question.kind))
    if math.isnan(answers[0]):
        return result("wrong", why="the formula has no finite value at your numbers.")
    if close(answers[0], rights[0]):
        return result(
            "wrong",
            why="the formula gives the right number at your values but not at other values, so it is not the gradient.",
        )
    return result("wrong", why=f"the formula gives {answers[0]:.6g} at your values.")


# ------------------------------------------------------------------ a class


def grade_variants(
    variants: Sequence[Variant],
    answers: Mapping[str, Mapping[str, str | None]],
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> tuple[StudentResult, ...]:
    """Grade every variant's answers (a student with no row gets every question ``missing``)."""
    out = []
    for v in variants:
        row = answers.get(v.student)
        items = tuple(
            grade_answer(q, None if row is None else row.get(q.name), rtol=rtol, atol=atol, seed=_seed(v))
            for q in v.questions
        )
        out.append(StudentResult(v.student, v.name, items, v, submitted=row is not None))
    return tuple(out)


def _seed(v: Variant) -> int:
    return derived_seed(0, "grade-points", v.student)


def _check_tolerance(rtol: float, atol: float) -> None:
    if not (math.isfinite(rtol) and 0 <= rtol < 1):
        raise UsageError(f"--rtol {rtol!r}: expected a relative tolerance from 0 to 1, such as 0.01 for 1 %.")
    if not (math.isfinite(atol) and atol >= 0):
        raise UsageError(f"--atol {atol!r}: expected an absolute tolerance >= 0, such as 5e-05.")


def _write_lms(result: AnswersResult, template: Any, out: Path) -> AnswersResult:
    """Fill the LMS template with each student's points and brief feedback; record what happened."""
    import dataclasses

    from grading.answers.report import lms_grades
    from grading.lms import LMS_IMPORT_FILENAME, LmsGrade, write_lms_import

    grades = {sid: LmsGrade(points, text) for sid, (points, text) in lms_grades(result).items()}
    out.mkdir(parents=True, exist_ok=True)
    filled = write_lms_import(out, template, grades, match="student")
    lms = {**filled.to_dict(), "file": LMS_IMPORT_FILENAME, "template": str(template.path)}
    return dataclasses.replace(result, lms=lms)


def grade_answers(
    responses: str | Path,
    variants: str | Path,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    out: str | Path | None = None,
    lms_template: str | Path | None = None,
    lms_column: str | None = None,
    attempt: str = "last",
) -> AnswersResult:
    """Grade a class's derivation answers against each student's own variant.

    Args:
        responses: The responses CSV (``student,w11,a00``) or a Moodle quiz responses download.
        variants: The ``answers.json`` of ``derive key --roster``.
        rtol, atol: The tolerance of numbers.
        out: Also write gradebook.csv, results.json and feedback/ there
            (:func:`grading.answers.report.write_answers_report`).
        lms_template: Moodle's grading worksheet or Canvas's gradebook export: with ``out``,
            ``out/lms-import.csv`` is that file with each student's points (and Moodle's feedback
            comment) filled in, rows found by the student's own id (:func:`grading.lms.fill_lms_template`
            with ``match="student"``).
        lms_column: Canvas: the assignment column, when the export has several.
        attempt: A Moodle quiz download: grade each student's ``"last"`` finished attempt or the
            ``"highest"``-graded one (as the quiz's grading method); unfinished attempts never count.

    Returns:
        The :class:`AnswersResult`; ``status`` ``"invalid"`` when the responses file is unusable.

    Raises:
        UsageError: ``answers.json`` or an option is wrong.
    """
    from grading.errors import InvalidSubmission

    _check_tolerance(rtol, atol)
    if attempt not in ATTEMPTS:
        raise UsageError(f"--quiz-attempt {attempt!r}: expected one of {', '.join(ATTEMPTS)}.")
    template = None
    if lms_template is not None:
        if out is None:
            raise UsageError("--lms-template writes OUT/lms-import.csv: give --out DIR as well.")
        from grading.lms import read_lms_template

        template = read_lms_template(lms_template, column=lms_column)
    vs = load_variants(variants)
    questions = tuple(q.name for q in vs[0].questions)
    try:
        read = read_responses(responses, [v.student for v in vs], questions, attempt=attempt)
    except InvalidSubmission as exc:
        return AnswersResult(
            "invalid", errors=(str(exc),), questions=questions, rtol=rtol, atol=atol, source=str(responses)
        )
    warnings = list(read.warnings)
    if not read.answers:
        return AnswersResult(
            "invalid",
            errors=(
                f"{Path(responses).name}: no row names a student of answers.json; "
                "check that the student column holds the roster's ids.",
            ),
            warnings=tuple(warnings),
            questions=questions,
            rtol=rtol,
            atol=atol,
            source=str(responses),
        )
    absent = [v.student for v in vs if v.student not in read.answers]
    if absent:
        warnings.append(
            f"{len(absent)} student(s) of answers.json have no row, every answer missing: "
            f"{', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}."
        )
    students = grade_variants(vs, read.answers, rtol=rtol, atol=atol)
    stale = sorted(
        {
            i.question
            for s in students
            for i, q in zip(s.items, s.variant.questions)
            if abs(i.expected - q.value) > 1e-9 * max(1.0, abs(q.value))
        }
    )
    if stale:
        warnings.append(
            f"answers.json's value of {', '.join(stale)} differs from the engine's today; the engine's is "
            "used. Was the problem set or gradkit changed after `derive key`? Re-run it to be sure."
        )
    result = AnswersResult("graded", students, tuple(warnings), (), questions, rtol, atol, str(responses))
    if template is not None and out is not None:
        result = _write_lms(result, template, Path(out))
    if out is not None:
        from grading.answers.report import write_answers_report

        write_answers_report(result, Path(out))
    return result
