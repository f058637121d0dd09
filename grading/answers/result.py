"""What grading the derivation answers gives: one :class:`ItemResult` per answer, a
:class:`StudentResult` per student, the class's :class:`AnswersResult` (its JSON contract).

Kept apart from :mod:`grading.answers.grade` (which computes them) so that
:mod:`grading.answers.report` (which renders them) imports only this.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from grading.answers.tolerance import DEFAULT_ATOL, DEFAULT_RTOL
from grading.answers.variants import Variant

__all__ = ["AnswersResult", "ItemResult", "StudentResult", "VERDICTS"]

VERDICTS = ("correct", "wrong", "unreadable", "missing")


@dataclass(frozen=True)
class ItemResult:
    """One graded answer; ``expected`` is the right value for this student."""

    question: str
    answer: str | None
    verdict: str
    misconception: str | None
    expected: float
    points: float
    max_points: float
    why: str | None
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract's item: question, answer, verdict, misconception, expected, points, why."""
        return {
            "question": self.question,
            "answer": self.answer,
            "verdict": self.verdict,
            "misconception": self.misconception,
            "expected": self.expected,
            "points": self.points,
            "why": self.why,
        }


@dataclass(frozen=True)
class StudentResult:
    """A student's graded answers; ``submitted`` is False when the responses have no row for them."""

    student: str
    name: str | None
    items: tuple[ItemResult, ...]
    variant: Variant
    submitted: bool = True

    @property
    def points(self) -> float:
        return math.fsum(i.points for i in self.items)

    @property
    def max_points(self) -> float:
        return math.fsum(i.max_points for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "name": self.name,
            "points": _round(self.points),
            "max_points": _round(self.max_points),
            "items": [i.to_dict() for i in self.items],
        }


def _round(x: float) -> float:
    return round(x, 6) + 0.0


@dataclass(frozen=True)
class AnswersResult:
    """The class graded: ``status`` is ``"graded"`` or ``"invalid"`` (then ``errors`` says why)."""

    status: str
    students: tuple[StudentResult, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    source: str = ""
    lms: dict[str, Any] | None = None
    """With an LMS template: what went into ``lms-import.csv`` (``kind``, ``column``, ``filled``,
    ``unmatched`` students, ``warnings``, ``file``, ``template``)."""

    @property
    def ok(self) -> bool:
        return self.status == "graded"

    @property
    def misconceptions(self) -> dict[str, int]:
        """Mistake id → how many students made it (at least once), most frequent first."""
        counts = Counter(m for s in self.students for m in {i.misconception for i in s.items} if m)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: status, students, misconceptions, warnings, errors (and ``lms`` when a template was filled)."""
        doc: dict[str, Any] = {
            "status": self.status,
            "students": [s.to_dict() for s in self.students],
            "misconceptions": self.misconceptions,
            "warnings": list(self.warnings),
            "errors": list(self.errors),
        }
        if self.lms is not None:
            doc["lms"] = self.lms
        return doc
