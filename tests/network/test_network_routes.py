"""The course's own problem gives the same numbers by both routes: the classic command and its network file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from derive import Problem, gradient, random_values
from derive.network import load_network, network_from_dict, network_gradient

EXAMPLE = Path(__file__).parents[2] / "examples" / "hw2-2024-net.toml"


def as_network_values(values: dict) -> dict:
    """The classic --values layout (a, w, v, y) in the network layout (x, conv1.w, dense1.w, y)."""
    return {"x": [values["a"]], "conv1.w": [[values["w"]]], "dense1.w": [values["v"]], "y": values["y"]}


def pairs() -> list[tuple[str, str]]:
    out = [(f"w{m}{n}", f"conv1.w[0,0,{m},{n}]") for m in range(3) for n in range(3)]
    out += [(f"a{r}{c}", f"x[0,{r},{c}]") for r in range(4) for c in range(4)]
    return out + [(f"v{k}", f"dense1.w[0,{k}]") for k in range(4)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_shipped_file_and_the_classic_command_agree(seed: int) -> None:
    net = load_network(EXAMPLE)
    problem = Problem()  # 4×4 input, 3×3 kernel, sigmoid, dense sum, MSE: the default of derive grad
    values = random_values(problem, seed)
    for classic, element in pairs():
        a = gradient(problem, classic, values=values, check=False).value
        b = network_gradient(net, element, values=as_network_values(values), check=False).value
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (classic, element, a, b)


def test_the_2025_variant_with_a_second_sigmoid_and_cross_entropy_agrees() -> None:
    net = network_from_dict(
        {
            "input": [1, 4, 4],
            "layer": [
                {"type": "conv", "kernel": [3, 3]},
                {"type": "act", "fn": "sigmoid"},
                {"type": "flatten"},
                {"type": "dense", "outputs": 1},
                {"type": "loss", "fn": "bce"},
            ],
        }
    )
    problem = Problem(loss="bce")
    values = random_values(problem, 5)
    for classic, element in (("w00", "conv1.w[0,0,0,0]"), ("a21", "x[0,2,1]"), ("v3", "dense1.w[0,3]")):
        a = gradient(problem, classic, values=values, check=False).value
        g = network_gradient(net, element, values=as_network_values(values))
        assert math.isclose(a, g.value, rel_tol=1e-12) and math.isclose(g.value, g.autograd, rel_tol=1e-12)


def test_a21_reaches_four_positions_by_both_routes() -> None:
    net = load_network(EXAMPLE)
    g = network_gradient(net, "x[0,2,1]", values=as_network_values(random_values(Problem(), 0)), check=False)
    result = g.steps[-1].text.split(" = ")[1]
    assert result.count("∂L/∂z[0,") == 4  # a21 is under four kernel positions, as in the classic answer
