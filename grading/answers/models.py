"""The answer model of each question of ``answers.json``, obtained from its kind (:mod:`derive.kinds`).

A model (:class:`derive.kinds.base.AnswerModel`) answers, for one problem:

- ``resolve(spelled)``: the canonical name of what a student typed (``w_{1,1}`` → ``w11``), or ``None``;
- ``env(values)``: every name's number at a point (leaves and nodes: ``z00``, ``yhat``, ``mu``...), so that
  a formula in nodes is evaluated as if each node were replaced by its definition;
- ``right(values, wrt)``: the right number, from the engine (:mod:`derive`);
- ``mistakes(values, wrt, right)``: each named mistake's number at that point;
- ``random_values(seed)``: another point in the question's own layout, for checking formulas.

Grading reaches :mod:`derive` only through the kinds' public protocol: this module looks the
kind up in the registry and asks it for the problem (``from_config``) and the model.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from derive import kinds
from derive.kinds import AnswerModel

__all__ = ["Model", "ValueModel", "known_kind", "model_for"]

Model = AnswerModel
"""The interface every model has (:class:`derive.kinds.base.AnswerModel`)."""


def known_kind(kind: str) -> bool:
    """Whether ``kind`` is registered (has a model); a question of any other kind is graded against its ``value``."""
    return kinds.find(kind) is not None


class ValueModel(AnswerModel):
    """A kind gradkit has no model for (a newer derive key): a number against the question's stored ``value``."""

    formulas = False

    def __init__(self, kind: str, value: float) -> None:
        super().__init__(None)
        self.kind, self.value = kind, value

    def right(self, values: Any, wrt: str) -> float:
        return self.value


@functools.lru_cache(maxsize=64)
def _cached(name: str, config: str, value: float | None) -> AnswerModel:
    kind = kinds.get(name)
    problem = kind.from_config(json.loads(config), where=f"answers.json ({name})")
    return kind.model(problem, 0.0 if value is None else value)


def model_for(kind: str, config: Mapping[str, Any], value: float) -> AnswerModel:
    """The model of one question of ``answers.json`` (cached per problem); :class:`ValueModel` for an unknown kind.

    Raises:
        DeriveError: the problem's options are not valid for its kind.
    """
    found = kinds.find(kind)
    if found is None:
        return ValueModel(kind, value)
    return _cached(kind, json.dumps(config, sort_keys=True), value if found.uses_stored_value else None)
