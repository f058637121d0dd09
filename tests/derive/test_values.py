"""random_values: hand-sized, reproducible, in the --values layout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from derive import Problem, random_values
from derive.engine import _graph
from derive.graph import forward
from derive.values import check_values, leaf_values

# pytest runs with --import-mode=importlib: load the shared strategies by path.
_spec = importlib.util.spec_from_file_location("derive_strategies", Path(__file__).with_name("derive_strategies.py"))
_strategies = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_strategies)
problems = _strategies.problems


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(0, 10_000))
def test_random_values_fit_the_problem(problem: Problem, seed: int) -> None:
    vals = random_values(problem, seed)
    assert vals == random_values(problem, seed)
    assert check_values(vals, problem) == vals  # valid, already plain floats
    numbers = [x for key in vals for x in (vals[key] if isinstance(vals[key], list) else [vals[key]])]
    flat = [x for n in numbers for x in (n if isinstance(n, list) else [n])]
    assert all(type(x) is float and -1 <= x <= 1 and round(x, 1) == x for x in flat)
    assert 0 <= vals["y"] <= 1
    if problem.activation == "relu":
        env = forward(_graph(problem), leaf_values(vals, problem))
        assert all(abs(env[n.name]) >= 0.05 - 1e-12 for n in _graph(problem).nodes.values() if n.op == "conv")


def test_renamed_input_uses_its_letter() -> None:
    assert set(random_values(Problem(input_symbol="x", conv_bias=True), 1)) == {"x", "w", "v", "y", "b"}


def test_seeds_differ() -> None:
    assert random_values(Problem(), 1) != random_values(Problem(), 2)
