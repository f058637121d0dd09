"""The one place the notebook grader meets the answer engine (:mod:`grading.answers`).

Everything that knows how a question is built (``Question``, ``model_for``) and how the engine is
called (``grade_answer``, ``parse_formula``) is here, so that when the question kinds move behind a
registry only this module changes. A student's names are resolved by :class:`StudentNames`
(aliases of the problem set, the student's own definitions) wrapped around the kind's model;
nothing a student wrote is evaluated: formulas are parsed by :func:`grading.answers.parse.parse_formula`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grading.answers.grade import ItemResult, grade_answer
from grading.answers.models import Model, model_for
from grading.answers.parse import Unreadable, evaluate, parse_formula
from grading.answers.read import read_number
from grading.answers.tolerance import DEFAULT_ATOL, DEFAULT_RTOL
from grading.answers.variants import Question, Variant
from grading.notebook.locate import Definition, Step, is_loss, name_key

__all__ = ["MAX_STEPS", "EngineQuestion", "StudentNames", "check_steps", "grade_text", "questions_for"]

MAX_STEPS = 20
"""The intermediate derivatives checked per question (the last ones before its answer)."""

_BUILTIN_ALIASES = {"yy": "y", "label": "y", "target": "y", "yt": "y", "sigmayhat": "p"}


@dataclass(frozen=True)
class EngineQuestion:
    """A question as the engine takes it, and whether numbers can be checked (own or fixed values)."""

    question: Question
    numbers_known: bool
    expected: Any


def questions_for(problem_set: Any, variant: Variant | None, *, seed: int) -> list[EngineQuestion]:
    """The questions of ``problem_set``; with ``variant`` the student's own (numbers checked against them).

    Without a variant each question gets the problem set's fixed values, or random values drawn
    from ``seed`` (then a formula is checked at random points and a bare number cannot be).
    """
    from derive import kinds

    if variant is not None:
        return [EngineQuestion(q, q.values is not None, q.value) for q in variant.questions]
    names = [w for item in problem_set.items for w in item.wrt]
    out = []
    for item in problem_set.items:
        kind = kinds.get(item.kind)
        config = kind.config(item.problem)
        points = None if item.points is None else item.points / len(item.wrt)
        for wrt in item.wrt:
            name = wrt if names.count(wrt) == 1 else f"{item.id}.{wrt}"
            model = model_for(item.kind, config, 0.0)
            values = item.values
            has_values = kind.random_values(item.problem, 0) is not None
            if values is not None:
                values = model.check(values)
            elif has_values and model.formulas:  # a formula is checked at random values
                values = model.random_values(kinds.derived_seed(seed, "notebook", name))
            # a count or a shape is known without values; a stored count (params) needs torch, a network its values
            known = item.values is not None or not (has_values or kind.uses_stored_value)
            value = model.right(values, wrt) if known or values is not None else math.nan
            expected: Any = value if known or not model.formulas else _formula_latex(kind, item, wrt, value)
            q = Question(name, item.id, item.kind, wrt, model, values, 1.0 if points is None else points, value)
            out.append(EngineQuestion(q, known, expected))
    return out


def _formula_latex(kind: Any, item: Any, wrt: str, value: float) -> Any:
    """The key's answer as a formula in LaTeX where the kind writes one, else the number."""
    return kind.formula_latex(item.problem, wrt) or value


