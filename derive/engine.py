"""The engine: walk the graph from L down to one variable and record the chain rule.

The gradient of ``L`` with respect to a node is the sum, over every path from ``L``
down to it, of the product of the local derivatives along the path. The edges every
path shares (``L → ŷ``, and for a dense weight all of them) are factored out; the rest
are one term per output position the variable reaches. Numbers, when given, are
evaluated edge by edge in float64 and checked against torch autograd.

>>> from derive.problem import Problem
>>> g = gradient(Problem(), "a00")
>>> g.expanded_latex
'\\\\frac{\\\\partial L}{\\\\partial a_{00}} = 2 \\\\left(\\\\hat{y} - y\\\\right) \\\\, v_{0} \\\\, \\\\sigma(z_{00}) \\\\left(1 - \\\\sigma(z_{00})\\\\right) \\\\, w_{00}'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from derive.chain_walk import walk_chain
from derive.conv_numbers import ConvNumbers
from derive.forward_steps import forward_steps
from derive.gradient_record import CHECK_TOL, CONVENTION, LOSS_OVERFLOW, Gradient, check_note
from derive.graph import Graph, build_graph, near_kinks, solve
from derive.problem import Problem
from derive.steps import Step, given_steps
from derive.values import check_values, leaf_values

__all__ = ["CHECK_TOL", "CONVENTION", "LOSS_OVERFLOW", "Gradient", "all_gradients", "check_note", "gradient"]


@functools.lru_cache(maxsize=16)
def _graph(problem: Problem) -> Graph:
    return build_graph(problem)


def gradient(problem: Problem, wrt: str, *, values: Mapping | None = None, check: bool = True) -> Gradient:
    """Derive ∂L/∂``wrt`` step by step; evaluate and check it when ``values`` are given.

    Args:
        problem: The network and loss.
        wrt: A variable name as a user types it (``"w11"``, ``"a21"``, ``"v0"``, ``"b"``).
        values: Numbers in the ``--values`` layout (see :func:`derive.values.load_values`).
        check: Compare every number with torch autograd in float64 (imports torch).

    Raises:
        DeriveError: Unknown variable or malformed values.
    """
    graph = _graph(problem)
    name = graph.resolve(wrt)
    nums = _numbers(graph, values)
    env = None if nums is None else nums.env
    auto = _autograd(problem, values) if values is not None and env is not None and check else None
    kinks = frozenset(near_kinks(graph, env)) if env is not None else frozenset()
    return walk_chain(graph, name, nums, auto, _first_steps(graph, values, env), {}, kinks)


def all_gradients(
    problem: Problem, *, values: Mapping | None = None, check: bool = True, wrt: Iterable[str] | None = None
) -> list[Gradient]:
    """Every gradient of the problem (inputs, kernel, bias, dense weights), in that order.

    Args:
        problem: The network and loss.
        values: Numbers in the ``--values`` layout, or ``None`` for symbols only.
        check: Compare the numbers with torch autograd (one backward pass for all).
        wrt: Only these variables (as a user types them), in this order.
    """
    graph = _graph(problem)
    names = graph.differentiable() if wrt is None else [graph.resolve(w) for w in wrt]
    nums = _numbers(graph, values)
    env = None if nums is None else nums.env
    auto = _autograd(problem, values) if values is not None and env is not None and check else None
    fwd = _first_steps(graph, values, env)
    memo: dict[tuple[str, str], float] = {}
    kinks = frozenset(near_kinks(graph, env)) if env is not None else frozenset()
    return [walk_chain(graph, name, nums, auto, fwd, memo, kinks) for name in names]


def _numbers(graph: Graph, values: Mapping | None) -> ConvNumbers | None:
    """Every number at ``values`` from the one float64 implementation (:mod:`derive.conv_numbers`)."""
    if values is None:
        return None
    return solve(graph, leaf_values(values, graph.problem))


def _first_steps(graph: Graph, values: Mapping | None, env: dict[str, float] | None) -> tuple[Step, ...]:
    """The numbers given (so a TA can check by hand), then the forward pass."""
    base = 1 if graph.problem.one_based else 0  # a wide matrix is printed with its indices
    given = given_steps(check_values(values, graph.problem), base=base) if values is not None else ()
    return (*given, *forward_steps(graph, env))


def _autograd(problem: Problem, values: Mapping) -> dict[str, float]:
    from derive.autograd import autograd_gradients  # torch: only when numbers are checked

    return autograd_gradients(problem, values)
