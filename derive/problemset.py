"""Problem sets: a small TOML file of questions that ``derive key`` turns into answer keys.

::

    title = "Homework 2 (2024): answer key"
    subtitle = "Advanced Machine Learning"      # optional
    seed = 2024                                  # optional: the default --seed

    [[item]]
    kind = "conv-gradient"                       # or softmax-ce, batchnorm, conv-shape, params
    wrt = ["w11", "a00"]
    loss = "mse"
    points = 10
    values = "random"                            # or a table in the --values layout

    [names]                                      # optional: spellings students use (grade reads them)
    v = ["u", "w2", "W^{(2)}"]

Every key is checked here, once, with messages that name the file, the item,
the key, what was expected and what came (:func:`load_problem_set`); the kind's
own options are checked by its module of :mod:`derive.kinds`. The
options of a ``conv-gradient`` item are the fields of
:class:`derive.problem.Problem`; ``softmax-ce`` takes ``classes`` and
``activation``; ``batchnorm`` takes ``batch``; ``network`` takes ``input`` and ``[[item.layer]]``
tables, as a network file (:mod:`derive.network.spec`); ``conv-shape`` takes ``input``,
``kernel``, ``stride``, ``padding``, ``channels``; ``params`` takes ``model``
(a name of ``reference_models``) and ``input_shape``; ``polyfit`` takes ``data``, ``degree`` and ``at``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derive import kinds
from derive._files import parse_toml
from derive.errors import DeriveError, did_you_mean, shown
from derive.kinds.base import unknown_keys
from derive.kinds.conv_shape import ConvShape
from derive.kinds.params import Params

__all__ = [
    "ConvShape",
    "DEFAULT_SEED",
    "Item",
    "KINDS",
    "Params",
    "ProblemSet",
    "Student",
    "load_problem_set",
    "make_problem",
    "parse_problem_set",
    "read_roster",
]

DEFAULT_SEED = 0
"""The seed when neither ``--seed`` nor the problem set's ``seed`` is given."""

KINDS = kinds.names()
"""The derivations a problem-set item may name (the built-in kinds of :mod:`derive.kinds`; see :func:`kinds.names`)."""

_TOP_KEYS = ("item", "names", "seed", "subtitle", "title")
_FIXED = ("id", "kind", "points", "question", "title")  # every item
_ASKED = ("values", "wrt")  # an item of a kind that asks (derivations at numbers)


@dataclass(frozen=True)
class Item:
    """One question of a problem set.

    Attributes:
        number: 1-based position in the file.
        id: The item's ``id`` (default: its number as text).
        kind: The name of a registered kind (:mod:`derive.kinds`).
        problem: The validated configuration, as the kind's :meth:`~derive.kinds.base.Kind.parse` made it.
        wrt: The variables asked, in order.
        values: Given values, or ``None`` to draw them at random per seed.
        points: Points, or ``None``.
        title: A short heading, or ``None``.
        question: The question text written by the TA, or ``None`` for the default wording.
    """

    number: int
    id: str
    kind: str
    problem: Any
    wrt: tuple[str, ...]
    values: Mapping[str, Any] | None
    points: float | None
    title: str | None
    question: str | None


@dataclass(frozen=True)
class ProblemSet:
    """A validated problem set: a title, an optional subtitle and seed, and its items.

    ``names`` is the optional ``[names]`` table: a canonical name -> the spellings students may use
    for it (``v = ["u", "w2"]``). The keys and PDFs do not use it; ``grade`` reads it to resolve the
    names in a student's notebook (:mod:`grading.notebook`).
    """

    title: str
    items: tuple[Item, ...]
    subtitle: str | None = None
    seed: int | None = None
    source: str = "<problem set>"
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def total_points(self) -> float:
        """The sum of the items' points (items without points count 0)."""
        return sum(item.points or 0 for item in self.items)