class StudentNames(Model):
    """A kind's model, with the names one student made up resolved: aliases, then their definitions.

    ``aliases`` maps a canonical name or letter to the spellings the problem set allows
    (``{"v": ["u", "w2"]}``); ``defs`` are the definitions found in the notebook. A name that
    resolves nowhere stays unknown, and the formula is needs-review with that name.
    """

    def __init__(
        self,
        base: Model,
        aliases: Mapping[str, Sequence[str]],
        defs: Sequence[Definition],
        shared: SharedPoints | None = None,
    ) -> None:
        self.base = base
        self.shared = shared if shared is not None and shared.base is base else None
        self.kind, self.integer, self.formulas = base.kind, base.integer, base.formulas
        self.alias: dict[str, str] = dict(_BUILTIN_ALIASES)
        for canonical, spellings in aliases.items():
            for sp in spellings:
                self.alias[name_key(sp)] = canonical
        self.exact = {d.name: d for d in defs if not d.indices}
        self.generic = {d.name: d for d in defs if d.indices}
        self.symbols: dict[str, Any] = {}
        self.busy: set[str] = set()
        self.unknown: list[str] = []

    def _base(self, key: str) -> str | None:
        found = self.base.resolve(key) or self.base.resolve(key.replace("_", ""))
        if found is None:
            m = re.fullmatch(r"([A-Za-z]+?)_?(\d*)", key.replace("_", ""))
            if m and m.group(1) in self.alias:
                found = self.base.resolve(self.alias[m.group(1)] + m.group(2))
            elif key in self.alias:
                found = self.base.resolve(self.alias[key])
        return found

    def resolve(self, spelled: str) -> str | None:
        key = spelled.replace("_", "")
        if key in self.exact:
            d = self.exact[key]
            own = self._definition(key, d.rhs)
            if own is not None:
                return own
        found = self._base(spelled)
        if found is not None:
            return found
        m = re.fullmatch(r"([A-Za-z]+?)(\d+)", key)
        if m and m.group(1) in self.generic and len(self.generic[m.group(1)].indices) == len(m.group(2)):
            d = self.generic[m.group(1)]
            table = dict(zip(d.indices, m.group(2)))
            rhs = re.sub(
                r"_\s*(\{[^{}]*\}|[A-Za-z0-9])",
                lambda s: "_{" + "".join(table.get(c, c) for c in s.group(1).strip("{}")) + "}",
                d.rhs,
            )
            own = self._definition(key, rhs)
            if own is not None:
                return own
        if spelled not in self.unknown:
            self.unknown.append(spelled)
        return None

    def _definition(self, key: str, rhs: str) -> str | None:
        symbol = f"nb_{key}"
        if symbol in self.symbols:
            return symbol
        if key in self.busy or len(self.busy) > 20:
            return None
        self.busy.add(key)
        try:
            expr = parse_formula(_clean(rhs), self.resolve)
        except Unreadable:
            return None
        finally:
            self.busy.discard(key)
        self.symbols[symbol] = expr
        return symbol

    def check(self, values: Any) -> Any:
        return self.base.check(values)

    def env(self, values: Any) -> dict[str, float]:
        env = self.shared.env(values) if self.shared is not None else self.base.env(values)
        for symbol, expr in self.symbols.items():  # in the order made: inner definitions first
            env[symbol] = evaluate(expr, env)
        return env

    def right(self, values: Any, wrt: str) -> float:
        return self.base.right(values, wrt)

    def right_at(self, values: Any, wrt: str) -> float:
        return self.shared.right_at(values, wrt) if self.shared is not None else self.base.right_at(values, wrt)

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return self.base.mistakes(values, wrt, right)

    def random_values(self, seed: int) -> Any:
        return self.shared.random_values(seed) if self.shared is not None else self.base.random_values(seed)


class SharedPoints:
    """One question's check points and the graph's values there, worked out once for a class.

    The points depend on the problem set's seed only, so every student is checked at the same
    ones; a student's own definitions are added on top of a copy (:meth:`StudentNames.env`).
    Values are remembered by identity, and the object is kept, so a new one is never mistaken for it.
    """

    def __init__(self, base: Model) -> None:
        self.base = base
        self._points: dict[int, Any] = {}
        self._env: dict[int, tuple[Any, dict[str, float]]] = {}
        self._right: dict[tuple[int, str], tuple[Any, float]] = {}

    def random_values(self, seed: int) -> Any:
        if seed not in self._points:
            self._points[seed] = self.base.random_values(seed)
        return self._points[seed]

    def env(self, values: Any) -> dict[str, float]:
        hit = self._env.get(id(values))
        if hit is None or hit[0] is not values:
            hit = self._env[id(values)] = (values, self.base.env(values))
        return dict(hit[1])

    def right_at(self, values: Any, wrt: str) -> float:
        hit = self._right.get((id(values), wrt))
        if hit is None or hit[0] is not values:
            hit = self._right[(id(values), wrt)] = (values, self.base.right_at(values, wrt))
        return hit[1]


