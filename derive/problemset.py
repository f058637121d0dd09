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

Every key is checked here, once, with messages that name the file, the item,
the key, what was expected and what came (:func:`load_problem_set`). The
options of a ``conv-gradient`` item are the fields of
:class:`derive.problem.Problem`; ``softmax-ce`` takes ``classes`` and
``activation``; ``batchnorm`` takes ``batch``; ``network`` takes ``input`` and ``[[item.layer]]``
tables, as a network file (:mod:`derive.network.spec`); ``conv-shape`` takes ``input``,
``kernel``, ``stride``, ``padding``, ``channels``; ``params`` takes ``model``
(a name of ``reference_models``) and ``input_shape``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from derive._files import parse_toml
from derive.batchnorm import BatchNorm
from derive.errors import DeriveError, did_you_mean
from derive.problem import Problem
from derive.softmax_ce import SoftmaxCE

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

KINDS = ("batchnorm", "conv-gradient", "conv-shape", "network", "params", "polyfit", "softmax-ce")
"""The derivations a problem-set item may name."""

_TOP_KEYS = ("item", "seed", "subtitle", "title")
_COMMON = ("id", "kind", "points", "question", "title", "values", "wrt")
_CONV_KEYS = tuple(f.name for f in fields(Problem) if f.init)
_OPTIONS: dict[str, tuple[str, ...]] = {
    "conv-gradient": _CONV_KEYS,
    "softmax-ce": ("activation", "classes"),
    "batchnorm": ("batch",),
    "conv-shape": ("channels", "input", "kernel", "padding", "stride"),
    "params": ("input_shape", "model"),
    "polyfit": ("at", "data", "degree"),  # derive/polyfit.py
    "network": ("input", "layer"),  # the network file's table (derive.network.spec), inline
}
_NUMERIC = ("batchnorm", "conv-gradient", "network", "softmax-ce")  # kinds that take values and a wrt list


@dataclass(frozen=True)
class ConvShape:
    """The conv output-shape question: ``⌊(W + 2P − K)/S⌋ + 1`` per spatial dimension."""

    input: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int | str, int | str] = (0, 0)
    channels: tuple[int, int] | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """``out`` for a square result, else ``out_h`` and ``out_w``."""
        if (
            self.input[0] == self.input[1]
            and self.kernel[0] == self.kernel[1]
            and self.stride[0] == self.stride[1]
            and self.padding[0] == self.padding[1]
        ):
            return ("out",)
        return ("out_h", "out_w")


@dataclass(frozen=True)
class Params:
    """The parameter-count question for a model of :mod:`reference_models`."""

    model: str
    input_shape: tuple[int, ...] | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """The one answer: ``params``, the total count."""
        return ("params",)


