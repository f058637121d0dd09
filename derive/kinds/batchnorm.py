"""``batchnorm``: the batch-norm backward pass over one feature of a mini-batch, by :mod:`derive.batchnorm`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from derive.batchnorm import BatchNorm as Problem
from derive.kinds.base import AnswerModel, Kind, Part, derivation_parts, lookup, naming, question_template

__all__ = ["BatchNormKind", "BatchNormModel", "bn_mistakes", "bn_numbers"]

_LATEX = {"gamma": r"\gamma", "beta": r"\beta", "var": r"\sigma_B^2", "mu": r"\mu_B"}


class BatchNormKind(Kind):
    """``kind = "batchnorm"``: option ``batch`` (the mini-batch size m)."""

    name = "batchnorm"
    options = ("batch",)
    wrt_example = '["gamma", "x0"]'
    explanations = {
        "sign": "Your answer has the right size but the wrong sign: check the signs of (x_i − μ_B), of −½ in "
        "∂L/∂σ²_B and of −1/√(σ²_B + ε) in ∂L/∂μ_B.",
    }
    example = """
kind = "batchnorm"
batch = 4
wrt = ["gamma", "x1"]
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Problem:
        with naming(where):
            return Problem(**options)

    def random_values(self, problem: Problem, seed: int) -> dict[str, Any]:
        from derive.batchnorm import random_values

        return random_values(problem, seed)

    def check_values(self, problem: Problem, values: Mapping[str, Any]) -> Any:
        from derive.batchnorm import check_values

        return check_values(problem, values)

    def solve(self, problem: Problem, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        from derive.batchnorm import derive_batchnorm

        return derivation_parts(wrt, lambda n: derive_batchnorm(problem, n, values=values))

    def question_latex(self, problem: Problem, wrt: tuple[str, ...]) -> str:
        asked = [_LATEX.get(n, f"x_{{{n[1:]}}}") for n in wrt]
        return question_template(self.name, asked, batch=problem.batch)

    def model(self, problem: Problem, value: float) -> BatchNormModel:
        return BatchNormModel(problem)


class BatchNormModel(AnswerModel):
    """Names γ, β, ε, μ_B, σ²_B, m and per sample ``x``, ``dy``, ``xhat``."""

    kind = "batchnorm"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        m = problem.batch
        self.names = {"gamma", "beta", "eps", "mu", "var", "sigmaB", "m"} | {
            f"{s}{k}" for s in ("x", "dy", "xhat") for k in range(m)
        }
        self.aliases = {"muB": "mu", "sigmaB2": "var", "varB": "var", "epsilon": "eps"}

    def resolve(self, spelled: str) -> str | None:
        return lookup(self.names, spelled, self.aliases)

    def check(self, values: Any) -> Any:
        from derive.batchnorm import check_values

        return check_values(self.problem, values)

    def env(self, values: Any) -> dict[str, float]:
        n = bn_numbers(values)
        out = {
            "gamma": values["gamma"],
            "beta": values["beta"],
            "eps": values["eps"],
            "mu": n["mu"],
            "var": n["var"],
            "sigmaB": math.sqrt(n["var"]),
            "m": float(self.problem.batch),
        }
        for k in range(self.problem.batch):
            out[f"x{k}"], out[f"dy{k}"], out[f"xhat{k}"] = values["x"][k], values["dy"][k], n["xhat"][k]
        return out

    def right(self, values: Any, wrt: str) -> float:
        from derive.batchnorm import derive_batchnorm

        value = derive_batchnorm(self.problem, wrt, values=values).result.value
        assert value is not None
        return value

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return bn_mistakes(values, wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.batchnorm import random_values

        return random_values(self.problem, seed)


def bn_numbers(values: Mapping[str, Any], *, ddof: int = 0) -> dict[str, Any]:
    """The batch-norm forward and backward numbers, with the variance divided by ``m − ddof``.

    With ``ddof=0`` these are :func:`derive.batchnorm.forward_backward`'s (tested); ``ddof=1``
    is the unbiased-variance mistake carried through every step.
    """
    x, dy, gamma, eps = values["x"], values["dy"], values["gamma"], values["eps"]
    m = len(x)
    mu = math.fsum(x) / m
    var = math.fsum((xi - mu) ** 2 for xi in x) / (m - ddof)
    std = math.sqrt(var + eps)
    xhat = [(xi - mu) / std for xi in x]
    dxhat = [d * gamma for d in dy]
    dvar = math.fsum(d * (xi - mu) for d, xi in zip(dxhat, x)) * -0.5 * (var + eps) ** -1.5
    dmu = math.fsum(-d / std for d in dxhat) + dvar * math.fsum(-2 * (xi - mu) for xi in x) / (m - ddof)
    dx = [d / std + dvar * 2 * (xi - mu) / (m - ddof) + dmu / m for d, xi in zip(dxhat, x)]
    return {
        "mu": mu,
        "var": var,
        "std": std,
        "xhat": xhat,
        "dxhat": dxhat,
        "dvar": dvar,
        "dmu": dmu,
        "dx": dx,
        "dgamma": math.fsum(d * xh for d, xh in zip(dy, xhat)),
        "dbeta": math.fsum(dy),
    }


def _bn_pick(n: Mapping[str, Any], wrt: str) -> float:
    if wrt in ("gamma", "beta", "var", "mu"):
        return float(n["d" + wrt])
    return float(n["dx"][int(wrt[1:])])


def bn_mistakes(values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a batch-norm question at checked ``values``."""
    out: dict[str, list[float]] = {"sign": [-right], "unbiased-variance": [_bn_pick(bn_numbers(values, ddof=1), wrt)]}
    if wrt.startswith("x"):
        n = bn_numbers(values)
        out["one-path"] = [n["dxhat"][int(wrt[1:])] / n["std"]]
    return out
