"""Read ``answers.json`` (written by ``derive key --roster``): each student's questions, problems and values.

Each entry is ``{"student", "name", "seed", "values", "answers", "questions"}``;
``questions`` lists, in the order of the problem set, ``{"name", "item", "kind",
"wrt", "problem", "values", "points", "value"}`` (see README, "Grading the
derivations"). ``name`` is the column of the responses file. A question of a kind
gradkit has no model for needs only ``name``, ``kind`` and ``value``: it is graded
as a number against ``value``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from derive import kinds
from derive.kinds import DeriveError
from grading.answers.models import Model, model_for
from grading.errors import UsageError

__all__ = ["Question", "Variant", "load_variants", "parse_variants"]


@dataclass(frozen=True)
class Question:
    """One answer a student owes: its column ``name``, the engine's ``model``, their ``values``, its points."""

    name: str
    item: str
    kind: str
    wrt: str
    model: Model
    values: Any
    points: float
    value: float


@dataclass(frozen=True)
class Variant:
    """One student's variant: id, name and questions."""

    student: str
    name: str | None
    questions: tuple[Question, ...]


_FIX = "run `derive key PROBLEMS.toml --roster ROSTER.csv --out keys/` again to write it"


def load_variants(path: str | Path) -> tuple[Variant, ...]:
    """Read and check ``answers.json`` at ``path``.

    Raises:
        UsageError: the file is missing, not JSON, or not in the layout ``derive key`` writes.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(
            f"--variants {str(path)!r}: no such file; give the answers.json that `derive key --roster` wrote."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--variants {str(path)!r}: cannot read it ({exc}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--variants {str(path)!r}: not JSON ({exc.msg}, line {exc.lineno}); {_FIX}.") from None
    return parse_variants(data, source=str(path))


def parse_variants(data: Any, *, source: str = "answers.json") -> tuple[Variant, ...]:
    """Check the parsed JSON of ``answers.json`` and build the variants (see :func:`load_variants`)."""
    if not isinstance(data, list) or not data:
        raise UsageError(
            f"{source}: expected a list with one entry per student, as `derive key --roster` writes; {_FIX}."
        )
    variants: list[Variant] = []
    seen: set[str] = set()
    for n, entry in enumerate(data, start=1):
        where = f"{source}, entry {n}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("student"), str) or not entry["student"].strip():
            raise UsageError(f"{where}: expected an object with a 'student' id; {_FIX}.")
        if "questions" not in entry:
            raise UsageError(f"{where}: no 'questions' (it was written by an older derive key); {_FIX}.")
        student = entry["student"].strip()
        if student in seen:
            raise UsageError(f"{where}: student {student!r} appears twice; ids must be unique.")
        seen.add(student)
        raw = entry["questions"]
        if not isinstance(raw, list) or not raw:
            raise UsageError(f"{where}: 'questions' must be a non-empty list; {_FIX}.")
        questions = tuple(_question(q, f"{where}, question {k}") for k, q in enumerate(raw, start=1))
        name = entry.get("name")
        variants.append(Variant(student, name if isinstance(name, str) and name.strip() else None, questions))
    names = [q.name for q in variants[0].questions]
    for v in variants[1:]:
        if [q.name for q in v.questions] != names:
            raise UsageError(
                f"{source}: student {v.student!r} has other questions than {variants[0].student!r}; "
                f"write every variant from one problem set."
            )
    return tuple(variants)


def _question(raw: Any, where: str) -> Question:
    if not isinstance(raw, Mapping):
        raise UsageError(f"{where}: expected an object, got {raw!r}.")
    for key in ("name", "kind"):
        if not isinstance(raw.get(key), str):
            raise UsageError(f"{where}: key {key!r} is missing or not a string; {_FIX}.")
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{where}: key 'value' must be a number, got {value!r}; {_FIX}.")
    points = raw.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        raise UsageError(f"{where}: key 'points' must be a number >= 0 or null, got {points!r}.")
    kind = raw["kind"]
    wrt = raw["wrt"] if isinstance(raw.get("wrt"), str) else raw["name"]
    found = kinds.find(kind)
    if found is None:  # a newer derive key's kind: graded as a number against 'value'
        return Question(
            raw["name"],
            str(raw.get("item", "")),
            kind,
            wrt,
            model_for(kind, {}, float(value)),
            raw.get("values"),
            1.0 if points is None else float(points),
            float(value),
        )
    for key, type_ in (("wrt", str), ("problem", Mapping)):
        if not isinstance(raw.get(key), type_):
            raise UsageError(
                f"{where}: key {key!r} is missing or not a {'string' if type_ is str else 'table'}; {_FIX}."
            )
    try:
        model = model_for(kind, raw["problem"], float(value))
        values = None if raw.get("values") is None else model.check(raw["values"])
        found.check_variable(model.problem, raw["wrt"])
        if values is None and found.asks:
            raise DeriveError("a derivation question needs its 'values'")
    except DeriveError as exc:
        raise UsageError(f"{where}: {exc}") from None
    return Question(
        raw["name"],
        str(raw.get("item", "")),
        kind,
        raw["wrt"],
        model,
        values,
        1.0 if points is None else float(points),
        float(value),
    )
