"""random_values: hand-sized, reproducible, in the --values layout."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from derive import Problem, random_values
from derive.engine import _graph
from derive.graph import forward
from derive.values import check_values, grid_number, leaf_values

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
    assert 0.0 not in flat, "a drawn 0 wipes out a term of the chain rule (issue 18)"
    assert 0 <= vals["y"] <= 1
    if problem.activation == "relu":
        env = forward(_graph(problem), leaf_values(vals, problem))
        assert all(abs(env[n.name]) >= 0.05 - 1e-12 for n in _graph(problem).nodes.values() if n.op == "conv")


def test_renamed_input_uses_its_letter() -> None:
    assert set(random_values(Problem(input_symbol="x", conv_bias=True), 1)) == {"x", "w", "v", "y", "b"}


def test_seeds_differ() -> None:
    assert random_values(Problem(), 1) != random_values(Problem(), 2)


# ranges on the 0.1 grid, as the draws use them: [-1, 1], [0, 1], and narrower ones down to a single point
grid_ranges = st.tuples(st.integers(-20, 20), st.integers(-20, 20)).map(lambda t: (min(t) / 10, max(t) / 10))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), grid_ranges, st.integers(1, 40))
def test_grid_number_is_never_zero_and_stays_in_range_on_the_grid(
    seed: int, bounds: tuple[float, float], n: int
) -> None:
    """Issue 18: a 0 lands in a product; only a range that holds no other grid number gives it."""
    lo, hi = bounds
    draws = [grid_number(random.Random(seed), lo, hi) for _ in range(2)]
    assert draws[0] == draws[1], "the same seed gives the same number"
    rng = random.Random(seed)
    values = [grid_number(rng, lo, hi) for _ in range(n)]
    assert all(type(x) is float and lo <= x <= hi and round(x, 1) == x for x in values)
    if lo == hi == 0.0:
        assert values == [0.0] * n
    else:
        assert 0.0 not in values


def test_grid_number_draws_again_where_the_old_draw_gave_zero() -> None:
    """Where the old draw (round(uniform, 1)) gave 0.0 the number is drawn again; elsewhere it is the old one."""
    old = [round(random.Random(seed).uniform(-1.0, 1.0), 1) + 0.0 for seed in range(200)]
    zero_seeds = [seed for seed, x in enumerate(old) if x == 0.0]
    assert zero_seeds, "the old draw gives 0.0 for some seed"
    for seed in zero_seeds:
        assert grid_number(random.Random(seed)) != 0.0
    assert all(grid_number(random.Random(s)) == old[s] for s in range(200) if s not in zero_seeds)
    assert grid_number(random.Random(5), -0.04, 0.04) == 0.0  # no grid number but 0 in the range