@dataclass(frozen=True)
class Item:
    """One question of a problem set.

    Attributes:
        number: 1-based position in the file.
        id: The item's ``id`` (default: its number as text).
        kind: One of :data:`KINDS`.
        problem: The validated configuration (``Problem``, ``SoftmaxCE``, ``BatchNorm``, ``ConvShape``, ``Params``).
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
    """A validated problem set: a title, an optional subtitle and seed, and its items."""

    title: str
    items: tuple[Item, ...]
    subtitle: str | None = None
    seed: int | None = None
    source: str = "<problem set>"

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
            f"{source}: no questions: add at least one [[item]] table with a 'kind' ({', '.join(KINDS)})."
        )
    items = tuple(_item(raw, n, source) for n, raw in enumerate(raw_items, start=1))
    seen: dict[str, int] = {}
    for item in items:
        if item.id in seen:
            raise DeriveError(
                f"{source}, item {item.number}: id {item.id!r} is already used by item {seen[item.id]}; ids must differ."
            )
        seen[item.id] = item.number
    return ProblemSet(title=title.strip(), subtitle=subtitle, seed=seed, items=items, source=source)


def _unknown(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise DeriveError(
                f"{where}: unknown key {key!r}; expected one of {', '.join(sorted(allowed))}.{did_you_mean(key, allowed)}"
            )


def _item(raw: Any, number: int, source: str) -> Item:
    where = f"{source}, item {number}"
    if not isinstance(raw, dict):
        raise DeriveError(f"{where}: expected a table ([[item]]), got {raw!r}.")
    kind = raw.get("kind")
    if kind not in KINDS:
        hint = did_you_mean(str(kind), KINDS) if isinstance(kind, str) else ""
        raise DeriveError(f"{where}: key 'kind' must be one of {', '.join(KINDS)}, got {kind!r}.{hint}")
    where = f"{source}, item {number} ({kind})"
    allowed = (
        _COMMON + _OPTIONS[kind] if kind in _NUMERIC else ("id", "kind", "points", "question", "title") + _OPTIONS[kind]
    )
    _unknown(raw, allowed, where)
    options = {k: raw[k] for k in _OPTIONS[kind] if k in raw}
    for key in ("id", "question", "title"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise DeriveError(f"{where}: key {key!r} must be a non-empty string, got {raw[key]!r}.")
    points = raw.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        raise DeriveError(f"{where}: key 'points' must be a number >= 0, got {points!r}.")
    problem = _polyfit(options, where, source) if kind == "polyfit" else _problem(kind, options, where)
    wrt: tuple[str, ...] = (
        problem.variables if kind in ("conv-shape", "params", "polyfit") else _wrt(raw, problem, kind, where)
    )
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
        kind=kind,
        problem=problem,
        wrt=wrt,
        values=values,
        points=None if points is None else float(points),
        title=raw.get("title"),
        question=raw.get("question"),
    )


def _problem(kind: str, options: dict[str, Any], where: str) -> Any:
    if kind == "network":
        from derive.network.spec import network_from_dict

        return network_from_dict(options, source=where)
    try:
        if kind == "conv-gradient":
            return Problem(**options)
        if kind == "softmax-ce":
            if options.get("activation") == "sigmoid":
                options.setdefault("classes", 1)
            return SoftmaxCE(**options)
        if kind == "batchnorm":
            return BatchNorm(**options)
        if kind == "conv-shape":
            return _conv_shape(options, where)
        return _params(options, where)
    except DeriveError as exc:
        raise DeriveError(f"{where}: {exc}") from None


def _polyfit(options: dict[str, Any], where: str, source: str) -> Any:
    from derive.polyfit import parse_polyfit

    try:
        return parse_polyfit(options, source)
    except DeriveError as exc:
        raise DeriveError(f"{where}: {exc}") from None


def make_problem(kind: str, options: Mapping[str, Any], *, where: str = "problem") -> Any:
    """The validated problem of a ``kind`` from its options (as in a problem set, or ``answers.json``'s ``problem``).

    A polyfit problem is read from :meth:`derive.polyfit.Polyfit.config` (its pairs ``x`` and ``y``, no file).

    >>> make_problem("conv-shape", {"input": [48, 48], "kernel": [7, 7], "stride": [2, 2], "padding": [3, 3]}).stride
    (2, 2)
    """
    if kind not in KINDS:
        raise DeriveError(
            f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}.{did_you_mean(str(kind), KINDS)}"
        )
    if kind == "polyfit":
        from derive.polyfit import polyfit_from_config

        _unknown(options, _OPTIONS[kind] + ("x", "y"), where)
        try:
            return polyfit_from_config(dict(options))
        except DeriveError as exc:
            raise DeriveError(f"{where}: {exc}") from None
    _unknown(options, _OPTIONS[kind], where)
    return _problem(kind, dict(options), where)


def _wrt(raw: Mapping[str, Any], problem: Any, kind: str, where: str) -> tuple[str, ...]:
    wrt = raw.get("wrt")
    if isinstance(wrt, str):
        wrt = [wrt]
    if not isinstance(wrt, list) or not wrt or not all(isinstance(w, str) for w in wrt):
        example = {
            "conv-gradient": '["w11", "a00"]',
            "network": '["conv1.w[0,0,1,1]"]',
            "softmax-ce": '["z0"]',
            "batchnorm": '["gamma", "x0"]',
        }[kind]
        raise DeriveError(f"{where}: key 'wrt' must list the variables asked, such as {example}, got {wrt!r}.")
    if len(set(wrt)) != len(wrt):
        raise DeriveError(f"{where}: key 'wrt' names a variable twice: {wrt!r}.")
    names = tuple(_check_variable(kind, problem, name, where) for name in wrt)
    if len(set(names)) != len(names):
        raise DeriveError(f"{where}: key 'wrt' names a variable twice: {wrt!r}.")
    return names


def _check_variable(kind: str, problem: Any, name: str, where: str) -> str:
    """Return the canonical spelling of ``name`` (``"w_{1,1}"`` → ``"w11"``), or raise."""
    if kind == "conv-gradient":
        from derive.graph import build_graph  # imports sympy: only for conv items

        try:
            return build_graph(problem).resolve(name)
        except DeriveError as exc:
            raise DeriveError(f"{where}: key 'wrt': {exc}") from None
    if kind == "network":
        from derive.network.values import element_name, resolve_wrt

        try:
            return element_name(*resolve_wrt(problem, name))
        except DeriveError as exc:
            raise DeriveError(f"{where}: key 'wrt': {str(exc).removeprefix('--wrt ')}") from None
    known = problem.variables
    if name not in known:
        raise DeriveError(
            f"{where}: key 'wrt': unknown variable {name!r}; this problem has {', '.join(known)}.{did_you_mean(name, known)}"
        )
    return name


def _check_values(kind: str, problem: Any, values: Mapping[str, Any], where: str) -> None:
    try:
        if kind == "softmax-ce":
            from derive.softmax_ce import check_values

            check_values(problem, values)
        elif kind == "batchnorm":
            from derive.batchnorm import check_values as check_bn

            check_bn(problem, values)
        elif kind == "network":
            from derive.network.values import check_values as check_net

            check_net(problem, values)
        else:
            from derive.values import check_values as check_conv

            check_conv(values, problem)
    except DeriveError as exc:
        message = str(exc).removeprefix("values: ")
        raise DeriveError(f"{where}: {message}") from None


def _ints(value: Any, key: str, where: str, *, low: int, allow: tuple[str, ...] = ()) -> tuple[Any, Any]:
    pair = value if isinstance(value, list) else [value, value]
    ok = len(pair) == 2 and all(
        (isinstance(v, int) and not isinstance(v, bool) and v >= low) or (isinstance(v, str) and v in allow)
        for v in pair
    )
    if not ok:
        extra = f" or {' / '.join(repr(a) for a in allow)}" if allow else ""
        raise DeriveError(
            f"key {key!r} must be a whole number >= {low}{extra}, or a list [rows, cols] of them, got {value!r}."
        )
    return pair[0], pair[1]


def _conv_shape(options: dict[str, Any], where: str) -> ConvShape:
    for key in ("input", "kernel"):
        if key not in options:
            raise DeriveError(
                f"missing key {key!r}: a conv-shape question needs 'input' and 'kernel' (e.g. input = 48, kernel = 3)."
            )
    channels = options.get("channels")
    if channels is not None:
        if not (
            isinstance(channels, list)
            and len(channels) == 2
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)
        ):
            raise DeriveError(f"key 'channels' must be [in_channels, out_channels], got {channels!r}.")
        channels = (channels[0], channels[1])
    shape = ConvShape(
        input=_ints(options["input"], "input", where, low=1),
        kernel=_ints(options["kernel"], "kernel", where, low=1),
        stride=_ints(options.get("stride", 1), "stride", where, low=1),
        padding=_ints(options.get("padding", 0), "padding", where, low=0, allow=("same", "valid")),
        channels=channels,
    )
    from derive.shapes import conv_output_size

    for d in range(2):
        conv_output_size(shape.input[d], shape.kernel[d], shape.stride[d], shape.padding[d])
    return shape


def _params(options: dict[str, Any], where: str) -> Params:
    model = options.get("model")
    if not isinstance(model, str):
        raise DeriveError(f"key 'model' must name a model of reference_models (such as \"hw1-cifar\"), got {model!r}.")
    from reference_models.registry import MODELS

    if model not in MODELS:
        known = ", ".join(sorted(MODELS)) or "(none)"
        raise DeriveError(f"unknown model {model!r}; the known models are {known}.{did_you_mean(model, list(MODELS))}")
    shape = options.get("input_shape")
    if shape is not None:
        if not (
            isinstance(shape, list)
            and shape
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)
        ):
            raise DeriveError(
                f"key 'input_shape' must be a list of positive whole numbers such as [3, 32, 32], got {shape!r}."
            )
        shape = tuple(shape)
    return Params(model=model, input_shape=shape)


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
