"""For small sizes, the graph walk equals sympy's own diff of the fully expanded loss."""

from __future__ import annotations

import random

import pytest
import sympy

from derive import Problem, gradient
from derive.engine import _graph

CASES = [
    Problem(),
    Problem(loss="bce"),
    Problem(activation="tanh", half_mse=True, conv_bias=True),
    Problem(activation="relu", loss="bce", dense_bias=True),
    Problem(input=(4, 3), kernel=(2, 3), stride=2, padding=1, conv_bias=True, dense_bias=True, loss="bce"),
    Problem(input=(3, 3), kernel=(2, 2), one_based=True, input_symbol="x", activation="tanh"),
]


def _substitute_forward(graph, expr: sympy.Expr) -> sympy.Expr:
    """Replace node symbols (p, yhat, h, z) by their definitions, down to the leaves."""
    subs = {}
    for node in graph.nodes.values():
        if node.definition is not None:
            subs[node.symbol] = graph.expand(node.name)
    return expr.xreplace(subs)


@pytest.mark.parametrize("problem", CASES, ids=lambda p: p.describe())
def test_closed_form_equals_diff_of_expanded_loss(problem: Problem) -> None:
    graph = _graph(problem)
    loss = graph.expand("L")
    rng = random.Random(0)
    point = {leaf.symbol: sympy.Rational(rng.randint(-9, 9), 7) for leaf in graph.leaves()}
    point[sympy.Symbol("y")] = sympy.Rational(2, 7)
    for name in graph.differentiable():
        ours = _substitute_forward(graph, gradient(problem, name).expr())
        theirs = sympy.diff(loss, sympy.Symbol(name))
        a = sympy.N(ours.xreplace(point), 30)
        b = sympy.N(theirs.xreplace(point), 30)
        assert abs(a - b) < 1e-20, (name, a, b)


def test_symbolically_equal_for_one_weight() -> None:
    """Not only at a point: the difference simplifies to 0 (sigmoid written with exp)."""
    problem = Problem(input=(2, 2), kernel=(2, 2))
    graph = _graph(problem)
    ours = _substitute_forward(graph, gradient(problem, "w01").expr())
    theirs = sympy.diff(graph.expand("L"), sympy.Symbol("w01"))
    assert sympy.simplify((ours - theirs).rewrite(sympy.exp)) == 0
