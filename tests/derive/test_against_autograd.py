"""Every gradient the engine derives equals torch autograd in float64 (the oracle)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from derive import Problem, all_gradients, gradient, random_values
from derive.autograd import autograd_gradients
from derive.engine import _graph
from derive.graph import forward
from derive.values import leaf_values

# pytest runs with --import-mode=importlib: load the shared strategies by path.
_spec = importlib.util.spec_from_file_location("derive_strategies", Path(__file__).with_name("derive_strategies.py"))
_strategies = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_strategies)
problems = _strategies.problems
values_for = _strategies.values_for

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def away_from_relu_kink(problem: Problem, values: dict) -> bool:
    if problem.activation != "relu":
        return True
    env = forward(_graph(problem), leaf_values(values, problem))
    return all(abs(env[n.name]) > 1e-6 for n in _graph(problem).nodes.values() if n.op == "conv")


@st.composite
def problem_and_values(draw: st.DrawFn) -> tuple[Problem, dict]:
    p = draw(problems())
    return p, values_for(draw, p)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem_and_values())
def test_every_gradient_matches_autograd(case: tuple[Problem, dict]) -> None:
    problem, values = case
    assume(away_from_relu_kink(problem, values))
    grads = all_gradients(problem, values=values)
    oracle = autograd_gradients(problem, values)
    names = _graph(problem).differentiable()
    assert [g.wrt for g in grads] == names
    for g in grads:
        assert close(g.value, oracle[g.wrt]), (g.wrt, g.value, oracle[g.wrt])
        assert g.autograd == oracle[g.wrt]


@settings(max_examples=25, deadline=None)
@given(problem_and_values())
def test_intermediate_nodes_match_autograd(case: tuple[Problem, dict]) -> None:
    problem, values = case
    assume(away_from_relu_kink(problem, values))
    oracle = autograd_gradients(problem, values)
    graph = _graph(problem)
    for node in graph.nodes.values():
        if node.op in ("conv", "act", "dense", "sigmoid"):
            g = gradient(problem, node.name, values=values, check=False)
            assert close(g.value, oracle[node.name]), (node.name, g.value, oracle[node.name])


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("wrt", ["w10", "w11", "w00", "a00", "a21"])
def test_handout_questions_match_autograd(wrt: str, loss: str) -> None:
    problem = Problem(loss=loss)
    for seed in range(3):
        g = gradient(problem, wrt, values=random_values(problem, seed))
        assert g.difference is not None and g.difference < TOL


def test_relu_at_the_kink_follows_torch() -> None:
    """At z == 0 exactly, 𝟙[z > 0] = 0, which is also torch's ReLU gradient."""
    problem = Problem(input=(1, 1), kernel=(1, 1), activation="relu")
    values = {"a": [[0.0]], "w": [[0.5]], "v": [1.5], "y": 0.3}
    g = gradient(problem, "w00", values=values)
    assert g.value == 0.0 and g.autograd == 0.0
    assert gradient(problem, "v0", values=values).value == pytest.approx(2 * (0 - 0.3) * 0.0)
