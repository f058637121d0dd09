"""One set of numbers: the classic ``derive grad`` and ``derive grad --net`` give identical floats.

For every problem both routes can express (every conv item of the example problem sets, and the
classic flags: activations, losses, half-MSE, biases, stride, padding), the forward values and every
gradient are the same float64 numbers, also at a ReLU kink (z = 0 exactly: derivative 0, as torch)
and next to one (z = 0.1 + 0.2 − 0.3 ≠ 0 in float64: derivative 1, as torch; the classic route used
to take it as the kink and print −0.0256 where torch gives −0.0896).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from derive import Problem, gradient, random_values
from derive.conv_numbers import as_network, element_of
from derive.graph import build_graph
from derive.network import network_gradient
from derive.network.values import element_name
from derive.problemset import load_problem_set

EXAMPLES = Path(__file__).parents[2] / "examples"


def net_values(problem: Problem, values: dict) -> dict:
    """The classic --values layout in the network layout (x, conv1.w, conv1.b, dense1.w, dense1.b, y)."""
    p = problem
    out = {
        "x": [values[p.input_symbol]],
        "conv1.w": [[values[p.kernel_symbol]]],
        "dense1.w": [values[p.dense_symbol]],
        "y": values["y"],
    }
    if p.conv_bias:
        out["conv1.b"] = [values["b"]]
    if p.dense_bias:
        out["dense1.b"] = [values["c"]]
    return out


def assert_same_numbers(problem: Problem, values: dict, *, check: bool = False) -> None:
    net = as_network(problem)
    nv = net_values(problem, values)
    for name in build_graph(problem).differentiable():
        tensor, index = element_of(problem, name)
        a = gradient(problem, name, values=values, check=check)
        b = network_gradient(net, element_name(tensor, index), values=nv, check=check)
        assert a.value == b.value, (problem.describe(), name, a.value, b.value)
        if check:
            assert a.autograd == b.autograd, (name, a.autograd, b.autograd)


def example_problems() -> list[tuple[str, Problem, dict]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.toml")):
        if "[[item]]" not in path.read_text(encoding="utf-8"):
            continue
        ps = load_problem_set(path)
        for item in ps.items:
            if isinstance(item.problem, Problem):
                values = dict(item.values) if item.values is not None else random_values(item.problem, ps.seed or 0)
                out.append((f"{path.name}#{item.number}", item.problem, values))
    return out


EXAMPLE_PROBLEMS = example_problems()


def test_the_examples_have_conv_items() -> None:
    assert len(EXAMPLE_PROBLEMS) >= 3


@pytest.mark.parametrize("where, problem, values", EXAMPLE_PROBLEMS, ids=[e[0] for e in EXAMPLE_PROBLEMS])
def test_every_example_conv_item_gives_identical_floats_by_both_routes(
    where: str, problem: Problem, values: dict
) -> None:
    assert_same_numbers(problem, values)


FLAGS = list(
    itertools.product(
        ("sigmoid", "tanh", "relu"),
        (("mse", False), ("mse", True), ("bce", False)),
        ((1, 0), (2, 0), (1, 1)),
        (False, True),
    )
)


@pytest.mark.parametrize("activation, loss, shape, bias", FLAGS)
def test_the_classic_flags_give_identical_floats_by_both_routes(
    activation: str, loss: tuple[str, bool], shape: tuple[int, int], bias: bool
) -> None:
    stride, padding = shape
    problem = Problem(
        input=(5, 5) if stride == 2 else (4, 4),
        stride=stride,
        padding=padding,
        activation=activation,
        loss=loss[0],
        half_mse=loss[1],
        conv_bias=bias,
        dense_bias=bias,
    )
    for seed in range(2):
        assert_same_numbers(problem, random_values(problem, seed))


def near_kink_values(z_terms: tuple[float, float, float]) -> dict:
    """A 1×3 input under a 1×3 kernel of ones: z00 = the sum of ``z_terms``."""
    return {"a": [list(z_terms)], "w": [[1.0, 1.0, 1.0]], "v": [-0.7], "y": 0.5}


def test_z_of_0_1_plus_0_2_minus_0_3_is_not_the_kink_by_either_route() -> None:
    problem = Problem(input=(1, 3), kernel=(1, 3), activation="relu")
    values = near_kink_values((0.1, 0.2, -0.3))
    g = gradient(problem, "w00", values=values)
    z = np.float64(0.1) + np.float64(0.2) - np.float64(0.3)
    assert z != 0.0
    # ReLU' = 1: ∂L/∂w00 = 2(ŷ − y)·v0·1·a00 with ŷ = −0.7·z
    expected = 2 * (-0.7 * float(z) - 0.5) * -0.7 * 0.1
    assert g.value == pytest.approx(expected, rel=1e-15) and g.check == "ok" and g.kinks == ()
    assert_same_numbers(problem, values, check=True)


def test_an_exact_kink_gives_0_by_both_routes_as_torch() -> None:
    problem = Problem(input=(1, 3), kernel=(1, 3), activation="relu")
    values = near_kink_values((0.5, -0.25, -0.25))  # exactly 0
    g = gradient(problem, "w00", values=values)
    assert g.value == 0.0 and g.autograd == 0.0 and g.kinks == ("z00",)
    assert_same_numbers(problem, values, check=True)


def test_the_forward_pass_is_the_same_numbers() -> None:
    problem = Problem(activation="tanh", conv_bias=True, dense_bias=True, loss="bce")
    values = random_values(problem, 3)
    classic = {
        s.name: s.value for s in gradient(problem, "w00", values=values, check=False).steps if s.value is not None
    }
    net = network_gradient(as_network(problem), "conv1.w[0,0,0,0]", values=net_values(problem, values), check=False)
    assert classic["z₀₀"] is not None and net.value is not None
    from derive.network.graph import forward

    fw = forward(
        as_network(problem),
        {k: np.asarray(v, dtype=float) if k != "y" else float(v) for k, v in net_values(problem, values).items()},
    )
    assert classic["z₀₀"] == float(fw.tensors[1][0, 0, 0]) and classic["h₀₁"] == float(fw.tensors[2][0, 0, 1])
