"""One model per question kind: the names a formula may use, the numbers at a point, the right answer, the mistakes.

A model answers, for one problem of ``answers.json``:

- ``resolve(spelled)``: the canonical name of what a student typed (``w_{1,1}`` → ``w11``), or ``None``;
- ``env(values)``: every name's number at a point (leaves and nodes: ``z00``, ``yhat``, ``mu``...), so that
  a formula in nodes is evaluated as if each node were replaced by its definition;
- ``right(values, wrt)``: the gradient, from the engine (:mod:`derive`);
- ``mistakes(values, wrt, right)``: :mod:`grading.answers.mistakes` at that point;
- ``random_values(seed)``: another point in the question's own layout, for checking formulas.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from derive.numeric import sigmoid
from grading.answers import mistakes as mk

__all__ = ["KNOWN_KINDS", "Model", "model_for"]

KNOWN_KINDS = ("batchnorm", "conv-gradient", "conv-shape", "network", "params", "polyfit", "softmax-ce")
"""The kinds with a model; a question of any other kind is graded against its stored ``value`` (:class:`ValueModel`)."""


class Model:
    """The interface (see the module docstring); ``integer`` answers are compared exactly."""

    kind = ""
    integer = False
    formulas = True

    def resolve(self, spelled: str) -> str | None:
        return None

    def check(self, values: Any) -> Any:
        return values

    def env(self, values: Any) -> dict[str, float]:
        return {}

    def right(self, values: Any, wrt: str) -> float:
        raise NotImplementedError

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return {}

    def right_at(self, values: Any, wrt: str) -> float:
        """The gradient at another point (for formula checks); a model may do it faster than :meth:`right`."""
        return self.right(values, wrt)

    def random_values(self, seed: int) -> Any:
        return None


def _lookup(names: set[str], spelled: str, aliases: Mapping[str, str]) -> str | None:
    for cand in (spelled, spelled.replace("_", ""), aliases.get(spelled), aliases.get(spelled.replace("_", ""))):
        if cand is not None and cand in names:
            return cand
    return None


class ConvModel(Model):
    kind = "conv-gradient"

    def __init__(self, problem: Any) -> None:
        from derive.graph import build_graph

        self.problem = problem
        self.graph = build_graph(problem)
        self.names = {n for n in self.graph.nodes if n != "L"}
        self.aliases = {"haty": "yhat", "y^": "yhat", "p": "p", "sigmayhat": "p"}

    def resolve(self, spelled: str) -> str | None:
        found = _lookup(self.names, spelled, self.aliases)
        if found is None:
            m = re.fullmatch(r"([A-Za-z])(\d+)_?(\d+)?", spelled)
            if m and m.group(3) is not None:
                found = _lookup(self.names, f"{m.group(1)}{m.group(2)}_{m.group(3)}", {})
        return found

    def check(self, values: Any) -> Any:
        from derive.values import check_values

        return check_values(values, self.problem)

    def env(self, values: Any) -> dict[str, float]:
        from derive.graph import forward
        from derive.values import leaf_values

        return forward(self.graph, leaf_values(values, self.problem))

    def right(self, values: Any, wrt: str) -> float:
        from derive.engine import gradient

        value = gradient(self.problem, wrt, values=values, check=False).value
        assert value is not None
        return value

    def right_at(self, values: Any, wrt: str) -> float:
        """The chain rule summed over the graph's paths, without the engine's steps (tested equal to it)."""
        return math.fsum(mk.conv_chain(self.graph, self.env(values), wrt))

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return mk.conv_mistakes(self.graph, values, wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.values import random_values

        return random_values(self.problem, seed)


class SoftmaxModel(Model):
    kind = "softmax-ce"

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        n = problem.classes
        if problem.activation == "sigmoid":
            self.names = {"z", "y", "yhat"}
            self.aliases = {"p": "yhat", "sigmaz": "yhat"}
        else:
            self.names = {f"{s}{k}" for s in ("z", "y", "yhat") for k in range(n)}
            self.aliases = {f"p{k}": f"yhat{k}" for k in range(n)}

    def resolve(self, spelled: str) -> str | None:
        return _lookup(self.names, spelled, self.aliases)

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
        return mk.softmax_mistakes(self.problem, self.env(values), wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.softmax_ce import random_values

        return random_values(self.problem, seed)


class BatchNormModel(Model):
    kind = "batchnorm"

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        m = problem.batch
        self.names = {"gamma", "beta", "eps", "mu", "var", "sigmaB", "m"} | {
            f"{s}{k}" for s in ("x", "dy", "xhat") for k in range(m)
        }
        self.aliases = {"muB": "mu", "sigmaB2": "var", "varB": "var", "epsilon": "eps"}

    def resolve(self, spelled: str) -> str | None:
        return _lookup(self.names, spelled, self.aliases)

    def check(self, values: Any) -> Any:
        from derive.batchnorm import check_values

        return check_values(self.problem, values)

    def env(self, values: Any) -> dict[str, float]:
        n = mk.bn_numbers(values)
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
        return mk.bn_mistakes(values, wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.batchnorm import random_values

        return random_values(self.problem, seed)


class ShapeModel(Model):
    kind = "conv-shape"
    integer = True
    formulas = False

    def __init__(self, problem: Any) -> None:
        self.problem = problem

    def _dim(self, wrt: str) -> int:
        return 1 if wrt == "out_w" else 0

    def right(self, values: Any, wrt: str) -> float:
        from derive.shapes import conv_output_size

        p, d = self.problem, self._dim(wrt)
        return float(conv_output_size(p.input[d], p.kernel[d], p.stride[d], p.padding[d]).result)

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        p, d = self.problem, self._dim(wrt)
        return mk.shape_mistakes(p.input[d], p.kernel[d], p.stride[d], p.padding[d])


class ParamsModel(Model):
    kind = "params"
    integer = True
    formulas = False

    def __init__(self, problem: Any, value: float) -> None:
        self.problem, self.value = problem, value

    def right(self, values: Any, wrt: str) -> float:
        return self.value  # the count answers.json holds (counting again would need torch)


class PolyfitModel(Model):
    """HW1 2023 (一)(b): ``w3`` … ``w0`` and ``f'(x)`` by least squares on the pairs answers.json carries."""

    kind = "polyfit"
    formulas = False

    def __init__(self, problem: Any) -> None:
        import numpy as np

        self.problem = problem
        w = problem.coefficients()  # w[0] = w_m
        m = problem.degree
        self.numbers = {f"w{k}": float(w[m - k]) for k in range(m + 1)}
        slope = np.polyder(w)
        self.numbers.update({f"f'({p!r})": float(np.polyval(slope, p)) if m > 0 else 0.0 for p in problem.at})
        # reversed-coefficients: numpy.polyfit's array (w_m first) read as w_0 first, and f' from that reading
        backwards = w[::-1]
        self.reversed = {f"w{k}": float(w[k]) for k in range(m + 1)}
        self.reversed.update(
            {f"f'({p!r})": float(np.polyval(np.polyder(backwards), p)) if m > 0 else 0.0 for p in problem.at}
        )

    def right(self, values: Any, wrt: str) -> float:
        return self.numbers[wrt]

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return {"reversed-coefficients": [self.reversed[wrt]]}


