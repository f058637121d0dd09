"""What a kind of question is: the :class:`Kind` protocol, its answer :class:`AnswerModel`, and a worked :class:`Part`.

A *kind* (``conv-gradient``, ``softmax-ce``, ``batchnorm``, ``conv-shape``, ``params``,
``polyfit``, ``network``) is one object that knows everything gradkit does with one sort
of exam question. :mod:`derive.problemset` (reading a problem set), :mod:`derive.sheet`
(solving it), :mod:`derive.key` (the LaTeX sheets) and :mod:`grading.answers` (``grade
--variants``) only ever call these methods, through the registry :mod:`derive.kinds`;
none of them names a kind. A kind answers:

Options and their validation
    :attr:`Kind.options` are the keys its ``[[item]]`` table may have besides the common
    ``id``, ``kind``, ``points``, ``question``, ``title`` (and ``wrt``, ``values`` when
    :attr:`Kind.asks`); :meth:`Kind.parse` turns them into the validated *problem* (any
    object, usually a frozen dataclass). :meth:`Kind.config` writes the problem as
    ``answers.json``'s JSON-safe ``problem``; :meth:`Kind.from_config` reads it back.
Variables
    A kind that :attr:`asks` takes ``wrt = [...]``: :meth:`Kind.check_variable` accepts a
    name (returning its canonical spelling, ``w_{1,1}`` → ``w11``) or raises. A kind that
    does not ask answers every one of :meth:`Kind.variables` (``out``, ``params``, ``w3``...).
Values
    :meth:`Kind.random_values` draws a student's numbers from a seed (``None``: the kind
    has none), :meth:`Kind.check_values` validates given ones (a ``values`` table, or
    ``answers.json``'s) and returns them in the form :meth:`Kind.solve` takes.
Solving
    :meth:`Kind.solve` works out every variable asked: one :class:`Part` (steps, boxed
    number) each.
LaTeX
    :meth:`Kind.question_latex` is the default wording of the question (a TA's ``question``
    replaces it), :meth:`Kind.given_latex` the numbers shown above the parts; both return
    finished LaTeX (every user string through :func:`derive.latex_env.esc`).
The answer model
    :meth:`Kind.model` gives the :class:`AnswerModel` ``grade --variants`` grades against:
    the names a formula may use, the number of each at a point, the right value, and the
    named mistakes (:attr:`Kind.explanations` holds the sentences of the kind's own mistakes).

Every method raises :class:`~derive.errors.DeriveError` for a user's mistake, with a
one-line message; :meth:`Kind.parse` and :meth:`Kind.from_config` start it with the ``where``
they are given (:func:`naming` does that), the others leave ``where`` to the caller.
Register a new kind with :func:`derive.kinds.register`; ``tests/keys/test_kinds_registry.py``
adds a toy kind in the test file itself and checks every registered kind's :attr:`example`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from derive.errors import DeriveError, did_you_mean
from derive.steps import Derivation

__all__ = [
    "AnswerModel",
    "Kind",
    "Part",
    "dataclass_config",
    "derivation_parts",
    "lookup",
    "naming",
    "question_template",
    "unknown_keys",
]


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


class AnswerModel:
    """How ``grade --variants`` grades one question of a kind (one problem of ``answers.json``).

    - ``resolve(spelled)``: the canonical name of what a student typed (``w_{1,1}`` → ``w11``), or ``None``;
    - ``check(values)``: ``answers.json``'s values validated, in the form the other methods take;
    - ``env(values)``: every name's number at a point (leaves and nodes: ``z00``, ``yhat``, ``mu``...), so that
      a formula in nodes is evaluated as if each node were replaced by its definition;
    - ``right(values, wrt)``: the right number, from the engine; ``right_at`` the same, possibly faster;
    - ``mistakes(values, wrt, right)``: ``{mistake id: [value, ...]}``, what a student who makes each one answers;
    - ``random_values(seed)``: another point in the question's own layout, for checking formulas.

    ``integer`` answers are compared exactly; ``formulas`` is false when only a number is accepted.
    """

    kind = ""
    integer = False
    formulas = True

    def __init__(self, problem: Any = None) -> None:
        self.problem = problem

    def resolve(self, spelled: str) -> str | None:
        return None

    def check(self, values: Any) -> Any:
        return values

    def env(self, values: Any) -> dict[str, float]:
        return {}

    def right(self, values: Any, wrt: str) -> float:
        raise NotImplementedError

    def right_at(self, values: Any, wrt: str) -> float:
        """The right value at another point (for formula checks); a model may do it faster than :meth:`right`."""
        return self.right(values, wrt)

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return {}

    def random_values(self, seed: int) -> Any:
        return None


class Kind(ABC):
    """One kind of question (see the module docstring). Subclass it, set the class attributes, register an instance.

    Attributes:
        name: The ``kind = "..."`` of a problem-set item.
        options: The keys of its item table besides the common ones.
        asks: True when the item takes ``wrt`` and ``values`` (a derivation at numbers); false when
            the question has fixed answers (:meth:`variables`) and no values.
        wrt_example: A ``wrt`` list for the error message of a missing one (kinds that ask).
        uses_stored_value: The model's right answer is the one ``answers.json`` stores (``params``:
            counting again would need torch); :meth:`model` then gets it per question.
        explanations: Mistake id → the sentence ``grade --variants`` shows for this kind, where it
            differs from (or is not among) grading's general ones.
        example: The TOML of one ``[[item]]`` table of this kind (docs and the conformance test).
    """

    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]]
    asks: ClassVar[bool] = True
    wrt_example: ClassVar[str] = '["x"]'
    uses_stored_value: ClassVar[bool] = False
    explanations: ClassVar[Mapping[str, str]] = {}
    example: ClassVar[str]

    # -- options
    @abstractmethod
    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Any:
        """The validated problem from an item's ``options``; a message starts with ``where`` (see :func:`naming`).

        ``source`` is the problem set's path (``<...>`` when there is no file), for files named relative to it.
        """

    def config(self, problem: Any) -> dict[str, Any]:
        """The problem as ``answers.json``'s JSON-safe ``problem`` (default: the dataclass's fields)."""
        return dataclass_config(problem)

    def from_config(self, config: Mapping[str, Any], *, where: str) -> Any:
        """The problem back from :meth:`config` (or from problem-set options); a message starts with ``where``."""
        unknown_keys(config, self.options, where)
        return self.parse(dict(config), where=where, source=where)

    # -- variables
    def variables(self, problem: Any) -> tuple[str, ...]:
        """Every variable the problem has (for a kind that does not ask: every answer)."""
        return tuple(problem.variables)

    def check_variable(self, problem: Any, name: str) -> str:
        """The canonical spelling of variable ``name``, or raise."""
        known = self.variables(problem)
        if name not in known:
            raise DeriveError(
                f"unknown variable {name!r}; this problem has {', '.join(known)}.{did_you_mean(name, known)}"
            )
        return name

    # -- values
    def random_values(self, problem: Any, seed: int) -> dict[str, Any] | None:
        """A student's numbers drawn from ``seed`` in the ``values`` layout; ``None`` for a kind without values."""
        return None

    def check_values(self, problem: Any, values: Mapping[str, Any]) -> Any:
        """Given values validated (messages may start ``values: ``), in the form :meth:`solve` takes."""
        return values

    # -- solving
    @abstractmethod
    def solve(self, problem: Any, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        """One :class:`Part` per variable of ``wrt`` at checked ``values`` (``None`` for a kind without values)."""

    # -- LaTeX
    @abstractmethod
    def question_latex(self, problem: Any, wrt: tuple[str, ...]) -> str:
        """The question in the handouts' words, as LaTeX."""

    def formula_latex(self, problem: Any, wrt: str) -> str | None:
        """The right answer as a formula of the problem's names, in LaTeX, or ``None`` (a number-only kind).

        The notebook review shows it as the key's answer when the student's own numbers are unknown.
        """
        return None

    def given_latex(self, problem: Any, values: Mapping[str, Any]) -> list[str]:
        """The item's numbers as LaTeX lines, once, above its parts."""
        from derive.steps import given_steps

        return [s.latex for s in given_steps(values, latex_names=_SYMBOLS)]

    # -- grading
    @abstractmethod
    def model(self, problem: Any, value: float) -> AnswerModel:
        """The :class:`AnswerModel` of ``problem`` (``value``: the number stored, used if :attr:`uses_stored_value`)."""


_SYMBOLS = {"gamma": r"\gamma", "beta": r"\beta", "eps": r"\epsilon", "dy": r"\frac{\partial L}{\partial y_i}"}


@contextmanager
def naming(where: str) -> Iterator[None]:
    """Put ``where`` before the message of a :class:`~derive.errors.DeriveError` raised inside."""
    try:
        yield
    except DeriveError as exc:
        raise DeriveError(f"{where}: {exc}") from None


def dataclass_config(problem: Any) -> dict[str, Any]:
    """A dataclass problem's init fields, tuples as lists (JSON-safe).

    >>> from derive.softmax_ce import SoftmaxCE
    >>> dataclass_config(SoftmaxCE(classes=7))
    {'classes': 7, 'activation': 'softmax'}
    """
    return {
        f.name: list(v) if isinstance(v := getattr(problem, f.name), tuple) else v for f in fields(problem) if f.init
    }


def unknown_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str = "") -> None:
    """Raise on the first key of ``table`` not in ``allowed``, naming ``where`` (if given) and the allowed keys."""
    for key in table:
        if key not in allowed:
            prefix = f"{where}: " if where else ""
            raise DeriveError(
                f"{prefix}unknown key {key!r}; expected one of {', '.join(sorted(allowed))}.{did_you_mean(key, allowed)}"
            )


def lookup(names: set[str], spelled: str, aliases: Mapping[str, str]) -> str | None:
    """``spelled`` as one of ``names``: as typed, without underscores, or through ``aliases``."""
    for cand in (spelled, spelled.replace("_", ""), aliases.get(spelled), aliases.get(spelled.replace("_", ""))):
        if cand is not None and cand in names:
            return cand
    return None


def derivation_parts(wrt: tuple[str, ...], derive_one: Callable[[str], Derivation]) -> tuple[Part, ...]:
    """One :class:`Part` per name of ``wrt`` from a function giving its :class:`~derive.steps.Derivation`."""
    parts = []
    for name in wrt:
        d = derive_one(name)
        assert d.result.value is not None
        parts.append(Part(name=name, derivation=d, value=d.result.value))
    return tuple(parts)


def question_template(kind: str, asked: list[str], **context: Any) -> str:
    """The default wording of a built-in kind's question: ``templates/key_question.tex.j2`` for ``kind``."""
    from derive.latex_env import environment

    template = environment().get_template("key_question.tex.j2")
    return template.render(kind=kind, asked=asked, **context).strip()