def load_problem_set(path: str | Path) -> ProblemSet:
    """Read and validate the problem-set TOML at ``path``.

    Raises:
        DeriveError: the file is missing, is not TOML, or a key is wrong; the
            message names the file, the item and the key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeriveError(
            f"{path}: no such problem-set file; give the path of a .toml file such as examples/hw2-2024.toml."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeriveError(f"{path}: cannot read the problem set ({exc}).") from None
    return parse_problem_set(text, source=str(path))


def parse_problem_set(text: str, *, source: str = "<problem set>") -> ProblemSet:
    """Validate problem-set TOML ``text``; ``source`` names it in error messages."""
    data = parse_toml(text, source)  # one line for bad TOML or a file nested hundreds deep
    _unknown(data, _TOP_KEYS, source)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DeriveError(
            f"{source}: key 'title' must be a non-empty string such as \"Homework 2: answer key\", got {title!r}."
        )
    subtitle = data.get("subtitle")
    if subtitle is not None and not isinstance(subtitle, str):
        raise DeriveError(f"{source}: key 'subtitle' must be a string, got {subtitle!r}.")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise DeriveError(f"{source}: key 'seed' must be a whole number >= 0, got {seed!r}.")
    raw_items = data.get("item")
    if not isinstance(raw_items, list) or not raw_items:
        raise DeriveError(
            f"{source}: no questions: add at least one [[item]] table with a 'kind' ({', '.join(kinds.names())})."
        )
    items = tuple(_item(raw, n, source) for n, raw in enumerate(raw_items, start=1))
    seen: dict[str, int] = {}
    for item in items:
        if item.id in seen:
            raise DeriveError(
                f"{source}, item {item.number}: id {item.id!r} is already used by item {seen[item.id]}; ids must differ."
            )
        seen[item.id] = item.number
    names = _names(data.get("names", {}), source)
    return ProblemSet(title=title.strip(), subtitle=subtitle, seed=seed, items=items, source=source, names=names)


def _names(raw: Any, source: str) -> dict[str, tuple[str, ...]]:
    """The ``[names]`` table: each name maps to a list of non-empty spellings, or one line saying which does not.

    >>> _names({"v": ["u", "w2"]}, "p.toml")
    {'v': ('u', 'w2')}
    >>> _names({"v": "u"}, "p.toml")
    Traceback (most recent call last):
    derive.errors.DeriveError: p.toml: [names] must map a name to a list of spellings, such as v = ["u", "w2"]; got 'v' = 'u'. Write the spellings as a list of strings.
    """
    example = 'such as v = ["u", "w2"]'
    if not isinstance(raw, dict):
        raise DeriveError(
            f"{source}: [names] must map a name to a list of spellings, {example}; got names = {shown(raw)}. "
            "Write it as a [names] table."
        )
    out: dict[str, tuple[str, ...]] = {}
    for name, spellings in raw.items():
        if (
            not name.strip()
            or not isinstance(spellings, list)
            or not all(isinstance(s, str) and s.strip() for s in spellings)
        ):
            raise DeriveError(
                f"{source}: [names] must map a name to a list of spellings, {example}; "
                f"got {shown(name)} = {shown(spellings)}. "
                "Write the spellings as a list of strings."
            )
        out[name] = tuple(s.strip() for s in spellings)
    return out


def _unknown(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown_keys(table, allowed, where)


def _item(raw: Any, number: int, source: str) -> Item:
    where = f"{source}, item {number}"
    if not isinstance(raw, dict):
        raise DeriveError(f"{where}: expected a table ([[item]]), got {raw!r}.")
    name = raw.get("kind")
    kind = kinds.find(name) if isinstance(name, str) else None
    if kind is None:
        known = kinds.names()
        hint = did_you_mean(str(name), known) if isinstance(name, str) else ""
        raise DeriveError(f"{where}: key 'kind' must be one of {', '.join(known)}, got {name!r}.{hint}")
    where = f"{source}, item {number} ({kind.name})"
    _unknown(raw, _FIXED + (_ASKED if kind.asks else ()) + kind.options, where)
    options = {k: raw[k] for k in kind.options if k in raw}
    for key in ("id", "question", "title"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise DeriveError(f"{where}: key {key!r} must be a non-empty string, got {raw[key]!r}.")
    points = raw.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        raise DeriveError(f"{where}: key 'points' must be a number >= 0, got {points!r}.")
    problem = kind.parse(options, where=where, source=source)
    wrt: tuple[str, ...] = _wrt(raw, problem, kind, where) if kind.asks else kind.variables(problem)
    values = raw.get("values", "random")
    if values == "random":
        values = None
    elif not isinstance(values, dict):
        raise DeriveError(
            f"{where}: key 'values' must be \"random\" or a table in the --values layout, got {values!r}."
        )
    else:
        _check_values(kind, problem, values, f"{where}, values")
    return Item(
        number=number,
        id=raw.get("id", str(number)).strip(),
        kind=kind.name,
        problem=problem,
        wrt=wrt,
        values=values,
        points=None if points is None else float(points),
        title=raw.get("title"),
        question=raw.get("question"),
    )


def make_problem(kind: str, options: Mapping[str, Any], *, where: str = "problem") -> Any:
    """The validated problem of a ``kind`` from its options (as in a problem set, or ``answers.json``'s ``problem``).

    This is the kind's :meth:`~derive.kinds.base.Kind.from_config` (a polyfit problem is read from
    :meth:`derive.polyfit.Polyfit.config`: its pairs ``x`` and ``y``, no file).

    >>> make_problem("conv-shape", {"input": [48, 48], "kernel": [7, 7], "stride": [2, 2], "padding": [3, 3]}).stride
    (2, 2)
    """
    return kinds.get(kind, where=where).from_config(options, where=where)


def _wrt(raw: Mapping[str, Any], problem: Any, kind: kinds.Kind, where: str) -> tuple[str, ...]:
    wrt = raw.get("wrt")
    if isinstance(wrt, str):
        wrt = [wrt]
    if not isinstance(wrt, list) or not wrt or not all(isinstance(w, str) for w in wrt):
        raise DeriveError(f"{where}: key 'wrt' must list the variables asked, such as {kind.wrt_example}, got {wrt!r}.")
    if len(set(wrt)) != len(wrt):
        raise DeriveError(f"{where}: key 'wrt' names a variable twice: {wrt!r}.")
    names = tuple(_check_variable(kind, problem, name, where) for name in wrt)
    if len(set(names)) != len(names):
        raise DeriveError(f"{where}: key 'wrt' names a variable twice: {wrt!r}.")
    return names


def _check_variable(kind: kinds.Kind, problem: Any, name: str, where: str) -> str:
    """Return the canonical spelling of ``name`` (``"w_{1,1}"`` → ``"w11"``), or raise."""
    try:
        return kind.check_variable(problem, name)
    except DeriveError as exc:
        raise DeriveError(f"{where}: key 'wrt': {exc}") from None


def _check_values(kind: kinds.Kind, problem: Any, values: Mapping[str, Any], where: str) -> None:
    try:
        kind.check_values(problem, values)
    except DeriveError as exc:
        message = str(exc).removeprefix("values: ")
        raise DeriveError(f"{where}: {message}") from None


@dataclass(frozen=True)
class Student:
    """A row of the roster: the ``student`` id and an optional ``name``."""

    id: str
    name: str | None = None


def read_roster(path: str | Path) -> tuple[Student, ...]:
    """Read a roster CSV with a ``student`` column (the id) and an optional ``name`` column.

    Column names are matched without regard to case or surrounding spaces; other
    columns are ignored. Excel's UTF-8 byte-order mark is accepted.

    Raises:
        DeriveError: a missing file or column, an empty or repeated id, with its line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DeriveError(
            f"{path}: no such roster file; give a CSV with a 'student' column (and optionally 'name')."
        ) from None
    except UnicodeDecodeError:
        raise DeriveError(f"{path}: the roster is not UTF-8 text; save it as 'CSV UTF-8' and try again.") from None
    except OSError as exc:
        raise DeriveError(f"{path}: cannot read the roster ({exc}).") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DeriveError(f"{path}: the roster is empty; expected a header line with a 'student' column.")
    header = [cell.strip().lower() for cell in rows[0]]
    if "student" not in header:
        raise DeriveError(
            f"{path}, line 1: no 'student' column; the header has {', '.join(repr(h) for h in header)}."
            f"{did_you_mean('student', header)} Name the column of student ids 'student'."
        )
    sid, name_col = header.index("student"), header.index("name") if "name" in header else None
    students: list[Student] = []
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        student = row[sid].strip() if sid < len(row) else ""
        if not student:
            raise DeriveError(f"{path}, line {line}: the 'student' cell is empty; every row needs an id, got {row!r}.")
        if student in first_line:
            raise DeriveError(
                f"{path}, line {line}: student {student!r} is already on line {first_line[student]}; ids must be unique."
            )
        first_line[student] = line
        name = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
        students.append(Student(student, name or None))
    if not students:
        raise DeriveError(f"{path}: the roster has a header but no students.")
    return tuple(students)
