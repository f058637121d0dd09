"""``softmax-ce``: ∂L/∂z_i of softmax + cross-entropy (or sigmoid + binary cross-entropy), by :mod:`derive.softmax_ce`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from derive.kinds.base import AnswerModel, Kind, Part, derivation_parts, lookup, naming, question_template
from derive.numeric import sigmoid
from derive.softmax_ce import SoftmaxCE as Problem

__all__ = ["SoftmaxCEKind", "SoftmaxModel", "softmax_mistakes"]


class SoftmaxCEKind(Kind):
    """``kind = "softmax-ce"``: options ``classes`` and ``activation`` (``softmax`` or ``sigmoid``)."""

    name = "softmax-ce"
    options = ("activation", "classes")
    wrt_example = '["z0"]'
    explanations = {
        "one-term": "At the step ∂L/∂z_i = Σ_k ∂L/∂ŷ_k · ∂ŷ_k/∂z_i you kept the k = i term only; the softmax couples "
        "every output, and the other terms (−ŷ_k ŷ_i) make it ŷ_i − y_i.",
        "sign": "Your answer has the right size but the wrong sign: ∂L/∂z_i is ŷ_i − y_i (prediction minus target), "
        "not y_i − ŷ_i.",
    }
    example = """
kind = "softmax-ce"
classes = 3
wrt = ["z0", "z2"]
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Problem:
        if options.get("activation") == "sigmoid":
            options.setdefault("classes", 1)
        with naming(where):
            return Problem(**options)

    def random_values(self, problem: Problem, seed: int) -> dict[str, Any]:
        from derive.softmax_ce import random_values

        return random_values(problem, seed)

    def check_values(self, problem: Problem, values: Mapping[str, Any]) -> Any:
        from derive.softmax_ce import check_values

        return check_values(problem, values)

    def solve(self, problem: Problem, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        from derive.softmax_ce import derive_softmax_ce

        return derivation_parts(wrt, lambda n: derive_softmax_ce(problem, n, values=values))

    def question_latex(self, problem: Problem, wrt: tuple[str, ...]) -> str:
        asked = ["z" if n == "z" else f"z_{{{n[1:]}}}" for n in wrt]
        return question_template(self.name, asked, activation=problem.activation, classes=problem.classes)

    def model(self, problem: Problem, value: float) -> SoftmaxModel:
        return SoftmaxModel(problem)


class SoftmaxModel(AnswerModel):
    """Names ``z``, ``y``, ``yhat`` (per class, or single for the sigmoid); ``p`` for ŷ."""

    kind = "softmax-ce"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        n = problem.classes
        if problem.activation == "sigmoid":
            self.names = {"z", "y", "yhat"}
            self.aliases = {"p": "yhat", "sigmaz": "yhat"}
        else:
            self.names = {f"{s}{k}" for s in ("z", "y", "yhat") for k in range(n)}
            self.aliases = {f"p{k}": f"yhat{k}" for k in range(n)}

    def resolve(self, spelled: str) -> str | None:
        return lookup(self.names, spelled, self.aliases)

    def check(self, values: Any) -> Any:
        from derive.softmax_ce import check_values

        return check_values(self.problem, values)

    def env(self, values: Any) -> dict[str, float]:
        z, y = values["z"], values["y"]
        if self.problem.activation == "sigmoid":
            return {"z": z[0], "y": y[0], "yhat": sigmoid(z[0])}
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = math.fsum(e)
        out = {f"z{k}": v for k, v in enumerate(z)}
        out.update({f"y{k}": v for k, v in enumerate(y)})
        out.update({f"yhat{k}": v / s for k, v in enumerate(e)})
        return out

    def right(self, values: Any, wrt: str) -> float:
        from derive.softmax_ce import derive_softmax_ce

        value = derive_softmax_ce(self.problem, wrt, values=values).result.value
        assert value is not None
        return value

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return softmax_mistakes(self.problem, self.env(values), wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.softmax_ce import random_values

        return random_values(self.problem, seed)


def softmax_mistakes(problem: Problem, env: Mapping[str, float], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a softmax-ce (or sigmoid + cross-entropy) question; ``env`` from the model."""
    out: dict[str, list[float]] = {"sign": [-right]}
    if problem.activation == "sigmoid":
        y, p = env["y"], env["yhat"]
        out["bce-missing-sigmoid-derivative"] = [-y / p + (1 - y) / (1 - p) if 0 < p < 1 else math.nan]
        return out
    i = wrt[1:]
    y, p = env[f"y{i}"], env[f"yhat{i}"]
    out["one-term"] = [-y * (1 - p)]
    out["missing-softmax-derivative"] = [-y / p if p > 0 else math.nan]
    return out
