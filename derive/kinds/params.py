"""``params``: the parameter count of a model of :mod:`reference_models`, layer by layer (:mod:`reference_models.summary`).

Options ``model`` (a registry name) and ``input_shape``. No values; the one answer is
``params``, a whole number. Grading compares with the count ``answers.json`` stores
(counting again would need torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from derive.errors import DeriveError, did_you_mean
from derive.kinds.base import AnswerModel, Kind, Part, naming, question_template
from derive.latex_env import esc
from derive.steps import Derivation, Step, int_latex

__all__ = ["Params", "ParamsKind", "ParamsModel"]


@dataclass(frozen=True)
class Params:
    """The parameter-count question for a model of :mod:`reference_models`."""

    model: str
    input_shape: tuple[int, ...] | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """The one answer: ``params``, the total count."""
        return ("params",)


class ParamsKind(Kind):
    """``kind = "params"``."""

    name = "params"
    options = ("input_shape", "model")
    asks = False
    uses_stored_value = True
    example = """
kind = "params"
model = "hw1-cifar"
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Params:
        with naming(where):
            return _params(options)

    def from_config(self, config: Any, *, where: str) -> Params:
        """The problem as ``answers.json`` holds it, taken as written (the count is the stored value)."""
        shape = config.get("input_shape")
        return Params(model=str(config.get("model")), input_shape=tuple(shape) if shape else None)

    def solve(self, problem: Params, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        return (_params_part(problem.model, problem.input_shape),)

    def question_latex(self, problem: Params, wrt: tuple[str, ...]) -> str:
        from reference_models.registry import get

        spec = get(problem.model)
        return question_template(
            self.name,
            [],
            model=esc(problem.model),
            description=esc(spec.description),
            shape="\\times".join(str(d) for d in (problem.input_shape or spec.input_shape)),
        )

    def model(self, problem: Params, value: float) -> ParamsModel:
        return ParamsModel(problem, value)


class ParamsModel(AnswerModel):
    """A whole number: the count ``answers.json`` stores."""

    kind = "params"
    integer = True
    formulas = False

    def __init__(self, problem: Params, value: float) -> None:
        super().__init__(problem)
        self.value = value

    def right(self, values: Any, wrt: str) -> float:
        return self.value


def _params(options: dict[str, Any]) -> Params:
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
