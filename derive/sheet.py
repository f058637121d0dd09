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

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from derive.errors import DeriveError
from derive.problemset import DEFAULT_SEED, Item, ProblemSet, Student
from derive.steps import Derivation, Step, int_latex

__all__ = ["Part", "Sheet", "Solved", "derived_seed", "problem_config", "solve"]


@dataclass(frozen=True)
class Part:
    """The worked answer to one variable asked by an item.

    Attributes:
        name: The answer's key in ``answers.json`` (``"w11"``, ``"out"``, ``"params"``).
        derivation: Its steps and boxed result.
        value: The number (a float, or an int for shapes and counts).
        table_latex: A LaTeX table shown before the steps (the parameter table), or ``""``.
    """

    name: str
    derivation: Derivation
    value: float | int
    table_latex: str = ""


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
                        "problem": problem_config(s.item.problem),
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
    :func:`derive.problemset.make_problem` reads either back.

    >>> from derive.softmax_ce import SoftmaxCE
    >>> problem_config(SoftmaxCE(classes=7))
    {'classes': 7, 'activation': 'softmax'}
    """
    from dataclasses import fields

    if callable(getattr(problem, "config", None)):
        return problem.config()  # type: ignore[no-any-return]
    return {
        f.name: list(v) if isinstance(v := getattr(problem, f.name), tuple) else v for f in fields(problem) if f.init
    }


def derived_seed(seed: int, *parts: str) -> int:
    """A 32-bit seed from ``seed`` and text ``parts`` via SHA-256 (stable, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


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
    if item.kind == "conv-shape":
        return Solved(item, None, _conv_shape_parts(item.problem))
    if item.kind == "params":
        return Solved(item, None, (_params_part(item.problem.model, item.problem.input_shape),))
    if item.kind == "polyfit":
        from derive.polyfit import polyfit_parts

        return Solved(item, None, polyfit_parts(item.problem))
    if item.kind == "softmax-ce":
        from derive.softmax_ce import check_values, random_values
        from derive.softmax_ce import derive_softmax_ce as derive_one
    elif item.kind == "batchnorm":
        from derive.batchnorm import check_values, random_values
        from derive.batchnorm import derive_batchnorm as derive_one
    elif item.kind == "network":
        from derive.network import check_values as check_net
        from derive.network import network_gradient, random_values

        def check_values(problem: Any, values: Mapping[str, Any]) -> Any:
            check_net(problem, values)
            return values

        def derive_one(problem: Any, wrt: str, *, values: Mapping[str, Any]) -> Derivation:
            return network_gradient(problem, wrt, values=values, check=False).to_derivation()
    else:
        from derive.engine import gradient
        from derive.values import check_values as check_conv
        from derive.values import random_values

        def check_values(problem: Any, values: Mapping[str, Any]) -> Any:
            return check_conv(values, problem)

        def derive_one(problem: Any, wrt: str, *, values: Mapping[str, Any]) -> Derivation:
            return gradient(problem, wrt, values=values, check=False).to_derivation()

    raw = dict(item.values) if item.values is not None else random_values(item.problem, seed)
    values = check_values(item.problem, raw)
    parts = []
    for name in item.wrt:
        d = derive_one(item.problem, name, values=values)
        assert d.result.value is not None
        parts.append(Part(name=name, derivation=d, value=d.result.value))
    return Solved(item, raw, tuple(parts))


def _conv_shape_parts(shape: Any) -> tuple[Part, ...]:
    from derive.shapes import conv_output_size

    dims = [conv_output_size(shape.input[d], shape.kernel[d], shape.stride[d], shape.padding[d]) for d in range(2)]
    c_in, c_out = (str(c) for c in shape.channels) if shape.channels else ("C_{in}", "C_{out}")
    final = Step(
        "output shape",
        f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) \\to (B, {c_out}, {dims[0].result}, {dims[1].result})",
        f"(B, {c_in}, {shape.input[0]}, {shape.input[1]}) → (B, {c_out}, {dims[0].result}, {dims[1].result})",
        None,
        "Output size",
    )
    formula = Step(
        "formula",
        "\\left\\lfloor \\frac{W + 2P - K}{S} \\right\\rfloor + 1",
        "⌊(W + 2P − K)/S⌋ + 1",
        None,
        "Output size",
    )
    notes = ["No +1 inside the floor: a kernel of size K fits ⌊(W + 2P − K)/S⌋ + 1 times."]
    square = len(shape.variables) == 1
    parts = []
    for name, label, step in zip(shape.variables, ("H = W",) if square else ("H", "W"), dims):
        side = {"H": "H_{out}", "W": "W_{out}", "H = W": "H_{out} = W_{out}"}[label]
        work = Step(name, f"{side} = {step.latex()}", f"{label}_out = {step.text()}", float(step.result), "Output size")
        steps = (formula, work, final) if name != "out_h" else (formula, work)
        d = Derivation(
            title=f"{label} output size",
            steps=steps,
            result=work,
            notes=tuple(notes + ([step.note] if step.note else [])),
        )
        parts.append(Part(name=name, derivation=d, value=step.result))
    return tuple(parts)


@lru_cache(maxsize=16)
def _params_part(model: str, input_shape: tuple[int, ...] | None) -> Part:
    from reference_models.errors import ModelError
    from reference_models.summary import param_table

    try:
        table = param_table(model, input_shape)
    except ModelError as exc:
        raise DeriveError(f"parameter table of {model!r}: {exc}") from None
    counted = [row.params for row in table.layers if row.params]
    total_latex = f"\\text{{total}} = {int_latex(table.total)}"
    if 1 < len(counted) <= 12:
        total_latex = "\\text{total} = " + " + ".join(int_latex(n) for n in counted) + f" = {int_latex(table.total)}"
    result = Step("params", total_latex, f"total = {table.total:,}", float(table.total), "Parameters")
    d = Derivation(title=f"Parameters of {model}", steps=(result,), result=result, notes=(table.check_line(),))
    return Part(name="params", derivation=d, value=table.total, table_latex=table.to_latex())
