"""Solving a problem set: each item's values drawn or taken, and every question worked out.

:func:`solve` turns a :class:`~derive.problemset.ProblemSet` into a :class:`Sheet`
(one seed, and one student when variants are made): per item the values used and
one :class:`Part` per variable asked, each a :class:`~derive.steps.Derivation`
and its number. :mod:`derive.key` renders sheets as LaTeX and writes the files.

Per-student variants draw their numbers from a seed derived from
``(seed, student id, item id)`` with SHA-256 (:func:`derived_seed`), so a
variant is the same on every machine and in every Python.

>>> derived_seed(7, "b0123", "1") == derived_seed(7, "b0123", "1")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derive import kinds
from derive.kinds.base import Part, dataclass_config
from derive.problemset import DEFAULT_SEED, Item, ProblemSet, Student
from derive.values import derived_seed  # re-exported: derive.sheet.derived_seed stays

__all__ = ["Part", "Sheet", "Solved", "derived_seed", "problem_config", "solve"]


@dataclass(frozen=True)
class Solved:
    """One item worked out: the values used (``None`` for shape and count questions) and its parts."""

    item: Item
    values: dict[str, Any] | None
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Sheet:
    """A problem set solved for one seed, and for one student when variants are made."""

    problem_set: ProblemSet
    seed: int
    student: Student | None
    solved: tuple[Solved, ...]

    def answers(self) -> dict[str, float | int]:
        """Each variable asked mapped to its number; ``"<item id>.<name>"`` where two items ask the same name."""
        names = [p.name for s in self.solved for p in s.parts]
        out: dict[str, float | int] = {}
        for s in self.solved:
            for p in s.parts:
                out[p.name if names.count(p.name) == 1 else f"{s.item.id}.{p.name}"] = p.value
        return out

    def values(self) -> dict[str, Any]:
        """The values in the ``--values`` layout; keyed by item id when several items have values."""
        with_values = [s for s in self.solved if s.values is not None]
        if len(with_values) == 1:
            return with_values[0].values  # type: ignore[return-value]
        return {s.item.id: s.values for s in with_values}

    def questions(self) -> list[dict[str, Any]]:
        """What ``grade --variants`` needs per answer: its name, item, kind, problem, values and points.

        ``name`` is the answer's key in :meth:`answers` (``"<item id>.<wrt>"`` when two
        items ask the same variable); ``points`` is the item's points shared equally
        among its parts, or ``None`` when the item has none.
        """
        keys = iter(self.answers())
        out = []
        for s in self.solved:
            points = None if s.item.points is None else s.item.points / len(s.parts)
            for p in s.parts:
                out.append(
                    {
                        "name": next(keys),
                        "item": s.item.id,
                        "kind": s.item.kind,
                        "wrt": p.name,
                        "problem": kinds.get(s.item.kind).config(s.item.problem),
                        "values": s.values,
                        "points": points,
                        "value": p.value,
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """One entry of ``answers.json``: ``{"student", "name", "seed", "values", "answers", "questions"}``."""
        return {
            "student": self.student.id if self.student else None,
            "name": self.student.name if self.student else None,
            "seed": self.seed,
            "values": self.values(),
            "answers": self.answers(),
            "questions": self.questions(),
        }


def problem_config(problem: Any) -> dict[str, Any]:
    """An item's problem as the options of its problem-set table (tuples as lists), for ``answers.json``.

    A problem with a ``config()`` method gives its own JSON-safe form (polyfit: the pairs, not a path);
    :func:`derive.problemset.make_problem` reads either back. (Each kind's
    :meth:`~derive.kinds.base.Kind.config` is what :meth:`Sheet.questions` writes.)

    >>> from derive.softmax_ce import SoftmaxCE
    >>> problem_config(SoftmaxCE(classes=7))
    {'classes': 7, 'activation': 'softmax'}
    """
    if callable(getattr(problem, "config", None)):
        return problem.config()
    return dataclass_config(problem)


# ------------------------------------------------------------------ solving


def solve(problem_set: ProblemSet, *, seed: int | None = None, student: Student | None = None) -> Sheet:
    """Work out every item of ``problem_set``.

    Args:
        problem_set: A validated problem set.
        seed: The seed for random values; defaults to the set's ``seed``, then :data:`DEFAULT_SEED`.
        student: Draw this student's own numbers (from ``seed`` and the id).

    Returns:
        The :class:`Sheet`; items with given values use them for every student.
    """
    if seed is None:
        seed = problem_set.seed if problem_set.seed is not None else DEFAULT_SEED
    who = student.id if student else ""
    solved = tuple(_solve_item(item, derived_seed(seed, who, item.id)) for item in problem_set.items)
    return Sheet(problem_set=problem_set, seed=seed, student=student, solved=solved)


def _solve_item(item: Item, seed: int) -> Solved:
    kind = kinds.get(item.kind)
    raw = dict(item.values) if item.values is not None else kind.random_values(item.problem, seed)
    if raw is None:  # a kind without values (a shape, a count, a fit)
        return Solved(item, None, kind.solve(item.problem, item.wrt, None))
    values = kind.check_values(item.problem, raw)
    return Solved(item, raw, kind.solve(item.problem, item.wrt, values))
