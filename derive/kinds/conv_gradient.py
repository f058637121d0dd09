"""``conv-gradient``: the course's conv → activation → dense → loss problem, by the sympy engine (:mod:`derive.engine`).

The options are the fields of :class:`derive.problem.Problem`; the values are the
``--values`` layout (:mod:`derive.values`). The answer model resolves every node of the
graph (``z00``, ``h11``, ``yhat``), and its mistakes are the chain rule with one local
derivative changed (:func:`conv_chain`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from derive.kinds.base import AnswerModel, Kind, Part, derivation_parts, lookup, naming, question_template
from derive.problem import Problem

if TYPE_CHECKING:
    from derive.graph import Graph, Node

__all__ = ["ConvGradientKind", "ConvModel", "conv_chain", "conv_mistakes"]


class ConvGradientKind(Kind):
    """``kind = "conv-gradient"``."""

    name = "conv-gradient"
    options = tuple(f.name for f in fields(Problem) if f.init)
    wrt_example = '["w11", "a00"]'
    example = """
kind = "conv-gradient"
wrt = ["w11", "a00"]
loss = "mse"
points = 10
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Problem:
        with naming(where):
            return Problem(**options)

    def check_variable(self, problem: Problem, name: str) -> str:
        from derive.graph import build_graph  # imports sympy: only for conv items

        return build_graph(problem).resolve(name)

    def random_values(self, problem: Problem, seed: int) -> dict[str, Any]:
        from derive.values import random_values

        return random_values(problem, seed)

    def check_values(self, problem: Problem, values: Mapping[str, Any]) -> Any:
        from derive.values import check_values

        return check_values(values, problem)

    def solve(self, problem: Problem, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        from derive.engine import gradient

        return derivation_parts(wrt, lambda n: gradient(problem, n, values=values, check=False).to_derivation())

    def formula_latex(self, problem: Problem, wrt: str) -> str | None:
        from derive.engine import gradient

        return gradient(problem, wrt, check=False).expanded_latex

    def question_latex(self, problem: Problem, wrt: tuple[str, ...]) -> str:
        from derive.printer import latex_name

        p = problem
        return question_template(
            self.name,
            [latex_name(n) for n in wrt],
            **p.to_dict(),
            n_dense=p.n_dense,
            rows=p.input[0],
            cols=p.input[1],
            krows=p.kernel[0],
            kcols=p.kernel[1],
        )

    def model(self, problem: Problem, value: float) -> ConvModel:
        return ConvModel(problem)


class ConvModel(AnswerModel):
    """Every node of the graph may appear in a formula; the right value is the chain rule over the graph's paths."""

    kind = "conv-gradient"

    def __init__(self, problem: Problem) -> None:
        from derive.graph import build_graph

        super().__init__(problem)
        self.graph = build_graph(problem)
        self.names = {n for n in self.graph.nodes if n != "L"}
        self.aliases = {"haty": "yhat", "y^": "yhat", "p": "p", "sigmayhat": "p"}

    def resolve(self, spelled: str) -> str | None:
        found = lookup(self.names, spelled, self.aliases)
        if found is None:
            m = re.fullmatch(r"([A-Za-z])(\d+)_?(\d+)?", spelled)
            if m and m.group(3) is not None:
                found = lookup(self.names, f"{m.group(1)}{m.group(2)}_{m.group(3)}", {})
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
        return math.fsum(conv_chain(self.graph, self.env(values), wrt))

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return conv_mistakes(self.graph, values, wrt, right)

    def random_values(self, seed: int) -> Any:
        from derive.values import random_values

        return random_values(self.problem, seed)


# ---------------------------------------------------------------- mistakes

Mutate = Callable[["Node", str, float], float]


def _scale_mse(k: float) -> Mutate:
    """∂L/∂ŷ times ``k`` (the factor-2 mistakes)."""

    def mutate(node: Node, child: str, v: float) -> float:
        return v * k if node.op == "mse" else v

    return mutate


def conv_chain(graph: Graph, env: Mapping[str, float], name: str, mutate: Mutate | None = None) -> list[float]:
    """The chain-rule product along each path from L down to ``name`` (one per output position reached).

    Their sum is ∂L/∂name; ``mutate(node, input, local value)`` replaces a local derivative
    (how a mistake is made: ∂h/∂z as 1, ∂L/∂ŷ halved...).
    """
    from derive.graph import chain_paths, evaluate

    terms = []
    for path in chain_paths(graph, name):
        prod = 1.0
        for parent, child in path:
            node = graph.nodes[parent]
            local = node.local[child]
            v = env[local.name] if local.is_Symbol else evaluate(local, env)
            prod *= mutate(node, child, v) if mutate else v
        terms.append(prod)
    return terms


def _flipped(values: Mapping[str, Any], symbol: str) -> dict[str, Any]:
    out = dict(values)
    out[symbol] = [list(reversed(row)) for row in reversed(values[symbol])]
    return out


def _flip_local(graph: Graph, env: Mapping[str, float]) -> Mutate:
    """∂z_ij/∂a_rc read off the flipped kernel (w_(K−1−m)(K−1−n) for w_mn), the forward pass kept right."""
    p = graph.problem
    (kh, kw) = p.kernel

    def flip(w: str) -> str:
        m, n = graph.nodes[w].index
        return str(p.name("w", kh - 1 - m, kw - 1 - n))

    def mutate(node: Node, child: str, v: float) -> float:
        if node.op != "conv" or graph.nodes[child].role != "input":
            return v
        w = next(w for w, a in node.pairs if a == child)
        return float(env[flip(w)])

    return mutate


def conv_mistakes(graph: Graph, values: Mapping[str, Any], wrt: str, right: float) -> dict[str, list[float]]:
    """Each mistake's ∂L/∂``wrt`` for a conv-gradient question at ``values`` (the --values layout)."""
    from derive.graph import forward
    from derive.values import leaf_values

    p = graph.problem
    env = forward(graph, leaf_values(values, p))
    node = graph.nodes[wrt]
    out: dict[str, list[float]] = {"sign": [-right]}
    if p.loss == "mse":
        # half MSE: the 2 of (ŷ − y)² kept; plain MSE: the 2 dropped, or doubled (2·2(ŷ − y))
        out["factor-2"] = [
            math.fsum(conv_chain(graph, env, wrt, _scale_mse(k))) for k in ((2.0,) if p.half_mse else (0.5, 2.0))
        ]
    else:
        out["bce-missing-sigmoid-derivative"] = [
            math.fsum(conv_chain(graph, env, wrt, lambda n, i, v: 1.0 if n.op == "sigmoid" else v))
        ]
    out["no-activation-derivative"] = [
        math.fsum(conv_chain(graph, env, wrt, lambda n, i, v: 1.0 if n.op == "act" else v))
    ]
    terms = conv_chain(graph, env, wrt)
    if len(terms) > 1:
        out["one-term"] = terms
    flipped_wrt = wrt
    if node.role == "kernel":
        (kh, kw), (m, n) = p.kernel, node.index
        flipped_wrt = p.name("w", kh - 1 - m, kw - 1 - n)
    flipped_env = forward(graph, leaf_values(_flipped(values, p.kernel_symbol), p))
    # ∂z/∂w_mn read off the flipped kernel is the right ∂L/∂w_(K−1−m)(K−1−n); ∂z/∂a takes the flipped weight
    local = (
        conv_chain(graph, env, flipped_wrt)
        if node.role == "kernel"
        else conv_chain(graph, env, wrt, _flip_local(graph, env))
    )
    out["flipped-kernel"] = [math.fsum(conv_chain(graph, flipped_env, flipped_wrt)), math.fsum(local)]
    if node.role in ("input", "kernel") and node.index[0] != node.index[1]:
        i, j = node.index
        kind, (rows, cols) = ("a", p.input) if node.role == "input" else ("w", p.kernel)
        if j < rows and i < cols:
            out["transposed-index"] = [math.fsum(conv_chain(graph, env, p.name(kind, j, i)))]
    return out