class NetworkModel(Model):
    """A network of ``derive grad --net`` (kind ``network``): numbers only, the right one from the network engine."""

    kind = "network"
    formulas = False

    def __init__(self, problem: Any) -> None:
        self.problem = problem

    def check(self, values: Any) -> Any:
        """Validated, but kept as answers.json's JSON (the feedback prints it); arrays are made per use."""
        from derive.network.values import check_values

        check_values(self.problem, values)
        return values

    def _arrays(self, values: Any) -> dict[str, Any]:
        from derive.network.values import check_values

        return check_values(self.problem, values)

    def right(self, values: Any, wrt: str) -> float:
        from derive.network.graph import forward
        from derive.network.values import resolve_wrt

        name, index = resolve_wrt(self.problem, wrt)
        return float(forward(self.problem, self._arrays(values)).backward()[1][name][index])

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return mk.network_mistakes(self.problem, self._arrays(values), wrt, right)


class ValueModel(Model):
    """A kind gradkit has no model for (a newer derive key): a number against the question's stored ``value``."""

    formulas = False

    def __init__(self, kind: str, value: float) -> None:
        self.kind, self.value = kind, value

    def right(self, values: Any, wrt: str) -> float:
        return self.value


@functools.lru_cache(maxsize=64)
def _cached(kind: str, config: str) -> Model:
    from derive.problemset import make_problem

    problem = make_problem(kind, json.loads(config), where=f"answers.json ({kind})")
    return {
        "conv-gradient": ConvModel,
        "softmax-ce": SoftmaxModel,
        "batchnorm": BatchNormModel,
        "conv-shape": ShapeModel,
        "polyfit": PolyfitModel,
        "network": NetworkModel,
    }[kind](problem)


def model_for(kind: str, config: Mapping[str, Any], value: float) -> Model:
    """The model of one question of ``answers.json`` (cached per problem); :class:`ValueModel` for an unknown kind.

    Raises:
        DeriveError: the problem's options are not valid for its kind.
    """
    if kind == "params":
        from derive.problemset import Params

        shape = config.get("input_shape")
        return ParamsModel(Params(model=str(config.get("model")), input_shape=tuple(shape) if shape else None), value)
    if kind not in KNOWN_KINDS:
        return ValueModel(kind, value)
    return _cached(kind, json.dumps(config, sort_keys=True))