def _clean(answer: str) -> str:
    """The right-most side as the parser takes it: ``\\boxed{}``, trailing punctuation and ``\\quad`` notes dropped."""
    s = answer.strip()
    m = re.fullmatch(r"\\boxed\s*\{(.*)\}", s, re.S)
    if m:
        s = m.group(1)
    s = re.split(r"\\(?:quad|qquad|text\{\s*(?:where|for|with)\b)", s)[0]
    return s.strip().rstrip(".,;").strip()


def grade_text(eq: EngineQuestion, text: str, names: StudentNames, *, seed: int) -> tuple[ItemResult, str | None]:
    """Grade one found answer; returns the engine's result and, for needs-review, why.

    A bare number is only graded when the student's numbers are known (variants or fixed values).
    """
    q = dataclasses.replace(eq.question, model=names)
    cleaned = _clean(text)
    number = read_number(cleaned, integer=names.integer)
    if number is not None and not eq.numbers_known:
        return (
            ItemResult(q.name, text, "unreadable", None, math.nan, 0.0, q.points, None, q.kind),
            "a number can only be checked against the student's own values; give the assignment's "
            "variants (answers.json) or check it by hand.",
        )
    names.unknown.clear()
    result = grade_answer(q, cleaned, seed=seed)
    why = None
    if result.verdict == "unreadable":
        unknown = [u for u in names.unknown if u]
        why = (
            f"the name {unknown[0]!r} is not defined in the notebook; check what the student meant by it."
            if unknown and (result.why or "").startswith("unknown name")
            else f"the answer could not be read: {result.why}"
        )
    return result, why


def check_steps(eq: EngineQuestion, steps: Sequence[Step], names: StudentNames, *, seed: int) -> list[dict[str, Any]]:
    """``[{step, ok}]``: each intermediate derivative's right side against the graph at three points."""
    from derive.kinds import derived_seed

    graph = getattr(eq.question.model, "graph", None)
    out = []
    for st in steps[-MAX_STEPS:]:
        ok: bool | None = None
        num, den = names.resolve(st.num) if not is_loss(st.num) else "L", names.resolve(st.den)
        if graph is not None and num and den and den in graph.nodes:
            points = [eq.question.values] if eq.numbers_known else []
            points += [names.random_values(derived_seed(seed, "step", st.label, str(k))) for k in range(3)]
            try:
                expr = parse_formula(_clean(st.rhs), names.resolve)
                checks = []
                for point in points:
                    env = names.env(point)
                    truth = _true_step(graph, env, num, den)
                    if truth is None:
                        break
                    if expr.free_symbols or point is eq.question.values:
                        got = evaluate(expr, env)
                        checks.append(abs(got - truth) <= max(DEFAULT_RTOL * abs(truth), DEFAULT_ATOL))
                if checks:
                    ok = all(checks)
            except (Unreadable, KeyError, ValueError, ZeroDivisionError, OverflowError):
                ok = None
        out.append({"step": st.label, "ok": ok})
    return out


def _true_step(graph: Any, env: Mapping[str, float], num: str, den: str) -> float | None:
    from derive.kinds import edge_value
    from derive.kinds.conv_gradient import conv_chain

    if num == "L":
        return math.fsum(conv_chain(graph, env, den))
    node = graph.nodes.get(num)
    if node is not None and den in node.local:
        return float(edge_value(graph, (num, den), env))
    return None
